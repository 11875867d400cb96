// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * write.c - rows and audit entries appended to their chains a group at a
 * time: one transaction that also moves the heads, or none of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "record.h"
#include "record_internal.h"

int record_begin(struct record *r)
{
	int k;

	if (!r->writer || r->in_group)
		return -EINVAL;
	k = db_exec(r, "BEGIN IMMEDIATE", "starting a write");
	if (k)
		return k;
	r->in_group = true;
	r->rec.pending = r->rec.head;
	r->aud.pending = r->aud.head;
	return 0;
}

/* Hash @cols onto @c's pending head, bind them and the hash, insert. */
static int append(struct record *r, struct chain *c, sqlite3_stmt *st,
		  struct col *cols, size_t n, const struct col *extra, size_t n_extra)
{
	size_t hashed = c == &r->rec ? record_hashed_cols(cols) : n;
	uint8_t hash[RECORD_HASH_SIZE];
	struct col hcol;
	int rc;

	if (!r->in_group)
		return -EINVAL;
	cols[0] = col_int(c->pending.seq + 1);
	hash_row(c->table, c->pending.hash, cols, hashed, hash);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	rc = bind_cols(st, 1, cols, n);
	/* Unhashed columns (the raw samples), then the hash. */
	if (rc == SQLITE_OK)
		rc = bind_cols(st, (int)n + 1, extra, n_extra);
	hcol = col_blob(hash, sizeof(hash));
	if (rc == SQLITE_OK)
		rc = bind_cols(st, (int)(n + n_extra) + 1, &hcol, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_error(r, c == &r->rec ? "writing the record" : "writing the audit trail");
	c->pending.seq++;
	memcpy(c->pending.hash, hash, sizeof(hash));
	return 0;
}

int record_add_row(struct record *r, const struct record_row *row)
{
	uint8_t digest[RECORD_HASH_SIZE];
	struct col cols[RECORD_NCOLS], extra[1];
	bool has = row->n > 0;

	if (row->end_us < row->start_us || row->start_us > INT64_MAX ||
	    row->end_us > INT64_MAX || !row->serial || row->probe > 2 ||
	    row->status >= RECORD_STATUS_COUNT || (row->lost_why & ~RECORD_LOST_KNOWN) ||
	    (row->serial[0] && row->end_us - row->start_us > RECORD_ROW_MAX_US))
		return -EINVAL;
	if (row->samples)
		sha256_of(row->samples, row->samples_len, digest);
	cols[1] = col_int((int64_t)row->start_us);
	cols[2] = col_int((int64_t)row->end_us);
	cols[3] = col_text(row->serial);
	cols[4] = col_int(row->probe);
	cols[5] = col_int(row->n);
	cols[6] = has ? col_int(row->min) : col_text(NULL);
	cols[7] = has ? col_int(row->mean) : col_text(NULL);
	cols[8] = has ? col_int(row->max) : col_text(NULL);
	cols[9] = col_int(row->status);
	cols[10] = row->samples ? col_blob(digest, sizeof(digest)) : col_blob(NULL, 0);
	cols[11] = col_int(row->lost);
	cols[12] = col_int(row->lost_why);
	extra[0] = col_blob(row->samples, row->samples_len);
	return append(r, &r->rec, r->insert_row, cols, RECORD_NCOLS, extra, 1);
}

int record_add_event(struct record *r, const struct record_event *ev)
{
	struct col cols[AUDIT_NCOLS];

	if (!ev->event || !*ev->event || ev->time_us > INT64_MAX)
		return -EINVAL;
	cols[1] = col_int((int64_t)ev->time_us);
	cols[2] = col_text(ev->event);
	cols[3] = col_text(ev->serial ? ev->serial : "");
	cols[4] = col_int(ev->probe);
	cols[5] = ev->has_uid ? col_int(ev->uid) : col_text(NULL);
	cols[6] = col_text(ev->user);
	cols[7] = col_text(ev->what);
	cols[8] = col_text(ev->old_value);
	cols[9] = col_text(ev->new_value);
	cols[10] = ev->has_reading ? col_int(ev->reading) : col_text(NULL);
	cols[11] = col_text(ev->detail);
	return append(r, &r->aud, r->insert_event, cols, AUDIT_NCOLS, NULL, 0);
}

int record_commit(struct record *r)
{
	int k;

	if (!r->in_group)
		return -EINVAL;
	k = store_head(r, "record_head", &r->rec.pending);
	if (!k)
		k = store_head(r, "audit_head", &r->aud.pending);
	/* The verifier's checkpoint rides along: no commit (no fsync) of its own. */
	if (!k && r->cp_pending)
		k = checkpoint_write(r, &r->cp);
	if (!k)
		k = db_exec(r, "COMMIT", "committing");
	if (k)
		return k;
	r->cp_pending = false;
	r->in_group = false;
	r->rec.head = r->rec.pending;
	r->aud.head = r->aud.pending;
	return 0;
}

void record_rollback(struct record *r)
{
	if (!r->in_group)
		return;
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	r->in_group = false;
	r->rec.pending = r->rec.head;
	r->aud.pending = r->aud.head;
}
