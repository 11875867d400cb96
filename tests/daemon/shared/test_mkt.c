// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Mean kinetic temperature (shared/mkt.h) against values worked out by
 * hand from USP <1079.2>'s formula,
 *
 *   T_MKT = (dH/R) / -ln( sum(t_i * exp(-dH/(R*T_i))) / sum(t_i) )
 *
 * with dH = 83144 J/mol and R = 8.3144598 J/(mol K), so that
 * dH/R = 83144 / 8.3144598 = 9999.928077 K. Temperatures in kelvin are
 * degrees C + 273.15.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mkt.h"

#define S	1000000ULL		/* us per s */
#define H	(3600 * S)
#define DAY	(24 * H)
#define T0	1767225600000000ULL	/* 2026-01-01 00:00 UTC */

static void assert_near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.9f, want %.9f (+- %g)", got, want, tol);
}

/*
 * An excursion: one hour at 5 C, one hour at 25 C.
 *   exp(-9999.928077 / 278.15) = 2.434632e-16
 *   exp(-9999.928077 / 298.15) = 2.715167e-15
 *   mean of the two (equal weights)      = 1.479315e-15
 *   -ln(1.479315e-15)                    = 34.147197
 *   T_MKT = 9999.928077 / 34.147197      = 292.847696 K = 19.697696 C
 * (the arithmetic mean is 15 C: the MKT weighs the warm hour more).
 */
static void test_excursion(void **state)
{
	struct mkt_sum s;
	struct mkt_result r;

	(void)state;
	mkt_init(&s, T0, T0 + 2 * H, MKT_DEFAULT_DH);
	mkt_add(&s, T0, T0 + H, 60, 5000);
	mkt_add(&s, T0 + H, T0 + 2 * H, 60, 25000);
	mkt_result(&s, T0 + 2 * H, &r);
	assert_true(r.valid);
	assert_near(r.mkt_c, 19.697696, 1e-5);
	assert_int_equal(r.data_us, 2 * H);
	assert_int_equal(r.gap_us, 0);
	assert_int_equal(s.peak, 25000);
	assert_int_equal(s.low, 5000);
}

/*
 * A gap: over 3 h, 1 h at 5 C, 30 min with no row at all, a 30 min row
 * without data (no-data), 1 h at 8 C. The MKT is over the two hours of
 * data only, and the hour without is reported beside it:
 *   exp(-9999.928077 / 281.15) = 3.573035e-16
 *   (2.434632e-16 + 3.573035e-16) / 2 = 3.003833e-16
 *   -ln(3.003833e-16) = 35.741472
 *   T_MKT = 9999.928077 / 35.741472 = 279.785007 K = 6.635007 C
 * Treating the gap as data (or as 0 C) would give another number.
 */
static void test_gap(void **state)
{
	struct mkt_sum s;
	struct mkt_result r;

	(void)state;
	mkt_init(&s, T0, T0 + 3 * H, MKT_DEFAULT_DH);
	mkt_add(&s, T0, T0 + H, 60, 5000);
	mkt_add(&s, T0 + H + H / 2, T0 + 2 * H, 0, 0);
	mkt_add(&s, T0 + 2 * H, T0 + 3 * H, 60, 8000);
	mkt_result(&s, T0 + 3 * H, &r);
	assert_true(r.valid);
	assert_near(r.mkt_c, 6.635007, 1e-5);
	assert_int_equal(r.data_us, 2 * H);
	assert_int_equal(r.gap_us, H);
	assert_int_equal(s.missing_us, H / 2);
	assert_int_equal(s.nodata_us, H / 2);

	/* The window starts and ends inside rows: they count for their part in it. */
	mkt_init(&s, T0 + H / 2, T0 + 2 * H + H / 2, MKT_DEFAULT_DH);
	mkt_add(&s, T0, T0 + H, 60, 5000);
	mkt_add(&s, T0 + H + H / 2, T0 + 2 * H, 0, 0);
	mkt_add(&s, T0 + 2 * H, T0 + 3 * H, 60, 8000);
	mkt_result(&s, UINT64_MAX, &r);
	assert_near(r.mkt_c, 6.635007, 1e-5);
	assert_int_equal(r.data_us, H);
	assert_int_equal(r.gap_us, H);

	/* Nothing but a gap: no number, the whole window missing. */
	mkt_init(&s, T0, T0 + H, MKT_DEFAULT_DH);
	mkt_add(&s, T0, T0 + H, 0, 0);
	mkt_result(&s, T0 + H, &r);
	assert_false(r.valid);
	assert_true(isnan(r.mkt_c));
	assert_int_equal(r.gap_us, H);
	mkt_init(&s, T0, T0 + H, MKT_DEFAULT_DH);
	mkt_result(&s, T0 + H, &r);
	assert_false(r.valid);
	assert_int_equal(r.gap_us, H);
	/* Time not settled yet (the last intervals are still open) is not missing. */
	mkt_init(&s, T0, T0 + DAY, MKT_DEFAULT_DH);
	mkt_add(&s, T0, T0 + H, 60, 5000);
	mkt_result(&s, T0 + H + 2 * 60 * S, &r);
	assert_near(r.mkt_c, 5.0, 1e-9);
	assert_int_equal(r.gap_us, 2 * 60 * S);
}

/*
 * 30 days of one-minute rows, 43,200 of them. Alternating 2 C and 8 C:
 *   exp(-9999.928077 / 275.15) = 1.645115e-16
 *   (1.645115e-16 + 3.573035e-16) / 2 = 2.609075e-16
 *   -ln(2.609075e-16) = 35.882366
 *   T_MKT = 9999.928077 / 35.882366 = 278.686421 K = 5.536421 C
 * Then 5 C with one hour (60 rows) at 30 C in it:
 *   exp(-9999.928077 / 303.15) = 4.721108e-15
 *   (43140 * 2.434632e-16 + 60 * 4.721108e-15) / 43200 = 2.496821e-16
 *   -ln(2.496821e-16) = 35.926343
 *   T_MKT = 9999.928077 / 35.926343 = 278.345282 K = 5.195282 C
 * The same sums taken in pages of 1,000 rows and merged give the same.
 */
static void test_thirty_days(void **state)
{
	struct mkt_sum s, all, page;
	struct mkt_result r, rp;
	const uint64_t n = 30 * 24 * 60;

	(void)state;
	mkt_init(&s, T0, T0 + 30 * DAY, MKT_DEFAULT_DH);
	for (uint64_t i = 0; i < n; i++)
		mkt_add(&s, T0 + i * 60 * S, T0 + (i + 1) * 60 * S, 60, i % 2 ? 8000 : 2000);
	mkt_result(&s, T0 + 30 * DAY, &r);
	assert_near(r.mkt_c, 5.536421, 1e-5);
	assert_int_equal(r.data_us, 30 * DAY);
	assert_int_equal(r.gap_us, 0);

	mkt_init(&s, T0, T0 + 30 * DAY, MKT_DEFAULT_DH);
	mkt_init(&all, T0, T0 + 30 * DAY, MKT_DEFAULT_DH);
	mkt_init(&page, T0, T0 + 30 * DAY, MKT_DEFAULT_DH);
	for (uint64_t i = 0; i < n; i++) {
		int32_t t = i >= 20000 && i < 20060 ? 30000 : 5000;

		mkt_add(&s, T0 + i * 60 * S, T0 + (i + 1) * 60 * S, 60, t);
		mkt_add(&page, T0 + i * 60 * S, T0 + (i + 1) * 60 * S, 60, t);
		if (i % 1000 == 999 || i == n - 1) {
			mkt_merge(&all, &page);
			mkt_init(&page, T0, T0 + 30 * DAY, MKT_DEFAULT_DH);
		}
	}
	mkt_result(&s, T0 + 30 * DAY, &r);
	mkt_result(&all, T0 + 30 * DAY, &rp);
	assert_near(r.mkt_c, 5.195282, 1e-5);
	assert_near(rp.mkt_c, r.mkt_c, 1e-9);
	assert_int_equal(rp.data_us, 30 * DAY);
	assert_int_equal(rp.gap_us, 0);
	assert_int_equal(all.peak, 30000);
	assert_int_equal(all.low, 5000);

	/* A page boundary across a gap: the missing time between pages is found. */
	mkt_init(&all, T0, T0 + 3 * H, MKT_DEFAULT_DH);
	mkt_init(&page, T0, T0 + 3 * H, MKT_DEFAULT_DH);
	mkt_add(&page, T0, T0 + H, 60, 5000);
	mkt_merge(&all, &page);
	mkt_init(&page, T0, T0 + 3 * H, MKT_DEFAULT_DH);
	mkt_add(&page, T0 + 2 * H, T0 + 3 * H, 60, 8000);
	mkt_merge(&all, &page);
	mkt_result(&all, T0 + 3 * H, &r);
	assert_near(r.mkt_c, 6.635007, 1e-5);
	assert_int_equal(r.gap_us, H);
}

/*
 * Numerically stable where the formula as written is not: a cryogenic
 * store at -150 C (123.15 K) with dH = 1,000,000 J/mol:
 *   exp(-1000000 / 8.3144598 / 123.15) = exp(-976.6) = 0 in a double,
 * so sum / sum(t) = 0 and -ln(0) = inf: a naive sum says 0 K. A constant
 * temperature's MKT is that temperature, and the log-sum keeps it.
 */
static void test_stable(void **state)
{
	struct mkt_sum s;
	struct mkt_result r;

	(void)state;
	assert_true(exp(-1000000 / MKT_R / 123.15) == 0.0);
	mkt_init(&s, T0, T0 + 30 * DAY, MKT_MAX_DH);
	for (uint64_t i = 0; i < 30 * 24 * 60; i++)
		mkt_add(&s, T0 + i * 60 * S, T0 + (i + 1) * 60 * S, 60, -150000);
	mkt_result(&s, T0 + 30 * DAY, &r);
	assert_true(r.valid);
	assert_near(r.mkt_c, -150.0, 1e-6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_excursion),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_thirty_days),
		cmocka_unit_test(test_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
