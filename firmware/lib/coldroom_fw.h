/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * coldroom_fw.h - the one parser/validator of coldroom firmware blobs.
 *
 * This header and coldroom_fw.c compile unchanged into the kernel module
 * and into every user-space tool; coldroom_fw_shim.h supplies the types.
 * The byte layout is specified in firmware/FORMAT.md.
 */
#ifndef COLDROOM_FW_H
#define COLDROOM_FW_H

#include "coldroom_fw_shim.h"

#define COLDROOM_FW_MAGIC		"CRFW"
#define COLDROOM_FW_FORMAT_VERSION	1
#define COLDROOM_FW_HEADER_SIZE		64
#define COLDROOM_FW_DIRENT_SIZE		12
#define COLDROOM_FW_MAX_SECTIONS	16
#define COLDROOM_FW_MAX_SIZE		(1024 * 1024)

#define COLDROOM_FW_MODEL_LEN		16	/* NUL-padded, not terminated */
#define COLDROOM_FW_SERIAL_LEN		16	/* "*" means any serial */
#define COLDROOM_FW_LABEL_MAX		32
#define COLDROOM_FW_PAYLOAD_MAX		(512 * 1024)
#define COLDROOM_FW_CHANNELS		2

/* Limits a blob's values must respect (millidegree Celsius, ms, ppm). */
#define COLDROOM_FW_TEMP_MIN_MDEG	(-60000)
#define COLDROOM_FW_TEMP_MAX_MDEG	60000
#define COLDROOM_FW_HYST_MAX_MDEG	10000
#define COLDROOM_FW_GAIN_MIN_PPM	500000
#define COLDROOM_FW_GAIN_MAX_PPM	2000000
#define COLDROOM_FW_OFFSET_MAX_MDEG	10000
#define COLDROOM_FW_INTERVAL_MIN_MS	100
#define COLDROOM_FW_INTERVAL_MAX_MS	3600000
#define COLDROOM_FW_FRAME_DIM_MAX	128
#define COLDROOM_FW_FRAME_PIXELS_MAX	(80 * 60)

enum coldroom_fw_section_type {
	COLDROOM_FW_SEC_CALIBRATION	= 1,	/* one per channel, required */
	COLDROOM_FW_SEC_INTERVAL	= 2,	/* optional */
	COLDROOM_FW_SEC_THRESHOLDS	= 3,	/* one per channel, optional */
	COLDROOM_FW_SEC_LABEL		= 4,	/* optional */
	COLDROOM_FW_SEC_THERMAL		= 5,	/* optional: thermal-image geometry */
	COLDROOM_FW_SEC_PAYLOAD		= 6,	/* required: opaque program */
};

/* Every way a blob can be wrong has its own code (and message). */
enum coldroom_fw_error {
	COLDROOM_FW_OK = 0,
	COLDROOM_FW_E_TRUNCATED,	/* shorter than its header says */
	COLDROOM_FW_E_TOO_LARGE,	/* over COLDROOM_FW_MAX_SIZE */
	COLDROOM_FW_E_MAGIC,
	COLDROOM_FW_E_VERSION,		/* unsupported format version */
	COLDROOM_FW_E_HEADER_SIZE,
	COLDROOM_FW_E_TOTAL_SIZE,	/* total_size != blob length */
	COLDROOM_FW_E_CHECKSUM,
	COLDROOM_FW_E_RESERVED,		/* reserved field or flag not zero */
	COLDROOM_FW_E_MODEL,		/* empty or not printable */
	COLDROOM_FW_E_SERIAL,		/* not printable */
	COLDROOM_FW_E_SECTION_COUNT,
	COLDROOM_FW_E_SECTION_BOUNDS,	/* outside the blob, or overflows */
	COLDROOM_FW_E_SECTION_ALIGN,
	COLDROOM_FW_E_SECTION_OVERLAP,
	COLDROOM_FW_E_SECTION_REPEATED,
	COLDROOM_FW_E_SECTION_UNKNOWN,
	COLDROOM_FW_E_SECTION_LENGTH,	/* wrong length for its type */
	COLDROOM_FW_E_SECTION_MISSING,	/* a required section is absent */
	COLDROOM_FW_E_CHANNEL,		/* channel number not 1..2 */
	COLDROOM_FW_E_CALIBRATION,	/* gain/offset out of range */
	COLDROOM_FW_E_INTERVAL,
	COLDROOM_FW_E_THRESHOLDS,	/* min >= max, out of range, hyst */
	COLDROOM_FW_E_LABEL,		/* empty, too long or not printable */
	COLDROOM_FW_E_THERMAL,		/* geometry out of range */
	COLDROOM_FW_E_PAYLOAD,		/* empty or too large */
	COLDROOM_FW_E_UNUSED_BYTES,	/* bytes no section accounts for */
	COLDROOM_FW_E_WRONG_MODEL,	/* coldroom_fw_check_target() */
	COLDROOM_FW_E_WRONG_SERIAL,	/* coldroom_fw_check_target() */
	COLDROOM_FW_E_NOSPACE,		/* builder: output buffer too small */
	COLDROOM_FW_E_INVALID,		/* builder: image violates the rules */
	COLDROOM_FW_E_COUNT
};

struct coldroom_fw_calibration {
	s32 gain_ppm;		/* 1000000 == 1.0 */
	s32 offset_mdeg;
};

struct coldroom_fw_thresholds {
	s32 min_mdeg;
	s32 max_mdeg;
	u32 hyst_mdeg;
};

/*
 * A parsed blob. Strings are NUL-terminated copies; payload points into
 * the caller's buffer, so it lives only as long as that buffer.
 */
struct coldroom_fw_image {
	char model[COLDROOM_FW_MODEL_LEN + 1];
	char serial[COLDROOM_FW_SERIAL_LEN + 1];	/* "*" = any unit */
	u32 fw_version;		/* major << 16 | minor << 8 | patch */
	struct coldroom_fw_calibration cal[COLDROOM_FW_CHANNELS];
	bool has_interval;
	u32 interval_ms;
	bool has_thresholds[COLDROOM_FW_CHANNELS];
	struct coldroom_fw_thresholds thr[COLDROOM_FW_CHANNELS];
	bool has_label;
	char label[COLDROOM_FW_LABEL_MAX + 1];
	bool has_thermal;
	u16 frame_width;
	u16 frame_height;
	const u8 *payload;
	u32 payload_len;
};

/* Parse and fully validate @len bytes at @data into @img. */
enum coldroom_fw_error coldroom_fw_parse(const void *data, size_t len,
					 struct coldroom_fw_image *img);

/* Does a parsed blob belong on a unit of this model and serial? */
enum coldroom_fw_error coldroom_fw_check_target(const struct coldroom_fw_image *img,
						const char *model,
						const char *serial);

/* Apply a channel's calibration to a raw reading, saturating to s32. */
s32 coldroom_fw_calibrate(const struct coldroom_fw_calibration *cal,
			  s32 raw_mdeg);

/* Short, stable, human-readable reason for an error code. */
const char *coldroom_fw_strerror(enum coldroom_fw_error err);

/* CRC-32 (IEEE 802.3, as zlib's crc32()) used for the header checksum. */
u32 coldroom_fw_crc32(u32 crc, const u8 *buf, size_t len);

/*
 * Byte layout (FORMAT.md): offsets of the little-endian header fields, of
 * the fields of a directory entry and of the fixed-size section payloads.
 * The parser, the builder and the tests share these numbers.
 */
#define COLDROOM_FW_OFF_MAGIC		0	/* 4 bytes "CRFW" */
#define COLDROOM_FW_OFF_FORMAT_VERSION	4	/* u16 */
#define COLDROOM_FW_OFF_HEADER_SIZE	6	/* u16 */
#define COLDROOM_FW_OFF_TOTAL_SIZE	8	/* u32 */
#define COLDROOM_FW_OFF_MODEL		12	/* 16 bytes */
#define COLDROOM_FW_OFF_SERIAL		28	/* 16 bytes */
#define COLDROOM_FW_OFF_FW_VERSION	44	/* u32 */
#define COLDROOM_FW_OFF_SECTION_COUNT	48	/* u16 */
#define COLDROOM_FW_OFF_RESERVED0	50	/* u16, zero */
#define COLDROOM_FW_OFF_CRC		52	/* u32 */
#define COLDROOM_FW_OFF_RESERVED1	56	/* 8 bytes, zero */
#define COLDROOM_FW_RESERVED1_LEN	8

#define COLDROOM_FW_DIRENT_TYPE		0	/* u16 */
#define COLDROOM_FW_DIRENT_FLAGS	2	/* u16, zero */
#define COLDROOM_FW_DIRENT_OFFSET	4	/* u32 */
#define COLDROOM_FW_DIRENT_LENGTH	8	/* u32 */

#define COLDROOM_FW_SECTION_ALIGN	4
#define COLDROOM_FW_CALIBRATION_LEN	12	/* u32 channel, s32 gain, s32 offset */
#define COLDROOM_FW_INTERVAL_LEN	4	/* u32 interval_ms */
#define COLDROOM_FW_THRESHOLDS_LEN	16	/* u32 channel, s32 min, s32 max, u32 hyst */
#define COLDROOM_FW_THERMAL_LEN		4	/* u16 width, u16 height */

/*
 * The value rules, one implementation each: the parser applies them to
 * every blob, and the text source parser and anything that accepts the
 * same settings from elsewhere (sysfs, override files) can apply them to
 * single settings. Strings are NUL-terminated.
 */
enum coldroom_fw_error coldroom_fw_check_model(const char *model);
enum coldroom_fw_error coldroom_fw_check_serial(const char *serial);
enum coldroom_fw_error coldroom_fw_check_calibration(const struct coldroom_fw_calibration *cal);
enum coldroom_fw_error coldroom_fw_check_interval(u32 interval_ms);
enum coldroom_fw_error coldroom_fw_check_thresholds(const struct coldroom_fw_thresholds *thr);
enum coldroom_fw_error coldroom_fw_check_label(const char *label);
enum coldroom_fw_error coldroom_fw_check_thermal(u32 width, u32 height);

#endif /* COLDROOM_FW_H */
