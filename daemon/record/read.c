// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * read.c - the record read back: where it ends, one unit's history and
 * audit entries, and what was written after a seq for a follower.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"
#include "record_internal.h"

static const char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : NULL;
}

int record_last_end(struct record *r, uint64_t *end_us)
{
	sqlite3_stmt *st;
	int rc;

	*end_us = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT end_us FROM record ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL))
		return db_error(r, "reading the last interval");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*end_us = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(r, "reading the last interval");
}

int record_last_setting(struct record *r, const char *what, char *value, size_t size)
{
	sqlite3_stmt *st;
	int rc;

	/* The host's entries only (audit_by_unit): a few per start, not the whole trail. */
	if (sqlite3_prepare_v2(r->db, "SELECT new_value FROM audit INDEXED BY audit_by_unit "
			       "WHERE serial = '' AND event = 'setting-changed' AND what = ?1 "
			       "ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL))
		return db_error(r, "reading the audit trail");
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(value, size, "%s", column_text(st, 0) ? column_text(st, 0) : "");
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r, "reading the audit trail");
	return rc == SQLITE_ROW;
}

void record_history_free(struct record_history *h)
{
	free(h->start_us);
	free(h->end_us);
	free(h->count);
	free(h->min);
	free(h->mean);
	free(h->max);
	free(h->status);
	free(h->lost);
	free(h->lost_why);
	memset(h, 0, sizeof(*h));
}

static int history_grow(struct record_history *h)
{
	size_t cap = h->cap ? 2 * h->cap : 256;
#define GROW(field) { \
		void *p = realloc(h->field, cap * sizeof(*h->field)); \
		if (!p) \
			return -ENOMEM; \
		h->field = p; \
	}
	GROW(start_us) GROW(end_us) GROW(count) GROW(min) GROW(mean) GROW(max) GROW(status)
	GROW(lost) GROW(lost_why)
#undef GROW
	h->cap = cap;
	return 0;
}

static void copy_hash(sqlite3_stmt *st, int i, uint8_t *out)
{
	if (sqlite3_column_bytes(st, i) == RECORD_HASH_SIZE)
		memcpy(out, sqlite3_column_blob(st, i), RECORD_HASH_SIZE);
	else
		memset(out, 0, RECORD_HASH_SIZE);
}

/*
 * Columns 0..6: start_us, end_us, n, min, mean, max, status; @lost and the
 * next: lost, lost_why (NULL, so 0, in a row of schema 1).
 */
static void history_row(sqlite3_stmt *st, int lost, struct record_history *h, size_t i)
{
	h->lost[i] = (uint32_t)sqlite3_column_int64(st, lost);
	h->lost_why[i] = (uint8_t)sqlite3_column_int64(st, lost + 1);
	h->start_us[i] = (uint64_t)sqlite3_column_int64(st, 0);
	h->end_us[i] = (uint64_t)sqlite3_column_int64(st, 1);
	h->count[i] = (uint32_t)sqlite3_column_int64(st, 2);
	h->min[i] = (int32_t)sqlite3_column_int64(st, 3);
	h->mean[i] = (int32_t)sqlite3_column_int64(st, 4);
	h->max[i] = (int32_t)sqlite3_column_int64(st, 5);
	h->status[i] = (uint8_t)sqlite3_column_int64(st, 6);
}

/*
 * Two index ranges merged in time order, each as tight as the rows allow:
 * a unit's row is at most RECORD_ROW_MAX_US long, so one that overlaps
 * [since, until) started in [since - RECORD_ROW_MAX_US, until); the host's
 * rows (any length, one per restart or clock jump) are few. A page starts
 * after its cursor (start, seq): both ranges start at its start.
 */
#define HISTORY_COLUMNS "start_us, end_us, n, min, mean, max, status, seq, lost, lost_why"
#define PAGE_AFTER "AND start_us >= ?7 AND (start_us > ?7 OR seq > ?8) "

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int64_t clamp64(uint64_t v)
{
	return (int64_t)(v > INT64_MAX ? INT64_MAX : v);
}

/* Has @pg's time run out, after @n rows? The first row is always read. */
static bool page_over(const struct record_page *pg, size_t n, uint64_t deadline)
{
	return n >= pg->max || (deadline && n && mono_us() >= deadline);
}

static int history_step(sqlite3_stmt *st, bool *more)
{
	int rc = st ? sqlite3_step(st) : SQLITE_DONE;

	*more = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* Does @a's current row come before @b's, by (start_us, seq)? */
static bool history_before(sqlite3_stmt *a, sqlite3_stmt *b)
{
	int64_t sa = sqlite3_column_int64(a, 0), sb = sqlite3_column_int64(b, 0);

	return sa < sb || (sa == sb && sqlite3_column_int64(a, 7) < sqlite3_column_int64(b, 7));
}

static void history_bind(sqlite3_stmt *st, int64_t since, int64_t until, int64_t lower,
			 const struct record_page *pg)
{
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	/* One more than the page: whether more remain. */
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(pg->max >= INT64_MAX ? INT64_MAX : pg->max + 1));
	sqlite3_bind_int64(st, 7, lower);
	sqlite3_bind_int64(st, 8, clamp64(pg->after_seq));
}

int record_history(struct record *r, const char *serial, unsigned int probe, uint64_t since_us,
		   uint64_t until_us, struct record_page *pg, struct record_history *h)
{
	sqlite3_stmt *unit = NULL, *host = NULL;
	int64_t since = clamp64(since_us), until = clamp64(until_us);
	int64_t after = clamp64(pg->after_time), lower;
	uint64_t deadline = pg->budget_us ? mono_us() + pg->budget_us : 0;
	bool more_unit = false, more_host = false;
	int k = 0;

	memset(h, 0, sizeof(*h));
	pg->more = false;
	pg->next_time = pg->after_time;
	pg->next_seq = pg->after_seq;
	/* The host's rows (serial '') are gaps of every unit. */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT " HISTORY_COLUMNS " FROM record WHERE serial = '' "
			       "AND start_us < ?2 AND end_us > ?1 " PAGE_AFTER
			       "ORDER BY start_us, seq LIMIT ?3",
			       -1, &host, NULL) ||
	    (serial[0] &&
	     sqlite3_prepare_v2(r->db,
				"SELECT " HISTORY_COLUMNS " FROM record WHERE serial = ?4 "
				"AND probe = ?5 AND start_us >= ?6 AND start_us < ?2 "
				"AND end_us > ?1 " PAGE_AFTER "ORDER BY start_us, seq LIMIT ?3",
				-1, &unit, NULL))) {
		k = db_error(r, "reading the history");
		goto out;
	}
	history_bind(host, since, until, after, pg);
	if (unit) {
		lower = since > (int64_t)RECORD_ROW_MAX_US ? since - (int64_t)RECORD_ROW_MAX_US : 0;
		history_bind(unit, since, until, after, pg);
		sqlite3_bind_text(unit, 4, serial, -1, SQLITE_STATIC);
		sqlite3_bind_int64(unit, 5, probe);
		sqlite3_bind_int64(unit, 6, lower);
	}
	k = history_step(unit, &more_unit);
	if (!k)
		k = history_step(host, &more_host);
	while (!k && (more_unit || more_host)) {
		bool from_unit = more_unit && (!more_host || history_before(unit, host));
		sqlite3_stmt *st = from_unit ? unit : host;

		if (page_over(pg, h->n, deadline)) {
			pg->more = true;
			break;
		}
		if (h->n == h->cap && (k = history_grow(h)) < 0)
			break;
		history_row(st, 8, h, h->n);
		pg->next_time = h->start_us[h->n];
		pg->next_seq = (uint64_t)sqlite3_column_int64(st, 7);
		h->n++;
		k = history_step(st, from_unit ? &more_unit : &more_host);
	}
	if (k == -EIO)
		k = db_error(r, "reading the history");
out:
	sqlite3_finalize(unit);
	sqlite3_finalize(host);
	if (k < 0)
		record_history_free(h);
	return k;
}

/* An audit row of SELECT AUDIT_READ_COLUMNS: its strings live until the next step. */
#define AUDIT_READ_COLUMNS "seq, time_us, event, serial, probe, uid, user, what, old_value, " \
	"new_value, reading, detail, hash"

static void event_from_row(sqlite3_stmt *st, struct record_event *ev)
{
	*ev = (struct record_event){
		.seq = (uint64_t)sqlite3_column_int64(st, 0),
		.time_us = (uint64_t)sqlite3_column_int64(st, 1),
		.event = column_text(st, 2),
		.serial = column_text(st, 3),
		.probe = (unsigned int)sqlite3_column_int64(st, 4),
		.has_uid = sqlite3_column_type(st, 5) != SQLITE_NULL,
		.uid = (uid_t)sqlite3_column_int64(st, 5),
		.user = column_text(st, 6),
		.what = column_text(st, 7),
		.old_value = column_text(st, 8),
		.new_value = column_text(st, 9),
		.has_reading = sqlite3_column_type(st, 10) != SQLITE_NULL,
		.reading = sqlite3_column_int64(st, 10),
		.detail = column_text(st, 11),
		.hash = sqlite3_column_bytes(st, 12) == RECORD_HASH_SIZE ?
			sqlite3_column_blob(st, 12) : NULL,
	};
}

/*
 * Step @st (bound), handing each audit row to @fn; with @pg, one page of
 * them and where the next starts (column 1 the time, 0 the seq).
 */
static int walk_events(struct record *r, sqlite3_stmt *st, struct record_page *pg,
		       int (*fn)(void *userdata, const struct record_event *ev), void *userdata)
{
	uint64_t deadline = pg && pg->budget_us ? mono_us() + pg->budget_us : 0;
	int rc = SQLITE_DONE, k = 0;
	size_t n = 0;

	while (k >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_event ev;

		if (pg && page_over(pg, n, deadline)) {
			pg->more = true;
			break;
		}
		event_from_row(st, &ev);
		k = fn(userdata, &ev);
		if (pg && k >= 0) {
			pg->next_time = ev.time_us;
			pg->next_seq = ev.seq;
		}
		n++;
	}
	sqlite3_finalize(st);
	if (k < 0)
		return k;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(r, "reading the audit trail");
}

int record_events(struct record *r, const char *serial, uint64_t since_us, uint64_t until_us,
		  struct record_page *pg, int (*fn)(void *userdata, const struct record_event *ev),
		  void *userdata)
{
	int64_t after = clamp64(pg->after_time), since = clamp64(since_us);
	sqlite3_stmt *st;

	pg->more = false;
	pg->next_time = pg->after_time;
	pg->next_seq = pg->after_seq;
	/* audit_by_unit: the unit's range of it, in its order. */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT " AUDIT_READ_COLUMNS " FROM audit WHERE serial = ?1 "
			       "AND time_us >= ?2 AND time_us < ?3 "
			       "AND (time_us > ?5 OR seq > ?6) ORDER BY time_us, seq LIMIT ?4",
			       -1, &st, NULL))
		return db_error(r, "reading the audit trail");
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since > after ? since : after);
	sqlite3_bind_int64(st, 3, clamp64(until_us));
	/* One more than the page: whether more remain. */
	sqlite3_bind_int64(st, 4, (sqlite3_int64)(pg->max >= INT64_MAX ? INT64_MAX : pg->max + 1));
	sqlite3_bind_int64(st, 5, after);
	sqlite3_bind_int64(st, 6, clamp64(pg->after_seq));
	return walk_events(r, st, pg, fn, userdata);
}

int record_events_after(struct record *r, uint64_t after_seq, size_t max_events,
			int (*fn)(void *userdata, const struct record_event *ev), void *userdata)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(r->db,
			       "SELECT " AUDIT_READ_COLUMNS " FROM audit WHERE seq > ?1 "
			       "ORDER BY seq LIMIT ?2", -1, &st, NULL))
		return db_error(r, "reading the audit trail");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(after_seq > INT64_MAX ? INT64_MAX : after_seq));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max_events);
	return walk_events(r, st, NULL, fn, userdata);
}

void record_rows_free(struct record_rows *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->serial[i]);
	free(b->serial);
	free(b->seq);
	free(b->probe);
	free(b->hash);
	free(b->samples_sha256);
	free(b->has_samples);
	free(b->has_lost);
	record_history_free(&b->h);
	memset(b, 0, sizeof(*b));
}

int record_rows_after(struct record *r, uint64_t after_seq, size_t max_rows,
		      struct record_rows *b)
{
	struct record_history *h = &b->h;
	sqlite3_stmt *st;
	int rc, k = 0;

	memset(b, 0, sizeof(*b));
	if (sqlite3_prepare_v2(r->db,
			       "SELECT start_us, end_us, n, min, mean, max, status, seq, serial, probe, "
			       "samples_sha256, hash, lost, lost_why FROM record WHERE seq > ?1 "
			       "ORDER BY seq LIMIT ?2", -1, &st, NULL))
		return db_error(r, "reading the record");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(after_seq > INT64_MAX ? INT64_MAX : after_seq));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max_rows);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t i = h->n;
		const char *serial = column_text(st, 8);

		if (h->n == h->cap) {
			size_t cap = h->cap ? 2 * h->cap : 256;
			void *p;

			k = history_grow(h);
			if (k < 0)
				break;
			k = -ENOMEM;
			if (!(p = realloc(b->seq, cap * sizeof(*b->seq))))
				break;
			b->seq = p;
			if (!(p = realloc(b->serial, cap * sizeof(*b->serial))))
				break;
			b->serial = p;
			if (!(p = realloc(b->probe, cap * sizeof(*b->probe))))
				break;
			b->probe = p;
			if (!(p = realloc(b->hash, cap * RECORD_HASH_SIZE)))
				break;
			b->hash = p;
			if (!(p = realloc(b->samples_sha256, cap * RECORD_HASH_SIZE)))
				break;
			b->samples_sha256 = p;
			if (!(p = realloc(b->has_samples, cap)))
				break;
			b->has_samples = p;
			if (!(p = realloc(b->has_lost, cap)))
				break;
			b->has_lost = p;
			k = 0;
		}
		history_row(st, 12, h, i);
		b->seq[i] = (uint64_t)sqlite3_column_int64(st, 7);
		b->probe[i] = (uint8_t)sqlite3_column_int64(st, 9);
		/* As stored: a hash or digest of another size is passed on as zeros. */
		b->has_samples[i] = sqlite3_column_type(st, 10) != SQLITE_NULL;
		copy_hash(st, 10, b->samples_sha256 + i * RECORD_HASH_SIZE);
		copy_hash(st, 11, b->hash + i * RECORD_HASH_SIZE);
		b->has_lost[i] = sqlite3_column_type(st, 12) != SQLITE_NULL ||
				 sqlite3_column_type(st, 13) != SQLITE_NULL;
		b->serial[i] = strdup(serial ? serial : "");
		if (!b->serial[i]) {
			k = -ENOMEM;
			break;
		}
		h->n++;
		b->n++;
	}
	sqlite3_finalize(st);
	if (k < 0 || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
		record_rows_free(b);
		return k < 0 ? k : db_error(r, "reading the record");
	}
	return 0;
}

int record_hash_at(struct record *r, bool audit, int64_t seq, uint8_t out[RECORD_HASH_SIZE])
{
	sqlite3_stmt *st;
	int rc;

	if (seq == 0 || (!audit && seq == r->base.seq)) {
		/* Where the chain starts: zeros, or the base after pruning. */
		if (seq == 0)
			memset(out, 0, RECORD_HASH_SIZE);
		else
			memcpy(out, r->base.hash, RECORD_HASH_SIZE);
		return 1;
	}
	if (sqlite3_prepare_v2(r->db, audit ? "SELECT hash FROM audit WHERE seq = ?" :
				      "SELECT hash FROM record WHERE seq = ?", -1, &st, NULL))
		return db_error(r, "reading the record");
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_hash(st, 0, out);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r, "reading the record");
	return rc == SQLITE_ROW;
}
