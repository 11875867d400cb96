// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * verify.c - both chains walked from their base to their head, and the
 * first break named: a row changed, deleted, inserted or moved.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hexstr.h"
#include "record.h"
#include "record_internal.h"

static void when(uint64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, size, "%" PRIu64 " us", us);
}

/*
 * Walk one chain from @base. Column 0 of each row is seq, column @time_col
 * its time, then (after the hashed columns) for the record the samples and
 * the hash.
 */
static int verify_chain(struct record *r, struct chain *c, const char *cols, size_t ncols,
			const struct record_head *base, int time_col, bool has_samples,
			struct record_verify *v, int64_t *rows, char *pruned_base, size_t pb_len)
{
	char sql[512], t[64];
	struct col vals[AUDIT_NCOLS > RECORD_NCOLS ? AUDIT_NCOLS : RECORD_NCOLS];
	uint8_t prev[RECORD_HASH_SIZE], h[RECORD_HASH_SIZE];
	int64_t expect = base->seq + 1, prev_time = INT64_MIN;
	int hash_col = (int)ncols + (has_samples ? 1 : 0);
	bool broken = false;
	sqlite3_stmt *st;
	int rc;

	memcpy(prev, base->hash, sizeof(prev));
	snprintf(sql, sizeof(sql), "SELECT %s%s, hash FROM %s ORDER BY seq", cols,
		 has_samples ? ", samples" : "", c->table);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL))
		return db_error(r, "reading the record");
	*rows = 0;
	while (!broken && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		int64_t time = sqlite3_column_int64(st, time_col);
		const void *stored = sqlite3_column_blob(st, hash_col);
		bool hash_ok;

		for (size_t k = 0; k < ncols; k++)
			vals[k] = col_of(st, (int)k);
		when((uint64_t)time, t, sizeof(t));
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || seq != expect) {
			if (seq > expect)
				snprintf(v->message, sizeof(v->message),
					 "%s row %" PRId64 " (%s): rows %" PRId64 "..%" PRId64
					 " before it are missing (deleted)",
					 c->table, seq, t, expect, seq - 1);
			else
				snprintf(v->message, sizeof(v->message),
					 "%s row %" PRId64 ": out of sequence (inserted or renumbered)",
					 c->table, seq);
			broken = true;
			break;
		}
		hash_row(c->table, prev, vals, ncols, h);
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

			if (time < prev_time) {
				why = "is older than the row before it (reordered)";
			} else if (seq > c->head.seq) {
				why = "comes after the last row the recorder wrote (inserted)";
			} else if (stored && sqlite3_column_bytes(st, hash_col) == RECORD_HASH_SIZE) {
				memcpy(stored_copy, stored, sizeof(stored_copy));
				rc = sqlite3_step(st);
				if (rc == SQLITE_ROW) {
					uint8_t h2[RECORD_HASH_SIZE];
					const void *s2 = sqlite3_column_blob(st, hash_col);

					for (size_t k = 0; k < ncols; k++)
						vals[k] = col_of(st, (int)k);
					hash_row(c->table, stored_copy, vals, ncols, h2);
					if (s2 && sqlite3_column_bytes(st, hash_col) == RECORD_HASH_SIZE &&
					    !memcmp(s2, h2, sizeof(h2)))
						why = "was changed (its content no longer matches its hash)";
				} else if (rc == SQLITE_DONE) {
					why = "was changed (its content no longer matches its hash)";
				}
			}
			snprintf(v->message, sizeof(v->message), "%s row %" PRId64 " (%s) %s",
				 c->table, seq, t, why);
			broken = true;
			break;
		}
		if (has_samples && sqlite3_column_type(st, (int)ncols) != SQLITE_NULL) {
			uint8_t d[RECORD_HASH_SIZE];

			sha256_of(sqlite3_column_blob(st, (int)ncols),
				  (size_t)sqlite3_column_bytes(st, (int)ncols), d);
			if (vals[ncols - 1].type != 'B' || vals[ncols - 1].len != sizeof(d) ||
			    memcmp(vals[ncols - 1].p, d, sizeof(d))) {
				snprintf(v->message, sizeof(v->message),
					 "%s row %" PRId64 " (%s): its raw samples were changed",
					 c->table, seq, t);
				broken = true;
				break;
			}
		}
		/* The audit trail's last word on where the record starts. */
		if (pruned_base && vals[2].type == 'T' && vals[2].len == strlen("record-pruned") &&
		    !memcmp(vals[2].p, "record-pruned", vals[2].len) && vals[9].type == 'T')
			snprintf(pruned_base, pb_len, "%.*s", (int)vals[9].len, (const char *)vals[9].p);
		memcpy(prev, h, sizeof(prev));
		prev_time = time;
		expect++;
		(*rows)++;
	}
	if (!broken && rc != SQLITE_DONE) {
		snprintf(v->message, sizeof(v->message), "the %s table cannot be read: %s",
			 c->table, sqlite3_errmsg(r->db));
		broken = true;
	}
	sqlite3_finalize(st);
	if (broken)
		return 1;
	if (expect - 1 != c->head.seq || memcmp(prev, c->head.hash, sizeof(prev))) {
		if (expect - 1 < c->head.seq)
			snprintf(v->message, sizeof(v->message),
				 "%s: rows %" PRId64 "..%" PRId64 " at the end are missing (deleted)",
				 c->table, expect, c->head.seq);
		else
			snprintf(v->message, sizeof(v->message),
				 "%s: the chain ends at row %" PRId64
				 ", not at the head the recorder last wrote (%" PRId64 ")",
				 c->table, expect - 1, c->head.seq);
		return 1;
	}
	return 0;
}

int record_verify(struct record *r, struct record_verify *v)
{
	static const struct record_head zero;
	char pruned[96] = "", expect[96] = "", hx[HEXSTR_SIZE(RECORD_HASH_SIZE)];
	int k;

	memset(v, 0, sizeof(*v));
	/* The heads as they are now, not as this connection first saw them. */
	k = db_exec(r, "BEGIN", "reading the record");
	if (k)
		goto unreadable;
	k = load_head(r, "record_head", &r->rec.head);
	if (!k)
		k = load_head(r, "audit_head", &r->aud.head);
	if (!k)
		k = load_head(r, "record_base", &r->base);
	if (k)
		goto unreadable;
	k = verify_chain(r, &r->aud, AUDIT_COLUMNS, AUDIT_NCOLS, &zero, 1, false, v,
			 &v->audit_rows, pruned, sizeof(pruned));
	if (k == 0) {
		/* The base must be the one the last prune wrote in the audit trail. */
		if (r->base.seq) {
			hexstr_encode(r->base.hash, RECORD_HASH_SIZE, hx);
			snprintf(expect, sizeof(expect), "%" PRId64 ":%s", r->base.seq, hx);
		}
		if (strcmp(pruned, expect)) {
			snprintf(v->message, sizeof(v->message),
				 "record: it starts after row %" PRId64
				 " but the audit trail's last pruning says %s (rows deleted at the start)",
				 r->base.seq, pruned[0] ? pruned : "none was pruned");
			k = 1;
		}
	}
	if (k == 0)
		k = verify_chain(r, &r->rec, RECORD_COLUMNS, RECORD_NCOLS, &r->base, 1, true, v,
				 &v->record_rows, NULL, 0);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (k < 0)
		return k;
	v->intact = k == 0;
	if (v->intact)
		snprintf(v->message, sizeof(v->message),
			 "intact: %" PRId64 " record rows (after row %" PRId64 "), %" PRId64
			 " audit rows", v->record_rows, r->base.seq, v->audit_rows);
	return 0;
unreadable:
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	v->intact = false;
	snprintf(v->message, sizeof(v->message), "the database cannot be read: %.400s", r->error);
	return 0;
}
