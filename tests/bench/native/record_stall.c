// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * record_stall DB UNITS DAYS - writes DAYS of UNITS x 2 probes at the
 * default interval (60 s) through the product's writer, then times what
 * Recorder1's callers make the recorder's loop do: a walk in 10 ms slices
 * (the longest slice, rows per second) and GetHistory (a day, and a call's
 * whole 100,000 rows) of each unit.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "record.h"

#define MIN_US 60000000ULL

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	struct record *r;
	struct record_walk *w;
	struct record_verify v;
	struct record_history h;
	char err[256], serial[32];
	unsigned int units, days;
	uint64_t t0 = 1700000000ULL * 1000000, t, longest = 0, hist_day = 0, hist_max = 0, rows_max = 0;
	unsigned int slices = 0;
	int k;

	if (argc != 4) {
		fprintf(stderr, "usage: record_stall DB UNITS DAYS\n");
		return 2;
	}
	units = (unsigned int)atoi(argv[2]);
	days = (unsigned int)atoi(argv[3]);
	if (record_open(argv[1], RECORD_WRITE, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "record_stall: %s\n", err);
		return 1;
	}
	t = mono();
	for (uint64_t m = 0; m < (uint64_t)days * 1440; m++) {
		if (record_begin(r) < 0)
			return 1;
		for (unsigned int u = 0; u < units; u++)
			for (unsigned int p = 1; p <= 2; p++) {
				struct record_row row = {
					.start_us = t0 + m * MIN_US, .end_us = t0 + (m + 1) * MIN_US,
					.serial = serial, .probe = p, .n = 60,
					.min = -18250, .mean = -18000 + (int32_t)(m % 100), .max = -17750,
				};

				snprintf(serial, sizeof(serial), "SIM-%06u", u);
				if (record_add_row(r, &row) < 0)
					return 1;
			}
		if (record_commit(r) < 0) {
			fprintf(stderr, "record_stall: %s\n", record_error(r));
			return 1;
		}
	}
	printf("written: %u units x 2 probes x %u days = %llu rows in %.1f s\n", units, days,
	       (unsigned long long)units * 2 * days * 1440, (double)(mono() - t) / 1e6);

	t = mono();
	if (record_walk_new(NULL, &w) < 0)
		return 1;
	do {
		uint64_t s = mono();

		k = record_walk_step(r, w, 10000, &v);
		s = mono() - s;
		if (s > longest)
			longest = s;
		slices++;
	} while (k == 0);
	t = mono() - t;
	record_walk_free(w);
	printf("walk: %s; %u slices, longest %llu us, %.0f rows/s\n", v.message, slices,
	       (unsigned long long)longest, (double)(v.record_rows + v.audit_rows) * 1e6 / (double)t);

	for (unsigned int u = 0; u < units; u++) {
		uint64_t s;

		snprintf(serial, sizeof(serial), "SIM-%06u", u);
		s = mono();
		if (record_history(r, serial, 1, t0 + (days / 2) * 1440 * MIN_US,
				   t0 + (days / 2 + 1) * 1440 * MIN_US, 100000, &h) < 0)
			return 1;
		s = mono() - s;
		if (s > hist_day)
			hist_day = s;
		record_history_free(&h);
		s = mono();
		if (record_history(r, serial, 2, 0, UINT64_MAX, 100000, &h) < 0)
			return 1;
		s = mono() - s;
		if (s > hist_max)
			hist_max = s;
		rows_max = h.n;
		record_history_free(&h);
	}
	printf("GetHistory: a day (1440 rows) longest %llu us; %llu rows longest %llu us\n",
	       (unsigned long long)hist_day, (unsigned long long)rows_max,
	       (unsigned long long)hist_max);
	record_close(r);
	return 0;
}
