/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * mkt.h - mean kinetic temperature (USP <1079.2>, ICH Q1A) over record
 * rows, the one implementation every program uses:
 *
 *   T_MKT = (dH/R) / -ln( sum(t_i * exp(-dH/(R*T_i))) / sum(t_i) )
 *
 * T_i the row's mean in kelvin, t_i its duration inside the window. The
 * sum is kept as its logarithm (log-add-exp), so that no term underflows
 * whatever dH, T or the number of rows. Rows without data and time with
 * no row at all are counted apart and reported beside the result: an MKT
 * is never computed over a gap as if it were data.
 */
#ifndef COLDROOM_MKT_H
#define COLDROOM_MKT_H

#include <stdbool.h>
#include <stdint.h>

#define MKT_R			8.3144598	/* J/(mol K), as USP <1079.2> */
#define MKT_DEFAULT_DH		83144		/* J/mol: 83.144 kJ/mol */
#define MKT_MIN_DH		1000
#define MKT_MAX_DH		1000000

/*
 * A partial sum over rows in time order, clipped to [since, until).
 * Sums over consecutive slices of one window merge (mkt_merge()).
 */
struct mkt_sum {
	uint64_t since_us, until_us;	/* the window */
	double dh;			/* J/mol */
	bool any;			/* a row was counted */
	uint64_t first_us, reached_us;	/* first row's start, furthest end (clipped) */
	uint64_t data_us;		/* sum(t_i): time with a mean */
	uint64_t nodata_us;		/* rows with no good sample */
	uint64_t missing_us;		/* between rows: no row at all */
	double ln_sum;			/* ln sum(t_i/s * exp(-dH/(R*T_i))); -inf: none */
	int32_t peak, low;		/* the highest and lowest mean counted, mC */
};

/* An empty sum over [@since_us, @until_us) with @dh J/mol. */
void mkt_init(struct mkt_sum *s, uint64_t since_us, uint64_t until_us, double dh);

/*
 * One row [@start_us, @end_us): with @count good samples, their mean in
 * millidegrees C; with none, time without data. Rows come in start order.
 */
void mkt_add(struct mkt_sum *s, uint64_t start_us, uint64_t end_us, uint32_t count,
	     int32_t mean_mc);

/* @b, the slice that follows @a in the same window, into @a. */
void mkt_merge(struct mkt_sum *a, const struct mkt_sum *b);

struct mkt_result {
	bool valid;			/* some data: ->mkt_c is a number */
	double mkt_c;			/* degrees C */
	uint64_t data_us;		/* time the MKT is over */
	uint64_t gap_us;		/* time in the window without data */
};

/*
 * The result. Time after the last row is missing up to @settled_us (the
 * record is written an interval or two late: the caller says up to when
 * it must be there; the window's end or later counts the whole window).
 */
void mkt_result(const struct mkt_sum *s, uint64_t settled_us, struct mkt_result *res);

/* The kelvin/Celsius formula itself, for one ln of the weighted sum. */
double mkt_from_ln(double dh, double ln_sum, double data_s);

#endif
