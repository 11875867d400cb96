// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: coldroom_fw_parse() on arbitrary bytes, then on the
 * same bytes with a correct CRC so that mutations reach past the checksum.
 * Whatever it accepts must round-trip (fuzz_common.h).
 */
#include "fuzz_common.h"

static void parse_and_check(const u8 *data, size_t size)
{
	struct coldroom_fw_image img;
	enum coldroom_fw_error err = coldroom_fw_parse(data, size, &img);

	fuzz_assert(err >= COLDROOM_FW_OK && err < COLDROOM_FW_E_WRONG_MODEL);
	fuzz_assert(coldroom_fw_strerror(err));
	if (err == COLDROOM_FW_OK) {
		check_valid_image(&img);
		(void)coldroom_fw_check_target(&img, "CRS-200", "SIM-000001");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u8 *copy;

	parse_and_check(data, size);
	if (size < COLDROOM_FW_HEADER_SIZE || size > COLDROOM_FW_MAX_SIZE)
		return 0;

	copy = malloc(size);
	fuzz_assert(copy);
	memcpy(copy, data, size);
	memset(copy + COLDROOM_FW_OFF_CRC, 0, 4);
	u32 crc = coldroom_fw_crc32(0, copy, size);
	copy[COLDROOM_FW_OFF_CRC] = (u8)crc;
	copy[COLDROOM_FW_OFF_CRC + 1] = (u8)(crc >> 8);
	copy[COLDROOM_FW_OFF_CRC + 2] = (u8)(crc >> 16);
	copy[COLDROOM_FW_OFF_CRC + 3] = (u8)(crc >> 24);
	parse_and_check(copy, size);
	free(copy);
	return 0;
}
