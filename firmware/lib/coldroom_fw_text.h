/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * coldroom_fw_text.h - the readable source format of firmware blobs and of
 * per-unit override files (user space only). Syntax: firmware/FORMAT.md,
 * "Text source format".
 */
#ifndef COLDROOM_FW_TEXT_H
#define COLDROOM_FW_TEXT_H

#include "coldroom_fw.h"

/* Largest text source accepted: a full payload in hex plus room to spare. */
#define COLDROOM_FW_TEXT_MAX		(4 * COLDROOM_FW_MAX_SIZE)

struct coldroom_fw_text_error {
	unsigned int line;	/* 1-based; 0 when no single line is at fault */
	char msg[160];		/* the problem, without the line number */
};

/*
 * Parse a complete source into @img. The payload is decoded into a
 * malloc()ed buffer that @img->payload points to and *@payload_buf owns
 * (the caller frees it). Returns 0, or -1 with @err filled in; on failure
 * @img and *@payload_buf are left untouched.
 */
int coldroom_fw_text_parse(const char *text, size_t len,
			   struct coldroom_fw_image *img, u8 **payload_buf,
			   struct coldroom_fw_text_error *err);

/*
 * Apply an override text onto a valid image: only calibration, thresholds,
 * interval_ms and label may appear. Returns 0, or -1 with @err filled in
 * and @img unchanged.
 */
int coldroom_fw_text_apply(struct coldroom_fw_image *img,
			   const char *text, size_t len,
			   struct coldroom_fw_text_error *err);

/*
 * The source text of @img, malloc()ed and NUL-terminated, or NULL when out
 * of memory. Parsing it gives back @img; building that gives back the
 * canonical blob of @img.
 */
char *coldroom_fw_text_format(const struct coldroom_fw_image *img);

#endif /* COLDROOM_FW_TEXT_H */
