// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The recorder's accounting of samples (intervals.c, RECORD.md "Every
 * sample"): each sample of a unit in its interval's count, a sample seen
 * twice counted once, a skipped sample_seq counted lost with why (in the
 * interval of the sample after the gap), a sample after its interval was
 * written counted lost as late, and the rows written with those counts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "intervals.h"
#include "record.h"

#define SEC 1000000ULL
#define LEN (60 * SEC)
#define T0 (1764633600ULL * SEC)	/* 2025-12-02 00:00:00 UTC: an interval's start */

static struct intervals *new_iv(void)
{
	struct intervals *iv = NULL;

	assert_int_equal(intervals_new(LEN, &iv), 0);
	intervals_reset(iv, T0);
	assert_int_equal(intervals_unit_add(iv, 0, "SIM-000000"), 0);
	assert_int_equal(intervals_unit_add(iv, 1, "SIM-000001"), 0);
	return iv;
}

static enum intervals_taken feed(struct intervals *iv, uint32_t unit, uint64_t seq,
				 uint32_t epoch, int32_t mdeg, uint64_t stamp)
{
	return intervals_reading(iv, unit, &(const struct intervals_reading){
		.seq = seq, .epoch = epoch, .mdeg = { mdeg, mdeg + 1000 },
		.status = { 1, 1 }, .stamp_us = stamp });
}

static uint32_t lost(struct intervals *iv, uint32_t unit, uint64_t start, unsigned int expect_why)
{
	unsigned int why;
	uint32_t n = intervals_lost(iv, unit, start, &why);

	assert_int_equal(why, expect_why);
	return n;
}

static void test_every_sample(void **state)
{
	struct intervals *iv = new_iv();

	(void)state;
	/* Ten samples a second apart, the first of the unit: nothing lost. */
	for (uint64_t s = 1; s <= 10; s++)
		assert_int_equal(feed(iv, 0, 100 + s, 1, -18000, T0 + s * SEC), INTERVALS_TAKEN);
	/* The same sample again (a later entry of the same window): once. */
	assert_int_equal(feed(iv, 0, 110, 1, -30000, T0 + 10 * SEC), INTERVALS_SEEN);
	assert_int_equal(lost(iv, 0, T0, 0), 0);
	assert_int_equal(intervals_lost_total(iv), 0);
	/* No such unit. */
	assert_int_equal(feed(iv, 2, 1, 1, 0, T0), INTERVALS_NO_UNIT);
	intervals_free(iv);
}

static void test_gap_counted(void **state)
{
	struct intervals *iv = new_iv();

	(void)state;
	assert_int_equal(feed(iv, 0, 1, 1, -18000, T0 + 1 * SEC), INTERVALS_TAKEN);
	assert_int_equal(feed(iv, 0, 2, 1, -18000, T0 + 2 * SEC), INTERVALS_TAKEN);
	/* 3..6 never came (the kernel's ring overflowed, a coalesce): four lost. */
	assert_int_equal(feed(iv, 0, 7, 1, -18000, T0 + 7 * SEC), INTERVALS_TAKEN);
	assert_int_equal(lost(iv, 0, T0, RECORD_LOST_UPSTREAM), 4);
	assert_int_equal(lost(iv, 1, T0, 0), 0);
	/* Across the boundary: counted where the sample after the gap is. */
	assert_int_equal(feed(iv, 0, 10, 1, -18000, T0 + LEN + 1 * SEC), INTERVALS_TAKEN);
	assert_int_equal(lost(iv, 0, T0 + LEN, RECORD_LOST_UPSTREAM), 2);
	assert_int_equal(lost(iv, 0, T0, RECORD_LOST_UPSTREAM), 4);
	/* coldroomd restarted meanwhile: the gap is its. */
	assert_int_equal(feed(iv, 0, 20, 2, -18000, T0 + LEN + 5 * SEC), INTERVALS_TAKEN);
	assert_int_equal(lost(iv, 0, T0 + LEN, RECORD_LOST_UPSTREAM | RECORD_LOST_COLDROOMD), 11);
	/* A sample_seq that goes back (the unit made anew): nothing lost, counted. */
	assert_int_equal(feed(iv, 0, 3, 2, -18000, T0 + LEN + 6 * SEC), INTERVALS_TAKEN);
	assert_int_equal(feed(iv, 0, 4, 2, -18000, T0 + LEN + 7 * SEC), INTERVALS_TAKEN);
	assert_int_equal(lost(iv, 0, T0 + LEN, RECORD_LOST_UPSTREAM | RECORD_LOST_COLDROOMD), 11);
	assert_int_equal(intervals_lost_total(iv), 4 + 2 + 9);
	intervals_free(iv);
}

static void test_late(void **state)
{
	struct intervals *iv = new_iv();

	(void)state;
	assert_int_equal(feed(iv, 1, 5, 1, -18000, T0 + 1 * SEC), INTERVALS_TAKEN);
	intervals_advance(iv, T0 + LEN);	/* T0's interval is written */
	/* Taken in it, delivered now, after a gap of two: three lost, late. */
	assert_int_equal(feed(iv, 1, 8, 1, -18000, T0 + 59 * SEC), INTERVALS_LATE);
	assert_int_equal(lost(iv, 1, T0 + LEN, RECORD_LOST_UPSTREAM | RECORD_LOST_LATE), 3);
	assert_int_equal(intervals_refused(iv), 1);
	/* The next is in order again. */
	assert_int_equal(feed(iv, 1, 9, 1, -18000, T0 + LEN + 1 * SEC), INTERVALS_TAKEN);
	assert_int_equal(lost(iv, 1, T0 + LEN, RECORD_LOST_UPSTREAM | RECORD_LOST_LATE), 3);
	/* Another serial under the Number: its first sample, nothing lost. */
	assert_int_equal(intervals_unit_add(iv, 1, "SIM-000099"), 0);
	assert_int_equal(feed(iv, 1, 500, 1, -18000, T0 + LEN + 2 * SEC), INTERVALS_TAKEN);
	assert_int_equal(lost(iv, 1, T0 + LEN, 0), 0);
	intervals_free(iv);
}

/* A jump too large for a row's 32 bits says the most a row can. */
static void test_huge_jump(void **state)
{
	struct intervals *iv = new_iv();

	(void)state;
	assert_int_equal(feed(iv, 0, 1, 1, 0, T0 + SEC), INTERVALS_TAKEN);
	assert_int_equal(feed(iv, 0, 1ULL << 40, 1, 0, T0 + 2 * SEC), INTERVALS_TAKEN);
	assert_int_equal(lost(iv, 0, T0, RECORD_LOST_UPSTREAM), UINT32_MAX);
	intervals_free(iv);
}

/* The rows written: n, the one-sample excursion in the max, lost and why. */
static void test_rows(void **state)
{
	char dir[] = "/tmp/test_intervals.XXXXXX", path[64], err[RECORD_MESSAGE_MAX], cmd[96];
	struct record_page pg = { .max = 10 };
	struct intervals *iv = new_iv();
	struct record_history h;
	struct record *r = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/record.db", dir);
	/* Unit 0: 2 Hz (faster than a window), one excursion; unit 1: a gap of 5. */
	for (uint64_t s = 1; s <= 100; s++)
		feed(iv, 0, s, 1, s == 37 ? -5000 : -18000 - (int32_t)(s % 7), T0 + s * SEC / 2);
	for (uint64_t s = 1; s <= 20; s++)
		if (s < 10 || s > 14)
			feed(iv, 1, s, 1, -20000, T0 + s * SEC);
	assert_int_equal(record_open(path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	assert_int_equal(record_begin(r), 0);
	assert_int_equal(intervals_write(iv, T0 + LEN, false, r), 0);
	assert_int_equal(record_commit(r), 0);
	intervals_advance(iv, T0 + LEN);

	assert_int_equal(record_history(r, "SIM-000000", 1, T0, T0 + LEN, &pg, &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.count[0], 100);
	assert_int_equal(h.max[0], -5000);
	assert_int_equal(h.min[0], -18006);
	assert_int_equal(h.lost[0], 0);
	record_history_free(&h);
	assert_int_equal(record_history(r, "SIM-000001", 2, T0, T0 + LEN, &pg, &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.count[0], 15);
	assert_int_equal(h.max[0], -19000);
	assert_int_equal(h.lost[0], 5);
	assert_int_equal(h.lost_why[0], RECORD_LOST_UPSTREAM);
	record_history_free(&h);
	/* The next interval starts with nothing lost. */
	assert_int_equal(lost(iv, 1, T0 + LEN, 0), 0);
	record_close(r);
	intervals_free(iv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_sample),
		cmocka_unit_test(test_gap_counted),
		cmocka_unit_test(test_late),
		cmocka_unit_test(test_huge_jump),
		cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
