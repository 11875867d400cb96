// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * recorderbus.c - org.coldroom.Recorder1 (DBUS-API.md, "The record"). The
 * record's rows come back as fixed-width arrays, like coldroomd's
 * Readings; every method is a read of the recorder's own connection to
 * the database, one page of at most RECORDER_PAGE_ROWS rows and
 * RECORDER_PAGE_US a call, so that a caller cannot hold the readings up
 * for long: callers page on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "bus_names.h"
#include "log.h"
#include "macro.h"
#include "mkt.h"
#include "recorderbus.h"
#include "service.h"


static uint64_t now_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int check_range(const char *serial, uint64_t since, uint64_t until, sd_bus_error *error)
{
	size_t n = strlen(serial);

	if (n == 0 || n > 63)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"a serial is 1 to 63 characters");
	if (since >= until)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"since must be before until");
	return 0;
}

/* The arguments of a probe's rows: serial, probe, since, until and with @paged the cursor. */
static int read_probe_range(sd_bus_message *m, bool paged, const char **serial, uint32_t *probe,
			    uint64_t *since, uint64_t *until, struct record_page *pg,
			    sd_bus_error *error)
{
	int r;

	r = sd_bus_message_read(m, "sutt", serial, probe, since, until);
	if (r >= 0 && paged)
		r = sd_bus_message_read(m, "tt", &pg->after_time, &pg->after_seq);
	if (r < 0)
		return r;
	r = check_range(*serial, *since, *until, error);
	if (r < 0)
		return r;
	if (*probe < 1 || *probe > 2)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "probe must be 1 or 2, not %u", *probe);
	return 0;
}

/*
 * GetHistory (the first page only, as before pages), GetHistoryPage (a
 * page after a cursor, and where the next starts) and GetHistoryPage2
 * (each row's lost samples too).
 */
static int get_history(sd_bus_message *m, struct recorder_face *face, bool paged, bool lost,
		       sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct record_page pg = { .max = RECORDER_PAGE_ROWS, .budget_us = RECORDER_PAGE_US };
	struct record_history h;
	const char *serial;
	uint64_t since, until, t0;
	uint32_t probe;
	int r;

	r = read_probe_range(m, paged, &serial, &probe, &since, &until, &pg, error);
	if (r < 0)
		return r;
	t0 = now_monotonic_us();
	r = record_history(face->rec, serial, probe, since, until, &pg, &h);
	log_debug("GetHistory %s %u: %zu rows in %" PRIu64 " us", serial, probe, h.n,
		  now_monotonic_us() - t0);
	if (r < 0)
		return sd_bus_error_setf(error, RECORDER_ERROR_RECORD, "reading the record: %s",
					 record_error(face->rec));
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 't', h.start_us, h.n * sizeof(uint64_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 't', h.end_us, h.n * sizeof(uint64_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'u', h.count, h.n * sizeof(uint32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', h.min, h.n * sizeof(int32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', h.mean, h.n * sizeof(int32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', h.max, h.n * sizeof(int32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', h.status, h.n);
	if (r >= 0 && lost)
		r = sd_bus_message_append_array(reply, 'u', h.lost, h.n * sizeof(uint32_t));
	if (r >= 0 && lost)
		r = sd_bus_message_append_array(reply, 'y', h.lost_why, h.n);
	if (r >= 0 && paged)
		r = sd_bus_message_append(reply, "btt", (int)pg.more, pg.next_time, pg.next_seq);
	record_history_free(&h);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_get_history(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_history(m, userdata, false, false, error);
}

static int method_get_history_page(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_history(m, userdata, true, false, error);
}

static int method_get_history_page2(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_history(m, userdata, true, true, error);
}

/*
 * GetMeanKineticTemperaturePage: one page of a probe's rows summed
 * (shared/mkt.h), not sent; the caller merges the pages' sums in order.
 */
static int method_get_mkt_page(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder_face *face = userdata;
	struct record_page pg = { .max = RECORDER_MKT_PAGE_ROWS, .budget_us = RECORDER_PAGE_US };
	struct record_history h;
	struct mkt_sum sum;
	const char *serial;
	uint64_t since, until;
	uint32_t probe;
	int r;

	r = read_probe_range(m, true, &serial, &probe, &since, &until, &pg, error);
	if (r < 0)
		return r;
	r = record_history(face->rec, serial, probe, since, until, &pg, &h);
	if (r < 0)
		return sd_bus_error_setf(error, RECORDER_ERROR_RECORD, "reading the record: %s",
					 record_error(face->rec));
	mkt_init(&sum, since, until, face->mkt_dh);
	for (size_t i = 0; i < h.n; i++)
		mkt_add(&sum, h.start_us[i], h.end_us[i], h.count[i], h.mean[i]);
	record_history_free(&h);
	/* No data: a sum of nothing, sent as 0 (meaningless, as data_usec says). */
	return sd_bus_reply_method_return(m, "tdttttiibtt", sum.data_us,
					  sum.data_us ? sum.ln_sum : 0.0, sum.nodata_us,
					  sum.missing_us, sum.any ? sum.first_us : 0,
					  sum.any ? sum.reached_us : 0, sum.data_us ? sum.peak : 0,
					  sum.data_us ? sum.low : 0, (int)pg.more, pg.next_time,
					  pg.next_seq);
}

static int append_event(void *userdata, const struct record_event *ev)
{
	sd_bus_message *reply = userdata;

	return sd_bus_message_append(reply, "(tsubxsssss)", ev->time_us, ev->event ? ev->event : "",
				     (uint32_t)ev->probe, (int)ev->has_reading, ev->reading,
				     ev->user ? ev->user : "", ev->what ? ev->what : "",
				     ev->old_value ? ev->old_value : "",
				     ev->new_value ? ev->new_value : "",
				     ev->detail ? ev->detail : "");
}

static int append_entry(void *userdata, const struct record_event *ev)
{
	sd_bus_message *reply = userdata;

	return sd_bus_message_append(reply, "(ttssubussssbxs)", ev->seq, ev->time_us,
				     ev->event ? ev->event : "", ev->serial ? ev->serial : "",
				     (uint32_t)ev->probe, (int)ev->has_uid, (uint32_t)ev->uid,
				     ev->user ? ev->user : "", ev->what ? ev->what : "",
				     ev->old_value ? ev->old_value : "",
				     ev->new_value ? ev->new_value : "", (int)ev->has_reading,
				     ev->reading, ev->detail ? ev->detail : "");
}

/*
 * GetAuditAfter2's entry: GetAuditAfter's, then which text columns are
 * NULL (RECORD.md hashes NULL and '' apart) and the entry's hash.
 */
static int append_entry2(void *userdata, const struct record_event *ev)
{
	static const uint8_t none[RECORD_HASH_SIZE];
	sd_bus_message *reply = userdata;
	uint32_t nulls = (!ev->user ? 1u : 0) | (!ev->what ? 2u : 0) | (!ev->old_value ? 4u : 0) |
			 (!ev->new_value ? 8u : 0) | (!ev->detail ? 16u : 0);
	int r;

	r = sd_bus_message_open_container(reply, 'r', "ttssubussssbxsuay");
	if (r >= 0)
		r = sd_bus_message_append(reply, "ttssubussssbxsu", ev->seq, ev->time_us,
					  ev->event ? ev->event : "", ev->serial ? ev->serial : "",
					  (uint32_t)ev->probe, (int)ev->has_uid, (uint32_t)ev->uid,
					  ev->user ? ev->user : "", ev->what ? ev->what : "",
					  ev->old_value ? ev->old_value : "",
					  ev->new_value ? ev->new_value : "", (int)ev->has_reading,
					  ev->reading, ev->detail ? ev->detail : "", nulls);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', ev->hash ? ev->hash : none,
						 RECORD_HASH_SIZE);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* GetEvents[Page] (a unit's, by time) or GetAuditAfter[2] (all, after a seq). */
struct events_query {
	const char *serial;		/* GetEvents; NULL: GetAuditAfter */
	uint64_t since, until;
	struct record_page *pg;		/* GetEvents[Page] */
	bool paged;			/* GetEventsPage: the cursor after the array */
	uint64_t after;
	size_t max;
	bool v2;			/* GetAuditAfter2 */
};

/* Append the entries @q asks for to @reply as an array, and send it. */
static int send_events(struct recorder_face *face, sd_bus_message *reply,
		       const struct events_query *q, sd_bus_error *error)
{
	int r;

	r = sd_bus_message_open_container(reply, 'a', q->serial ? "(tsubxsssss)" :
						q->v2 ? "(ttssubussssbxsuay)" : "(ttssubussssbxs)");
	if (r >= 0) {
		r = q->serial ? record_events(face->rec, q->serial, q->since, q->until, q->pg,
					      append_event, reply) :
				record_events_after(face->rec, q->after, q->max,
						    q->v2 ? append_entry2 : append_entry, reply);
		if (r < 0 && r != -ENOMEM && r != -ENOBUFS && r != -E2BIG)
			return sd_bus_error_setf(error, RECORDER_ERROR_RECORD, "reading the audit trail: %s",
						 record_error(face->rec));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0 && q->paged)
		r = sd_bus_message_append(reply, "btt", (int)q->pg->more, q->pg->next_time,
					  q->pg->next_seq);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int get_events(sd_bus_message *m, struct recorder_face *face, bool paged,
		      sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct record_page pg = { .max = RECORDER_PAGE_ROWS, .budget_us = RECORDER_PAGE_US };
	const char *serial;
	uint64_t since, until;
	int r;

	r = sd_bus_message_read(m, "stt", &serial, &since, &until);
	if (r >= 0 && paged)
		r = sd_bus_message_read(m, "tt", &pg.after_time, &pg.after_seq);
	if (r < 0)
		return r;
	r = check_range(serial, since, until, error);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r < 0)
		return r;
	return send_events(face, reply, &(struct events_query){ .serial = serial, .since = since,
								 .until = until, .pg = &pg,
								 .paged = paged }, error);
}

static int method_get_events(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_events(m, userdata, false, error);
}

static int method_get_events_page(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_events(m, userdata, true, error);
}

/* Appends a record row's values to the reply of GetRecordsAfter. */
static int append_rows(sd_bus_message *reply, const struct record_rows *b)
{
	const struct record_history *h = &b->h;
	int r;

	r = sd_bus_message_append_array(reply, 't', b->seq, b->n * sizeof(uint64_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 't', h->start_us, b->n * sizeof(uint64_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 't', h->end_us, b->n * sizeof(uint64_t));
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < b->n; i++)
		r = sd_bus_message_append_basic(reply, 's', b->serial[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', b->probe, b->n);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'u', h->count, b->n * sizeof(uint32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', h->min, b->n * sizeof(int32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', h->mean, b->n * sizeof(int32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', h->max, b->n * sizeof(int32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', h->status, b->n);
	return r;
}

/* GetRecordsAfter2's arrays after GetRecordsAfter's: each row's digest and hash. */
static int append_hashes(sd_bus_message *reply, const struct record_rows *b)
{
	int r;

	r = sd_bus_message_open_container(reply, 'a', "ay");
	for (size_t i = 0; r >= 0 && i < b->n; i++)
		r = sd_bus_message_append_array(reply, 'y', b->samples_sha256 + i * RECORD_HASH_SIZE,
						b->has_samples[i] ? RECORD_HASH_SIZE : 0);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "ay");
	for (size_t i = 0; r >= 0 && i < b->n; i++)
		r = sd_bus_message_append_array(reply, 'y', b->hash + i * RECORD_HASH_SIZE,
						RECORD_HASH_SIZE);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/*
 * GetRecordsAfter3's arrays after GetRecordsAfter2's: each row's lost
 * samples, why, and whether the row has the lost columns at all (a row
 * of schema 1 does not, and is hashed without them: RECORD.md).
 */
static int append_lost(sd_bus_message *reply, const struct record_rows *b)
{
	int r;

	r = sd_bus_message_append_array(reply, 'u', b->h.lost, b->n * sizeof(uint32_t));
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', b->h.lost_why, b->n);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', b->has_lost, b->n);
	return r;
}

/*
 * The hash the first row of a reply chains from (empty with no rows): the
 * row before it, or where the chain starts.
 */
static int append_prev(sd_bus_message *reply, struct recorder_face *face, bool audit,
		       bool any, uint64_t first_seq)
{
	uint8_t h[RECORD_HASH_SIZE];
	int k = 0;

	if (any) {
		k = record_hash_at(face->rec, audit, (int64_t)first_seq - 1, h);
		if (k < 0)
			return k;
	}
	return sd_bus_message_append_array(reply, 'y', h, k == 1 ? sizeof(h) : 0);
}

/*
 * The common start of GetRecordsAfter and GetAuditAfter: the arguments,
 * and a reply that begins with the chain's head. The head is read before
 * the rows: every row up to it is committed, so no reply runs past it.
 */
static int follow_start(sd_bus_message *m, struct recorder_face *face, bool audit,
			uint64_t *after, uint32_t *max, sd_bus_message **reply,
			sd_bus_error *error)
{
	struct record_head head;
	int r;

	r = sd_bus_message_read(m, "tu", after, max);
	if (r < 0)
		return r;
	if (*max < 1 || *max > RECORDER_MAX_FOLLOW)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "the count must be 1 to %u, not %u", RECORDER_MAX_FOLLOW,
					 *max);
	record_heads(face->rec, audit ? NULL : &head, audit ? &head : NULL);
	r = sd_bus_message_new_method_return(m, reply);
	if (r >= 0)
		r = sd_bus_message_append(*reply, "t", (uint64_t)head.seq);
	return r;
}

static int get_records_after(sd_bus_message *m, struct recorder_face *face, unsigned int v,
			     sd_bus_error *error)
{
	bool v2 = v >= 2;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct record_rows b;
	uint64_t after;
	uint32_t max;
	int r;

	r = follow_start(m, face, false, &after, &max, &reply, error);
	if (r < 0)
		return r;
	r = record_rows_after(face->rec, after, max < RECORDER_PAGE_ROWS ? max : RECORDER_PAGE_ROWS, &b);
	if (r < 0)
		return sd_bus_error_setf(error, RECORDER_ERROR_RECORD, "reading the record: %s",
					 record_error(face->rec));
	r = v2 ? append_prev(reply, face, false, b.n > 0, b.n ? b.seq[0] : 0) : 0;
	if (r >= 0)
		r = append_rows(reply, &b);
	if (r >= 0 && v2)
		r = append_hashes(reply, &b);
	if (r >= 0 && v >= 3)
		r = append_lost(reply, &b);
	record_rows_free(&b);
	if (r < 0)
		return r == -EIO ? sd_bus_error_setf(error, RECORDER_ERROR_RECORD,
						     "reading the record: %s",
						     record_error(face->rec)) : r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_get_records_after(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_records_after(m, userdata, 1, error);
}

static int method_get_records_after2(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_records_after(m, userdata, 2, error);
}

static int method_get_records_after3(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_records_after(m, userdata, 3, error);
}

static int get_audit_after(sd_bus_message *m, struct recorder_face *face, bool v2,
			   sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct record_head head;
	uint64_t after;
	uint32_t max;
	int r;

	r = follow_start(m, face, true, &after, &max, &reply, error);
	if (r < 0)
		return r;
	if (v2) {
		/* The audit trail is never pruned: its rows are 1..head. */
		record_heads(face->rec, NULL, &head);
		r = append_prev(reply, face, true, after < (uint64_t)head.seq, after + 1);
		if (r < 0)
			return r == -EIO ? sd_bus_error_setf(error, RECORDER_ERROR_RECORD,
							     "reading the audit trail: %s",
							     record_error(face->rec)) : r;
	}
	return send_events(face, reply, &(struct events_query){
		.after = after, .max = max < RECORDER_PAGE_ROWS ? max : RECORDER_PAGE_ROWS,
		.v2 = v2 }, error);
}

static int method_get_audit_after(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_audit_after(m, userdata, false, error);
}

static int method_get_audit_after2(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return get_audit_after(m, userdata, true, error);
}

/* The reply comes when the shared walk reaches the heads (verifier.c). */
static int method_verify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder_face *face = userdata;

	return verifier_request(face->verifier, m, error);
}

/* "YYYY-MM-DD", a real date, and not after today (local time). */
static bool day_ok(const char *day)
{
	char today[16];
	struct tm tm = { 0 }, check;
	time_t now = time(NULL), t;
	const char *end;

	if (strlen(day) != 10 || day[4] != '-' || day[7] != '-')
		return false;
	end = strptime(day, "%Y-%m-%d", &tm);
	if (!end || *end)
		return false;
	tm.tm_isdst = -1;
	tm.tm_hour = 12;
	check = tm;
	t = mktime(&check);
	if (t == (time_t)-1 || check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon)
		return false;
	if (!localtime_r(&now, &tm) || !strftime(today, sizeof(today), "%Y-%m-%d", &tm))
		return false;
	return strcmp(day, today) <= 0;
}

static bool serial_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

/*
 * A person signs a unit's day report (21 CFR 11.50): polkit asks for
 * their own password (org.coldroom.sensors.sign-report); the signature's
 * manifestation goes into the audit trail as "report-signed", a refusal
 * as "refused". Nothing else changes.
 */
static int method_sign_report(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder_face *face = userdata;
	const char *serial, *day, *meaning, *comment;
	struct polkit_caller who;
	char detail[600];
	int r;

	r = sd_bus_message_read(m, "ssss", &serial, &day, &meaning, &comment);
	if (r < 0)
		return r;
	if (!serial_ok(serial))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"a serial is 1 to 63 letters, digits, '-', '_' or '.'");
	if (!day_ok(day))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "the day is YYYY-MM-DD, a date not after today, not '%.16s'",
					 day);
	if (strcmp(meaning, "reviewed") && strcmp(meaning, "approved"))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"the meaning is 'reviewed' or 'approved'");
	if (strlen(comment) > RECORDER_SIGN_COMMENT_MAX)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "a comment is at most %d characters",
					 RECORDER_SIGN_COMMENT_MAX);
	for (const char *p = comment; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
						"a comment is one line of text without control characters");

	r = polkit_check(&face->polkit, m, POLKIT_ACTION_SIGN_REPORT, NULL, &who, error);
	if (r == 0)
		return 1;
	if (r == -EACCES) {
		unsigned int untold;

		if (polkit_refusal_itemize(&face->refusals, now_monotonic_us(), &untold)) {
			snprintf(detail, sizeof(detail), "%s: %s%s", who.how,
				 error->message ? error->message : "",
				 untold ? " (and earlier refused attempts not itemized)" : "");
			face->audit(face->audit_ctx, "refused", serial, POLKIT_ACTION_SIGN_REPORT,
				    NULL, detail, who.uid, who.user);
		}
		return r;
	}
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "day report of %s signed by %s (%s), meaning: %s%s%s",
		 day, who.printed_name, who.user, meaning, comment[0] ? ": " : "", comment);
	face->audit(face->audit_ctx, "report-signed", serial, meaning, day, detail, who.uid,
		    who.user);
	log_info("%s signed the day report of %s for %s as %s", who.user, day, serial, meaning);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable recorder_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Status", "s", NULL, offsetof(struct recorder_face, status),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("WriteFailing", "b", NULL, offsetof(struct recorder_face, write_failing),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("RecordIntervalSec", "u", NULL,
			offsetof(struct recorder_face, interval_s), SD_BUS_VTABLE_PROPERTY_CONST),
	/* Changes with the samples: read it, no signal. */
	SD_BUS_PROPERTY("SamplesLost", "t", NULL, offsetof(struct recorder_face, samples_lost), 0),
	SD_BUS_PROPERTY("MKTActivationEnergy", "u", NULL,
			offsetof(struct recorder_face, mkt_dh), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD_WITH_ARGS("GetHistory",
				SD_BUS_ARGS("s", serial, "u", probe, "t", since, "t", until),
				SD_BUS_RESULT("at", start, "at", end, "au", samples, "ai", min,
					      "ai", mean, "ai", max, "ay", status),
				method_get_history, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetEvents", SD_BUS_ARGS("s", serial, "t", since, "t", until),
				SD_BUS_RESULT("a(tsubxsssss)", events), method_get_events,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetHistoryPage",
				SD_BUS_ARGS("s", serial, "u", probe, "t", since, "t", until,
					    "t", after_start, "t", after_seq),
				SD_BUS_RESULT("at", start, "at", end, "au", samples, "ai", min,
					      "ai", mean, "ai", max, "ay", status, "b", more,
					      "t", next_start, "t", next_seq),
				method_get_history_page, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetHistoryPage2",
				SD_BUS_ARGS("s", serial, "u", probe, "t", since, "t", until,
					    "t", after_start, "t", after_seq),
				SD_BUS_RESULT("at", start, "at", end, "au", samples, "ai", min,
					      "ai", mean, "ai", max, "ay", status, "au", lost,
					      "ay", lost_why, "b", more, "t", next_start,
					      "t", next_seq),
				method_get_history_page2, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetEventsPage",
				SD_BUS_ARGS("s", serial, "t", since, "t", until, "t", after_time,
					    "t", after_seq),
				SD_BUS_RESULT("a(tsubxsssss)", events, "b", more, "t", next_time,
					      "t", next_seq),
				method_get_events_page, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetMeanKineticTemperaturePage",
				SD_BUS_ARGS("s", serial, "u", probe, "t", since, "t", until,
					    "t", after_start, "t", after_seq),
				SD_BUS_RESULT("t", data_usec, "d", ln_weighted_sum,
					      "t", no_data_usec, "t", missing_usec,
					      "t", first_start, "t", last_end, "i", peak, "i", low, "b", more,
					      "t", next_start, "t", next_seq),
				method_get_mkt_page, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Verify", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("b", intact, "x", record_rows, "x", audit_rows,
					      "s", message),
				method_verify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetRecordsAfter", SD_BUS_ARGS("t", after_seq, "u", max_rows),
				SD_BUS_RESULT("t", head_seq, "at", seq, "at", start, "at", end,
					      "as", serial, "ay", probe, "au", samples, "ai", min,
					      "ai", mean, "ai", max, "ay", status),
				method_get_records_after, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetAuditAfter", SD_BUS_ARGS("t", after_seq, "u", max_entries),
				SD_BUS_RESULT("t", head_seq, "a(ttssubussssbxs)", entries),
				method_get_audit_after, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetRecordsAfter2", SD_BUS_ARGS("t", after_seq, "u", max_rows),
				SD_BUS_RESULT("t", head_seq, "ay", prev_hash, "at", seq, "at", start,
					      "at", end, "as", serial, "ay", probe, "au", samples,
					      "ai", min, "ai", mean, "ai", max, "ay", status,
					      "aay", samples_sha256, "aay", hash),
				method_get_records_after2, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetRecordsAfter3", SD_BUS_ARGS("t", after_seq, "u", max_rows),
				SD_BUS_RESULT("t", head_seq, "ay", prev_hash, "at", seq, "at", start,
					      "at", end, "as", serial, "ay", probe, "au", samples,
					      "ai", min, "ai", mean, "ai", max, "ay", status,
					      "aay", samples_sha256, "aay", hash, "au", lost,
					      "ay", lost_why, "ay", has_lost),
				method_get_records_after3, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetAuditAfter2", SD_BUS_ARGS("t", after_seq, "u", max_entries),
				SD_BUS_RESULT("t", head_seq, "ay", prev_hash,
					      "a(ttssubussssbxsuay)", entries),
				method_get_audit_after2, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SignReport",
				SD_BUS_ARGS("s", serial, "s", day, "s", meaning, "s", comment),
				SD_BUS_NO_RESULT, method_sign_report, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("Committed", SD_BUS_ARGS("t", record_seq, "t", audit_seq), 0),
	SD_BUS_VTABLE_END
};

int recorder_bus_publish(sd_bus *bus, struct recorder_face *face)
{
	int r;

	r = sd_bus_add_object_vtable(bus, NULL, RECORDER_PATH, RECORDER_IFACE, recorder_vtable,
				     face);
	if (r < 0) {
		log_error("cannot publish %s: %s", RECORDER_BUS_NAME, strerror(-r));
		return r;
	}
	/* Recording goes on without the name: only reading it back needs it. */
	return service_request_name(bus, RECORDER_BUS_NAME,
				    "the record is kept, but cannot be read back over the bus");
}

void recorder_bus_changed(sd_bus *bus)
{
	if (bus)
		(void)sd_bus_emit_properties_changed(bus, RECORDER_PATH, RECORDER_IFACE, "Status",
						     "WriteFailing", NULL);
}

void recorder_bus_committed(sd_bus *bus, struct recorder_face *face)
{
	struct record_head rec, aud;

	record_heads(face->rec, &rec, &aud);
	if (!bus || (rec.seq == face->signalled_record && aud.seq == face->signalled_audit))
		return;
	face->signalled_record = rec.seq;
	face->signalled_audit = aud.seq;
	(void)sd_bus_emit_signal(bus, RECORDER_PATH, RECORDER_IFACE, "Committed", "tt",
				 (uint64_t)rec.seq, (uint64_t)aud.seq);
}
