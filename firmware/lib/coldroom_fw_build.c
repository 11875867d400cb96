// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom_fw_build.c - encode a parsed image as a canonical blob.
 *
 * Canonical order, in the directory and in the data alike: calibration
 * temp1, temp2, interval, thresholds temp1, temp2, label, thermal,
 * payload; each section padded with zeros to 4 bytes. Validation is not
 * repeated here: the finished blob goes through coldroom_fw_parse().
 */
#include <stdlib.h>
#include <string.h>

#include "coldroom_fw_build.h"

struct section {
	u16 type;
	u32 length;
};

static void put_le16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void put_le32(u8 *p, u32 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
	p[2] = (u8)(v >> 16);
	p[3] = (u8)(v >> 24);
}

static size_t padded(size_t n)
{
	return (n + COLDROOM_FW_SECTION_ALIGN - 1) &
	       ~(size_t)(COLDROOM_FW_SECTION_ALIGN - 1);
}

/* The sections @img needs, in canonical order; returns their number. */
static unsigned int plan(const struct coldroom_fw_image *img,
			 struct section *sec)
{
	unsigned int n = 0, ch;

	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++)
		sec[n++] = (struct section){ COLDROOM_FW_SEC_CALIBRATION,
					     COLDROOM_FW_CALIBRATION_LEN };
	if (img->has_interval)
		sec[n++] = (struct section){ COLDROOM_FW_SEC_INTERVAL,
					     COLDROOM_FW_INTERVAL_LEN };
	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++)
		if (img->has_thresholds[ch])
			sec[n++] = (struct section){ COLDROOM_FW_SEC_THRESHOLDS,
						     COLDROOM_FW_THRESHOLDS_LEN };
	if (img->has_label)
		sec[n++] = (struct section){ COLDROOM_FW_SEC_LABEL,
					     (u32)strlen(img->label) };
	if (img->has_thermal)
		sec[n++] = (struct section){ COLDROOM_FW_SEC_THERMAL,
					     COLDROOM_FW_THERMAL_LEN };
	sec[n++] = (struct section){ COLDROOM_FW_SEC_PAYLOAD,
				     img->payload_len };
	return n;
}

/* Can @img be written down at all? The parser judges the rest. */
static bool encodable(const struct coldroom_fw_image *img)
{
	if (strnlen(img->model, sizeof(img->model)) > COLDROOM_FW_MODEL_LEN ||
	    strnlen(img->serial, sizeof(img->serial)) > COLDROOM_FW_SERIAL_LEN)
		return false;
	if (img->has_label &&
	    strnlen(img->label, sizeof(img->label)) > COLDROOM_FW_LABEL_MAX)
		return false;
	if (img->payload_len > COLDROOM_FW_PAYLOAD_MAX)
		return false;
	return img->payload || img->payload_len == 0;
}

size_t coldroom_fw_build_size(const struct coldroom_fw_image *img)
{
	struct section sec[COLDROOM_FW_MAX_SECTIONS];
	unsigned int n, i;
	size_t size;

	if (!encodable(img))
		return 0;
	n = plan(img, sec);
	size = COLDROOM_FW_HEADER_SIZE + (size_t)n * COLDROOM_FW_DIRENT_SIZE;
	for (i = 0; i < n; i++)
		size += padded(sec[i].length);
	return size;
}

static void put_channel_value(u8 *p, unsigned int ch, u32 a, u32 b)
{
	put_le32(p, ch + 1);
	put_le32(p + 4, a);
	put_le32(p + 8, b);
}

/* Writes @img into @blob, which holds exactly its build size, zeroed. */
static void encode(const struct coldroom_fw_image *img, u8 *blob, size_t size)
{
	struct section sec[COLDROOM_FW_MAX_SECTIONS];
	unsigned int n = plan(img, sec);
	unsigned int i, cal_ch = 0, thr_ch = 0;
	size_t off = COLDROOM_FW_HEADER_SIZE + (size_t)n * COLDROOM_FW_DIRENT_SIZE;

	memcpy(blob + COLDROOM_FW_OFF_MAGIC, COLDROOM_FW_MAGIC, 4);
	put_le16(blob + COLDROOM_FW_OFF_FORMAT_VERSION,
		 COLDROOM_FW_FORMAT_VERSION);
	put_le16(blob + COLDROOM_FW_OFF_HEADER_SIZE, COLDROOM_FW_HEADER_SIZE);
	put_le32(blob + COLDROOM_FW_OFF_TOTAL_SIZE, (u32)size);
	memcpy(blob + COLDROOM_FW_OFF_MODEL, img->model, strlen(img->model));
	memcpy(blob + COLDROOM_FW_OFF_SERIAL, img->serial, strlen(img->serial));
	put_le32(blob + COLDROOM_FW_OFF_FW_VERSION, img->fw_version);
	put_le16(blob + COLDROOM_FW_OFF_SECTION_COUNT, (u16)n);

	for (i = 0; i < n; i++) {
		u8 *e = blob + COLDROOM_FW_HEADER_SIZE +
			i * COLDROOM_FW_DIRENT_SIZE;
		u8 *p = blob + off;
		unsigned int ch;

		put_le16(e + COLDROOM_FW_DIRENT_TYPE, sec[i].type);
		put_le32(e + COLDROOM_FW_DIRENT_OFFSET, (u32)off);
		put_le32(e + COLDROOM_FW_DIRENT_LENGTH, sec[i].length);

		switch (sec[i].type) {
		case COLDROOM_FW_SEC_CALIBRATION:
			ch = cal_ch++;
			put_channel_value(p, ch, (u32)img->cal[ch].gain_ppm,
					  (u32)img->cal[ch].offset_mdeg);
			break;
		case COLDROOM_FW_SEC_INTERVAL:
			put_le32(p, img->interval_ms);
			break;
		case COLDROOM_FW_SEC_THRESHOLDS:
			while (!img->has_thresholds[thr_ch])
				thr_ch++;
			ch = thr_ch++;
			put_channel_value(p, ch, (u32)img->thr[ch].min_mdeg,
					  (u32)img->thr[ch].max_mdeg);
			put_le32(p + 12, img->thr[ch].hyst_mdeg);
			break;
		case COLDROOM_FW_SEC_LABEL:
			memcpy(p, img->label, sec[i].length);
			break;
		case COLDROOM_FW_SEC_THERMAL:
			put_le16(p, img->frame_width);
			put_le16(p + 2, img->frame_height);
			break;
		case COLDROOM_FW_SEC_PAYLOAD:
			if (sec[i].length)
				memcpy(p, img->payload, sec[i].length);
			break;
		}
		off += padded(sec[i].length);
	}

	put_le32(blob + COLDROOM_FW_OFF_CRC, coldroom_fw_crc32(0, blob, size));
}

/* Encodes into fresh memory and proves the result with the parser. */
static enum coldroom_fw_error build_checked(const struct coldroom_fw_image *img,
					    u8 **blob, size_t *size)
{
	struct coldroom_fw_image check;
	enum coldroom_fw_error err;

	*size = coldroom_fw_build_size(img);
	if (!*size)
		return img->payload_len > COLDROOM_FW_PAYLOAD_MAX ?
		       COLDROOM_FW_E_PAYLOAD : COLDROOM_FW_E_INVALID;
	*blob = calloc(1, *size);
	if (!*blob)
		return COLDROOM_FW_E_NOSPACE;
	encode(img, *blob, *size);
	err = coldroom_fw_parse(*blob, *size, &check);
	if (err) {
		free(*blob);
		*blob = NULL;
	}
	return err;
}

enum coldroom_fw_error coldroom_fw_build(const struct coldroom_fw_image *img,
					 void *out, size_t cap,
					 size_t *out_len)
{
	enum coldroom_fw_error err;
	size_t size;
	u8 *blob;

	size = coldroom_fw_build_size(img);
	if (size && size > cap)
		return COLDROOM_FW_E_NOSPACE;
	err = build_checked(img, &blob, &size);
	if (err)
		return err;
	memcpy(out, blob, size);
	*out_len = size;
	free(blob);
	return COLDROOM_FW_OK;
}

enum coldroom_fw_error coldroom_fw_build_alloc(const struct coldroom_fw_image *img,
					       u8 **out, size_t *out_len)
{
	enum coldroom_fw_error err;
	size_t size;
	u8 *blob;

	err = build_checked(img, &blob, &size);
	if (err)
		return err;
	*out = blob;
	*out_len = size;
	return COLDROOM_FW_OK;
}
