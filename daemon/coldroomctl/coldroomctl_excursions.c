// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_excursions.c - report --excursions: each time a probe was
 * out of its band, from the record's rows, with the alarm's entries in
 * the audit trail and the MKT over it, and each day's time out of band;
 * as CSV or PDF, with a manifest beside it (the export's SHA-256, the
 * chain heads it was made from, how it was made). record verify-export
 * derives the export again from the record and says whether it still
 * matches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <nettle/sha2.h>
#include <systemd/sd-bus.h>

#include "coldroomctl.h"
#include "fileio.h"
#include "hexstr.h"
#include "history_client.h"
#include "macro.h"
#include "manifest.h"
#include "mkt.h"
#include "report.h"
#include "timestamp.h"
#include "unit_client.h"

#define DAY_US		(86400ULL * 1000000)
#define DIFF_SHOWN	5
#define EXPORT_MAX	(256U << 20)	/* more than any export: a bound on what is read */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcasecmp(s + n - m, suffix);
}

static void sha256_hex(const void *data, size_t len, char out[HEXSTR_SIZE(HASH_SIZE)])
{
	struct sha256_ctx ctx;
	uint8_t d[HASH_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(d), d);
	hexstr_encode(d, sizeof(d), out);
}

static void iso_utc(uint64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "@%" PRIu64, usec / 1000000);
}

/*
 * The hash (and for the audit trail, the time) of row @seq as the record
 * holds it now, from GetRecordsAfter2 / GetAuditAfter2. 0, -ENOENT when
 * there is no such row (pruned, or never written), or a negative errno.
 */
static int chain_row(sd_bus *bus, bool audit, uint64_t seq, struct chain_at *at, sd_bus_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const void *p;
	size_t len;
	uint64_t head, got;
	int r;

	if (!seq)
		return -ENOENT;
	r = sd_bus_call_method(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
			       audit ? "GetAuditAfter2" : "GetRecordsAfter2", e, &reply, "tu",
			       seq - 1, (uint32_t)1);
	if (r >= 0)
		r = sd_bus_message_read(reply, "t", &head);
	if (r >= 0)
		r = sd_bus_message_skip(reply, "ay");
	if (r < 0)
		return r;
	if (audit) {
		r = sd_bus_message_enter_container(reply, 'a', "(ttssubussssbxsuay)");
		if (r >= 0)
			r = sd_bus_message_enter_container(reply, 'r', "ttssubussssbxsuay");
		if (r == 0)
			return -ENOENT;
		if (r > 0)
			r = sd_bus_message_read(reply, "tt", &got, &at->time_us);
		if (r >= 0)
			r = sd_bus_message_skip(reply, "ssubussssbxsu");
	} else {
		r = sd_bus_message_read_array(reply, 't', &p, &len);
		if (r >= 0 && len != sizeof(uint64_t))
			return -ENOENT;
		if (r >= 0)
			memcpy(&got, p, sizeof(got));
		if (r >= 0)
			r = sd_bus_message_skip(reply, "atatasayauaiaiaiayaay");
		if (r >= 0)
			r = sd_bus_message_enter_container(reply, 'a', "ay");
	}
	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'y', &p, &len);
	if (r < 0)
		return r;
	if (got != seq || len != HASH_SIZE)
		return got != seq ? -ENOENT : -EBADMSG;
	at->seq = seq;
	memcpy(at->hash, p, HASH_SIZE);
	return 0;
}

/* A chain's head now: its seq (from a call after every row) and its row. */
static int chain_head(sd_bus *bus, bool audit, struct chain_at *at, sd_bus_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	uint64_t head;
	int r;

	memset(at, 0, sizeof(*at));
	r = sd_bus_call_method(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
			       audit ? "GetAuditAfter" : "GetRecordsAfter", e, &reply, "tu",
			       (uint64_t)INT64_MAX, (uint32_t)1);
	if (r >= 0)
		r = sd_bus_message_read(reply, "t", &head);
	if (r < 0)
		return r;
	return head ? chain_row(bus, audit, head, at, e) : 0;
}

static void made_from(const struct exc_params *pr, char *buf, size_t size)
{
	char a[HEXSTR_SIZE(HASH_SIZE)], b[HEXSTR_SIZE(HASH_SIZE)];

	hexstr_encode(pr->record.hash, HASH_SIZE, a);
	hexstr_encode(pr->audit.hash, HASH_SIZE, b);
	snprintf(buf, size, "rows up to %" PRIu64 " (hash %.16s...) and audit trail up to entry %"
		 PRIu64 " (hash %.16s...)", pr->record.seq, a, pr->audit.seq, b);
}

/*
 * The band of @probe at @t: the one in force at the audit head (the last
 * change the trail has, else the unit's when the export was made), each
 * later change undone.
 */
static void band_at(const struct exc_unit *u, unsigned int probe, uint64_t t, int32_t *min,
		    int32_t *max)
{
	bool min_set = false, max_set = false;
	char wmin[16], wmax[16];

	*min = u->band_min[probe - 1];
	*max = u->band_max[probe - 1];
	snprintf(wmin, sizeof(wmin), "temp%u_min", probe);
	snprintf(wmax, sizeof(wmax), "temp%u_max", probe);
	for (size_t i = u->n_events; i-- > 0 && !(min_set && max_set);) {
		const struct history_event *ev = &u->events[i];

		if (strcmp(ev->event, "setting-changed"))
			continue;
		if (!min_set && !strcmp(ev->what, wmin)) {
			*min = (int32_t)strtol(ev->new_value, NULL, 10);
			min_set = true;
		} else if (!max_set && !strcmp(ev->what, wmax)) {
			*max = (int32_t)strtol(ev->new_value, NULL, 10);
			max_set = true;
		}
	}
	for (size_t i = u->n_events; i-- > 0;) {
		const struct history_event *ev = &u->events[i];

		if (ev->time <= t)
			break;
		if (strcmp(ev->event, "setting-changed"))
			continue;
		if (!strcmp(ev->what, wmin))
			*min = (int32_t)strtol(ev->old_value, NULL, 10);
		else if (!strcmp(ev->what, wmax))
			*max = (int32_t)strtol(ev->old_value, NULL, 10);
	}
}

static bool lifecycle_event(const char *event)
{
	return !strncmp(event, "alarm-", 6) || !strncmp(event, "threshold-", 10);
}

/* The alarm an entry is about ("alarm 3, level 2: ..."), 0 when none. */
static unsigned long alarm_id(const struct history_event *ev)
{
	const char *p = strstr(ev->detail, "alarm ");

	return p ? strtoul(p + 6, NULL, 10) : 0;
}

/*
 * The alarm's entries of an excursion: those about its probe while it
 * lasted, and every entry of the same alarms (raised a little before the
 * interval it was in ended, acknowledged after the reading came back).
 */
static int link_events(const struct exc_unit *u, struct excursion *x)
{
	unsigned long ids[16];
	size_t n_ids = 0;

	for (size_t i = 0; i < u->n_events; i++) {
		const struct history_event *ev = &u->events[i];
		unsigned long id = alarm_id(ev);

		if (ev->probe == x->probe && lifecycle_event(ev->event) && id &&
		    ev->time >= x->start_us && ev->time < x->end_us &&
		    n_ids < sizeof(ids) / sizeof(ids[0]))
			ids[n_ids++] = id;
	}
	for (size_t i = 0; i < u->n_events; i++) {
		const struct history_event *ev = &u->events[i];
		unsigned long id = alarm_id(ev);
		bool take = ev->time >= x->start_us && ev->time < x->end_us;

		if (ev->probe != x->probe || !lifecycle_event(ev->event))
			continue;
		for (size_t k = 0; !take && id && k < n_ids; k++)
			take = ids[k] == id;
		if (!take)
			continue;
		if (!(x->n_events & 15)) {
			size_t *v = realloc(x->events, (x->n_events + 16) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			x->events = v;
		}
		x->events[x->n_events++] = i;
	}
	return 0;
}

struct exc_open {
	bool open;
	struct excursion x;
	struct mkt_sum sum;
	int32_t distance;
};

static int exc_close(struct exc_report *r, struct exc_open *o)
{
	struct excursion *v;
	int k;

	if (!o->open)
		return 0;
	o->open = false;
	mkt_result(&o->sum, o->x.end_us, &o->x.mkt);
	k = link_events(&r->units[o->x.unit], &o->x);
	if (k < 0)
		return k;
	v = realloc(r->exc, (r->n_exc + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->exc = v;
	r->exc[r->n_exc++] = o->x;
	memset(&o->x, 0, sizeof(o->x));
	return 0;
}

/* Is row @i of @s out of the band in force when it started? */
static bool row_out(const struct exc_unit *u, unsigned int probe, const struct history_series *s,
		    size_t i, int32_t *bmin, int32_t *bmax)
{
	band_at(u, probe, s->start[i], bmin, bmax);
	return s->count[i] && u->has_band && (s->min[i] < *bmin || s->max[i] > *bmax);
}

/* Runs of adjoining rows out of band: the excursions of one probe. */
static int find_excursions(struct exc_report *r, size_t unit, unsigned int probe)
{
	const struct exc_unit *u = &r->units[unit];
	const struct history_series *s = &u->rows[probe - 1];
	struct exc_open o = { 0 };
	int k = 0;

	for (size_t i = 0; i < s->n && k >= 0; i++) {
		uint64_t a = s->start[i] > r->since_us ? s->start[i] : r->since_us;
		uint64_t b = s->end[i] < r->until_us ? s->end[i] : r->until_us;
		int32_t bmin, bmax;

		if (a >= b || !row_out(u, probe, s, i, &bmin, &bmax)) {
			k = exc_close(r, &o);
			continue;
		}
		if (o.open && a != o.x.end_us)
			k = exc_close(r, &o);
		if (k < 0)
			break;
		if (!o.open) {
			o = (struct exc_open){ .open = true, .x = { .unit = unit, .probe = probe,
				.start_us = a, .band_min = bmin, .band_max = bmax } };
			mkt_init(&o.sum, a, r->until_us, r->dh);
		}
		o.x.end_us = b;
		mkt_add(&o.sum, s->start[i], s->end[i], s->count[i], s->mean[i]);
		/* The peak: the reading furthest outside the band, either side. */
		if (s->max[i] > bmax && s->max[i] - bmax > o.distance) {
			o.distance = s->max[i] - bmax;
			o.x.peak = s->max[i];
		}
		if (s->min[i] < bmin && bmin - s->min[i] > o.distance) {
			o.distance = bmin - s->min[i];
			o.x.peak = s->min[i];
		}
	}
	return k < 0 ? k : exc_close(r, &o);
}

/* Each UTC day of the range: the probe's time out of band, its MKT and time without data. */
static int day_figures(struct exc_report *r, size_t unit, unsigned int probe)
{
	const struct exc_unit *u = &r->units[unit];
	const struct history_series *s = &u->rows[probe - 1];

	for (uint64_t d = r->since_us / DAY_US * DAY_US; d < r->until_us; d += DAY_US) {
		uint64_t from = d > r->since_us ? d : r->since_us;
		uint64_t to = d + DAY_US < r->until_us ? d + DAY_US : r->until_us;
		struct exc_day day = { .unit = unit, .probe = probe, .start_us = d };
		struct mkt_sum sum;
		struct exc_day *v;

		mkt_init(&sum, from, to, r->dh);
		for (size_t i = 0; i < s->n; i++) {
			uint64_t a = s->start[i] > from ? s->start[i] : from;
			uint64_t b = s->end[i] < to ? s->end[i] : to;
			int32_t bmin, bmax;

			if (a >= b)
				continue;
			mkt_add(&sum, s->start[i], s->end[i], s->count[i], s->mean[i]);
			if (row_out(u, probe, s, i, &bmin, &bmax))
				day.out_us += b - a;
		}
		mkt_result(&sum, UINT64_MAX, &day.mkt);
		v = realloc(r->days, (r->n_days + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->days = v;
		r->days[r->n_days++] = day;
	}
	return 0;
}

static void exc_report_free(struct exc_report *r)
{
	for (size_t i = 0; i < r->n_units; i++) {
		history_series_free(&r->units[i].rows[0]);
		history_series_free(&r->units[i].rows[1]);
		free(r->units[i].events);
	}
	for (size_t i = 0; i < r->n_exc; i++)
		free(r->exc[i].events);
	free(r->units);
	free(r->exc);
	free(r->days);
	memset(r, 0, sizeof(*r));
}

/*
 * Fetch what @pr names from the record (@r's units set: serial, name,
 * label, band) and derive the report: rows in [since, until), the audit
 * entries up to the audit head's time. 0 or an exit status.
 */
static int derive(sd_bus *bus, const struct exc_params *pr, struct exc_report *r)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	int k = 0;

	r->since_us = pr->since_us;
	r->until_us = pr->until_us;
	r->generated_us = pr->generated_us;
	snprintf(r->generated, sizeof(r->generated), "%s", pr->generated);
	made_from(pr, r->made_from, sizeof(r->made_from));
	r->dh = pr->dh;
	for (size_t i = 0; i < r->n_units; i++) {
		struct exc_unit *u = &r->units[i];

		k = history_events_fetch(bus, u->serial, pr->since_us, pr->audit.time_us + 1,
					 &u->events, &u->n_events, &e);
		for (unsigned int p = 0; k >= 0 && p < 2; p++)
			k = history_fetch(bus, u->serial, p + 1, pr->since_us, pr->until_us,
					  &u->rows[p], &e);
		if (k < 0)
			return fail_record("report", &e, k);
		for (unsigned int p = 1; k >= 0 && p <= 2; p++) {
			k = find_excursions(r, i, p);
			if (k >= 0)
				k = day_figures(r, i, p);
		}
		if (k < 0)
			return EXIT_FAILURE;
	}
	return 0;
}

/*
 * A text field: quoted when it must be, and one that a spreadsheet would
 * take for a formula (a comment starting with =, +, - or @) after a '.
 */
static void csv_field(FILE *f, const char *s, bool last)
{
	bool formula = strchr("=+-@", s[0]) && s[0];

	if (strpbrk(s, ",\"\r\n") || formula) {
		fputc('"', f);
		if (formula)
			fputc('\'', f);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void csv_mkt(const struct mkt_result *m, char *buf, size_t size)
{
	if (m->valid)
		snprintf(buf, size, "%.3f", m->mkt_c);
	else
		buf[0] = 0;
}

#define CSV_HEADER "kind,serial,unit,label,probe,start,end,duration_s,peak_c,band_min_c," \
	"band_max_c,mkt_c,data_s,no_data_s,time,event,reading_c,user,detail,what,old_value," \
	"new_value\n"

/* The unit's columns and the probe, common to every line. */
static void csv_unit(FILE *f, const char *kind, const struct exc_unit *u, unsigned int probe)
{
	fprintf(f, "%s,", kind);
	csv_field(f, u->serial, false);
	csv_field(f, u->name, false);
	csv_field(f, u->label, false);
	fprintf(f, "%u,", probe);
}

static void csv_write(const struct exc_report *r, FILE *f)
{
	char a[32], b[32], m[32], t[32], reading[32];

	fputs(CSV_HEADER, f);
	for (size_t i = 0; i < r->n_exc; i++) {
		const struct excursion *x = &r->exc[i];
		const struct exc_unit *u = &r->units[x->unit];

		iso_utc(x->start_us, a, sizeof(a));
		iso_utc(x->end_us, b, sizeof(b));
		csv_mkt(&x->mkt, m, sizeof(m));
		csv_unit(f, "excursion", u, x->probe);
		fprintf(f, "%s,%s,%" PRIu64 ",%.3f,%.3f,%.3f,%s,%" PRIu64 ",%" PRIu64 ",,,,,,,,\n", a, b,
			(x->end_us - x->start_us) / 1000000, x->peak / 1000.0,
			x->band_min / 1000.0, x->band_max / 1000.0, m, x->mkt.data_us / 1000000,
			x->mkt.gap_us / 1000000);
		for (size_t k = 0; k < x->n_events; k++) {
			const struct history_event *ev = &u->events[x->events[k]];

			iso_utc(ev->time, t, sizeof(t));
			if (ev->has_reading)
				snprintf(reading, sizeof(reading), "%.3f", ev->reading / 1000.0);
			else
				reading[0] = 0;
			csv_unit(f, "alarm", u, x->probe);
			fprintf(f, "%s,%s,,,,,,,,%s,", a, b, t);
			csv_field(f, ev->event, false);
			fprintf(f, "%s,", reading);
			csv_field(f, ev->user, false);
			/* Whatever else the entry holds (a signature's meaning, say). */
			csv_field(f, ev->detail, false);
			csv_field(f, ev->what, false);
			csv_field(f, ev->old_value, false);
			csv_field(f, ev->new_value, true);
		}
	}
	for (size_t i = 0; i < r->n_days; i++) {
		const struct exc_day *d = &r->days[i];

		iso_utc(d->start_us, a, sizeof(a));
		iso_utc(d->start_us + DAY_US, b, sizeof(b));
		csv_mkt(&d->mkt, m, sizeof(m));
		/* A unit whose band is not known (gone from coldroomd): no time out of band, not 0. */
		if (r->units[d->unit].has_band)
			snprintf(t, sizeof(t), "%" PRIu64, d->out_us / 1000000);
		else
			t[0] = 0;
		csv_unit(f, "day", &r->units[d->unit], d->probe);
		fprintf(f, "%s,%s,%s,,,,%s,%" PRIu64 ",%" PRIu64 ",,,,,,,,\n", a, b, t, m,
			d->mkt.data_us / 1000000, d->mkt.gap_us / 1000000);
	}
}

/* The export's bytes in a malloc()ed buffer: negative errno, @err says why. */
static int render(const struct exc_report *r, enum exc_format format, char **buf, size_t *len,
		  char *err, size_t err_len)
{
	FILE *f = open_memstream(buf, len);
	int k = 0;

	if (!f)
		return -errno;
	if (format == EXC_CSV)
		csv_write(r, f);
	else
		k = excursions_render_pdf(r, f, err, err_len);
	if (fclose(f) && !k)
		k = -ENOMEM;
	if (k < 0) {
		free(*buf);
		*buf = NULL;
	}
	return k;
}

static int write_manifest(const char *path, const char *file, const char *sha,
			  const struct exc_params *pr, const struct exc_report *r, const char *csv)
{
	_cleanup_(freep) char *mpath = NULL;
	FILE *f;

	if (asprintf(&mpath, "%s.manifest", path) < 0)
		return -ENOMEM;
	f = fopen(mpath, "we");
	if (!f)
		return -errno;
	manifest_write(f, file, sha, pr, r, csv);
	return fclose(f) ? -errno : 0;
}

/* @buf into @path, whole or not at all. */
static int write_whole(const char *path, const char *buf, size_t len)
{
	_cleanup_(freep) char *tmp = NULL;
	FILE *f;
	int k = 0;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return -ENOMEM;
	{
		int fd = mkostemp(tmp, O_CLOEXEC);

		if (fd < 0)
			return -errno;
		f = fdopen(fd, "w");
		if (!f) {
			k = -errno;
			close(fd);
			unlink(tmp);
			return k;
		}
	}
	if (fwrite(buf, 1, len, f) != len)
		k = -EIO;
	if (fclose(f) && !k)
		k = -errno;
	if (!k && rename(tmp, path) < 0)
		k = -errno;
	if (k)
		unlink(tmp);
	return k;
}

static int exc_usage(void)
{
	fprintf(stderr, "coldroomctl: report: usage: report --excursions [--since WHEN] "
		"[--until WHEN] [--unit UNIT] -o FILE.csv|pdf\n");
	return EXIT_USAGE;
}

static int parse_when(const char *s, uint64_t now, uint64_t *out)
{
	int r = timestamp_parse(s, now, out);

	if (r < 0)
		fprintf(stderr, "coldroomctl: report: '%s' is not a time (see systemd.time(7))\n", s);
	return r;
}

/* @s without control characters (a tab or newline would end a manifest's field). */
static void printable(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < size && s[i]; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[i] = 0;
}

/* The units asked for, with their names, labels and bands from coldroomd. */
static int exc_units(sd_bus *bus, const char *unit, struct exc_report *r)
{
	struct unit_list l = { 0 };
	int k;

	k = report_units(bus, unit, &l);
	if (k) {
		unit_list_free(&l);
		return k;
	}
	r->units = calloc(l.n ? l.n : 1, sizeof(*r->units));
	if (!r->units) {
		unit_list_free(&l);
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct exc_unit *u = &r->units[i];

		printable(u->serial, sizeof(u->serial), l.v[i].serial);
		printable(u->name, sizeof(u->name), l.v[i].name);
		printable(u->label, sizeof(u->label), l.v[i].label);
		u->has_band = l.v[i].path != NULL;
		for (int p = 0; p < 2; p++) {
			u->band_min[p] = l.v[i].min[p];
			u->band_max[p] = l.v[i].max[p];
		}
	}
	r->n_units = l.n;
	unit_list_free(&l);
	return 0;
}

/* report --excursions [--since WHEN] [--until WHEN] [--unit UNIT] -o FILE.csv|pdf */
int cmd_report_excursions(sd_bus *bus, char **args, int n)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	uint64_t now = (uint64_t)time(NULL) * 1000000ULL, settled;
	struct exc_params pr = { .until_us = now };
	struct exc_report r = { 0 };
	const char *unit = NULL, *out = NULL, *base;
	bool since_given = false;
	char err[512], host[64] = "", when[32], sha[HEXSTR_SIZE(HASH_SIZE)];
	char *buf = NULL, *csv = NULL;
	size_t len = 0, csv_len = 0, cmd_len = 0;
	uint32_t interval_s;
	int ret = 0, k;

	for (int i = 0; i < n; i++) {
		if (!strcmp(args[i], "--excursions"))
			continue;
		if (i + 1 >= n)
			return exc_usage();
		if (!strcmp(args[i], "--since")) {
			if (parse_when(args[++i], now, &pr.since_us) < 0)
				return EXIT_USAGE;
			since_given = true;
		} else if (!strcmp(args[i], "--until")) {
			if (parse_when(args[++i], now, &pr.until_us) < 0)
				return EXIT_USAGE;
		} else if (!strcmp(args[i], "--unit")) {
			unit = args[++i];
		} else if (!strcmp(args[i], "-o") || !strcmp(args[i], "--output")) {
			out = args[++i];
		} else {
			return exc_usage();
		}
	}
	if (!out)
		return exc_usage();
	if (has_suffix(out, ".csv"))
		pr.format = EXC_CSV;
	else if (has_suffix(out, ".pdf"))
		pr.format = EXC_PDF;
	else {
		fprintf(stderr, "coldroomctl: report: %s: an excursion report is .csv or .pdf\n", out);
		return EXIT_USAGE;
	}
	if (!since_given)
		pr.since_us = pr.until_us > MKT_ROLLING_US ? pr.until_us - MKT_ROLLING_US : 0;
	/* Only what is written for good: the two intervals still open are not. */
	k = sd_bus_get_property_trivial(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
					"RecordIntervalSec", &e, 'u', &interval_s);
	if (k < 0)
		return fail_record("report", &e, k);
	settled = now - 2ULL * interval_s * 1000000ULL - 5000000ULL;
	if (pr.until_us > settled)
		pr.until_us = settled;
	if (pr.since_us >= pr.until_us) {
		fprintf(stderr, "coldroomctl: report: --since must be before --until (and before "
			"what is written: the last two intervals are not yet)\n");
		return EXIT_USAGE;
	}
	k = chain_head(bus, false, &pr.record, &e);
	if (k >= 0)
		k = chain_head(bus, true, &pr.audit, &e);
	if (k >= 0)
		k = sd_bus_get_property_trivial(bus, RECORDER_BUS_NAME, RECORDER_PATH,
						RECORDER_IFACE, "MKTActivationEnergy", &e, 'u',
						&pr.dh);
	if (k < 0)
		return fail_record("report", &e, k);
	pr.generated_us = now;
	gethostname(host, sizeof(host) - 1);
	iso_utc(now, when, sizeof(when));
	snprintf(pr.generated, sizeof(pr.generated), "Generated %s on %s by coldroomctl %s", when,
		 host, COLDROOM_VERSION);
	base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	/* The command as it can be run again (times as the record's, in UTC). */
	{
		char a[32], b[32];

		iso_utc(pr.since_us, a, sizeof(a));
		iso_utc(pr.until_us, b, sizeof(b));
		cmd_len = (size_t)snprintf(pr.command, sizeof(pr.command),
					   "coldroomctl report --excursions --since @%" PRIu64
					   " --until @%" PRIu64 "%s%s -o %s (%s to %s)",
					   pr.since_us / 1000000, pr.until_us / 1000000,
					   unit ? " --unit " : "", unit ? unit : "", base, a, b);
		if (cmd_len >= sizeof(pr.command))
			return exc_usage();
		/* A line of the manifest: a unit named with a newline stays on it. */
		printable(pr.command, sizeof(pr.command), pr.command);
	}
	ret = exc_units(bus, unit, &r);
	if (!ret && !r.n_units) {
		fprintf(stderr, "coldroomctl: report: no unit to report on\n");
		ret = EXIT_FAILURE;
	}
	if (!ret)
		ret = derive(bus, &pr, &r);
	if (ret)
		goto out;
	k = render(&r, pr.format, &buf, &len, err, sizeof(err));
	if (k >= 0 && pr.format == EXC_PDF)
		k = render(&r, EXC_CSV, &csv, &csv_len, err, sizeof(err));
	if (k >= 0) {
		sha256_hex(buf, len, sha);
		k = write_whole(out, buf, len);
		if (k >= 0)
			k = write_manifest(out, base, sha, &pr, &r, csv);
		if (k < 0)
			snprintf(err, sizeof(err), "%s: %s", out, strerror(-k));
	}
	if (k < 0) {
		fprintf(stderr, "coldroomctl: report: %s\n", err);
		ret = EXIT_FAILURE;
		goto out;
	}
	printf("%s: %zu excursion%s, %zu unit%s; manifest %s.manifest (SHA-256 %.16s...)\n", out,
	       r.n_exc, r.n_exc == 1 ? "" : "s", r.n_units, r.n_units == 1 ? "" : "s", out, sha);
out:
	free(buf);
	free(csv);
	exc_report_free(&r);
	return ret;
}

/* Up to DIFF_SHOWN lines that differ between @was and @now, named. */
static void name_differences(const char *was, const char *now)
{
	unsigned int shown = 0, line = 1;

	while ((*was || *now) && shown < DIFF_SHOWN) {
		size_t a = strcspn(was, "\n"), b = strcspn(now, "\n");

		if (a != b || memcmp(was, now, a)) {
			printf("  line %u: the export says   %.*s\n"
			       "  %*s  the record says %.*s\n", line, a ? (int)a : 9,
			       a ? was : "(nothing)", (int)snprintf(NULL, 0, "line %u:", line), "",
			       b ? (int)b : 9, b ? now : "(nothing)");
			shown++;
		}
		was += a + (was[a] == '\n');
		now += b + (now[b] == '\n');
		line++;
	}
}

/* record verify-export FILE */
int cmd_record_verify_export(sd_bus *bus, const char *path)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	_cleanup_(freep) char *mpath = NULL, *file = NULL, *content = NULL;
	_cleanup_(freep) char *buf = NULL, *csv = NULL, *manifest = NULL;
	struct exc_params pr = { 0 };
	struct exc_report r = { 0 };
	char want[HEXSTR_SIZE(HASH_SIZE)] = "", got[HEXSTR_SIZE(HASH_SIZE)], err[1024];
	size_t file_len = 0, len = 0, csv_len = 0, manifest_len = 0;
	bool intact;
	char verdict[512];
	int ret = EXIT_NOT_INTACT, k;

	if (asprintf(&mpath, "%s.manifest", path) < 0)
		return EXIT_FAILURE;
	k = read_file_at(AT_FDCWD, path, EXPORT_MAX, &file, &file_len);
	if (k < 0) {
		fprintf(stderr, "coldroomctl: record verify-export: %s: %s\n", path, strerror(-k));
		return EXIT_FAILURE;
	}
	k = read_file_at(AT_FDCWD, mpath, EXPORT_MAX, &manifest, &manifest_len);
	if (k >= 0)
		k = manifest_parse(manifest, manifest_len, &pr, &r, want, &content, err,
				   sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", strerror(-k));
	if (k < 0) {
		fprintf(stderr, "coldroomctl: record verify-export: %s: %s\n", mpath, err);
		ret = EXIT_FAILURE;
		goto out;
	}
	sha256_hex(file, file_len, got);
	if (strcmp(got, want)) {
		printf("%s: CHANGED since it was exported: its SHA-256 is %s, the manifest says %s\n",
		       path, got, want);
		goto out;
	}
	/* The record still holds the rows the export was made from, as they were. */
	for (int audit = 0; audit < 2; audit++) {
		const struct chain_at *then = audit ? &pr.audit : &pr.record;
		struct chain_at now_at;

		if (!then->seq)
			continue;
		k = chain_row(bus, audit, then->seq, &now_at, &e);
		if (k == -ENOENT) {
			printf("%s: the record no longer has %s %" PRIu64 " the export was made from "
			       "(pruned, or deleted)\n", path, audit ? "audit entry" : "row", then->seq);
			goto out;
		}
		if (k < 0) {
			ret = fail_record("record verify-export", &e, k);
			goto out;
		}
		if (memcmp(now_at.hash, then->hash, HASH_SIZE)) {
			printf("%s: the record was rewritten: %s %" PRIu64 " no longer has the hash it "
			       "had when the export was made\n", path,
			       audit ? "audit entry" : "row", then->seq);
			goto out;
		}
	}
	k = history_verify(bus, &intact, verdict, sizeof(verdict), &e);
	if (k < 0) {
		ret = fail_record("record verify-export", &e, k);
		goto out;
	}
	k = derive(bus, &pr, &r);
	if (k) {
		ret = k;
		goto out;
	}
	k = render(&r, pr.format, &buf, &len, err, sizeof(err));
	if (k >= 0)
		k = render(&r, EXC_CSV, &csv, &csv_len, err, sizeof(err));
	if (k < 0) {
		fprintf(stderr, "coldroomctl: record verify-export: %s\n", err);
		ret = EXIT_FAILURE;
		goto out;
	}
	sha256_hex(buf, len, got);
	if (strcmp(got, want)) {
		printf("%s: DIFFERS from the record: made again from it now, its SHA-256 would be "
		       "%s, not %s\n", path, got, want);
		name_differences(pr.format == EXC_CSV ? file : content, csv);
		if (!intact)
			printf("and the record is NOT INTACT: %s\n", verdict);
	} else if (!intact) {
		printf("%s: matches the record, but the record is NOT INTACT: %s\n", path, verdict);
	} else {
		printf("%s: matches the record (%zu excursion%s, record %s); record intact\n", path,
		       r.n_exc, r.n_exc == 1 ? "" : "s", r.made_from);
		ret = 0;
	}
out:
	exc_report_free(&r);
	return ret;
}
