// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * prune.c - retention: raw samples and then whole rows dropped from the
 * start of the record in batches; the chain's new base kept and written
 * to the audit trail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hexstr.h"
#include "record.h"
#include "record_internal.h"

/*
 * The last seq after @from, within @batch rows, of the leading run of rows
 * that started before @before (rows are appended in time order), or @from.
 */
static int prune_limit(struct record *r, int64_t from, uint64_t before,
		       unsigned int batch, int64_t *to, bool *more)
{
	sqlite3_stmt *st;
	int rc;

	*to = from;
	*more = false;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT seq, start_us FROM record WHERE seq > ? ORDER BY seq LIMIT ?",
			       -1, &st, NULL))
		return db_error(r, "pruning");
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, (int64_t)batch + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 1) >= before)
			break;
		if (*to - from == (int64_t)batch) {
			*more = true;
			break;
		}
		*to = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(r, "pruning");
}

int record_prune(struct record *r, uint64_t raw_before_us, uint64_t rows_before_us,
		 unsigned int batch, bool *more)
{
	int64_t raw_to, rows_to;
	bool raw_more, rows_more;
	sqlite3_stmt *st = NULL;
	struct record_head base = r->base;
	int k;

	*more = false;
	if (!r->writer || r->in_group || !batch)
		return -EINVAL;
	k = prune_limit(r, r->raw_pruned > r->base.seq ? r->raw_pruned : r->base.seq,
			raw_before_us, batch, &raw_to, &raw_more);
	if (!k)
		k = prune_limit(r, r->base.seq, rows_before_us, batch, &rows_to, &rows_more);
	if (k)
		return k;
	if (raw_to <= r->raw_pruned && rows_to <= r->base.seq)
		return 0;

	k = record_begin(r);
	if (k)
		return k;
	if (raw_to > r->raw_pruned) {
		if (sqlite3_prepare_v2(r->db, "UPDATE record SET samples = NULL "
				       "WHERE seq > ? AND seq <= ?", -1, &st, NULL) ||
		    sqlite3_bind_int64(st, 1, r->raw_pruned) ||
		    sqlite3_bind_int64(st, 2, raw_to) || sqlite3_step(st) != SQLITE_DONE) {
			k = db_error(r, "pruning raw samples");
			goto fail;
		}
		sqlite3_finalize(st);
		st = NULL;
		struct col c = col_int(raw_to);

		k = meta_set(r, "raw_pruned", &c);
		if (k)
			goto fail;
	}
	if (rows_to > r->base.seq) {
		char hx[HEXSTR_SIZE(RECORD_HASH_SIZE)], range[64], value[96];
		struct record_event ev = { .event = "record-pruned" };
		struct timespec ts;

		/* The new base: the hash of the last row dropped. */
		if (sqlite3_prepare_v2(r->db, "SELECT hash FROM record WHERE seq = ?", -1, &st, NULL) ||
		    sqlite3_bind_int64(st, 1, rows_to) || sqlite3_step(st) != SQLITE_ROW ||
		    sqlite3_column_bytes(st, 0) != RECORD_HASH_SIZE) {
			k = db_error(r, "pruning");
			goto fail;
		}
		base.seq = rows_to;
		memcpy(base.hash, sqlite3_column_blob(st, 0), RECORD_HASH_SIZE);
		sqlite3_finalize(st);
		if (sqlite3_prepare_v2(r->db, "DELETE FROM record WHERE seq > ? AND seq <= ?",
				       -1, &st, NULL) ||
		    sqlite3_bind_int64(st, 1, r->base.seq) || sqlite3_bind_int64(st, 2, rows_to) ||
		    sqlite3_step(st) != SQLITE_DONE) {
			k = db_error(r, "pruning rows");
			goto fail;
		}
		sqlite3_finalize(st);
		st = NULL;
		k = store_head(r, "record_base", &base);
		if (k)
			goto fail;
		/* The audit trail says where the record now starts: verify checks it. */
		hexstr_encode(base.hash, RECORD_HASH_SIZE, hx);
		snprintf(range, sizeof(range), "rows %" PRId64 "..%" PRId64, r->base.seq + 1, rows_to);
		snprintf(value, sizeof(value), "%" PRId64 ":%s", base.seq, hx);
		clock_gettime(CLOCK_REALTIME, &ts);
		ev.time_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		ev.what = "record_base";
		ev.new_value = value;
		ev.detail = range;
		k = record_add_event(r, &ev);
		if (k)
			goto fail;
	}
	k = record_commit(r);
	if (k)
		goto fail;
	if (raw_to > r->raw_pruned)
		r->raw_pruned = raw_to;
	r->base = base;
	*more = raw_more || rows_more;
	return 0;
fail:
	sqlite3_finalize(st);
	record_rollback(r);
	return k;
}
