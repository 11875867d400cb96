// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * record_stall DB UNITS DAYS - writes DAYS of UNITS x 2 probes at the
 * default interval (60 s) through the product's writer (unless DB already
 * holds them), then times what Recorder1's callers make the recorder's
 * loop do: a walk in 10 ms slices (the longest slice in wall-clock and in
 * CPU time, rows per second), and one page of each read as the recorder
 * serves it (RECORDER_PAGE_ROWS rows, RECORDER_PAGE_US): GetHistoryPage
 * over a day and over the whole record of each unit, its per-row cost
 * without the time bound, and GetRecordsAfter.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "bus_names.h"
#include "record.h"

#define MIN_US 60000000ULL

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t mono(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* Longest and total of a series of timings. */
struct timing {
	uint64_t longest, total, n, over;	/* over: longer than 20 ms */
	uint64_t cpu_longest, cpu_total;	/* on the CPU */
	char why[160];				/* of the longest */
	struct rusage ru0;
	uint64_t t0, cpu0;
};

static void start(struct timing *t)
{
	getrusage(RUSAGE_THREAD, &t->ru0);
	t->cpu0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
	t->t0 = clock_us(CLOCK_MONOTONIC);
}

/* Off the CPU: waiting for the disk (voluntary), or for a CPU (involuntary). */
static void stop(struct timing *t)
{
	uint64_t us = clock_us(CLOCK_MONOTONIC) - t->t0;
	uint64_t cpu = clock_us(CLOCK_THREAD_CPUTIME_ID) - t->cpu0;
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	if (us > t->longest) {
		t->longest = us;
		snprintf(t->why, sizeof(t->why), "%" PRIu64 " us on the CPU, %ld blocks read, "
			 "%ld waits, %ld preemptions", cpu, ru.ru_inblock - t->ru0.ru_inblock,
			 ru.ru_nvcsw - t->ru0.ru_nvcsw, ru.ru_nivcsw - t->ru0.ru_nivcsw);
	}
	t->over += us > 20000;
	if (cpu > t->cpu_longest)
		t->cpu_longest = cpu;
	t->cpu_total += cpu;
	t->total += us;
	t->n++;
}

static void pages(const char *what, const struct timing *t, uint64_t rows)
{
	printf("%s: %" PRIu64 " pages", what, t->n);
	if (rows)
		printf(" of %.0f rows (%.1f us of CPU a row)", (double)rows / (double)t->n,
		       (double)t->cpu_total / (double)rows);
	printf(", longest %" PRIu64 " us (%s), the most CPU a page took %" PRIu64 " us, %" PRIu64
	       " over 20 ms\n", t->longest, t->why, t->cpu_longest, t->over);
}

/* Every page of one probe's history in [since, until): the longest, rows per page. */
static int history_pages(struct record *r, const char *serial, unsigned int probe,
			 uint64_t since, uint64_t until, size_t max, uint64_t budget,
			 struct timing *t, uint64_t *rows)
{
	struct record_page pg = { .max = max, .budget_us = budget };
	struct record_history h;

	do {
		start(t);
		if (record_history(r, serial, probe, since, until, &pg, &h) < 0)
			return -1;
		stop(t);
		*rows += h.n;
		record_history_free(&h);
		pg.after_time = pg.next_time;
		pg.after_seq = pg.next_seq;
	} while (pg.more);
	return 0;
}

int main(int argc, char **argv)
{
	struct record *r;
	struct record_walk *w;
	struct record_verify v;
	struct record_rows rows;
	struct record_head head;
	struct timing slice = { 0 }, day = { 0 }, whole = { 0 }, uncapped = { 0 };
	struct timing after = { 0 };
	char err[256], serial[32];
	unsigned int units, days;
	uint64_t t0 = 1700000000ULL * 1000000, t, n_day = 0, n_whole = 0, n_uncapped = 0;
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
	record_heads(r, &head, NULL);
	if (head.seq == (int64_t)units * 2 * days * 1440) {
		printf("reusing %s: %" PRId64 " rows\n", argv[1], head.seq);
		goto written;
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

written:
	t = mono();
	if (record_walk_new(NULL, &w) < 0)
		return 1;
	do {
		start(&slice);
		k = record_walk_step(r, w, 10000, &v);
		stop(&slice);
	} while (k == 0);
	t = mono() - t;
	record_walk_free(w);
	printf("walk: %s; %" PRIu64 " slices, longest %" PRIu64 " us (%s; the most CPU a slice took: %"
	       PRIu64 " us), %" PRIu64 " over 20 ms; %.0f rows/s\n", v.message, slice.n,
	       slice.longest, slice.why, slice.cpu_longest, slice.over,
	       (double)(v.record_rows + v.audit_rows) * 1e6 / (double)t);

	for (unsigned int u = 0; u < units; u++) {
		uint64_t mid = t0 + (uint64_t)(days / 2) * 1440 * MIN_US;

		snprintf(serial, sizeof(serial), "SIM-%06u", u);
		if (history_pages(r, serial, 1, mid, mid + 1440 * MIN_US, RECORDER_PAGE_ROWS,
				  RECORDER_PAGE_US, &day, &n_day) < 0 ||
		    history_pages(r, serial, 2, 0, UINT64_MAX, RECORDER_PAGE_ROWS, RECORDER_PAGE_US,
				  &whole, &n_whole) < 0)
			return 1;
	}
	/* The same pages without the time bound: what a row costs. */
	for (unsigned int u = 0; u < units; u++) {
		snprintf(serial, sizeof(serial), "SIM-%06u", u);
		if (history_pages(r, serial, 1, 0, UINT64_MAX, RECORDER_PAGE_ROWS, 0, &uncapped,
				  &n_uncapped) < 0)
			return 1;
	}
	pages("GetHistoryPage, a day", &day, n_day);
	pages("GetHistoryPage, the whole record", &whole, n_whole);
	pages("GetHistoryPage without the time bound", &uncapped, n_uncapped);
	record_heads(r, &head, NULL);
	for (int64_t seq = 0; seq < head.seq; seq += head.seq / 200 + 1) {
		start(&after);
		if (record_rows_after(r, (uint64_t)seq, RECORDER_PAGE_ROWS, &rows) < 0)
			return 1;
		stop(&after);
		record_rows_free(&rows);
	}
	pages("GetRecordsAfter", &after, 0);
	record_close(r);
	return 0;
}
