// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mkt.c - mean kinetic temperature over record rows (mkt.h).
 */
#include <math.h>
#include <string.h>

#include "mkt.h"

#define KELVIN_OFFSET	273.15

void mkt_init(struct mkt_sum *s, uint64_t since_us, uint64_t until_us, double dh)
{
	memset(s, 0, sizeof(*s));
	s->since_us = since_us;
	s->until_us = until_us;
	s->dh = dh;
	s->ln_sum = -INFINITY;
}

/* ln(e^a + e^b) without leaving the range of a double. */
static double log_add_exp(double a, double b)
{
	double hi = a > b ? a : b, lo = a > b ? b : a;

	if (hi == -INFINITY)
		return hi;
	return hi + log1p(exp(lo - hi));
}

void mkt_add(struct mkt_sum *s, uint64_t start_us, uint64_t end_us, uint32_t count,
	     int32_t mean_mc)
{
	uint64_t a = start_us > s->since_us ? start_us : s->since_us;
	uint64_t b = end_us < s->until_us ? end_us : s->until_us;
	uint64_t t;

	if (a >= b)
		return;
	if (!s->any) {
		s->any = true;
		s->first_us = a;
		s->reached_us = a;
	}
	/* Overlapping rows (a host gap over a unit's row) count once. */
	if (a > s->reached_us)
		s->missing_us += a - s->reached_us;
	else
		a = s->reached_us;
	if (a >= b)
		return;
	t = b - a;
	s->reached_us = b;
	if (!count) {
		s->nodata_us += t;
		return;
	}
	s->data_us += t;
	s->ln_sum = log_add_exp(s->ln_sum, log((double)t / 1e6) -
				s->dh / (MKT_R * (mean_mc / 1000.0 + KELVIN_OFFSET)));
	if (s->data_us == t || mean_mc > s->peak)
		s->peak = mean_mc;
	if (s->data_us == t || mean_mc < s->low)
		s->low = mean_mc;
}

void mkt_merge(struct mkt_sum *a, const struct mkt_sum *b)
{
	if (!b->any)
		return;
	if (!a->any) {
		*a = *b;
		return;
	}
	if (b->first_us > a->reached_us)
		a->missing_us += b->first_us - a->reached_us;
	/* b's first row overlapping a's last was counted by both: rare, and only a gap row. */
	if (b->reached_us > a->reached_us)
		a->reached_us = b->reached_us;
	a->missing_us += b->missing_us;
	a->nodata_us += b->nodata_us;
	if (b->data_us) {
		if (!a->data_us || b->peak > a->peak)
			a->peak = b->peak;
		if (!a->data_us || b->low < a->low)
			a->low = b->low;
	}
	a->data_us += b->data_us;
	a->ln_sum = log_add_exp(a->ln_sum, b->ln_sum);
}

double mkt_from_ln(double dh, double ln_sum, double data_s)
{
	/* -ln(sum / sum(t)) = ln(sum(t)) - ln(sum) */
	return dh / MKT_R / (log(data_s) - ln_sum) - KELVIN_OFFSET;
}

void mkt_result(const struct mkt_sum *s, uint64_t settled_us, struct mkt_result *res)
{
	uint64_t end = settled_us < s->until_us ? settled_us : s->until_us;
	uint64_t gap = s->nodata_us + s->missing_us;

	if (!s->any) {
		gap = end > s->since_us ? end - s->since_us : 0;
	} else {
		gap += s->first_us - s->since_us;
		if (end > s->reached_us)
			gap += end - s->reached_us;
	}
	res->valid = s->data_us > 0;
	res->data_us = s->data_us;
	res->gap_us = gap;
	res->mkt_c = res->valid ? mkt_from_ln(s->dh, s->ln_sum, (double)s->data_us / 1e6) : NAN;
}
