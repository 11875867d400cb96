// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * read.c - the record read back: where it ends, one unit's history and
 * audit entries, and what was written after a seq for a follower.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_internal.h"

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

void record_history_free(struct record_history *h)
{
	free(h->start_us);
	free(h->end_us);
	free(h->count);
	free(h->min);
	free(h->mean);
	free(h->max);
	free(h->status);
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
#undef GROW
	h->cap = cap;
	return 0;
}

static const char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : NULL;
}

static void copy_hash(sqlite3_stmt *st, int i, uint8_t *out)
{
	if (sqlite3_column_bytes(st, i) == RECORD_HASH_SIZE)
		memcpy(out, sqlite3_column_blob(st, i), RECORD_HASH_SIZE);
	else
		memset(out, 0, RECORD_HASH_SIZE);
}

/* Columns 0..6: start_us, end_us, n, min, mean, max, status. */
static void history_row(sqlite3_stmt *st, struct record_history *h, size_t i)
{
	h->start_us[i] = (uint64_t)sqlite3_column_int64(st, 0);
	h->end_us[i] = (uint64_t)sqlite3_column_int64(st, 1);
	h->count[i] = (uint32_t)sqlite3_column_int64(st, 2);
	h->min[i] = (int32_t)sqlite3_column_int64(st, 3);
	h->mean[i] = (int32_t)sqlite3_column_int64(st, 4);
	h->max[i] = (int32_t)sqlite3_column_int64(st, 5);
	h->status[i] = (uint8_t)sqlite3_column_int64(st, 6);
}

int record_history(struct record *r, const char *serial, unsigned int probe, uint64_t since_us,
		   uint64_t until_us, size_t max_rows, struct record_history *h)
{
	sqlite3_stmt *st;
	int rc, k = 0;

	memset(h, 0, sizeof(*h));
	/* The host's rows (serial '') are gaps of every unit. */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT start_us, end_us, n, min, mean, max, status FROM record "
			       "WHERE ((serial = ?1 AND probe = ?2) OR serial = '') "
			       "AND start_us < ?4 AND end_us > ?3 "
			       "ORDER BY start_us, seq LIMIT ?5", -1, &st, NULL))
		return db_error(r, "reading the history");
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, probe);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since_us);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)(until_us > INT64_MAX ? INT64_MAX : until_us));
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max_rows);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t i = h->n;

		if (h->n == h->cap && (k = history_grow(h)) < 0)
			break;
		history_row(st, h, i);
		h->n++;
	}
	sqlite3_finalize(st);
	if (k < 0 || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
		record_history_free(h);
		return k < 0 ? k : db_error(r, "reading the history");
	}
	return 0;
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

/* Step @st (bound), handing each audit row to @fn. */
static int walk_events(struct record *r, sqlite3_stmt *st,
		       int (*fn)(void *userdata, const struct record_event *ev), void *userdata)
{
	int rc = SQLITE_DONE, k = 0;

	while (k >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_event ev;

		event_from_row(st, &ev);
		k = fn(userdata, &ev);
	}
	sqlite3_finalize(st);
	if (k < 0)
		return k;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(r, "reading the audit trail");
}

int record_events(struct record *r, const char *serial, uint64_t since_us, uint64_t until_us,
		  size_t max_events, int (*fn)(void *userdata, const struct record_event *ev),
		  void *userdata)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(r->db,
			       "SELECT " AUDIT_READ_COLUMNS " FROM audit WHERE serial = ?1 "
			       "AND time_us >= ?2 AND time_us < ?3 ORDER BY seq LIMIT ?4",
			       -1, &st, NULL))
		return db_error(r, "reading the audit trail");
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since_us);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(until_us > INT64_MAX ? INT64_MAX : until_us));
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max_events);
	return walk_events(r, st, fn, userdata);
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
	return walk_events(r, st, fn, userdata);
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
			       "samples_sha256, hash FROM record WHERE seq > ?1 ORDER BY seq LIMIT ?2", -1, &st, NULL))
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
			k = 0;
		}
		history_row(st, h, i);
		b->seq[i] = (uint64_t)sqlite3_column_int64(st, 7);
		b->probe[i] = (uint8_t)sqlite3_column_int64(st, 9);
		/* As stored: a hash or digest of another size is passed on as zeros. */
		b->has_samples[i] = sqlite3_column_type(st, 10) != SQLITE_NULL;
		copy_hash(st, 10, b->samples_sha256 + i * RECORD_HASH_SIZE);
		copy_hash(st, 11, b->hash + i * RECORD_HASH_SIZE);
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
