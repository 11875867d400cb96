/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * coldroom_fw_build.h - encode a struct coldroom_fw_image as a blob
 * (user space only).
 *
 * The builder writes the canonical layout (FORMAT.md, "Canonical blobs")
 * and then runs the blob through coldroom_fw_parse(), so it never emits
 * anything the parser would reject, and build(parse(blob)) gives back a
 * canonical blob byte for byte.
 */
#ifndef COLDROOM_FW_BUILD_H
#define COLDROOM_FW_BUILD_H

#include "coldroom_fw.h"

/*
 * Size of the blob coldroom_fw_build() would write for @img, or 0 if @img
 * cannot be encoded at all (unterminated strings, payload too large).
 */
size_t coldroom_fw_build_size(const struct coldroom_fw_image *img);

/*
 * Encode @img into @out (capacity @cap) and store the blob's length in
 * @out_len. Returns COLDROOM_FW_OK; COLDROOM_FW_E_NOSPACE if @cap is too
 * small; COLDROOM_FW_E_INVALID if @img cannot be encoded; or the parser's
 * code for the rule the image breaks (COLDROOM_FW_E_CALIBRATION, ...).
 * On failure @out and @out_len are left untouched.
 */
enum coldroom_fw_error coldroom_fw_build(const struct coldroom_fw_image *img,
					 void *out, size_t cap,
					 size_t *out_len);

/* As coldroom_fw_build(), into a malloc()ed buffer the caller frees. */
enum coldroom_fw_error coldroom_fw_build_alloc(const struct coldroom_fw_image *img,
					       u8 **out, size_t *out_len);

#endif /* COLDROOM_FW_BUILD_H */
