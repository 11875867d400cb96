/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Properties both fuzz targets check on every image they get: it builds,
 * the blob parses back to the same image, and its text source builds back
 * into the same blob. A violation aborts, which libFuzzer reports.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

#include "coldroom_fw.h"
#include "coldroom_fw_build.h"
#include "coldroom_fw_text.h"

static inline int images_equal(const struct coldroom_fw_image *a,
			       const struct coldroom_fw_image *b)
{
	int ch;

	if (strcmp(a->model, b->model) || strcmp(a->serial, b->serial) ||
	    a->fw_version != b->fw_version || a->has_interval != b->has_interval ||
	    a->has_label != b->has_label || a->has_thermal != b->has_thermal ||
	    a->payload_len != b->payload_len ||
	    memcmp(a->payload, b->payload, a->payload_len))
		return 0;
	if ((a->has_interval && a->interval_ms != b->interval_ms) ||
	    (a->has_label && strcmp(a->label, b->label)) ||
	    (a->has_thermal && (a->frame_width != b->frame_width ||
				a->frame_height != b->frame_height)))
		return 0;
	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++) {
		if (a->cal[ch].gain_ppm != b->cal[ch].gain_ppm ||
		    a->cal[ch].offset_mdeg != b->cal[ch].offset_mdeg ||
		    a->has_thresholds[ch] != b->has_thresholds[ch])
			return 0;
		if (a->has_thresholds[ch] &&
		    (a->thr[ch].min_mdeg != b->thr[ch].min_mdeg ||
		     a->thr[ch].max_mdeg != b->thr[ch].max_mdeg ||
		     a->thr[ch].hyst_mdeg != b->thr[ch].hyst_mdeg))
			return 0;
	}
	return 1;
}

/* @img is valid (the parser or the text parser accepted it). */
static inline void check_valid_image(const struct coldroom_fw_image *img)
{
	struct coldroom_fw_text_error err;
	struct coldroom_fw_image again, from_text;
	size_t len, len2;
	u8 *blob, *blob2, *payload;
	char *text;

	fuzz_assert(coldroom_fw_build_alloc(img, &blob, &len) == COLDROOM_FW_OK);
	fuzz_assert(len == coldroom_fw_build_size(img));
	fuzz_assert(coldroom_fw_parse(blob, len, &again) == COLDROOM_FW_OK);
	fuzz_assert(images_equal(img, &again));

	text = coldroom_fw_text_format(&again);
	fuzz_assert(text);
	fuzz_assert(coldroom_fw_text_parse(text, strlen(text), &from_text,
					   &payload, &err) == 0);
	fuzz_assert(images_equal(img, &from_text));
	fuzz_assert(coldroom_fw_build_alloc(&from_text, &blob2, &len2) ==
		    COLDROOM_FW_OK);
	fuzz_assert(len2 == len && !memcmp(blob, blob2, len));

	free(blob2);
	free(payload);
	free(text);
	free(blob);
}

#endif /* FUZZ_COMMON_H */
