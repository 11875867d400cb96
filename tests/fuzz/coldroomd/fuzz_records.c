// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: what read() of /dev/coldroom and its batch ioctl hand
 * coldroomd. A record accepted names a unit in range, or is an overflow
 * report; a reading accepted becomes a sample record of the same unit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

#include "bulkmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coldroom_record rec;
	struct coldroom_reading reading;
	enum record_kind kind;

	if (record_parse(data, size, &rec, &kind) == 0) {
		fuzz_assert(size == sizeof(rec));
		if (kind == RECORD_OVERFLOW)
			fuzz_assert(rec.unit == COLDROOM_UNIT_NONE &&
				    rec.flags == COLDROOM_F_OVERFLOW);
		else
			fuzz_assert(rec.unit <= COLDROOM_UNIT_MAX &&
				    !(rec.flags & COLDROOM_F_OVERFLOW));
	}
	if (size >= sizeof(reading)) {
		memcpy(&reading, data, sizeof(reading));
		if (reading_to_record(&reading, &rec) == 0) {
			fuzz_assert(rec.unit == reading.unit && rec.seq == reading.seq);
			fuzz_assert(record_check(&rec, &kind) == 0 && kind == RECORD_SAMPLE);
		}
	}
	return 0;
}
