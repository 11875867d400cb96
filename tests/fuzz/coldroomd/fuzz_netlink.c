// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the generic netlink messages coldroomd believes (the
 * controller's family answer and the events of the "events" group). What
 * either accepts has its values in range.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

#include "bulkmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct genl_event ev;
	uint16_t family = 0;
	uint32_t group = 0;
	uint8_t *copy;

	/* A heap copy of exactly @size bytes: ASan sees any read past it. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (genl_family_parse(copy, size, &family, &group) == 0)
		fuzz_assert(family != 0);
	/* The family id the message itself names, and another one. */
	for (int i = 0; i < 2; i++) {
		uint16_t id = size >= 6 ? (uint16_t)(copy[4] | copy[5] << 8) : 0x20;

		if (i)
			id++;
		if (genl_event_parse(copy, size, id, &ev) == 0) {
			fuzz_assert(ev.unit <= COLDROOM_UNIT_MAX);
			if (ev.cmd == COLDROOM_CMD_ALARM)
				fuzz_assert(ev.channel == 1 || ev.channel == 2);
		}
	}
	free(copy);
	return 0;
}
