// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the text source parser, as a full source and as an
 * override applied to a valid image. Anything either accepts must build
 * and round-trip (fuzz_common.h).
 */
#include "fuzz_common.h"

static const u8 base_payload[] = { 0x01, 0x02, 0x03 };

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct coldroom_fw_text_error err;
	struct coldroom_fw_image img, before;
	const char *text = (const char *)data;
	u8 *payload;

	if (coldroom_fw_text_parse(text, size, &img, &payload, &err) == 0) {
		check_valid_image(&img);
		free(payload);
	} else {
		fuzz_assert(err.msg[0] && memchr(err.msg, '\0', sizeof(err.msg)));
	}

	memset(&img, 0, sizeof(img));
	strcpy(img.model, "CRS-200");
	strcpy(img.serial, "*");
	img.cal[0].gain_ppm = img.cal[1].gain_ppm = 1000000;
	img.has_thresholds[0] = true;
	img.thr[0] = (struct coldroom_fw_thresholds){ -25000, -15000, 500 };
	img.payload = base_payload;
	img.payload_len = sizeof(base_payload);
	before = img;
	if (coldroom_fw_text_apply(&img, text, size, &err) == 0)
		check_valid_image(&img);
	else
		fuzz_assert(!memcmp(&img, &before, sizeof(img)));
	return 0;
}
