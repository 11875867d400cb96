// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_history.c - history: a unit's record read back from
 * coldroom-recorder, both probes merged by time, as a table, CSV or
 * --json.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <json-c/json.h>

#include "coldroomctl.h"
#include "history_client.h"
#include "macro.h"
#include "mkt.h"
#include "record_types.h"
#include "timestamp.h"
#include "unit_client.h"

/* A host row (the recorder not running, a clock jump, not written) is every probe's. */
static bool host_status(uint8_t s)
{
	return s == RECORD_NOT_RUNNING || s == RECORD_CLOCK_JUMP || s == RECORD_NOT_WRITTEN;
}

enum history_format { HISTORY_TABLE, HISTORY_CSV, HISTORY_JSON };

/* A row printed, or with --json appended to @rows. */
static void print_history_row(enum history_format f, struct json_object *rows, bool *first,
			      const char *serial, unsigned int probe,
			      const struct history_series *s, size_t i)
{
	struct json_object *o, *why;
	char a[32], b[32], w[48];

	format_local(s->start[i], a, sizeof(a));
	format_local(s->end[i], b, sizeof(b));
	switch (f) {
	case HISTORY_CSV:
		printf("%s,%" PRIu64 ",%" PRIu64 ",%s,%u,%u,", a, s->start[i], s->end[i], serial,
		       probe, s->count[i]);
		if (s->count[i])
			printf("%.3f,%.3f,%.3f,", s->min[i] / 1000.0, s->mean[i] / 1000.0,
			       s->max[i] / 1000.0);
		else
			printf(",,,");
		printf("%s,%u,%s\n", record_status_name(s->status[i]), s->lost[i],
		       record_lost_why_names(s->lost_why[i], " ", w, sizeof(w)));
		break;
	case HISTORY_JSON:
		o = jnew(json_object_new_object());
		jset(o, "start_usec", juint(s->start[i]));
		jset(o, "end_usec", juint(s->end[i]));
		jset(o, "serial", jstr(serial));
		jset(o, "probe", juint(probe));
		jset(o, "samples", juint(s->count[i]));
		jset(o, "min_mdeg", s->count[i] ? jint(s->min[i]) : NULL);
		jset(o, "mean_mdeg", s->count[i] ? jint(s->mean[i]) : NULL);
		jset(o, "max_mdeg", s->count[i] ? jint(s->max[i]) : NULL);
		jset(o, "status", jstr(record_status_name(s->status[i])));
		jset(o, "lost", juint(s->lost[i]));
		why = jnew(json_object_new_array());
		for (unsigned int bit = 1; bit & RECORD_LOST_KNOWN; bit <<= 1)
			if (s->lost_why[i] & bit)
				jappend(why, jstr(record_lost_why_names(bit, "", w, sizeof(w))));
		jset(o, "lost_why", why);
		jappend(rows, o);
		break;
	default:
		if (probe)
			printf("%-19s %-19s %5u %7u ", a, b, probe, s->count[i]);
		else
			printf("%-19s %-19s %5s %7u ", a, b, "-", s->count[i]);
		if (s->count[i])
			printf("%9.3f %9.3f %9.3f ", s->min[i] / 1000.0, s->mean[i] / 1000.0,
			       s->max[i] / 1000.0);
		else
			printf("%9s %9s %9s ", "-", "-", "-");
		printf("%s", record_status_name(s->status[i]));
		/* Samples the unit took that are not counted: how many and why. */
		if (s->lost[i])
			printf(", %u lost (%s)", s->lost[i], s->lost_why[i] ?
			       record_lost_why_names(s->lost_why[i], ", ", w, sizeof(w)) :
			       "why is not known");
		printf("\n");
	}
	*first = false;
}

int fetch_mkt(sd_bus *bus, const char *serial, unsigned int probe, uint64_t since,
	      uint64_t until, struct mkt_sum *sum, struct mkt_result *res, sd_bus_error *e)
{
	uint64_t now = (uint64_t)time(NULL) * 1000000ULL;
	uint32_t interval_s;
	int r;

	r = sd_bus_get_property_trivial(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
					"RecordIntervalSec", e, 'u', &interval_s);
	if (r >= 0)
		r = history_mkt(bus, serial, probe, since, until, sum, e);
	if (r < 0)
		return r;
	/* An interval is written 5 s after its end; two are open at once. */
	mkt_result(sum, now - 2ULL * interval_s * 1000000ULL - 5000000ULL, res);
	return 0;
}

/* The MKT of each probe over the window and over the 30 days up to its end. */
static int print_mkt(sd_bus *bus, const char *serial, uint64_t since, uint64_t until)
{
	static const char *const what[2] = { "the time shown", "30 days" };
	bool header = false;

	for (unsigned int p = 1; p <= 2; p++)
		for (unsigned int w = 0; w < 2; w++) {
			_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
			uint64_t from = !w ? since : until > MKT_ROLLING_US ? until - MKT_ROLLING_US : 0;
			struct mkt_sum sum;
			struct mkt_result res;
			char a[32], b[32], d[32], g[32];
			int r;

			r = fetch_mkt(bus, serial, p, from, until, &sum, &res, &e);
			if (r < 0)
				return fail_record("history", &e, r);
			if (!header) {
				printf("\nMean kinetic temperature (dH %.3f kJ/mol):\n%5s %-19s %-19s %9s %-13s %s\n",
				       sum.dh / 1000.0, "PROBE", "FROM", "TO", "MKT (C)", "OVER",
				       "WITHOUT DATA");
				header = true;
			}
			format_local(from, a, sizeof(a));
			format_local(until, b, sizeof(b));
			format_duration(res.data_us, d, sizeof(d));
			format_duration(res.gap_us, g, sizeof(g));
			if (res.valid)
				printf("%5u %-19s %-19s %9.3f %-13s %s (%s)\n", p, a, b, res.mkt_c, d,
				       g, what[w]);
			else
				printf("%5u %-19s %-19s %9s %-13s %s (%s)\n", p, a, b, "-", "no data",
				       g, what[w]);
		}
	return 0;
}

/* history UNIT [--since WHEN] [--until WHEN] [--csv|--json] */
int cmd_history(sd_bus *bus, char **args, int n)
{
	enum history_format f = arg_json ? HISTORY_JSON : HISTORY_TABLE;
	struct history_series s[2] = { { 0 }, { 0 } };
	struct json_object *rows = NULL;
	uint64_t now = (uint64_t)time(NULL) * 1000000ULL, until = now, since = now - 86400ULL * 1000000ULL;
	struct unit_info u;
	size_t k[2] = { 0, 0 };
	bool first = true;
	int ret = 0;

	for (int i = 1; i < n; i++) {
		uint64_t *when = NULL;

		if (!strcmp(args[i], "--csv"))
			f = HISTORY_CSV;
		else if (!strcmp(args[i], "--json"))
			f = HISTORY_JSON;
		else if (!strcmp(args[i], "--since") && i + 1 < n)
			when = &since;
		else if (!strcmp(args[i], "--until") && i + 1 < n)
			when = &until;
		else {
			fprintf(stderr, "coldroomctl: history: usage: history UNIT [--since WHEN] [--until WHEN] [--csv|--json]\n");
			return EXIT_USAGE;
		}
		if (when) {
			int r = timestamp_parse(args[++i], now, when);

			if (r == -ERANGE) {
				fprintf(stderr, "coldroomctl: history: '%s' is out of range (1970 to 9999)\n",
					args[i]);
				return EXIT_USAGE;
			}
			if (r < 0) {
				fprintf(stderr, "coldroomctl: history: '%s' is not a time: YYYY-MM-DD [HH:MM[:SS]], HH:MM, "
					"now, today, yesterday, @EPOCH, -2h, \"1h 30min ago\", +1d, each with an "
					"optional \" UTC\" (see systemd.time(7))\n", args[i]);
				return EXIT_USAGE;
			}
		}
	}
	if (since >= until) {
		fprintf(stderr, "coldroomctl: history: --since must be before --until\n");
		return EXIT_USAGE;
	}
	resolve_unit(bus, args[0], &u);
	for (unsigned int p = 0; p < 2; p++) {
		_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
		int r = history_fetch(bus, u.serial, p + 1, since, until, &s[p], &e);

		if (r < 0) {
			ret = fail_record("history", &e, r);
			goto out;
		}
	}
	if (f == HISTORY_CSV)
		printf("start,start_usec,end_usec,serial,probe,samples,min_c,mean_c,max_c,status,"
		       "lost,lost_why\n");
	else if (f == HISTORY_JSON)
		rows = jnew(json_object_new_array());
	else
		printf("%-19s %-19s %5s %7s %9s %9s %9s %s\n", "START", "END", "PROBE", "SAMPLES",
		       "MIN (C)", "MEAN (C)", "MAX (C)", "STATUS");
	/* Both probes merged by time; a host row once, as probe 0. */
	while (k[0] < s[0].n || k[1] < s[1].n) {
		unsigned int p = k[1] < s[1].n &&
				 (k[0] >= s[0].n || s[1].start[k[1]] < s[0].start[k[0]]);

		if (host_status(s[p].status[k[p]]) && s[p].count[k[p]] == 0 && p == 1) {
			k[p]++;
			continue;
		}
		print_history_row(f, rows, &first, u.serial,
				  host_status(s[p].status[k[p]]) && !s[p].count[k[p]] ? 0 : p + 1,
				  &s[p], k[p]);
		k[p]++;
	}
	if (rows)
		json_print(rows);
	else if (f == HISTORY_TABLE && first)
		printf("no rows for %s in that time\n", u.serial);
	if (f == HISTORY_TABLE)
		ret = print_mkt(bus, u.serial, since, until);
out:
	history_series_free(&s[0]);
	history_series_free(&s[1]);
	free(u.path);
	return ret;
}
