// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_report.c - report: a day of the record fetched from
 * coldroom-recorder, unit by unit, with its verification, and handed to
 * report.c to be drawn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "coldroomctl.h"
#include "history_client.h"
#include "macro.h"
#include "mkt.h"
#include "report.h"
#include "unit_client.h"

/* @u's record of the day into @ru; 0 or an exit status. */
static int report_fetch_unit(sd_bus *bus, struct report *r, const struct unit_info *u,
			     struct report_unit *ru)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct mkt_sum sum;
	int k;

	snprintf(ru->name, sizeof(ru->name), "%s", u->name);
	snprintf(ru->serial, sizeof(ru->serial), "%s", u->serial);
	snprintf(ru->label, sizeof(ru->label), "%s", u->label);
	snprintf(ru->model, sizeof(ru->model), "%s", u->model);
	for (unsigned int p = 0; p < 2; p++) {
		/* The band in force now: the record keeps changes in its trail, not per row. */
		ru->probe[p].has_band = u->path != NULL;
		ru->probe[p].band_min = u->min[p];
		ru->probe[p].band_max = u->max[p];
		k = history_fetch(bus, u->serial, p + 1, r->start_us, r->end_us, &ru->probe[p].rows,
				  &e);
		if (k >= 0)
			k = fetch_mkt(bus, u->serial, p + 1, r->start_us, r->end_us, &sum,
				      &ru->probe[p].mkt_day, &e);
		if (k >= 0)
			k = fetch_mkt(bus, u->serial, p + 1, r->end_us - MKT_ROLLING_US, r->end_us,
				      &sum, &ru->probe[p].mkt_30, &e);
		if (k < 0)
			return fail_record("report", &e, k);
		r->mkt_dh = sum.dh;
	}
	k = history_events_fetch(bus, u->serial, r->start_us, r->end_us, &ru->events,
				 &ru->n_events, &e);
	return k < 0 ? fail_record("report", &e, k) : 0;
}

/*
 * The calibrations coldroomd knows (its Manager's Calibrations) onto the
 * report's probes, by serial; without them the report has no overdue
 * lines, and says nothing false.
 */
static void report_fetch_calibrations(sd_bus *bus, struct report *r)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *serial, *cert;
	uint64_t calibrated, due;
	int32_t found, left;
	uint32_t probe;
	int64_t days;
	int k;

	k = sd_bus_get_property(bus, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE,
				"Calibrations", NULL, &reply, "a(suttsiix)");
	if (k >= 0)
		k = sd_bus_message_enter_container(reply, 'a', "(suttsiix)");
	while (k >= 0 && (k = sd_bus_message_read(reply, "(suttsiix)", &serial, &probe,
						  &calibrated, &due, &cert, &found, &left,
						  &days)) > 0) {
		if (probe < 1 || probe > 2)
			continue;
		for (size_t i = 0; i < r->n_units; i++) {
			struct report_probe *pr = &r->units[i].probe[probe - 1];

			if (strcmp(r->units[i].serial, serial))
				continue;
			pr->cal_due_us = due;
			snprintf(pr->cal_certificate, sizeof(pr->cal_certificate), "%s", cert);
		}
	}
	if (k < 0)
		fprintf(stderr, "coldroomctl: report: calibrations not known (%s): no overdue "
			"lines\n", strerror(-k));
}

int report_units(sd_bus *bus, const char *unit, struct unit_list *l)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	int k;

	if (unit) {
		l->v = calloc(1, sizeof(*l->v));
		if (!l->v)
			return EXIT_FAILURE;
		l->n = 1;
		resolve_unit(bus, unit, &l->v[0]);
		return 0;
	}
	k = units_fetch(bus, l, &e);
	return k < 0 ? fail_call("report (no --unit: the units come from coldroomd)", &e, k) : 0;
}

static void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n_units; i++) {
		history_series_free(&r->units[i].probe[0].rows);
		history_series_free(&r->units[i].probe[1].rows);
		free(r->units[i].events);
	}
	free(r->units);
}

/* report [--day DATE] [--unit UNIT] -o FILE.pdf|png|svg */
int cmd_report(sd_bus *bus, char **args, int n)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *day = NULL, *unit = NULL, *out = NULL;
	struct unit_list l = { 0 };
	struct report r = { 0 };
	struct tm tm = { .tm_isdst = -1 };
	char err[512], host[64] = "", when[32];
	time_t now = time(NULL);
	int ret = 0, k;

	for (int i = 0; i < n; i++)
		if (!strcmp(args[i], "--excursions"))
			return cmd_report_excursions(bus, args, n);
	for (int i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(args[i], "--day"))
			day = args[++i];
		else if (i + 1 < n && !strcmp(args[i], "--unit"))
			unit = args[++i];
		else if (i + 1 < n && (!strcmp(args[i], "-o") || !strcmp(args[i], "--output")))
			out = args[++i];
		else
			out = NULL, i = n;
	}
	if (!out) {
		fprintf(stderr, "coldroomctl: report: usage: report [--day YYYY-MM-DD] [--unit UNIT] -o FILE.pdf|png|svg\n");
		return EXIT_USAGE;
	}
	if (day) {
		const char *end = strptime(day, "%Y-%m-%d", &tm);

		if (!end || *end) {
			fprintf(stderr, "coldroomctl: report: --day takes YYYY-MM-DD, not '%s'\n", day);
			return EXIT_USAGE;
		}
	} else {
		localtime_r(&now, &tm);
	}
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	r.start_us = (uint64_t)mktime(&tm) * 1000000ULL;
	strftime(r.day, sizeof(r.day), "%Y-%m-%d", &tm);
	tm.tm_mday++;
	tm.tm_isdst = -1;
	r.end_us = (uint64_t)mktime(&tm) * 1000000ULL;	/* 23 or 25 hours across DST */

	ret = report_units(bus, unit, &l);
	if (ret)
		goto out;
	r.units = calloc(l.n ? l.n : 1, sizeof(*r.units));
	if (!r.units) {
		ret = EXIT_FAILURE;
		goto out;
	}
	for (size_t i = 0; i < l.n && !ret; i++, r.n_units++)
		ret = report_fetch_unit(bus, &r, &l.v[i], &r.units[i]);
	if (ret)
		goto out;
	report_fetch_calibrations(bus, &r);
	k = history_verify(bus, &r.intact, r.verify_message, sizeof(r.verify_message), &e);
	r.verified = k >= 0;
	if (k < 0)
		snprintf(r.verify_message, sizeof(r.verify_message), "%s",
			 e.message ? e.message : strerror(-k));
	gethostname(host, sizeof(host) - 1);
	format_local((uint64_t)now * 1000000ULL, when, sizeof(when));
	snprintf(r.generated, sizeof(r.generated), "Generated %s on %s by coldroomctl %s", when,
		 host, COLDROOM_VERSION);
	k = report_render(&r, out, err, sizeof(err));
	if (k < 0) {
		fprintf(stderr, "coldroomctl: report: %s\n", err);
		ret = k == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	printf("%s: %zu unit%s, %s; record %s\n", out, r.n_units, r.n_units == 1 ? "" : "s", r.day,
	       !r.verified ? "not verified" : r.intact ? "intact" : "NOT INTACT");
out:
	report_free(&r);
	unit_list_free(&l);
	return ret;
}
