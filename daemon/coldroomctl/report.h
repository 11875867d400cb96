/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * report.h - a day of the temperature record drawn with cairo, one page
 * (PDF) or one panel (PNG, SVG) per unit: both probes over the day with
 * their alarm bands, gaps, alarms and acknowledgements, the day's figures
 * and the record's verification.
 */
#ifndef COLDROOM_REPORT_H
#define COLDROOM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "history_client.h"
#include "mkt.h"

struct report_probe {
	struct history_series rows;
	bool has_band;			/* the unit's thresholds are known */
	int32_t band_min, band_max;	/* mC */
	uint64_t cal_due_us;		/* the calibration's due date as coldroomd knows it; 0: none */
	char cal_certificate[64];
	struct mkt_result mkt_day, mkt_30;	/* the day's MKT, the 30 days' up to its end */
};

struct report_unit {
	char name[64], serial[64], label[64], model[64];
	struct report_probe probe[2];
	struct history_event *events;
	size_t n_events;
};

struct report {
	uint64_t start_us, end_us;	/* the day, CLOCK_REALTIME [start, end) */
	char day[16];			/* YYYY-MM-DD */
	struct report_unit *units;
	size_t n_units;
	bool verified, intact;
	char verify_message[512];
	char generated[160];		/* when, where, by what */
	double mkt_dh;			/* J/mol */
};

/* The day's figures of one probe, as the report prints them. */
struct report_figures {
	uint32_t samples;
	int32_t min, max;
	double mean;			/* weighted by samples */
	uint64_t out_of_band_us;	/* intervals with a sample outside the band */
	uint64_t gap_us;		/* intervals with no good sample */
};

void report_figures(const struct report_probe *p, uint64_t start_us, uint64_t end_us,
		    struct report_figures *f);

/* Write @r to @path: .pdf, .png or .svg. Negative errno, @err says why. */
int report_render(const struct report *r, const char *path, char *err, size_t err_len);

/*
 * The excursion report (coldroomctl_excursions.c derives it from the
 * record, this draws it): each time a probe was out of its band, with the
 * alarm's entries in the audit trail, and each day's time out of band.
 */
struct exc_unit {
	char name[64], serial[64], label[64];
	bool has_band;				/* the band when the export was made */
	int32_t band_min[2], band_max[2];	/* mC */
	struct history_series rows[2];
	struct history_event *events;
	size_t n_events;
};

struct excursion {
	size_t unit;
	unsigned int probe;
	uint64_t start_us, end_us;
	int32_t peak;				/* mC: the reading furthest out */
	int32_t band_min, band_max;		/* in force at the start, mC */
	struct mkt_result mkt;			/* over the excursion */
	size_t *events, n_events;		/* the alarm's entries, in the unit's events */
};

struct exc_day {
	size_t unit;
	unsigned int probe;
	uint64_t start_us;			/* a UTC day */
	uint64_t out_us;			/* out of band */
	struct mkt_result mkt;			/* the day's, with its time without data */
};

struct exc_report {
	uint64_t since_us, until_us;
	double dh;				/* J/mol */
	struct exc_unit *units;
	size_t n_units;
	struct excursion *exc;
	size_t n_exc;
	struct exc_day *days;
	size_t n_days;
	uint64_t generated_us;
	char generated[160];			/* when, where, by what */
	char made_from[256];			/* the chain heads */
};

/* The PDF of @r into @out (a page is A4 landscape). Negative errno, @err says why. */
int excursions_render_pdf(const struct exc_report *r, FILE *out, char *err, size_t err_len);

#endif
