// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * record_fill DB DAY_START_EPOCH SERIAL... - writes a day of a plausible
 * record through the product's own writer (record/write.c), for the report
 * tests: a cold room near -18 C with the door opened now and then (probe
 * 1 air), a slower product probe (probe 2), a door left open at 10:00 that
 * raises, escalates, is acknowledged and clears, an hour without data at
 * 14:00 (the recorder stopped), and a disconnected probe 2 for 20 minutes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define MIN_US 60000000ULL

static int32_t air(unsigned int m)
{
	double t = -18000 + 900 * sin(m / 37.0) + 400 * sin(m / 5.3);

	if (m % 180 < 3)	/* the door, every three hours, briefly */
		t += 3500 - 1000 * (m % 180);
	if (m >= 600 && m < 640)	/* left open at 10:00 */
		t = -18000 + 14000 * (1 - exp(-(double)(m - 600) / 8)) -
		    (m >= 625 ? 420.0 * (m - 625) : 0);
	return (int32_t)t;
}

int main(int argc, char **argv)
{
	struct record *r;
	char err[256];
	unsigned long long day;

	if (argc < 4) {
		fprintf(stderr, "usage: record_fill DB DAY_START_EPOCH SERIAL...\n");
		return 2;
	}
	day = strtoull(argv[2], NULL, 10) * 1000000ULL;
	if (record_open(argv[1], RECORD_WRITE, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "record_fill: %s\n", err);
		return 1;
	}
	for (unsigned int m = 0; m < 1440; m++) {
		uint64_t start = day + m * MIN_US;

		if (record_begin(r) < 0)
			return 1;
		if (m >= 840 && m < 900) {	/* 14:00-15:00: nothing recorded */
			struct record_row gap = { .start_us = start, .end_us = start + MIN_US,
						  .serial = "", .status = RECORD_NOT_RUNNING };

			if (record_add_row(r, &gap) < 0)
				return 1;
		} else {
			for (int u = 3; u < argc; u++)
				for (unsigned int p = 1; p <= 2; p++) {
					int32_t base = p == 1 ? air(m) : (int32_t)(-17500 + 150 * sin(m / 90.0));
					bool fault = p == 2 && m >= 1200 && m < 1220;
					struct record_row row = {
						.start_us = start, .end_us = start + MIN_US,
						.serial = argv[u], .probe = p,
						.n = fault ? 0 : 60,
						.min = base - 250, .mean = base, .max = base + 250,
						.status = fault ? RECORD_PROBE_FAULT : RECORD_OK,
					};

					if (record_add_row(r, &row) < 0)
						return 1;
				}
		}
		if (m == 603 || m == 608 || m == 621 || m == 632) {
			static const char *const what[] = { "alarm-raised", "alarm-escalated",
							    "alarm-acknowledged", "alarm-cleared" };
			int k = m == 603 ? 0 : m == 608 ? 1 : m == 621 ? 2 : 3;
			struct record_event ev = {
				.time_us = start + 20 * 1000000ULL, .event = what[k],
				.serial = argv[3], .probe = 1, .has_reading = true,
				.reading = air(m), .has_uid = k == 2, .uid = 1001,
				.user = k == 2 ? "operator1" : NULL,
				.detail = k == 2 ? "alarm 1, level 2: door closed, stock checked; signed by "
						  "Olga Operator (operator1), meaning: acknowledged" :
					  "alarm 1",
			};

			if (record_add_event(r, &ev) < 0)
				return 1;
		}
		if (record_commit(r) < 0) {
			fprintf(stderr, "record_fill: %s\n", record_error(r));
			return 1;
		}
	}
	record_close(r);
	return 0;
}
