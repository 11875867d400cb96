// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwtest.h"

static const u8 test_payload[40] = {
	0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0,
	0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7, 0xf6,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0x00,
};

void fwt_min_image(struct coldroom_fw_image *img)
{
	memset(img, 0, sizeof(*img));
	strcpy(img->model, "CRS-200");
	strcpy(img->serial, "*");
	img->fw_version = 1 << 16 | 4 << 8 | 2;
	img->cal[0] = (struct coldroom_fw_calibration){ 1000000, 0 };
	img->cal[1] = (struct coldroom_fw_calibration){ 998000, -150 };
	img->payload = test_payload;
	img->payload_len = 1;
}

void fwt_full_image(struct coldroom_fw_image *img)
{
	fwt_min_image(img);
	strcpy(img->model, "CRS-210T");
	strcpy(img->serial, "SIM-000042");
	img->has_interval = true;
	img->interval_ms = 1000;
	img->has_thresholds[0] = img->has_thresholds[1] = true;
	img->thr[0] = (struct coldroom_fw_thresholds){ -25000, -15000, 500 };
	img->thr[1] = (struct coldroom_fw_thresholds){ 0, 8000, 300 };
	img->has_label = true;
	strcpy(img->label, "Cold room A");	/* 11 bytes: one pad byte */
	img->has_thermal = true;
	img->frame_width = 32;
	img->frame_height = 24;
	img->payload_len = sizeof(test_payload) - 1;	/* 3 pad bytes */
}

u8 *fwt_build(const struct coldroom_fw_image *img, size_t *len)
{
	u8 *blob = NULL;

	assert_int_equal(coldroom_fw_build_alloc(img, &blob, len),
			 COLDROOM_FW_OK);
	return blob;
}

void fwt_put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

void fwt_put32(u8 *p, u32 v)
{
	fwt_put16(p, (u16)v);
	fwt_put16(p + 2, (u16)(v >> 16));
}

u32 fwt_get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

void fwt_fix_crc(u8 *blob, size_t len)
{
	fwt_put32(blob + COLDROOM_FW_OFF_CRC, 0);
	fwt_put32(blob + COLDROOM_FW_OFF_CRC, coldroom_fw_crc32(0, blob, len));
}

u8 *fwt_dirent(u8 *blob, unsigned int i)
{
	return blob + COLDROOM_FW_HEADER_SIZE + i * COLDROOM_FW_DIRENT_SIZE;
}

u8 *fwt_section(u8 *blob, unsigned int i)
{
	return blob + fwt_get32(fwt_dirent(blob, i) + COLDROOM_FW_DIRENT_OFFSET);
}

unsigned int fwt_find(const u8 *blob, u16 type, unsigned int nth)
{
	unsigned int count = blob[COLDROOM_FW_OFF_SECTION_COUNT];
	unsigned int i;

	for (i = 0; i < count; i++) {
		const u8 *e = blob + COLDROOM_FW_HEADER_SIZE +
			      i * COLDROOM_FW_DIRENT_SIZE;

		if ((e[0] | e[1] << 8) == type && nth-- == 0)
			return i;
	}
	fail_msg("no section %u of type %u", nth, type);
	return 0;
}

u8 *fwt_raw_blob(const struct fwt_sec *sec, unsigned int n, size_t *len)
{
	size_t total = COLDROOM_FW_HEADER_SIZE + n * COLDROOM_FW_DIRENT_SIZE;
	size_t off;
	unsigned int i;
	u8 *blob;

	for (i = 0; i < n; i++)
		total += (sec[i].length + 3) & ~3u;
	blob = calloc(1, total);
	assert_non_null(blob);
	memcpy(blob, "CRFW", 4);
	fwt_put16(blob + COLDROOM_FW_OFF_FORMAT_VERSION, 1);
	fwt_put16(blob + COLDROOM_FW_OFF_HEADER_SIZE, 64);
	fwt_put32(blob + COLDROOM_FW_OFF_TOTAL_SIZE, (u32)total);
	memcpy(blob + COLDROOM_FW_OFF_MODEL, "CRS-200", 7);
	blob[COLDROOM_FW_OFF_SERIAL] = '*';
	fwt_put32(blob + COLDROOM_FW_OFF_FW_VERSION, 0x010000);
	fwt_put16(blob + COLDROOM_FW_OFF_SECTION_COUNT, (u16)n);
	off = COLDROOM_FW_HEADER_SIZE + n * COLDROOM_FW_DIRENT_SIZE;
	for (i = 0; i < n; i++) {
		u8 *e = fwt_dirent(blob, i);

		fwt_put16(e + COLDROOM_FW_DIRENT_TYPE, sec[i].type);
		fwt_put32(e + COLDROOM_FW_DIRENT_OFFSET, (u32)off);
		fwt_put32(e + COLDROOM_FW_DIRENT_LENGTH, sec[i].length);
		if (sec[i].data)
			memcpy(blob + off, sec[i].data, sec[i].length);
		off += (sec[i].length + 3) & ~3u;
	}
	fwt_fix_crc(blob, total);
	*len = total;
	return blob;
}

char *fwt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	buf[size] = '\0';
	if (len)
		*len = (size_t)size;
	return buf;
}

const char *fwt_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		fail_msg("%s is not set (run the tests with make check)", name);
	return v;
}

void fwt_expect_parse(const u8 *blob, size_t len,
		      enum coldroom_fw_error want, const char *file, int line)
{
	struct coldroom_fw_image img;
	enum coldroom_fw_error got = coldroom_fw_parse(blob, len, &img);

	if (got != want)
		fail_msg("%s:%d: parse gave '%s' (%d), want '%s' (%d)", file,
			 line, coldroom_fw_strerror(got), got,
			 coldroom_fw_strerror(want), want);
}
