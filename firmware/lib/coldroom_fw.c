// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom_fw.c - the one parser and validator of coldroom firmware blobs.
 *
 * Compiled unchanged into coldroom.ko and into the user-space tools, so it
 * calls no library or kernel function: bytes are read one at a time as
 * little-endian, and every offset or length taken from a blob is checked in
 * 64-bit arithmetic before it is used. firmware/FORMAT.md is the spec; the
 * order of the checks below is the order documented there, because the
 * first failing check decides which error a caller sees.
 */

#include "coldroom_fw.h"

#define CRC32_POLY_LE		0xedb88320u
#define PPM			1000000

static u16 get_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 align_up(u64 n)
{
	return (n + COLDROOM_FW_SECTION_ALIGN - 1) &
	       ~(u64)(COLDROOM_FW_SECTION_ALIGN - 1);
}

/**
 * coldroom_fw_crc32() - CRC-32 (IEEE 802.3, reflected), as zlib's crc32()
 * @crc: CRC of the preceding bytes, 0 to start
 * @buf: bytes to add
 * @len: number of bytes at @buf
 *
 * Bitwise rather than table-driven: blobs are at most 1 MiB and checked
 * once per load, so eight shifts per byte cost nothing worth a table.
 *
 * Return: the CRC of the preceding bytes followed by @buf.
 */
u32 coldroom_fw_crc32(u32 crc, const u8 *buf, size_t len)
{
	size_t i;
	int bit;

	crc = ~crc;
	for (i = 0; i < len; i++) {
		crc ^= buf[i];
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (CRC32_POLY_LE & (0u - (crc & 1)));
	}
	return ~crc;
}

/* Model names and serials end up in firmware file names: keep them tame. */
static bool ident_char_ok(u8 c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static bool ident_ok(const u8 *s, size_t len, bool wildcard_ok)
{
	size_t i;

	if (len == 0 || len > COLDROOM_FW_MODEL_LEN)
		return false;
	if (wildcard_ok && len == 1 && s[0] == '*')
		return true;
	for (i = 0; i < len; i++)
		if (!ident_char_ok(s[i]))
			return false;
	/* "." and ".." would name directories, not units. */
	return !(s[0] == '.' && (len == 1 || (len == 2 && s[1] == '.')));
}

static bool label_ok(const u8 *s, size_t len)
{
	size_t i;

	if (len == 0 || len > COLDROOM_FW_LABEL_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	/* Outer blanks would not survive the text source format. */
	return s[0] != ' ' && s[len - 1] != ' ';
}

/* Length of a NUL-terminated string, looking at no more than @max + 1. */
static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n])
		n++;
	return n;
}

/**
 * coldroom_fw_check_model() - is this a valid model name?
 * @model: NUL-terminated name
 *
 * Return: %COLDROOM_FW_OK, or %COLDROOM_FW_E_MODEL unless @model is 1 to
 * %COLDROOM_FW_MODEL_LEN characters of A-Z a-z 0-9 '-' '_' '.', and not
 * "." or "..".
 */
enum coldroom_fw_error coldroom_fw_check_model(const char *model)
{
	size_t len = bounded_len(model, COLDROOM_FW_MODEL_LEN);

	return ident_ok((const u8 *)model, len, false) ?
	       COLDROOM_FW_OK : COLDROOM_FW_E_MODEL;
}

/**
 * coldroom_fw_check_serial() - is this a valid target serial?
 * @serial: NUL-terminated serial, or "*" for any unit
 *
 * Return: %COLDROOM_FW_OK, or %COLDROOM_FW_E_SERIAL under the rules of
 * coldroom_fw_check_model() with "*" allowed as the whole serial.
 */
enum coldroom_fw_error coldroom_fw_check_serial(const char *serial)
{
	size_t len = bounded_len(serial, COLDROOM_FW_SERIAL_LEN);

	return ident_ok((const u8 *)serial, len, true) ?
	       COLDROOM_FW_OK : COLDROOM_FW_E_SERIAL;
}

/**
 * coldroom_fw_check_calibration() - is a channel's calibration in range?
 * @cal: gain and offset
 *
 * Return: %COLDROOM_FW_OK, or %COLDROOM_FW_E_CALIBRATION if the gain is
 * outside %COLDROOM_FW_GAIN_MIN_PPM..%COLDROOM_FW_GAIN_MAX_PPM or the offset
 * outside +-%COLDROOM_FW_OFFSET_MAX_MDEG.
 */
enum coldroom_fw_error
coldroom_fw_check_calibration(const struct coldroom_fw_calibration *cal)
{
	if (cal->gain_ppm < COLDROOM_FW_GAIN_MIN_PPM ||
	    cal->gain_ppm > COLDROOM_FW_GAIN_MAX_PPM ||
	    cal->offset_mdeg < -COLDROOM_FW_OFFSET_MAX_MDEG ||
	    cal->offset_mdeg > COLDROOM_FW_OFFSET_MAX_MDEG)
		return COLDROOM_FW_E_CALIBRATION;
	return COLDROOM_FW_OK;
}

/**
 * coldroom_fw_check_interval() - is a sample interval in range?
 * @interval_ms: milliseconds between samples
 *
 * Return: %COLDROOM_FW_OK, or %COLDROOM_FW_E_INTERVAL if @interval_ms is
 * outside %COLDROOM_FW_INTERVAL_MIN_MS..%COLDROOM_FW_INTERVAL_MAX_MS.
 */
enum coldroom_fw_error coldroom_fw_check_interval(u32 interval_ms)
{
	if (interval_ms < COLDROOM_FW_INTERVAL_MIN_MS ||
	    interval_ms > COLDROOM_FW_INTERVAL_MAX_MS)
		return COLDROOM_FW_E_INTERVAL;
	return COLDROOM_FW_OK;
}

/**
 * coldroom_fw_check_thresholds() - are a channel's alarm thresholds sane?
 * @thr: low and high alarm limits and the hysteresis that clears them
 *
 * An alarm clears only inside the clear band [min + hyst, max - hyst]; an
 * empty band would latch the alarm for ever. Every path that sets
 * thresholds (blob, sysfs, hwmon, D-Bus) is judged by this one rule.
 *
 * Return: %COLDROOM_FW_OK, or %COLDROOM_FW_E_THRESHOLDS unless
 * %COLDROOM_FW_TEMP_MIN_MDEG <= min < max <= %COLDROOM_FW_TEMP_MAX_MDEG,
 * hyst <= %COLDROOM_FW_HYST_MAX_MDEG and 2 * hyst < max - min (a clear
 * band at least 1 m°C wide).
 */
enum coldroom_fw_error
coldroom_fw_check_thresholds(const struct coldroom_fw_thresholds *thr)
{
	if (thr->min_mdeg < COLDROOM_FW_TEMP_MIN_MDEG ||
	    thr->max_mdeg > COLDROOM_FW_TEMP_MAX_MDEG ||
	    thr->min_mdeg >= thr->max_mdeg ||
	    thr->hyst_mdeg > COLDROOM_FW_HYST_MAX_MDEG ||
	    2 * (s64)thr->hyst_mdeg >= (s64)thr->max_mdeg - thr->min_mdeg)
		return COLDROOM_FW_E_THRESHOLDS;
	return COLDROOM_FW_OK;
}

/**
 * coldroom_fw_check_label() - is this a valid unit label?
 * @label: NUL-terminated label
 *
 * Return: %COLDROOM_FW_OK, or %COLDROOM_FW_E_LABEL unless @label is 1 to
 * %COLDROOM_FW_LABEL_MAX printable ASCII characters (space to '~') that
 * neither start nor end with a space.
 */
enum coldroom_fw_error coldroom_fw_check_label(const char *label)
{
	size_t len = bounded_len(label, COLDROOM_FW_LABEL_MAX);

	return label_ok((const u8 *)label, len) ?
	       COLDROOM_FW_OK : COLDROOM_FW_E_LABEL;
}

/**
 * coldroom_fw_check_thermal() - is a thermal image geometry in range?
 * @width: pixels per row
 * @height: rows
 *
 * Return: %COLDROOM_FW_OK, or %COLDROOM_FW_E_THERMAL unless both are
 * 1..%COLDROOM_FW_FRAME_DIM_MAX and width * height is at most
 * %COLDROOM_FW_FRAME_PIXELS_MAX.
 */
enum coldroom_fw_error coldroom_fw_check_thermal(u32 width, u32 height)
{
	if (width == 0 || width > COLDROOM_FW_FRAME_DIM_MAX ||
	    height == 0 || height > COLDROOM_FW_FRAME_DIM_MAX ||
	    width * height > COLDROOM_FW_FRAME_PIXELS_MAX)
		return COLDROOM_FW_E_THERMAL;
	return COLDROOM_FW_OK;
}

/*
 * A NUL-padded header string: the name is what precedes the first NUL
 * (or all of it) and everything after must be NUL too, so that one name
 * has exactly one encoding.
 */
static bool parse_ident(const u8 *field, char *out, bool wildcard_ok)
{
	size_t len = 0;
	size_t i;

	while (len < COLDROOM_FW_MODEL_LEN && field[len])
		len++;
	for (i = len; i < COLDROOM_FW_MODEL_LEN; i++)
		if (field[i])
			return false;
	if (!ident_ok(field, len, wildcard_ok))
		return false;
	for (i = 0; i < len; i++)
		out[i] = (char)field[i];
	out[len] = '\0';
	return true;
}

struct coldroom_fw_dirent {
	u16 type;
	u32 offset;
	u32 length;
};

/* Length rules by type; variable-length types report their own error. */
static enum coldroom_fw_error check_section_length(u16 type, u32 length)
{
	switch (type) {
	case COLDROOM_FW_SEC_CALIBRATION:
		return length == COLDROOM_FW_CALIBRATION_LEN ?
		       COLDROOM_FW_OK : COLDROOM_FW_E_SECTION_LENGTH;
	case COLDROOM_FW_SEC_INTERVAL:
		return length == COLDROOM_FW_INTERVAL_LEN ?
		       COLDROOM_FW_OK : COLDROOM_FW_E_SECTION_LENGTH;
	case COLDROOM_FW_SEC_THRESHOLDS:
		return length == COLDROOM_FW_THRESHOLDS_LEN ?
		       COLDROOM_FW_OK : COLDROOM_FW_E_SECTION_LENGTH;
	case COLDROOM_FW_SEC_THERMAL:
		return length == COLDROOM_FW_THERMAL_LEN ?
		       COLDROOM_FW_OK : COLDROOM_FW_E_SECTION_LENGTH;
	case COLDROOM_FW_SEC_LABEL:
		return length >= 1 && length <= COLDROOM_FW_LABEL_MAX ?
		       COLDROOM_FW_OK : COLDROOM_FW_E_LABEL;
	case COLDROOM_FW_SEC_PAYLOAD:
		return length >= 1 && length <= COLDROOM_FW_PAYLOAD_MAX ?
		       COLDROOM_FW_OK : COLDROOM_FW_E_PAYLOAD;
	default:
		return COLDROOM_FW_E_SECTION_UNKNOWN;
	}
}

/* Reads and checks the directory: bounds, alignment, lengths, layout. */
static enum coldroom_fw_error
parse_directory(const u8 *blob, u32 total, unsigned int count,
		struct coldroom_fw_dirent *dir)
{
	const u64 data_start = COLDROOM_FW_HEADER_SIZE +
			       (u64)count * COLDROOM_FW_DIRENT_SIZE;
	enum coldroom_fw_error err;
	unsigned int i, j;
	u64 covered = 0;
	u64 pos;

	for (i = 0; i < count; i++) {
		const u8 *e = blob + COLDROOM_FW_HEADER_SIZE +
			      i * COLDROOM_FW_DIRENT_SIZE;
		struct coldroom_fw_dirent *d = &dir[i];

		d->type = get_le16(e + COLDROOM_FW_DIRENT_TYPE);
		d->offset = get_le32(e + COLDROOM_FW_DIRENT_OFFSET);
		d->length = get_le32(e + COLDROOM_FW_DIRENT_LENGTH);
		if (get_le16(e + COLDROOM_FW_DIRENT_FLAGS))
			return COLDROOM_FW_E_RESERVED;
		if (d->type < COLDROOM_FW_SEC_CALIBRATION ||
		    d->type > COLDROOM_FW_SEC_PAYLOAD)
			return COLDROOM_FW_E_SECTION_UNKNOWN;
		/* In u64, offset + padded length cannot wrap. */
		if (d->offset < data_start ||
		    d->offset + align_up(d->length) > total)
			return COLDROOM_FW_E_SECTION_BOUNDS;
		if (d->offset % COLDROOM_FW_SECTION_ALIGN)
			return COLDROOM_FW_E_SECTION_ALIGN;
		err = check_section_length(d->type, d->length);
		if (err)
			return err;
	}

	/* Every length is now at least 1: empty ranges cannot hide here. */
	for (i = 0; i < count; i++)
		for (j = i + 1; j < count; j++)
			if ((u64)dir[i].offset < (u64)dir[j].offset + dir[j].length &&
			    (u64)dir[j].offset < (u64)dir[i].offset + dir[i].length)
				return COLDROOM_FW_E_SECTION_OVERLAP;

	/*
	 * Aligned offsets that do not overlap keep the padded extents apart
	 * too, so they tile the data area exactly when their sizes add up.
	 */
	for (i = 0; i < count; i++) {
		covered += align_up(dir[i].length);
		for (pos = (u64)dir[i].offset + dir[i].length;
		     pos < dir[i].offset + align_up(dir[i].length); pos++)
			if (blob[pos])
				return COLDROOM_FW_E_UNUSED_BYTES;
	}
	if (covered != total - data_start)
		return COLDROOM_FW_E_UNUSED_BYTES;
	return COLDROOM_FW_OK;
}

/* Channel numbers in a blob are 1-based, like temp1 and temp2. */
static enum coldroom_fw_error parse_channel(const u8 *p, unsigned int *index)
{
	u32 channel = get_le32(p);

	if (channel < 1 || channel > COLDROOM_FW_CHANNELS)
		return COLDROOM_FW_E_CHANNEL;
	*index = channel - 1;
	return COLDROOM_FW_OK;
}

/* Decodes one section whose layout parse_directory() accepted. */
static enum coldroom_fw_error
parse_section(const struct coldroom_fw_dirent *d, const u8 *p,
	      struct coldroom_fw_image *img, bool *have_cal, bool *have_payload)
{
	enum coldroom_fw_error err;
	unsigned int ch, i;

	switch (d->type) {
	case COLDROOM_FW_SEC_CALIBRATION:
		err = parse_channel(p, &ch);
		if (err)
			return err;
		if (have_cal[ch])
			return COLDROOM_FW_E_SECTION_REPEATED;
		have_cal[ch] = true;
		img->cal[ch].gain_ppm = (s32)get_le32(p + 4);
		img->cal[ch].offset_mdeg = (s32)get_le32(p + 8);
		return coldroom_fw_check_calibration(&img->cal[ch]);
	case COLDROOM_FW_SEC_INTERVAL:
		if (img->has_interval)
			return COLDROOM_FW_E_SECTION_REPEATED;
		img->has_interval = true;
		img->interval_ms = get_le32(p);
		return coldroom_fw_check_interval(img->interval_ms);
	case COLDROOM_FW_SEC_THRESHOLDS:
		err = parse_channel(p, &ch);
		if (err)
			return err;
		if (img->has_thresholds[ch])
			return COLDROOM_FW_E_SECTION_REPEATED;
		img->has_thresholds[ch] = true;
		img->thr[ch].min_mdeg = (s32)get_le32(p + 4);
		img->thr[ch].max_mdeg = (s32)get_le32(p + 8);
		img->thr[ch].hyst_mdeg = get_le32(p + 12);
		return coldroom_fw_check_thresholds(&img->thr[ch]);
	case COLDROOM_FW_SEC_LABEL:
		if (img->has_label)
			return COLDROOM_FW_E_SECTION_REPEATED;
		img->has_label = true;
		if (!label_ok(p, d->length))
			return COLDROOM_FW_E_LABEL;
		for (i = 0; i < d->length; i++)
			img->label[i] = (char)p[i];
		img->label[d->length] = '\0';
		return COLDROOM_FW_OK;
	case COLDROOM_FW_SEC_THERMAL:
		if (img->has_thermal)
			return COLDROOM_FW_E_SECTION_REPEATED;
		img->has_thermal = true;
		img->frame_width = get_le16(p);
		img->frame_height = get_le16(p + 2);
		return coldroom_fw_check_thermal(img->frame_width,
						 img->frame_height);
	case COLDROOM_FW_SEC_PAYLOAD:
		if (*have_payload)
			return COLDROOM_FW_E_SECTION_REPEATED;
		*have_payload = true;
		img->payload = p;
		img->payload_len = d->length;
		return COLDROOM_FW_OK;
	}
	return COLDROOM_FW_E_SECTION_UNKNOWN;
}

/**
 * coldroom_fw_parse() - parse and fully validate a firmware blob
 * @data: the blob
 * @len: its length in bytes
 * @img: where the parsed blob goes; written only on success
 *
 * Checks everything FORMAT.md requires, in the order it lists. On success
 * @img->payload points into @data, so @data must outlive its use.
 *
 * Return: %COLDROOM_FW_OK, or the code of the first rule the blob breaks.
 */
enum coldroom_fw_error coldroom_fw_parse(const void *data, size_t len,
					 struct coldroom_fw_image *img)
{
	static const u8 zero_crc[4];
	struct coldroom_fw_dirent dir[COLDROOM_FW_MAX_SECTIONS];
	struct coldroom_fw_image tmp = {};
	bool have_cal[COLDROOM_FW_CHANNELS] = {};
	bool have_payload = false;
	const u8 *blob = data;
	enum coldroom_fw_error err;
	unsigned int count, i;
	u32 total, crc;

	if (len > COLDROOM_FW_MAX_SIZE)
		return COLDROOM_FW_E_TOO_LARGE;
	if (len < COLDROOM_FW_HEADER_SIZE)
		return COLDROOM_FW_E_TRUNCATED;
	for (i = 0; i < 4; i++)
		if (blob[COLDROOM_FW_OFF_MAGIC + i] != (u8)COLDROOM_FW_MAGIC[i])
			return COLDROOM_FW_E_MAGIC;
	if (get_le16(blob + COLDROOM_FW_OFF_FORMAT_VERSION) !=
	    COLDROOM_FW_FORMAT_VERSION)
		return COLDROOM_FW_E_VERSION;
	if (get_le16(blob + COLDROOM_FW_OFF_HEADER_SIZE) !=
	    COLDROOM_FW_HEADER_SIZE)
		return COLDROOM_FW_E_HEADER_SIZE;

	total = get_le32(blob + COLDROOM_FW_OFF_TOTAL_SIZE);
	if (total > len)
		return COLDROOM_FW_E_TRUNCATED;
	if (total < len)
		return COLDROOM_FW_E_TOTAL_SIZE;

	crc = coldroom_fw_crc32(0, blob, COLDROOM_FW_OFF_CRC);
	crc = coldroom_fw_crc32(crc, zero_crc, sizeof(zero_crc));
	crc = coldroom_fw_crc32(crc, blob + COLDROOM_FW_OFF_CRC + 4,
				total - (COLDROOM_FW_OFF_CRC + 4));
	if (crc != get_le32(blob + COLDROOM_FW_OFF_CRC))
		return COLDROOM_FW_E_CHECKSUM;

	if (get_le16(blob + COLDROOM_FW_OFF_RESERVED0))
		return COLDROOM_FW_E_RESERVED;
	for (i = 0; i < COLDROOM_FW_RESERVED1_LEN; i++)
		if (blob[COLDROOM_FW_OFF_RESERVED1 + i])
			return COLDROOM_FW_E_RESERVED;

	if (!parse_ident(blob + COLDROOM_FW_OFF_MODEL, tmp.model, false))
		return COLDROOM_FW_E_MODEL;
	if (!parse_ident(blob + COLDROOM_FW_OFF_SERIAL, tmp.serial, true))
		return COLDROOM_FW_E_SERIAL;
	tmp.fw_version = get_le32(blob + COLDROOM_FW_OFF_FW_VERSION);

	count = get_le16(blob + COLDROOM_FW_OFF_SECTION_COUNT);
	if (count == 0 || count > COLDROOM_FW_MAX_SECTIONS ||
	    COLDROOM_FW_HEADER_SIZE + count * COLDROOM_FW_DIRENT_SIZE > total)
		return COLDROOM_FW_E_SECTION_COUNT;

	err = parse_directory(blob, total, count, dir);
	if (err)
		return err;

	for (i = 0; i < count; i++) {
		err = parse_section(&dir[i], blob + dir[i].offset, &tmp,
				    have_cal, &have_payload);
		if (err)
			return err;
	}
	for (i = 0; i < COLDROOM_FW_CHANNELS; i++)
		if (!have_cal[i])
			return COLDROOM_FW_E_SECTION_MISSING;
	if (!have_payload)
		return COLDROOM_FW_E_SECTION_MISSING;

	*img = tmp;
	return COLDROOM_FW_OK;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/**
 * coldroom_fw_check_target() - does a parsed blob belong on this unit?
 * @img: a blob parsed by coldroom_fw_parse()
 * @model: the unit's model, or NULL not to check it
 * @serial: the unit's serial, or NULL not to check it
 *
 * A blob whose serial is "*" fits every unit of its model.
 *
 * Return: %COLDROOM_FW_OK, %COLDROOM_FW_E_WRONG_MODEL or
 * %COLDROOM_FW_E_WRONG_SERIAL.
 */
enum coldroom_fw_error coldroom_fw_check_target(const struct coldroom_fw_image *img,
						const char *model,
						const char *serial)
{
	if (model && !str_eq(img->model, model))
		return COLDROOM_FW_E_WRONG_MODEL;
	if (serial && !str_eq(img->serial, "*") && !str_eq(img->serial, serial))
		return COLDROOM_FW_E_WRONG_SERIAL;
	return COLDROOM_FW_OK;
}

/**
 * coldroom_fw_calibrate() - apply a channel's calibration to a reading
 * @cal: gain (ppm) and offset (millidegree C)
 * @raw_mdeg: uncalibrated reading in millidegree C
 *
 * Computes raw * gain / 10^6 + offset, rounding half away from zero, in
 * 64 bits: |raw * gain| < 2^62 for any s32 operands, so only the final
 * result can leave the s32 range.
 *
 * Return: the calibrated reading, saturated to the s32 range.
 */
s32 coldroom_fw_calibrate(const struct coldroom_fw_calibration *cal,
			  s32 raw_mdeg)
{
	s64 scaled = (s64)raw_mdeg * cal->gain_ppm;
	s64 value;

	scaled += scaled < 0 ? -(PPM / 2) : PPM / 2;
	value = coldroom_fw_div_s64(scaled, PPM) + cal->offset_mdeg;
	if (value > S32_MAX)
		return S32_MAX;
	if (value < S32_MIN)
		return S32_MIN;
	return (s32)value;
}

static const char * const coldroom_fw_errors[COLDROOM_FW_E_COUNT] = {
	[COLDROOM_FW_OK] = "no error",
	[COLDROOM_FW_E_TRUNCATED] = "blob is truncated",
	[COLDROOM_FW_E_TOO_LARGE] = "blob is larger than 1 MiB",
	[COLDROOM_FW_E_MAGIC] = "bad magic, not a coldroom firmware blob",
	[COLDROOM_FW_E_VERSION] = "unsupported format version",
	[COLDROOM_FW_E_HEADER_SIZE] = "unsupported header size",
	[COLDROOM_FW_E_TOTAL_SIZE] = "blob is longer than its header says",
	[COLDROOM_FW_E_CHECKSUM] = "checksum mismatch",
	[COLDROOM_FW_E_RESERVED] = "reserved field or flag is not zero",
	[COLDROOM_FW_E_MODEL] = "invalid model name",
	[COLDROOM_FW_E_SERIAL] = "invalid target serial",
	[COLDROOM_FW_E_SECTION_COUNT] = "bad section count",
	[COLDROOM_FW_E_SECTION_BOUNDS] = "section lies outside the blob",
	[COLDROOM_FW_E_SECTION_ALIGN] = "section offset is not 4-byte aligned",
	[COLDROOM_FW_E_SECTION_OVERLAP] = "sections overlap",
	[COLDROOM_FW_E_SECTION_REPEATED] = "section repeated",
	[COLDROOM_FW_E_SECTION_UNKNOWN] = "unknown section type",
	[COLDROOM_FW_E_SECTION_LENGTH] = "wrong section length for its type",
	[COLDROOM_FW_E_SECTION_MISSING] = "required section missing",
	[COLDROOM_FW_E_CHANNEL] = "channel number out of range",
	[COLDROOM_FW_E_CALIBRATION] = "calibration out of range",
	[COLDROOM_FW_E_INTERVAL] = "sample interval out of range",
	[COLDROOM_FW_E_THRESHOLDS] = "invalid alarm thresholds",
	[COLDROOM_FW_E_LABEL] = "invalid label",
	[COLDROOM_FW_E_THERMAL] = "thermal image geometry out of range",
	[COLDROOM_FW_E_PAYLOAD] = "payload empty or too large",
	[COLDROOM_FW_E_UNUSED_BYTES] = "bytes not accounted for by any section",
	[COLDROOM_FW_E_WRONG_MODEL] = "firmware is for another model",
	[COLDROOM_FW_E_WRONG_SERIAL] = "firmware is for another unit",
	[COLDROOM_FW_E_NOSPACE] = "output buffer too small",
	[COLDROOM_FW_E_INVALID] = "image cannot be encoded",
};

/**
 * coldroom_fw_strerror() - describe an error code
 * @err: a code returned by this library
 *
 * Return: a short, stable, static message; never NULL.
 */
const char *coldroom_fw_strerror(enum coldroom_fw_error err)
{
	if ((unsigned int)err >= COLDROOM_FW_E_COUNT || !coldroom_fw_errors[err])
		return "unknown error";
	return coldroom_fw_errors[err];
}
