// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The blob parser and builder: round trips, every truncation, every
 * single-byte corruption, and each rule with the specific error it gives.
 * Mutations recompute the CRC so that the rule under test is what fires.
 */
#include <stdlib.h>
#include <string.h>

#include "fwtest.h"

enum { CAL1, CAL2, INTERVAL, THR1, THR2, LABEL, THERMAL, PAYLOAD, NSEC };

static u8 *full_blob(size_t *len)
{
	struct coldroom_fw_image img;

	fwt_full_image(&img);
	return fwt_build(&img, len);
}

/* Sets field @off of directory entry @i, then repairs the CRC. */
static void set_dirent(u8 *blob, size_t len, unsigned int i, unsigned int off,
		       u32 v)
{
	if (off == COLDROOM_FW_DIRENT_TYPE || off == COLDROOM_FW_DIRENT_FLAGS)
		fwt_put16(fwt_dirent(blob, i) + off, (u16)v);
	else
		fwt_put32(fwt_dirent(blob, i) + off, v);
	fwt_fix_crc(blob, len);
}

/* Sets a u32 at byte @at of section @i's data, then repairs the CRC. */
static void set_field(u8 *blob, size_t len, unsigned int i, unsigned int at,
		      u32 v)
{
	fwt_put32(fwt_section(blob, i) + at, v);
	fwt_fix_crc(blob, len);
}

static void assert_images_equal(const struct coldroom_fw_image *a,
				const struct coldroom_fw_image *b)
{
	unsigned int ch;

	assert_string_equal(a->model, b->model);
	assert_string_equal(a->serial, b->serial);
	assert_int_equal(a->fw_version, b->fw_version);
	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++) {
		assert_int_equal(a->cal[ch].gain_ppm, b->cal[ch].gain_ppm);
		assert_int_equal(a->cal[ch].offset_mdeg, b->cal[ch].offset_mdeg);
		assert_int_equal(a->has_thresholds[ch], b->has_thresholds[ch]);
		if (!a->has_thresholds[ch])
			continue;
		assert_int_equal(a->thr[ch].min_mdeg, b->thr[ch].min_mdeg);
		assert_int_equal(a->thr[ch].max_mdeg, b->thr[ch].max_mdeg);
		assert_int_equal(a->thr[ch].hyst_mdeg, b->thr[ch].hyst_mdeg);
	}
	assert_int_equal(a->has_interval, b->has_interval);
	if (a->has_interval)
		assert_int_equal(a->interval_ms, b->interval_ms);
	assert_int_equal(a->has_label, b->has_label);
	if (a->has_label)
		assert_string_equal(a->label, b->label);
	assert_int_equal(a->has_thermal, b->has_thermal);
	if (a->has_thermal) {
		assert_int_equal(a->frame_width, b->frame_width);
		assert_int_equal(a->frame_height, b->frame_height);
	}
	assert_int_equal(a->payload_len, b->payload_len);
	assert_memory_equal(a->payload, b->payload, a->payload_len);
}

/* parse -> build must give back the canonical blob byte for byte. */
static void assert_round_trip(const u8 *blob, size_t len)
{
	struct coldroom_fw_image img;
	size_t len2;
	u8 *blob2;

	assert_int_equal(coldroom_fw_parse(blob, len, &img), COLDROOM_FW_OK);
	blob2 = fwt_build(&img, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(blob2, blob, len);
	free(blob2);
}

static void test_round_trip(void **state)
{
	struct coldroom_fw_image in, out;
	size_t len;
	u8 *blob;

	(void)state;
	fwt_full_image(&in);
	blob = fwt_build(&in, &len);
	assert_int_equal(len, coldroom_fw_build_size(&in));
	assert_int_equal(coldroom_fw_parse(blob, len, &out), COLDROOM_FW_OK);
	assert_images_equal(&in, &out);
	assert_ptr_equal(out.payload, blob + fwt_get32(fwt_dirent(blob, PAYLOAD) +
						       COLDROOM_FW_DIRENT_OFFSET));
	assert_round_trip(blob, len);
	free(blob);

	fwt_min_image(&in);
	blob = fwt_build(&in, &len);
	assert_int_equal(len, 64 + 3 * 12 + 12 + 12 + 4);
	assert_int_equal(coldroom_fw_parse(blob, len, &out), COLDROOM_FW_OK);
	assert_images_equal(&in, &out);
	assert_false(out.has_interval || out.has_label || out.has_thermal ||
		     out.has_thresholds[0] || out.has_thresholds[1]);
	assert_round_trip(blob, len);
	free(blob);
}

/* Any section order is valid; the builder writes the canonical one. */
static void test_non_canonical_order(void **state)
{
	static const u8 cal1[12] = { 1, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	static const u8 cal2[12] = { 2, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	const struct fwt_sec sec[] = {
		{ COLDROOM_FW_SEC_PAYLOAD, 5, "hello" },
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal2 },
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal1 },
	};
	struct coldroom_fw_image img, again;
	size_t len, len2;
	u8 *blob, *blob2;
	u8 cal[12];

	(void)state;
	blob = fwt_raw_blob(sec, 3, &len);
	assert_int_equal(coldroom_fw_parse(blob, len, &img), COLDROOM_FW_OK);
	assert_int_equal(img.payload_len, 5);
	assert_memory_equal(img.payload, "hello", 5);
	assert_int_equal(img.cal[1].gain_ppm, 1000000);
	blob2 = fwt_build(&img, &len2);
	assert_int_equal(len2, len);
	assert_memory_not_equal(blob2, blob, len);
	assert_int_equal(coldroom_fw_parse(blob2, len2, &again), COLDROOM_FW_OK);
	assert_images_equal(&img, &again);
	free(blob2);

	/* Data order may differ from directory order too: cal2, payload. */
	assert_int_equal(len, 132);
	memcpy(cal, blob + 108, 12);
	memcpy(blob + 100, cal, 12);
	memcpy(blob + 112, "hello\0\0\0", 8);
	fwt_put32(fwt_dirent(blob, 0) + COLDROOM_FW_DIRENT_OFFSET, 112);
	fwt_put32(fwt_dirent(blob, 1) + COLDROOM_FW_DIRENT_OFFSET, 100);
	fwt_fix_crc(blob, len);
	assert_int_equal(coldroom_fw_parse(blob, len, &again), COLDROOM_FW_OK);
	assert_int_equal(again.payload_len, 5);
	assert_memory_equal(again.payload, "hello", 5);
	assert_int_equal(again.cal[0].gain_ppm, 1000000);
	assert_int_equal(again.cal[1].gain_ppm, 1000000);
	free(blob);
}

static void test_every_truncation(void **state)
{
	size_t len, k;
	u8 *blob = full_blob(&len);

	(void)state;
	for (k = 0; k < len; k++) {
		u8 *copy = malloc(k ? k : 1);	/* exact size for ASan */

		memcpy(copy, blob, k);
		expect_parse(copy, k, COLDROOM_FW_E_TRUNCATED);
		free(copy);
	}
	free(blob);
}

static void test_every_byte_corruption(void **state)
{
	static const u8 masks[] = { 0x01, 0x02, 0x10, 0x80, 0x55, 0xff };
	struct coldroom_fw_image img;
	size_t len, pos, m;
	u8 *blob = full_blob(&len);

	(void)state;
	for (pos = 0; pos < len; pos++) {
		for (m = 0; m < sizeof(masks); m++) {
			enum coldroom_fw_error want = COLDROOM_FW_E_CHECKSUM;
			u32 total;

			blob[pos] ^= masks[m];
			total = fwt_get32(blob + COLDROOM_FW_OFF_TOTAL_SIZE);
			if (pos < 4)
				want = COLDROOM_FW_E_MAGIC;
			else if (pos < 6)
				want = COLDROOM_FW_E_VERSION;
			else if (pos < 8)
				want = COLDROOM_FW_E_HEADER_SIZE;
			else if (pos < 12)
				want = total > len ? COLDROOM_FW_E_TRUNCATED :
						     COLDROOM_FW_E_TOTAL_SIZE;
			expect_parse(blob, len, want);

			/*
			 * With the CRC repaired the parser must still judge
			 * the change: reject it, or accept a blob that is
			 * still canonical.
			 */
			if (pos >= 12) {
				u8 saved[4];

				memcpy(saved, blob + COLDROOM_FW_OFF_CRC, 4);
				fwt_fix_crc(blob, len);
				if (coldroom_fw_parse(blob, len, &img) ==
				    COLDROOM_FW_OK)
					assert_round_trip(blob, len);
				memcpy(blob + COLDROOM_FW_OFF_CRC, saved, 4);
			}
			blob[pos] ^= masks[m];
		}
	}
	expect_parse(blob, len, COLDROOM_FW_OK);
	free(blob);
}

static void test_header_fields(void **state)
{
	size_t len;
	u8 *blob = full_blob(&len);
	u8 *big;
	int i;

	(void)state;
	blob[3] = 'X';
	expect_parse(blob, len, COLDROOM_FW_E_MAGIC);
	blob[3] = 'W';

	fwt_put16(blob + COLDROOM_FW_OFF_FORMAT_VERSION, 2);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_VERSION);
	fwt_put16(blob + COLDROOM_FW_OFF_FORMAT_VERSION, 0);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_VERSION);
	fwt_put16(blob + COLDROOM_FW_OFF_FORMAT_VERSION, 1);

	fwt_put16(blob + COLDROOM_FW_OFF_HEADER_SIZE, 72);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_HEADER_SIZE);
	fwt_put16(blob + COLDROOM_FW_OFF_HEADER_SIZE, 64);

	fwt_put32(blob + COLDROOM_FW_OFF_TOTAL_SIZE, (u32)len + 4);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_TRUNCATED);
	fwt_put32(blob + COLDROOM_FW_OFF_TOTAL_SIZE, (u32)len - 4);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_TOTAL_SIZE);
	fwt_put32(blob + COLDROOM_FW_OFF_TOTAL_SIZE, 0xffffffff);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_TRUNCATED);
	fwt_put32(blob + COLDROOM_FW_OFF_TOTAL_SIZE, (u32)len);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_OK);

	blob[COLDROOM_FW_OFF_CRC] ^= 1;
	expect_parse(blob, len, COLDROOM_FW_E_CHECKSUM);
	blob[COLDROOM_FW_OFF_CRC] ^= 1;

	fwt_put16(blob + COLDROOM_FW_OFF_RESERVED0, 1);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_RESERVED);
	fwt_put16(blob + COLDROOM_FW_OFF_RESERVED0, 0);
	for (i = 0; i < COLDROOM_FW_RESERVED1_LEN; i++) {
		blob[COLDROOM_FW_OFF_RESERVED1 + i] = 0x80;
		fwt_fix_crc(blob, len);
		expect_parse(blob, len, COLDROOM_FW_E_RESERVED);
		blob[COLDROOM_FW_OFF_RESERVED1 + i] = 0;
	}
	set_dirent(blob, len, THERMAL, COLDROOM_FW_DIRENT_FLAGS, 1);
	expect_parse(blob, len, COLDROOM_FW_E_RESERVED);
	set_dirent(blob, len, THERMAL, COLDROOM_FW_DIRENT_FLAGS, 0);
	expect_parse(blob, len, COLDROOM_FW_OK);

	/* The size limit comes before anything is read. */
	big = calloc(1, COLDROOM_FW_MAX_SIZE + 1);
	memcpy(big, blob, len);
	expect_parse(big, COLDROOM_FW_MAX_SIZE + 1, COLDROOM_FW_E_TOO_LARGE);
	free(big);
	free(blob);
}

/* Writes @name NUL-padded into the 16-byte field at @off. */
static void set_ident(u8 *blob, size_t len, unsigned int off,
		      const char *name, size_t name_len)
{
	memset(blob + off, 0, 16);
	memcpy(blob + off, name, name_len);
	fwt_fix_crc(blob, len);
}

static void test_model_and_serial(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool model_ok, serial_ok;
	} cases[] = {
		{ "", 0, false, false },
		{ "*", 1, false, true },
		{ "A*", 2, false, false },
		{ "CRS 200", 7, false, false },
		{ "CRS/200", 7, false, false },
		{ "CRS-200\xc3\xa9", 9, false, false },
		{ ".", 1, false, false },
		{ "..", 2, false, false },
		{ "...", 3, true, true },
		{ "CRS-200\0X", 9, false, false },	/* garbage after NUL */
		{ "ABCDEFGHIJKLMNOP", 16, true, true },	/* no NUL at all */
		{ "a.b_c-9", 7, true, true },
	};
	size_t len, i;
	u8 *blob = full_blob(&len);

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_ident(blob, len, COLDROOM_FW_OFF_MODEL, cases[i].s,
			  cases[i].len);
		expect_parse(blob, len, cases[i].model_ok ? COLDROOM_FW_OK :
				   COLDROOM_FW_E_MODEL);
		set_ident(blob, len, COLDROOM_FW_OFF_MODEL, "CRS-210T", 8);
		set_ident(blob, len, COLDROOM_FW_OFF_SERIAL, cases[i].s,
			  cases[i].len);
		expect_parse(blob, len, cases[i].serial_ok ? COLDROOM_FW_OK :
				   COLDROOM_FW_E_SERIAL);
		set_ident(blob, len, COLDROOM_FW_OFF_SERIAL, "SIM-000042", 10);
	}
	free(blob);
}

static void test_section_count(void **state)
{
	struct coldroom_fw_image img;
	size_t len;
	u8 *blob = full_blob(&len);

	(void)state;
	fwt_put16(blob + COLDROOM_FW_OFF_SECTION_COUNT, 0);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_COUNT);
	fwt_put16(blob + COLDROOM_FW_OFF_SECTION_COUNT,
		  COLDROOM_FW_MAX_SECTIONS + 1);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_COUNT);
	fwt_put16(blob + COLDROOM_FW_OFF_SECTION_COUNT, 0xffff);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_COUNT);
	/* One entry fewer: its entry and data become unaccounted for. */
	fwt_put16(blob + COLDROOM_FW_OFF_SECTION_COUNT, NSEC - 1);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_UNUSED_BYTES);
	free(blob);

	/* A directory that would run past the end of the blob. */
	fwt_min_image(&img);
	blob = fwt_build(&img, &len);
	assert_int_equal(len, 128);
	fwt_put16(blob + COLDROOM_FW_OFF_SECTION_COUNT, 6);
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_COUNT);
	free(blob);
}

static void test_section_bounds(void **state)
{
	size_t len;
	u8 *blob = full_blob(&len);
	u32 payload_off = fwt_get32(fwt_dirent(blob, PAYLOAD) + 4);

	(void)state;
	/* offset + length wraps in 32 bits: only 64-bit math catches it */
	set_dirent(blob, len, PAYLOAD, COLDROOM_FW_DIRENT_OFFSET, 0xfffffff0);
	set_dirent(blob, len, PAYLOAD, COLDROOM_FW_DIRENT_LENGTH, 0x20);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_BOUNDS);
	set_dirent(blob, len, PAYLOAD, COLDROOM_FW_DIRENT_OFFSET, payload_off);
	set_dirent(blob, len, PAYLOAD, COLDROOM_FW_DIRENT_LENGTH, 0xfffffff0);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_BOUNDS);
	set_dirent(blob, len, PAYLOAD, COLDROOM_FW_DIRENT_LENGTH, 0xffffffff);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_BOUNDS);
	/* running one byte past the end */
	set_dirent(blob, len, PAYLOAD, COLDROOM_FW_DIRENT_LENGTH,
		   (u32)len - payload_off + 1);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_BOUNDS);
	set_dirent(blob, len, PAYLOAD, COLDROOM_FW_DIRENT_LENGTH, 39);
	expect_parse(blob, len, COLDROOM_FW_OK);
	/* pointing into the header or the directory */
	set_dirent(blob, len, CAL1, COLDROOM_FW_DIRENT_OFFSET, 0);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_BOUNDS);
	set_dirent(blob, len, CAL1, COLDROOM_FW_DIRENT_OFFSET,
		   64 + NSEC * 12 - 4);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_BOUNDS);
	free(blob);
}

static void test_section_layout(void **state)
{
	size_t len;
	u8 *blob = full_blob(&len);
	u32 label_off = fwt_get32(fwt_dirent(blob, LABEL) + 4);
	u32 cal1_off = fwt_get32(fwt_dirent(blob, CAL1) + 4);
	u8 *bigger;

	(void)state;
	set_dirent(blob, len, LABEL, COLDROOM_FW_DIRENT_OFFSET, label_off + 1);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_ALIGN);
	set_dirent(blob, len, LABEL, COLDROOM_FW_DIRENT_OFFSET, label_off + 2);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_ALIGN);
	set_dirent(blob, len, LABEL, COLDROOM_FW_DIRENT_OFFSET, label_off);

	set_dirent(blob, len, CAL2, COLDROOM_FW_DIRENT_OFFSET, cal1_off + 4);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_OVERLAP);
	set_dirent(blob, len, CAL2, COLDROOM_FW_DIRENT_OFFSET, cal1_off);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_OVERLAP);
	set_dirent(blob, len, CAL2, COLDROOM_FW_DIRENT_OFFSET, cal1_off + 12);
	expect_parse(blob, len, COLDROOM_FW_OK);

	/* the label's one padding byte must be zero */
	fwt_section(blob, LABEL)[11] = ' ';
	fwt_fix_crc(blob, len);
	expect_parse(blob, len, COLDROOM_FW_E_UNUSED_BYTES);
	fwt_section(blob, LABEL)[11] = 0;
	fwt_fix_crc(blob, len);

	/* trailing bytes covered by total_size but by no section */
	bigger = calloc(1, len + 4);
	memcpy(bigger, blob, len);
	fwt_put32(bigger + COLDROOM_FW_OFF_TOTAL_SIZE, (u32)len + 4);
	fwt_fix_crc(bigger, len + 4);
	expect_parse(bigger, len + 4, COLDROOM_FW_E_UNUSED_BYTES);
	/* a gap before the payload: move it up by 4 */
	memmove(fwt_section(bigger, PAYLOAD) + 4, fwt_section(bigger, PAYLOAD),
		40);
	memset(fwt_section(bigger, PAYLOAD), 0, 4);
	fwt_put32(fwt_dirent(bigger, PAYLOAD) + 4,
		  fwt_get32(fwt_dirent(bigger, PAYLOAD) + 4) + 4);
	fwt_fix_crc(bigger, len + 4);
	expect_parse(bigger, len + 4, COLDROOM_FW_E_UNUSED_BYTES);
	free(bigger);

	/* and a blob one byte too long for its header */
	bigger = calloc(1, len + 1);
	memcpy(bigger, blob, len);
	expect_parse(bigger, len + 1, COLDROOM_FW_E_TOTAL_SIZE);
	free(bigger);
	free(blob);
}

static void test_section_types(void **state)
{
	size_t len;
	u8 *blob = full_blob(&len);

	(void)state;
	set_dirent(blob, len, THERMAL, COLDROOM_FW_DIRENT_TYPE, 0);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_UNKNOWN);
	set_dirent(blob, len, THERMAL, COLDROOM_FW_DIRENT_TYPE, 7);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_UNKNOWN);
	set_dirent(blob, len, THERMAL, COLDROOM_FW_DIRENT_TYPE, 0x8005);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_UNKNOWN);

	/* 4 bytes each: a second interval in place of the thermal section */
	set_dirent(blob, len, THERMAL, COLDROOM_FW_DIRENT_TYPE,
		   COLDROOM_FW_SEC_INTERVAL);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_REPEATED);
	set_dirent(blob, len, THERMAL, COLDROOM_FW_DIRENT_TYPE,
		   COLDROOM_FW_SEC_THERMAL);
	/* the same channel twice */
	set_field(blob, len, CAL2, 0, 1);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_REPEATED);
	set_field(blob, len, CAL2, 0, 2);
	set_field(blob, len, THR1, 0, 2);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_REPEATED);
	set_field(blob, len, THR1, 0, 1);
	/* a calibration section where a thresholds section was */
	set_dirent(blob, len, THR2, COLDROOM_FW_DIRENT_TYPE,
		   COLDROOM_FW_SEC_CALIBRATION);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_LENGTH);
	set_dirent(blob, len, THR2, COLDROOM_FW_DIRENT_TYPE,
		   COLDROOM_FW_SEC_THRESHOLDS);
	expect_parse(blob, len, COLDROOM_FW_OK);
	free(blob);
}

static void test_repeated_singletons(void **state)
{
	static const u8 cal1[12] = { 1, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	static const u8 cal2[12] = { 2, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	static const u8 geom[4] = { 32, 0, 24, 0 };
	struct fwt_sec sec[] = {
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal1 },
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal2 },
		{ COLDROOM_FW_SEC_PAYLOAD, 3, "abc" },
		{ 0, 0, NULL },
		{ 0, 0, NULL },
	};
	const struct fwt_sec twice[] = {
		{ COLDROOM_FW_SEC_LABEL, 2, "AB" },
		{ COLDROOM_FW_SEC_THERMAL, 4, geom },
		{ COLDROOM_FW_SEC_PAYLOAD, 1, "x" },
	};
	size_t len, i;
	u8 *blob;

	(void)state;
	for (i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
		sec[3] = twice[i];
		blob = fwt_raw_blob(sec, 4, &len);
		expect_parse(blob, len, i == 2 ? COLDROOM_FW_E_SECTION_REPEATED :
						 COLDROOM_FW_OK);
		free(blob);
		sec[4] = twice[i];
		blob = fwt_raw_blob(sec, 5, &len);
		expect_parse(blob, len, COLDROOM_FW_E_SECTION_REPEATED);
		free(blob);
	}
}

static void test_section_lengths(void **state)
{
	static const struct {
		unsigned int sec;
		u32 length;
		enum coldroom_fw_error want;
	} cases[] = {
		{ CAL1, 8, COLDROOM_FW_E_SECTION_LENGTH },
		{ CAL1, 11, COLDROOM_FW_E_SECTION_LENGTH },
		{ INTERVAL, 0, COLDROOM_FW_E_SECTION_LENGTH },
		{ INTERVAL, 2, COLDROOM_FW_E_SECTION_LENGTH },
		{ THR1, 12, COLDROOM_FW_E_SECTION_LENGTH },
		{ THERMAL, 2, COLDROOM_FW_E_SECTION_LENGTH },
		{ LABEL, 0, COLDROOM_FW_E_LABEL },
		{ PAYLOAD, 0, COLDROOM_FW_E_PAYLOAD },
	};
	size_t len, i;
	u8 *blob = full_blob(&len);

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u32 old = fwt_get32(fwt_dirent(blob, cases[i].sec) + 8);

		set_dirent(blob, len, cases[i].sec, COLDROOM_FW_DIRENT_LENGTH,
			   cases[i].length);
		expect_parse(blob, len, cases[i].want);
		set_dirent(blob, len, cases[i].sec, COLDROOM_FW_DIRENT_LENGTH,
			   old);
	}
	expect_parse(blob, len, COLDROOM_FW_OK);
	free(blob);
}

static void test_size_limits(void **state)
{
	static const u8 cal1[12] = { 1, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	static const u8 cal2[12] = { 2, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	struct fwt_sec sec[] = {
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal1 },
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal2 },
		{ COLDROOM_FW_SEC_LABEL, COLDROOM_FW_LABEL_MAX,
		  "0123456789abcdef0123456789ABCDEF" },
		{ COLDROOM_FW_SEC_PAYLOAD, COLDROOM_FW_PAYLOAD_MAX, NULL },
	};
	struct coldroom_fw_image img;
	size_t len;
	u8 *blob;

	(void)state;
	blob = fwt_raw_blob(sec, 4, &len);
	assert_int_equal(coldroom_fw_parse(blob, len, &img), COLDROOM_FW_OK);
	assert_int_equal(img.payload_len, COLDROOM_FW_PAYLOAD_MAX);
	assert_string_equal(img.label, "0123456789abcdef0123456789ABCDEF");
	assert_round_trip(blob, len);
	free(blob);

	sec[3].length++;
	blob = fwt_raw_blob(sec, 4, &len);
	expect_parse(blob, len, COLDROOM_FW_E_PAYLOAD);
	free(blob);
	sec[3].length = 1;
	sec[2].length++;
	sec[2].data = "0123456789abcdef0123456789ABCDEF!";
	blob = fwt_raw_blob(sec, 4, &len);
	expect_parse(blob, len, COLDROOM_FW_E_LABEL);
	free(blob);
}

static void test_missing_sections(void **state)
{
	static const u8 cal1[12] = { 1, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	static const u8 cal2[12] = { 2, 0, 0, 0, 0x40, 0x42, 0x0f, 0 };
	const struct fwt_sec no_cal2[] = {
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal1 },
		{ COLDROOM_FW_SEC_PAYLOAD, 1, "x" },
	};
	const struct fwt_sec no_cal1[] = {
		{ COLDROOM_FW_SEC_PAYLOAD, 1, "x" },
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal2 },
	};
	const struct fwt_sec no_payload[] = {
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal1 },
		{ COLDROOM_FW_SEC_CALIBRATION, 12, cal2 },
		{ COLDROOM_FW_SEC_LABEL, 1, "x" },
	};
	size_t len;
	u8 *blob;

	(void)state;
	blob = fwt_raw_blob(no_cal2, 2, &len);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_MISSING);
	free(blob);
	blob = fwt_raw_blob(no_cal1, 2, &len);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_MISSING);
	free(blob);
	blob = fwt_raw_blob(no_payload, 3, &len);
	expect_parse(blob, len, COLDROOM_FW_E_SECTION_MISSING);
	free(blob);
}

/* Each value at both sides of each limit; @at is the byte in the section. */
static void test_values(void **state)
{
	static const struct {
		unsigned int sec, at;
		u32 value;
		enum coldroom_fw_error want;
	} cases[] = {
		{ CAL1, 0, 0, COLDROOM_FW_E_CHANNEL },
		{ CAL1, 0, 3, COLDROOM_FW_E_CHANNEL },
		{ CAL2, 0, 0xffffffff, COLDROOM_FW_E_CHANNEL },
		{ THR1, 0, 0, COLDROOM_FW_E_CHANNEL },
		{ THR2, 0, 3, COLDROOM_FW_E_CHANNEL },
		{ CAL1, 4, 499999, COLDROOM_FW_E_CALIBRATION },
		{ CAL1, 4, 500000, COLDROOM_FW_OK },
		{ CAL1, 4, 2000000, COLDROOM_FW_OK },
		{ CAL1, 4, 2000001, COLDROOM_FW_E_CALIBRATION },
		{ CAL1, 4, (u32)-1000000, COLDROOM_FW_E_CALIBRATION },
		{ CAL2, 8, (u32)-10001, COLDROOM_FW_E_CALIBRATION },
		{ CAL2, 8, (u32)-10000, COLDROOM_FW_OK },
		{ CAL2, 8, 10000, COLDROOM_FW_OK },
		{ CAL2, 8, 10001, COLDROOM_FW_E_CALIBRATION },
		{ INTERVAL, 0, 99, COLDROOM_FW_E_INTERVAL },
		{ INTERVAL, 0, 100, COLDROOM_FW_OK },
		{ INTERVAL, 0, 3600000, COLDROOM_FW_OK },
		{ INTERVAL, 0, 3600001, COLDROOM_FW_E_INTERVAL },
		{ INTERVAL, 0, 0xffffffff, COLDROOM_FW_E_INTERVAL },
		/* THR1 is -25000..-15000 hyst 500 */
		{ THR1, 4, (u32)-60001, COLDROOM_FW_E_THRESHOLDS },
		{ THR1, 4, (u32)-60000, COLDROOM_FW_OK },
		{ THR1, 4, (u32)-15000, COLDROOM_FW_E_THRESHOLDS },
		{ THR1, 4, (u32)-14000, COLDROOM_FW_E_THRESHOLDS },
		/* the clear band min + 500 .. max - 500 must not be empty */
		{ THR1, 4, (u32)-16001, COLDROOM_FW_OK },
		{ THR1, 4, (u32)-16000, COLDROOM_FW_E_THRESHOLDS },
		{ THR1, 4, (u32)-15501, COLDROOM_FW_E_THRESHOLDS },
		{ THR1, 8, 60000, COLDROOM_FW_OK },
		{ THR1, 8, 60001, COLDROOM_FW_E_THRESHOLDS },
		{ THR1, 8, 0x7fffffff, COLDROOM_FW_E_THRESHOLDS },
		{ THR1, 12, 4999, COLDROOM_FW_OK },
		{ THR1, 12, 5000, COLDROOM_FW_E_THRESHOLDS },	/* no clear band */
		{ THR1, 12, 9999, COLDROOM_FW_E_THRESHOLDS },
		{ THR1, 12, 0xffffffff, COLDROOM_FW_E_THRESHOLDS },
		{ THERMAL, 0, 0 | 24 << 16, COLDROOM_FW_E_THERMAL },
		{ THERMAL, 0, 32 | 0 << 16, COLDROOM_FW_E_THERMAL },
		{ THERMAL, 0, 128 | 1 << 16, COLDROOM_FW_OK },
		{ THERMAL, 0, 129 | 1 << 16, COLDROOM_FW_E_THERMAL },
		{ THERMAL, 0, 1 | 129 << 16, COLDROOM_FW_E_THERMAL },
		{ THERMAL, 0, 80 | 60 << 16, COLDROOM_FW_OK },
		{ THERMAL, 0, 80 | 61 << 16, COLDROOM_FW_E_THERMAL },
		{ THERMAL, 0, 0xffffffff, COLDROOM_FW_E_THERMAL },
	};
	size_t len, i;
	u8 *blob = full_blob(&len);

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u32 old = fwt_get32(fwt_section(blob, cases[i].sec) +
				    cases[i].at);

		set_field(blob, len, cases[i].sec, cases[i].at, cases[i].value);
		expect_parse(blob, len, cases[i].want);
		set_field(blob, len, cases[i].sec, cases[i].at, old);
	}
	expect_parse(blob, len, COLDROOM_FW_OK);
	free(blob);
}

static void test_label_bytes(void **state)
{
	static const struct {
		u8 at, byte;
		enum coldroom_fw_error want;
	} cases[] = {
		{ 0, ' ', COLDROOM_FW_E_LABEL },
		{ 10, ' ', COLDROOM_FW_E_LABEL },
		{ 4, ' ', COLDROOM_FW_OK },	/* "Cold room A" already */
		{ 3, 0, COLDROOM_FW_E_LABEL },
		{ 3, '\t', COLDROOM_FW_E_LABEL },
		{ 3, 0x7f, COLDROOM_FW_E_LABEL },
		{ 3, 0xc3, COLDROOM_FW_E_LABEL },
		{ 3, '~', COLDROOM_FW_OK },
		{ 3, '#', COLDROOM_FW_OK },
		{ 3, '=', COLDROOM_FW_OK },
	};
	size_t len, i;
	u8 *blob = full_blob(&len);

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u8 *p = fwt_section(blob, LABEL) + cases[i].at;
		u8 old = *p;

		*p = cases[i].byte;
		fwt_fix_crc(blob, len);
		expect_parse(blob, len, cases[i].want);
		*p = old;
		fwt_fix_crc(blob, len);
	}
	free(blob);
}

static void test_failure_leaves_image(void **state)
{
	struct coldroom_fw_image img, before;
	size_t len;
	u8 *blob = full_blob(&len);

	(void)state;
	memset(&img, 0xa5, sizeof(img));
	before = img;
	/* fails late: after the header and most sections were decoded */
	set_field(blob, len, PAYLOAD - 1, 0, 0);
	assert_int_equal(coldroom_fw_parse(blob, len, &img),
			 COLDROOM_FW_E_THERMAL);
	assert_memory_equal(&img, &before, sizeof(img));
	free(blob);
}

static void test_check_target(void **state)
{
	struct coldroom_fw_image img;

	(void)state;
	fwt_min_image(&img);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "SIM-1"),
			 COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "*"),
			 COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-210T", "SIM-1"),
			 COLDROOM_FW_E_WRONG_MODEL);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-20", NULL),
			 COLDROOM_FW_E_WRONG_MODEL);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-2000", NULL),
			 COLDROOM_FW_E_WRONG_MODEL);
	assert_int_equal(coldroom_fw_check_target(&img, NULL, NULL),
			 COLDROOM_FW_OK);

	strcpy(img.serial, "SIM-1");
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "SIM-1"),
			 COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "SIM-2"),
			 COLDROOM_FW_E_WRONG_SERIAL);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "SIM-10"),
			 COLDROOM_FW_E_WRONG_SERIAL);
	/* a unit's serial "*" is not a wildcard: only the blob's is */
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "*"),
			 COLDROOM_FW_E_WRONG_SERIAL);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", NULL),
			 COLDROOM_FW_OK);
	/* the model is checked first */
	assert_int_equal(coldroom_fw_check_target(&img, "X", "SIM-2"),
			 COLDROOM_FW_E_WRONG_MODEL);
}

static void test_calibrate(void **state)
{
	const struct coldroom_fw_calibration unity = { 1000000, 0 };
	const struct coldroom_fw_calibration trim = { 996500, -150 };
	const struct coldroom_fw_calibration half = { 1500000, 0 };
	const struct coldroom_fw_calibration max = { 2000000, 10000 };
	const struct coldroom_fw_calibration min = { 2000000, -10000 };
	const struct coldroom_fw_calibration wild = { INT32_MAX, INT32_MAX };
	const struct coldroom_fw_calibration wild_neg = { INT32_MIN, INT32_MIN };

	(void)state;
	assert_int_equal(coldroom_fw_calibrate(&unity, -18250), -18250);
	assert_int_equal(coldroom_fw_calibrate(&unity, INT32_MIN), INT32_MIN);
	assert_int_equal(coldroom_fw_calibrate(&unity, INT32_MAX), INT32_MAX);
	/* -18250 * 0.9965 = -18186.125 -> -18186, then -150 */
	assert_int_equal(coldroom_fw_calibrate(&trim, -18250), -18336);
	/* halves round away from zero */
	assert_int_equal(coldroom_fw_calibrate(&half, 1), 2);
	assert_int_equal(coldroom_fw_calibrate(&half, -1), -2);
	assert_int_equal(coldroom_fw_calibrate(&half, 3), 5);
	assert_int_equal(coldroom_fw_calibrate(&half, -3), -5);
	/* saturation at both ends */
	assert_int_equal(coldroom_fw_calibrate(&max, INT32_MAX), INT32_MAX);
	assert_int_equal(coldroom_fw_calibrate(&max, INT32_MAX / 2), INT32_MAX);
	assert_int_equal(coldroom_fw_calibrate(&max, INT32_MAX / 2 - 5000),
			 INT32_MAX - 1);
	assert_int_equal(coldroom_fw_calibrate(&min, INT32_MIN), INT32_MIN);
	assert_int_equal(coldroom_fw_calibrate(&min, INT32_MIN / 2 + 5000),
			 INT32_MIN);
	assert_int_equal(coldroom_fw_calibrate(&min, INT32_MIN / 2 + 5001),
			 INT32_MIN + 2);
	/* even values no blob could carry stay defined */
	assert_int_equal(coldroom_fw_calibrate(&wild, INT32_MAX), INT32_MAX);
	assert_int_equal(coldroom_fw_calibrate(&wild, INT32_MIN), INT32_MIN);
	assert_int_equal(coldroom_fw_calibrate(&wild_neg, INT32_MIN), INT32_MAX);
	assert_int_equal(coldroom_fw_calibrate(&wild_neg, INT32_MAX), INT32_MIN);
}

static void test_strerror(void **state)
{
	const char *seen[COLDROOM_FW_E_COUNT];
	int i, j;

	(void)state;
	for (i = 0; i < COLDROOM_FW_E_COUNT; i++) {
		seen[i] = coldroom_fw_strerror(i);
		assert_non_null(seen[i]);
		assert_true(strlen(seen[i]) > 5);
		assert_string_not_equal(seen[i], "unknown error");
		for (j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
	assert_string_equal(coldroom_fw_strerror(COLDROOM_FW_E_COUNT),
			    "unknown error");
	assert_string_equal(coldroom_fw_strerror(-1), "unknown error");
	assert_string_equal(coldroom_fw_strerror(COLDROOM_FW_E_CHECKSUM),
			    "checksum mismatch");
}

static void test_crc32(void **state)
{
	const u8 *check = (const u8 *)"123456789";

	(void)state;
	assert_int_equal(coldroom_fw_crc32(0, check, 9), 0xcbf43926);
	assert_int_equal(coldroom_fw_crc32(coldroom_fw_crc32(0, check, 4),
					   check + 4, 5), 0xcbf43926);
	assert_int_equal(coldroom_fw_crc32(0, NULL, 0), 0);
}

static void test_check_functions(void **state)
{
	/* clear band -1..1 */
	const struct coldroom_fw_thresholds ok = { -100, 100, 99 };
	/* clear band 0..0: a reading must hit one value exactly */
	const struct coldroom_fw_thresholds no_band = { -100, 100, 100 };
	/* clear band 50..-50: empty, the alarm would latch for ever */
	const struct coldroom_fw_thresholds wide_hyst = { -100, 100, 150 };
	const struct coldroom_fw_thresholds widest = { -60000, 60000, 10000 };
	const struct coldroom_fw_thresholds too_slow = { -60000, 60000, 10001 };

	(void)state;
	assert_int_equal(coldroom_fw_check_model("CRS-200"), COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_model("ABCDEFGHIJKLMNOPQ"),
			 COLDROOM_FW_E_MODEL);
	assert_int_equal(coldroom_fw_check_model("*"), COLDROOM_FW_E_MODEL);
	assert_int_equal(coldroom_fw_check_serial("*"), COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_serial(""), COLDROOM_FW_E_SERIAL);
	assert_int_equal(coldroom_fw_check_serial("ABCDEFGHIJKLMNOP"),
			 COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_serial("ABCDEFGHIJKLMNOPQ"),
			 COLDROOM_FW_E_SERIAL);
	assert_int_equal(coldroom_fw_check_label("x"), COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_label(""), COLDROOM_FW_E_LABEL);
	assert_int_equal(coldroom_fw_check_label("x "), COLDROOM_FW_E_LABEL);
	assert_int_equal(coldroom_fw_check_label(
				 "0123456789abcdef0123456789ABCDEF"),
			 COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_label(
				 "0123456789abcdef0123456789ABCDEF0"),
			 COLDROOM_FW_E_LABEL);
	assert_int_equal(coldroom_fw_check_thresholds(&ok), COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_thresholds(&no_band),
			 COLDROOM_FW_E_THRESHOLDS);
	assert_int_equal(coldroom_fw_check_thresholds(&wide_hyst),
			 COLDROOM_FW_E_THRESHOLDS);
	assert_int_equal(coldroom_fw_check_thresholds(&widest), COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_thresholds(&too_slow),
			 COLDROOM_FW_E_THRESHOLDS);
	assert_int_equal(coldroom_fw_check_interval(100), COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_interval(0), COLDROOM_FW_E_INTERVAL);
	assert_int_equal(coldroom_fw_check_thermal(0x10000, 0x10000),
			 COLDROOM_FW_E_THERMAL);
}

static void test_builder(void **state)
{
	struct coldroom_fw_image img;
	u8 out[512], copy[512];
	size_t len = 12345, need;

	(void)state;
	fwt_full_image(&img);
	need = coldroom_fw_build_size(&img);
	memset(out, 0x5a, sizeof(out));
	memcpy(copy, out, sizeof(out));
	assert_int_equal(coldroom_fw_build(&img, out, need - 1, &len),
			 COLDROOM_FW_E_NOSPACE);
	assert_int_equal(len, 12345);
	assert_memory_equal(out, copy, sizeof(out));
	assert_int_equal(coldroom_fw_build(&img, out, need, &len),
			 COLDROOM_FW_OK);
	assert_int_equal(len, need);
	expect_parse(out, len, COLDROOM_FW_OK);

	/* the builder refuses what the parser would, with its reason */
	img.cal[1].gain_ppm = 0;
	memcpy(copy, out, sizeof(out));
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_CALIBRATION);
	assert_memory_equal(out, copy, sizeof(out));
	fwt_full_image(&img);
	img.thr[1].hyst_mdeg = 9000;
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_THRESHOLDS);
	fwt_full_image(&img);
	strcpy(img.serial, "");
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_SERIAL);
	fwt_full_image(&img);
	img.label[0] = '\0';
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_LABEL);
	fwt_full_image(&img);
	img.payload_len = 0;
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_PAYLOAD);
	img.payload_len = COLDROOM_FW_PAYLOAD_MAX + 1;
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_PAYLOAD);
	/* and what it cannot even write down */
	fwt_full_image(&img);
	memset(img.model, 'A', sizeof(img.model));
	assert_int_equal(coldroom_fw_build_size(&img), 0);
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_INVALID);
	fwt_full_image(&img);
	img.payload = NULL;
	assert_int_equal(coldroom_fw_build(&img, out, sizeof(out), &len),
			 COLDROOM_FW_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_non_canonical_order),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_every_byte_corruption),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_model_and_serial),
		cmocka_unit_test(test_section_count),
		cmocka_unit_test(test_section_bounds),
		cmocka_unit_test(test_section_layout),
		cmocka_unit_test(test_section_types),
		cmocka_unit_test(test_repeated_singletons),
		cmocka_unit_test(test_section_lengths),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_missing_sections),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_label_bytes),
		cmocka_unit_test(test_failure_leaves_image),
		cmocka_unit_test(test_check_target),
		cmocka_unit_test(test_calibrate),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_check_functions),
		cmocka_unit_test(test_builder),
	};

	return cmocka_run_group_tests_name("coldroom_fw parser", tests,
					   NULL, NULL);
}
