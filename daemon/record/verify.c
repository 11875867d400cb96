// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * verify.c - both chains walked from their base (or from a checkpoint) to
 * their head, and the first break named: a row changed, deleted, inserted
 * or moved. A walk goes in slices of bounded time, each one short read
 * transaction, so that the recorder can verify between readings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hexstr.h"
#include "record.h"
#include "record_internal.h"

/* Rows between two looks at the clock: ~20 us of hashing, a page or two to read. */
#define WALK_CLOCK_EVERY 16

/* Where one chain's walk stands: the last row found intact. */
struct chain_walk {
	const char *table;
	const char *cols;
	size_t ncols;
	bool has_samples;
	struct record_head pos;
	int64_t prev_time;
	int64_t rows;		/* walked by this walk */
};

struct record_walk {
	struct chain_walk aud, rec;
	char pruned[96];	/* the audit trail's last record-pruned value */
	bool from_checkpoint;	/* the checkpoint's rows are still to be checked */
	bool done;
	struct record_head base;	/* the record chain's start when the walk ended */
};

static void when(uint64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, size, "%" PRIu64 " us", us);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The record's rows of schema 1 are hashed without the lost columns. */
static size_t hashed_cols(const struct chain_walk *c, const struct col *vals)
{
	return c->has_samples ? record_hashed_cols(vals) : c->ncols;
}

/*
 * Walk @c on from its position towards @head until the rows run out (1) or
 * @deadline (CLOCK_MONOTONIC us, 0: none) passes (0); a break is named in
 * @v->message (2). Column 0 of each row is seq, column 1 its time, then
 * (after the hashed columns) for the record the samples and the hash.
 */
static int walk_chain(struct record *r, struct chain_walk *c, const struct record_head *head,
		      uint64_t deadline, struct record_verify *v, char *pruned, size_t pb_len)
{
	char sql[512], t[64];
	struct col vals[AUDIT_NCOLS > RECORD_NCOLS ? AUDIT_NCOLS : RECORD_NCOLS];
	uint8_t h[RECORD_HASH_SIZE];
	size_t ncols = c->ncols;
	int hash_col = (int)ncols + (c->has_samples ? 1 : 0);
	unsigned int n = 0;
	int result = 1;
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s%s%s, hash FROM %s WHERE seq > ? ORDER BY seq",
		 c->cols, c->has_samples ? (r->has_lost ? ", lost, lost_why" : ", NULL, NULL") : "",
		 c->has_samples ? ", samples" : "", c->table);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL))
		return db_error(r, "reading the record");
	sqlite3_bind_int64(st, 1, c->pos.seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		int64_t time = sqlite3_column_int64(st, 1);
		const void *stored = sqlite3_column_blob(st, hash_col);
		bool hash_ok;

		for (size_t k = 0; k < ncols; k++)
			vals[k] = col_of(st, (int)k);
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || seq != c->pos.seq + 1) {
			when((uint64_t)time, t, sizeof(t));
			if (seq > c->pos.seq + 1)
				snprintf(v->message, sizeof(v->message),
					 "%s row %" PRId64 " (%s): rows %" PRId64 "..%" PRId64
					 " before it are missing (deleted)",
					 c->table, seq, t, c->pos.seq + 1, seq - 1);
			else
				snprintf(v->message, sizeof(v->message),
					 "%s row %" PRId64 ": out of sequence (inserted or renumbered)",
					 c->table, seq);
			result = 2;
			break;
		}
		hash_row(c->table, c->pos.hash, vals, hashed_cols(c, vals), h);
		hash_ok = stored && sqlite3_column_bytes(st, hash_col) == RECORD_HASH_SIZE &&
			  !memcmp(stored, h, sizeof(h));
		if (!hash_ok) {
			/*
			 * Changed in place if the next row still chains from
			 * this row's stored hash; else it is not the row the
			 * chain had here.
			 */
			const char *why = "does not belong here in the chain (inserted or reordered)";
			uint8_t stored_copy[RECORD_HASH_SIZE];

			if (time < c->prev_time) {
				why = "is older than the row before it (reordered)";
			} else if (seq > head->seq) {
				why = "comes after the last row the recorder wrote (inserted)";
			} else if (stored && sqlite3_column_bytes(st, hash_col) == RECORD_HASH_SIZE) {
				memcpy(stored_copy, stored, sizeof(stored_copy));
				rc = sqlite3_step(st);
				if (rc == SQLITE_ROW) {
					uint8_t h2[RECORD_HASH_SIZE];
					const void *s2 = sqlite3_column_blob(st, hash_col);

					for (size_t k = 0; k < ncols; k++)
						vals[k] = col_of(st, (int)k);
					hash_row(c->table, stored_copy, vals, hashed_cols(c, vals),
						 h2);
					if (s2 && sqlite3_column_bytes(st, hash_col) == RECORD_HASH_SIZE &&
					    !memcmp(s2, h2, sizeof(h2)))
						why = "was changed (its content no longer matches its hash)";
				} else if (rc == SQLITE_DONE) {
					why = "was changed (its content no longer matches its hash)";
				}
			}
			when((uint64_t)time, t, sizeof(t));
			snprintf(v->message, sizeof(v->message), "%s row %" PRId64 " (%s) %s",
				 c->table, seq, t, why);
			result = 2;
			break;
		}
		if (c->has_samples && sqlite3_column_type(st, (int)ncols) != SQLITE_NULL) {
			uint8_t d[RECORD_HASH_SIZE];

			sha256_of(sqlite3_column_blob(st, (int)ncols),
				  (size_t)sqlite3_column_bytes(st, (int)ncols), d);
			if (vals[RECORD_SHA_COL].type != 'B' || vals[RECORD_SHA_COL].len != sizeof(d) ||
			    memcmp(vals[RECORD_SHA_COL].p, d, sizeof(d))) {
				when((uint64_t)time, t, sizeof(t));
				snprintf(v->message, sizeof(v->message),
					 "%s row %" PRId64 " (%s): its raw samples were changed",
					 c->table, seq, t);
				result = 2;
				break;
			}
		}
		/* The audit trail's last word on where the record starts. */
		if (pruned && vals[2].type == 'T' && vals[2].len == strlen("record-pruned") &&
		    !memcmp(vals[2].p, "record-pruned", vals[2].len) && vals[9].type == 'T')
			snprintf(pruned, pb_len, "%.*s", (int)vals[9].len, (const char *)vals[9].p);
		c->pos.seq = seq;
		memcpy(c->pos.hash, h, sizeof(h));
		c->prev_time = time;
		c->rows++;
		if (deadline && ++n % WALK_CLOCK_EVERY == 0 && mono_us() >= deadline) {
			result = 0;
			break;
		}
	}
	if (result == 1 && rc != SQLITE_DONE) {
		snprintf(v->message, sizeof(v->message), "the %s table cannot be read: %s",
			 c->table, sqlite3_errmsg(r->db));
		result = 2;
	}
	sqlite3_finalize(st);
	if (result != 1)
		return result;
	if (c->pos.seq != head->seq || memcmp(c->pos.hash, head->hash, sizeof(h))) {
		if (c->pos.seq < head->seq)
			snprintf(v->message, sizeof(v->message),
				 "%s: rows %" PRId64 "..%" PRId64 " at the end are missing (deleted)",
				 c->table, c->pos.seq + 1, head->seq);
		else
			snprintf(v->message, sizeof(v->message),
				 "%s: the chain ends at row %" PRId64
				 ", not at the head the recorder last wrote (%" PRId64 ")",
				 c->table, c->pos.seq, head->seq);
		return 2;
	}
	return 1;
}

/*
 * A walk that starts at a checkpoint first checks that the rows it starts
 * from are still the ones verified: a row rewritten at or before the
 * checkpoint since is found here only if the rewrite reached that row; the
 * full walk finds the rest (RECORD.md).
 */
static int check_start(struct record *r, struct chain_walk *c, const struct record_head *base,
		       struct record_verify *v)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc, result = 1;

	if (c->pos.seq <= base->seq)
		return 1;
	snprintf(sql, sizeof(sql), "SELECT hash, %s FROM %s WHERE seq = ?",
		 c->has_samples ? "start_us" : "time_us", c->table);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL))
		return db_error(r, "reading the record");
	sqlite3_bind_int64(st, 1, c->pos.seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == RECORD_HASH_SIZE &&
	    !memcmp(sqlite3_column_blob(st, 0), c->pos.hash, RECORD_HASH_SIZE)) {
		c->prev_time = sqlite3_column_int64(st, 1);
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		snprintf(v->message, sizeof(v->message),
			 "%s row %" PRId64 " is %s since it was verified", c->table, c->pos.seq,
			 rc == SQLITE_ROW ? "not the row it was (rewritten)" : "missing (deleted)");
		result = 2;
	} else {
		result = db_error(r, "reading the record");
	}
	sqlite3_finalize(st);
	return result;
}

int record_walk_new(const struct record_checkpoint *from, struct record_walk **ret)
{
	struct record_walk *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->aud = (struct chain_walk){ .table = "audit", .cols = AUDIT_COLUMNS,
				      .ncols = AUDIT_NCOLS, .prev_time = INT64_MIN };
	w->rec = (struct chain_walk){ .table = "record", .cols = RECORD_COLUMNS_V1,
				      .ncols = RECORD_NCOLS, .has_samples = true,
				      .prev_time = INT64_MIN };
	if (from && (from->record.seq || from->audit.seq)) {
		w->aud.pos = from->audit;
		w->rec.pos = from->record;
		snprintf(w->pruned, sizeof(w->pruned), "%s", from->pruned);
		w->from_checkpoint = true;
	}
	*ret = w;
	return 0;
}

void record_walk_free(struct record_walk *w)
{
	free(w);
}

void record_walk_position(const struct record_walk *w, struct record_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->record = w->rec.pos;
	cp->audit = w->aud.pos;
	snprintf(cp->pruned, sizeof(cp->pruned), "%s", w->pruned);
}

/* One slice in its own read transaction: 0 more to do, 1 reached the heads, 2 a break. */
static int walk_slice(struct record *r, struct record_walk *w, uint64_t deadline,
		      struct record_verify *v)
{
	struct record_head rec_head, aud_head;
	char hx[HEXSTR_SIZE(RECORD_HASH_SIZE)], expect[96] = "";
	int k;

	/* The heads as they are now, not as this connection first saw them. */
	k = load_head(r, "record_head", &rec_head);
	if (!k)
		k = load_head(r, "audit_head", &aud_head);
	if (!k)
		k = load_head(r, "record_base", &w->base);
	if (k)
		return k;
	if (w->from_checkpoint) {
		k = check_start(r, &w->aud, &(struct record_head){ 0 }, v);
		if (k == 1)
			k = check_start(r, &w->rec, &w->base, v);
		if (k != 1)
			return k;
		w->from_checkpoint = false;
	}
	/* The audit trail first: it says where the record may start. */
	k = walk_chain(r, &w->aud, &aud_head, deadline, v, w->pruned, sizeof(w->pruned));
	if (k != 1)
		return k;
	if (w->base.seq) {
		hexstr_encode(w->base.hash, RECORD_HASH_SIZE, hx);
		snprintf(expect, sizeof(expect), "%" PRId64 ":%s", w->base.seq, hx);
	}
	if (strcmp(w->pruned, expect)) {
		snprintf(v->message, sizeof(v->message),
			 "record: it starts after row %" PRId64
			 " but the audit trail's last pruning says %s (rows deleted at the start)",
			 w->base.seq, w->pruned[0] ? w->pruned : "none was pruned");
		return 2;
	}
	/* Rows not walked yet and pruned since: the chain goes on from the base. */
	if (w->rec.pos.seq < w->base.seq) {
		w->rec.pos = w->base;
		w->rec.prev_time = INT64_MIN;
	}
	return walk_chain(r, &w->rec, &rec_head, deadline, v, NULL, 0);
}

int record_walk_step(struct record *r, struct record_walk *w, uint64_t budget_us,
		     struct record_verify *v)
{
	uint64_t deadline = budget_us ? mono_us() + budget_us : 0;
	int k;

	if (w->done || r->in_group)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	k = db_exec(r, "BEGIN", "reading the record");
	if (k) {
		k = 2;
		goto unreadable;
	}
	k = walk_slice(r, w, deadline, v);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (k < 0 && k != -ENOMEM)
		goto unreadable;
	if (k < 0)
		return k;
	/* How far the chains are known intact, whichever walk got them there. */
	v->record_rows = w->rec.pos.seq > w->base.seq ? w->rec.pos.seq - w->base.seq : 0;
	v->audit_rows = w->aud.pos.seq;
	if (k == 0)
		return 0;
	w->done = true;
	v->intact = k == 1;
	if (v->intact)
		snprintf(v->message, sizeof(v->message),
			 "intact: %" PRId64 " record rows (after row %" PRId64 "), %" PRId64
			 " audit rows", v->record_rows, w->base.seq, v->audit_rows);
	return 1;
unreadable:
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	w->done = true;
	v->intact = false;
	snprintf(v->message, sizeof(v->message), "the database cannot be read: %.400s", r->error);
	return 1;
}

int record_verify(struct record *r, struct record_verify *v)
{
	struct record_walk *w;
	int k;

	k = record_walk_new(NULL, &w);
	if (k < 0)
		return k;
	k = record_walk_step(r, w, 0, v);
	record_walk_free(w);
	return k < 0 ? k : 0;
}
