// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The record's hash chains: written and read back intact, and every kind
 * of edit behind the product's back (a changed value, a deleted, inserted
 * or moved row, rows dropped at either end, changed raw samples, a
 * truncated file) found and named by record_verify(); the same walk in
 * slices and from a checkpoint; one unit's history read back by index
 * exactly as the query without indexes read it; a row's lost samples in
 * its hash, and a record of schema 1 read and upgraded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "record.h"
#include "record_internal.h"

#define T0 1764633600000000ULL		/* 2025-12-02 00:00:00 UTC */
#define MINUTE 60000000ULL

struct fixture {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_record.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/record.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* @minutes intervals of 2 units x 2 probes, and an event per interval. */
static void write_intervals(const char *path, uint64_t from, int minutes)
{
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	static const char *const serials[] = { "SIM-000000", "SIM-000001" };

	assert_int_equal(record_open(path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	for (int m = 0; m < minutes; m++) {
		uint64_t start = from + (uint64_t)m * MINUTE;

		assert_int_equal(record_begin(r), 0);
		for (int u = 0; u < 2; u++)
			for (unsigned int p = 1; p <= 2; p++) {
				int32_t samples[4] = { -18000 - m, -18100, -17900, u };
				struct record_row row = {
					.start_us = start, .end_us = start + MINUTE,
					.serial = serials[u], .probe = p, .n = 60,
					.min = -18100 - m, .mean = -18000 - m, .max = -17900 - m,
					.samples = samples, .samples_len = sizeof(samples),
				};

				assert_int_equal(record_add_row(r, &row), 0);
			}
		struct record_event ev = {
			.time_us = start + 1000, .event = "setting-changed",
			.serial = serials[m % 2], .has_uid = true, .uid = 1000,
			.user = "operator", .what = "label", .old_value = "a", .new_value = "b",
		};
		assert_int_equal(record_add_event(r, &ev), 0);
		assert_int_equal(record_commit(r), 0);
	}
	record_close(r);
}

static void verify_path(const char *path, struct record_verify *v)
{
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];

	if (record_open(path, RECORD_READ, &r, err, sizeof(err)) < 0) {
		/* What coldroomctl does with a file that is not a record. */
		v->intact = false;
		snprintf(v->message, sizeof(v->message), "%s", err);
		return;
	}
	assert_int_equal(record_verify(r, v), 0);
	record_close(r);
}

/* Edit the file behind the recorder's back. */
static void tamper(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static void expect_broken(const char *path, const char *needle)
{
	struct record_verify v;

	verify_path(path, &v);
	if (v.intact || !strstr(v.message, needle))
		fail_msg("verify says '%s', expected a break with '%s'", v.message, needle);
}

static void test_intact(void **state)
{
	struct fixture *f = *state;
	struct record_verify v;
	struct record *r = NULL;
	struct record_head rec, aud;
	char err[RECORD_MESSAGE_MAX];
	uint64_t end;

	write_intervals(f->path, T0, 5);
	write_intervals(f->path, T0 + 5 * MINUTE, 3);	/* reopened: the chain goes on */
	verify_path(f->path, &v);
	assert_true(v.intact);
	assert_int_equal(v.record_rows, 32);
	assert_int_equal(v.audit_rows, 8);
	assert_non_null(strstr(v.message, "intact"));

	assert_int_equal(record_open(f->path, RECORD_READ, &r, err, sizeof(err)), 0);
	record_heads(r, &rec, &aud);
	assert_int_equal(rec.seq, 32);
	assert_int_equal(aud.seq, 8);
	assert_int_equal(record_last_end(r, &end), 0);
	assert_int_equal(end, T0 + 8 * MINUTE);
	record_close(r);
}

static void test_rollback_and_bad_rows(void **state)
{
	struct fixture *f = *state;
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	struct record_verify v;
	struct record_head rec;
	struct record_row row = { .start_us = T0, .end_us = T0 + MINUTE, .serial = "X", .probe = 1 };

	write_intervals(f->path, T0, 2);
	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	assert_int_equal(record_begin(r), 0);
	assert_int_equal(record_add_row(r, &row), 0);
	record_rollback(r);
	record_heads(r, &rec, NULL);
	assert_int_equal(rec.seq, 8);
	/* Refused, and nothing written. */
	row.probe = 3;
	assert_int_equal(record_begin(r), 0);
	assert_int_equal(record_add_row(r, &row), -EINVAL);
	row.probe = 1;
	row.end_us = T0 - 1;
	assert_int_equal(record_add_row(r, &row), -EINVAL);
	row.end_us = T0 + MINUTE;
	row.status = RECORD_STATUS_COUNT;
	assert_int_equal(record_add_row(r, &row), -EINVAL);
	assert_int_equal(record_commit(r), 0);
	/* Outside a group. */
	row.status = RECORD_OK;
	assert_int_equal(record_add_row(r, &row), -EINVAL);
	record_close(r);
	verify_path(f->path, &v);
	assert_true(v.intact);
	assert_int_equal(v.record_rows, 8);
}

static void test_one_writer(void **state)
{
	struct fixture *f = *state;
	struct record *a = NULL, *b = NULL;
	char err[RECORD_MESSAGE_MAX];

	assert_int_equal(record_open(f->path, RECORD_WRITE, &a, err, sizeof(err)), 0);
	assert_int_equal(record_open(f->path, RECORD_WRITE, &b, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "another recorder"));
	record_close(a);
}

static void test_changed_value(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 4);
	tamper(f->path, "UPDATE record SET max = -20000 WHERE seq = 6");
	expect_broken(f->path, "record row 6 ");
	expect_broken(f->path, "was changed");
}

static void test_changed_audit(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 4);
	tamper(f->path, "UPDATE audit SET user = 'someone' WHERE seq = 2");
	expect_broken(f->path, "audit row 2 ");
}

static void test_null_and_real(void **state)
{
	struct fixture *f = *state;

	/* A value blanked out, or given a fraction, is not what was written. */
	write_intervals(f->path, T0, 2);
	tamper(f->path, "UPDATE record SET min = NULL WHERE seq = 3");
	expect_broken(f->path, "record row 3 ");
	write_intervals(f->path, T0 + 2 * MINUTE, 1);
	tamper(f->path, "UPDATE record SET min = NULL WHERE seq = 3;"
	       "UPDATE record SET min = -18100, mean = -18000.5 WHERE seq = 3");
	expect_broken(f->path, "record row 3 ");
}

static void test_deleted_row(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 4);
	tamper(f->path, "DELETE FROM record WHERE seq = 7");
	expect_broken(f->path, "rows 7..7 before it are missing (deleted)");
}

static void test_deleted_at_end(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 4);
	tamper(f->path, "DELETE FROM record WHERE seq > 14");
	expect_broken(f->path, "rows 15..16 at the end are missing");
}

static void test_deleted_at_start(void **state)
{
	struct fixture *f = *state;

	/* Deleting the first rows and moving the base as a prune would. */
	write_intervals(f->path, T0, 4);
	tamper(f->path,
	       "INSERT OR REPLACE INTO meta VALUES ('record_base_seq', 4);"
	       "INSERT OR REPLACE INTO meta SELECT 'record_base_hash', hash FROM record WHERE seq = 4;"
	       "DELETE FROM record WHERE seq <= 4");
	expect_broken(f->path, "rows deleted at the start");
}

static void test_swapped_rows(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 4);
	tamper(f->path,
	       "UPDATE record SET seq = -1 WHERE seq = 5;"
	       "UPDATE record SET seq = 5 WHERE seq = 9;"
	       "UPDATE record SET seq = 9 WHERE seq = -1");
	expect_broken(f->path, "record row 5 ");
	expect_broken(f->path, "inserted or reordered");
}

static void test_inserted_row(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 3);
	tamper(f->path,
	       "INSERT INTO record SELECT 13, start_us + 60000000, end_us + 60000000, serial,"
	       " probe, n, min, mean, max, status, samples_sha256, samples, hash,"
	       " lost, lost_why FROM record WHERE seq = 12");
	expect_broken(f->path, "record row 13 ");
	expect_broken(f->path, "inserted");
}

static void test_changed_samples(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 2);
	tamper(f->path, "UPDATE record SET samples = zeroblob(16) WHERE seq = 2");
	expect_broken(f->path, "record row 2 ");
	expect_broken(f->path, "raw samples were changed");
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;

	write_intervals(f->path, T0, 50);
	assert_int_equal(truncate(f->path, 8192), 0);
	expect_broken(f->path, "");
	assert_int_equal(truncate(f->path, 0), 0);
	expect_broken(f->path, "not a coldroom record");
}

static void test_prune(void **state)
{
	struct fixture *f = *state;
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	struct record_verify v;
	sqlite3 *db;
	sqlite3_stmt *st;
	bool more;

	write_intervals(f->path, T0, 10);
	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	/* Raw samples of the first 6 minutes, rows of the first 3, 5 at a time. */
	assert_int_equal(record_prune(r, T0 + 6 * MINUTE, T0 + 3 * MINUTE, 5, &more), 0);
	assert_true(more);
	do
		assert_int_equal(record_prune(r, T0 + 6 * MINUTE, T0 + 3 * MINUTE, 5, &more), 0);
	while (more);
	/* Nothing more to do is no write. */
	assert_int_equal(record_prune(r, T0 + 6 * MINUTE, T0 + 3 * MINUTE, 5, &more), 0);
	assert_false(more);
	record_close(r);

	verify_path(f->path, &v);
	if (!v.intact)
		fail_msg("%s", v.message);
	assert_int_equal(v.record_rows, 28);
	assert_non_null(strstr(v.message, "after row 12"));

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), min(seq) FROM record"
					    " WHERE samples IS NULL", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 12);	/* minutes 3-5 */
	assert_int_equal(sqlite3_column_int(st, 1), 13);
	sqlite3_finalize(st);
	/* The audit trail keeps every row; pruning is in it. */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE event = 'record-pruned'",
					    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(sqlite3_column_int(st, 0) >= 1);
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* A prune done by hand, not by the recorder, is caught. */
	tamper(f->path, "DELETE FROM record WHERE seq = 13");
	expect_broken(f->path, "rows 13..13 before it are missing");
}


/* Walk @path in slices of @budget_us from @from; returns the verdict. */
static void walk_path(const char *path, const struct record_checkpoint *from, uint64_t budget_us,
		      struct record_verify *v, struct record_checkpoint *pos, int *steps)
{
	struct record *r = NULL;
	struct record_walk *w = NULL;
	char err[RECORD_MESSAGE_MAX];
	int k, n = 0;

	assert_int_equal(record_open(path, RECORD_READ, &r, err, sizeof(err)), 0);
	assert_int_equal(record_walk_new(from, &w), 0);
	while ((k = record_walk_step(r, w, budget_us, v)) == 0)
		n++;
	assert_int_equal(k, 1);
	if (pos)
		record_walk_position(w, pos);
	if (steps)
		*steps = n;
	record_walk_free(w);
	record_close(r);
}

static void test_walk_in_slices(void **state)
{
	struct fixture *f = *state;
	struct record_verify whole, v;
	struct record *r = NULL, *rd = NULL;
	struct record_walk *w = NULL;
	char err[RECORD_MESSAGE_MAX];
	int steps, k;
	bool more;

	write_intervals(f->path, T0, 200);
	verify_path(f->path, &whole);
	assert_true(whole.intact);
	/* A microsecond a slice: a slice per WALK_CLOCK_EVERY rows, the same verdict. */
	walk_path(f->path, NULL, 1, &v, NULL, &steps);
	assert_true(steps > 4);
	assert_true(v.intact);
	assert_string_equal(v.message, whole.message);
	assert_int_equal(v.record_rows, whole.record_rows);
	assert_int_equal(v.audit_rows, whole.audit_rows);

	/* Rows written and pruned between the slices are followed. */
	assert_int_equal(record_open(f->path, RECORD_READ, &rd, err, sizeof(err)), 0);
	assert_int_equal(record_walk_new(NULL, &w), 0);
	assert_int_equal(record_walk_step(rd, w, 1, &v), 0);
	write_intervals(f->path, T0 + 200 * MINUTE, 3);
	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	do
		assert_int_equal(record_prune(r, T0 + 150 * MINUTE, T0 + 150 * MINUTE, 1000, &more), 0);
	while (more);
	record_close(r);
	while ((k = record_walk_step(rd, w, 1, &v)) == 0)
		;
	assert_int_equal(k, 1);
	if (!v.intact)
		fail_msg("%s", v.message);
	assert_int_equal(v.record_rows, 53 * 4);
	record_walk_free(w);

	/* A prune done by hand between the slices is not followed. */
	assert_int_equal(record_walk_new(NULL, &w), 0);
	assert_int_equal(record_walk_step(rd, w, 1, &v), 0);
	tamper(f->path, "DELETE FROM record WHERE seq = 800");
	while ((k = record_walk_step(rd, w, 1, &v)) == 0)
		;
	assert_false(v.intact);
	assert_non_null(strstr(v.message, "rows 800..800 before it are missing"));
	record_walk_free(w);
	record_close(rd);
}

static void test_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct record_checkpoint cp, back, pos;
	struct record_verify v, whole;
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	int steps;

	write_intervals(f->path, T0, 20);
	walk_path(f->path, NULL, 0, &v, &cp, NULL);
	assert_true(v.intact);
	assert_int_equal(cp.record.seq, 80);
	assert_int_equal(cp.audit.seq, 20);

	/* Kept in meta by the writer, read back as stored. */
	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	assert_int_equal(record_checkpoint_load(r, &back), 0);
	assert_int_equal(back.record.seq, 0);
	cp.full_us = 1234;
	assert_int_equal(record_checkpoint_store(r, &cp), 0);
	assert_int_equal(record_checkpoint_load(r, &back), 0);
	assert_memory_equal(&back, &cp, sizeof(cp));
	/* Deferred: nothing written until the next commit, then with its rows. */
	cp.full_us = 5678;
	assert_int_equal(record_checkpoint_defer(r, &cp), 0);
	assert_int_equal(record_checkpoint_load(r, &back), 0);
	assert_int_equal(back.full_us, 1234);
	assert_int_equal(record_begin(r), 0);
	assert_int_equal(record_commit(r), 0);
	assert_int_equal(record_checkpoint_load(r, &back), 0);
	assert_memory_equal(&back, &cp, sizeof(cp));
	cp.full_us = 1234;
	record_close(r);

	/* From the checkpoint: only the new rows are walked, the counts are the whole. */
	write_intervals(f->path, T0 + 20 * MINUTE, 5);
	verify_path(f->path, &whole);
	walk_path(f->path, &cp, 0, &v, &pos, NULL);
	assert_true(v.intact);
	assert_string_equal(v.message, whole.message);
	assert_int_equal(pos.record.seq, 100);

	/* A row changed after the checkpoint: found by the walk from it. */
	tamper(f->path, "UPDATE record SET max = 9999 WHERE seq = 90");
	walk_path(f->path, &cp, 1, &v, &pos, &steps);
	assert_false(v.intact);
	assert_non_null(strstr(v.message, "record row 90 "));
	assert_int_equal(pos.record.seq, 89);
	tamper(f->path, "UPDATE record SET max = -17900 - 2 WHERE seq = 90");
	walk_path(f->path, &cp, 0, &v, NULL, NULL);
	assert_true(v.intact);

	/*
	 * A row changed before it: a walk from the checkpoint does not look
	 * back (RECORD.md); the walk from the base does.
	 */
	tamper(f->path, "UPDATE record SET max = 9999 WHERE seq = 10");
	walk_path(f->path, &cp, 0, &v, NULL, NULL);
	assert_true(v.intact);
	walk_path(f->path, NULL, 0, &v, &pos, NULL);
	assert_false(v.intact);
	assert_non_null(strstr(v.message, "record row 10 "));
	assert_int_equal(pos.record.seq, 9);
	/* A checkpoint moved back there meets the break every time. */
	walk_path(f->path, &pos, 0, &v, NULL, NULL);
	assert_false(v.intact);
	assert_non_null(strstr(v.message, "record row 10 "));

	/* The checkpoint's own row rewritten, or deleted: found. */
	tamper(f->path, "UPDATE record SET hash = zeroblob(32) WHERE seq = 80");
	walk_path(f->path, &cp, 0, &v, NULL, NULL);
	assert_false(v.intact);
	assert_non_null(strstr(v.message, "record row 80 is not the row it was"));
	tamper(f->path, "DELETE FROM audit WHERE seq = 20");
	walk_path(f->path, &cp, 0, &v, NULL, NULL);
	assert_false(v.intact);
	assert_non_null(strstr(v.message, "audit row 20 is missing"));
}

/* The query GetHistory used before it had its indexes: the reference. */
static size_t history_reference(sqlite3 *db, const char *serial, unsigned int probe,
				int64_t since, int64_t until, int64_t limit, int64_t *start,
				int64_t *end, int *status)
{
	sqlite3_stmt *st;
	size_t n = 0;

	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT start_us, end_us, status FROM record "
		"WHERE ((serial = ?1 AND probe = ?2) OR serial = '') "
		"AND start_us < ?4 AND end_us > ?3 ORDER BY start_us, seq LIMIT ?5",
		-1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, probe);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, until);
	sqlite3_bind_int64(st, 5, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		start[n] = sqlite3_column_int64(st, 0);
		end[n] = sqlite3_column_int64(st, 1);
		status[n] = sqlite3_column_int(st, 2);
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

/* A row's lost samples and why: read back, and in its hash. */
static void test_lost_hashed(void **state)
{
	struct fixture *f = *state;
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	struct record_page pg = { .max = 10 };
	struct record_history h;
	struct record_verify v;
	struct record_row row = {
		.start_us = T0, .end_us = T0 + MINUTE, .serial = "SIM-000000", .probe = 1,
		.n = 3, .min = -18000, .mean = -17000, .max = -16000, .lost = 7,
		.lost_why = RECORD_LOST_UPSTREAM | RECORD_LOST_LATE,
	};

	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	assert_int_equal(record_begin(r), 0);
	row.lost_why = 0x8;	/* no such reason */
	assert_int_equal(record_add_row(r, &row), -EINVAL);
	row.lost_why = RECORD_LOST_UPSTREAM | RECORD_LOST_LATE;
	assert_int_equal(record_add_row(r, &row), 0);
	row.start_us += MINUTE;
	row.end_us += MINUTE;
	row.lost = 0;
	row.lost_why = 0;
	assert_int_equal(record_add_row(r, &row), 0);
	assert_int_equal(record_commit(r), 0);
	assert_int_equal(record_history(r, "SIM-000000", 1, T0, T0 + 2 * MINUTE, &pg, &h), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.lost[0], 7);
	assert_int_equal(h.lost_why[0], RECORD_LOST_UPSTREAM | RECORD_LOST_LATE);
	assert_int_equal(h.lost[1], 0);
	record_history_free(&h);
	record_close(r);
	verify_path(f->path, &v);
	assert_true(v.intact);

	tamper(f->path, "UPDATE record SET lost = 0 WHERE seq = 1");
	expect_broken(f->path, "record row 1 ");
	tamper(f->path, "UPDATE record SET lost = 7, lost_why = 2 WHERE seq = 1");
	expect_broken(f->path, "record row 1 ");
	tamper(f->path, "UPDATE record SET lost_why = 5 WHERE seq = 1");
	verify_path(f->path, &v);
	assert_true(v.intact);
	/* NULL is how a row of schema 1 says it had none: not the same hash. */
	tamper(f->path, "UPDATE record SET lost = NULL, lost_why = NULL WHERE seq = 2");
	expect_broken(f->path, "record row 2 ");
}

/*
 * Turn @path into a record of schema 1, as the recorders before lost
 * samples wrote it: no lost columns, each row hashed without them.
 */
static void make_schema1(const char *path)
{
	uint8_t prev[RECORD_HASH_SIZE] = { 0 }, h[RECORD_HASH_SIZE];
	sqlite3_stmt *st, *up;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT " RECORD_COLUMNS_V1
					    " FROM record ORDER BY seq", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE record SET hash = ?2 WHERE seq = ?1",
					    -1, &up, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct col vals[RECORD_NCOLS_V1];

		for (int k = 0; k < RECORD_NCOLS_V1; k++)
			vals[k] = col_of(st, k);
		hash_row("record", prev, vals, RECORD_NCOLS_V1, h);
		sqlite3_bind_int64(up, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_blob(up, 2, h, sizeof(h), SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(up), SQLITE_DONE);
		sqlite3_reset(up);
		memcpy(prev, h, sizeof(h));
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE meta SET value = ? "
					    "WHERE key = 'record_head_hash'", -1, &up, NULL),
			 SQLITE_OK);
	sqlite3_bind_blob(up, 1, prev, sizeof(prev), SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(up), SQLITE_DONE);
	sqlite3_finalize(up);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE record DROP COLUMN lost;"
				      "ALTER TABLE record DROP COLUMN lost_why;"
				      "UPDATE meta SET value = 1 WHERE key = 'schema';"
				      "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* A record of schema 1: verified as it is, upgraded by the writer, still intact. */
static void test_schema1_upgrade(void **state)
{
	struct fixture *f = *state;
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	struct record_page pg = { .max = 100 };
	struct record_history h;
	struct record_verify v;

	write_intervals(f->path, T0, 3);
	make_schema1(f->path);
	verify_path(f->path, &v);
	if (!v.intact)
		fail_msg("schema 1 as written: %s", v.message);
	assert_int_equal(v.record_rows, 12);
	/* An old row changed is still found. */
	tamper(f->path, "UPDATE record SET max = max + 1 WHERE seq = 5");
	expect_broken(f->path, "record row 5 ");
	tamper(f->path, "UPDATE record SET max = max - 1 WHERE seq = 5");

	write_intervals(f->path, T0 + 3 * MINUTE, 2);	/* the writer upgrades it */
	assert_int_equal(query_int(f->path, "SELECT value FROM meta WHERE key = 'schema'"), 2);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM record WHERE lost IS NULL"), 12);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM record WHERE lost = 0"), 8);
	verify_path(f->path, &v);
	if (!v.intact)
		fail_msg("upgraded: %s", v.message);
	assert_int_equal(v.record_rows, 20);

	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	assert_int_equal(record_history(r, "SIM-000000", 1, T0, T0 + 5 * MINUTE, &pg, &h), 0);
	assert_int_equal(h.n, 5);
	for (size_t i = 0; i < h.n; i++)
		assert_int_equal(h.lost[i], 0);
	record_history_free(&h);
	record_close(r);
	/* Giving an old row lost columns breaks its hash. */
	tamper(f->path, "UPDATE record SET lost = 0, lost_why = 0 WHERE seq = 3");
	expect_broken(f->path, "record row 3 ");
}

static void test_history(void **state)
{
	struct fixture *f = *state;
	static int64_t start[512], end[512];
	static int status[512];
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	struct record_history h;
	sqlite3 *db;
	struct record_row row = { .serial = "SIM-000000", .probe = 1, .n = 1 };
	struct record_row gap = { .serial = "" };

	write_intervals(f->path, T0, 30);
	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	/* Unit rows are an interval at most; the host's rows any length. */
	row.start_us = T0;
	row.end_us = T0 + RECORD_ROW_MAX_US + 1;
	assert_int_equal(record_begin(r), 0);
	assert_int_equal(record_add_row(r, &row), -EINVAL);
	gap.start_us = T0 + 30 * MINUTE;
	gap.end_us = T0 + 90 * MINUTE;
	gap.status = RECORD_NOT_RUNNING;
	assert_int_equal(record_add_row(r, &gap), 0);
	/* A whole interval after the gap, and one as long as allowed. */
	row.start_us = T0 + 90 * MINUTE;
	row.end_us = row.start_us + RECORD_ROW_MAX_US;
	assert_int_equal(record_add_row(r, &row), 0);
	/* The clock set back: a jump row, then rows over times already recorded. */
	gap.start_us = T0 + 105 * MINUTE;
	gap.end_us = T0 + 105 * MINUTE + 1;
	gap.status = RECORD_CLOCK_JUMP;
	assert_int_equal(record_add_row(r, &gap), 0);
	row.start_us = T0 + 10 * MINUTE + 30000000;
	row.end_us = row.start_us + MINUTE;
	assert_int_equal(record_add_row(r, &row), 0);
	gap.start_us = T0 + 12 * MINUTE;
	gap.end_us = T0 + 12 * MINUTE;	/* empty: overlaps nothing */
	assert_int_equal(record_add_row(r, &gap), 0);
	assert_int_equal(record_commit(r), 0);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	for (int64_t since = T0 - MINUTE; since < (int64_t)(T0 + 110 * MINUTE);
	     since += 7 * MINUTE / 2 + 1)
		for (int64_t len = 1; len < 120 * (int64_t)MINUTE; len = len * 3 + MINUTE / 2) {
			size_t n = history_reference(db, "SIM-000000", 1, since, since + len, 512,
						     start, end, status);

			/* Page after page from the cursor: the reference's rows, each once. */
			for (size_t limit = 1; limit <= 400; limit *= 20) {
				struct record_page pg = { .max = limit };
				size_t got = 0;

				do {
					assert_int_equal(record_history(r, "SIM-000000", 1,
									(uint64_t)since,
									(uint64_t)(since + len),
									&pg, &h), 0);
					assert_true(h.n <= limit);
					assert_true(got + h.n <= n);
					for (size_t i = 0; i < h.n; i++, got++) {
						assert_int_equal(h.start_us[i], start[got]);
						assert_int_equal(h.end_us[i], end[got]);
						assert_int_equal(h.status[i], status[got]);
					}
					/* More only after a full page, and rows do remain. */
					assert_int_equal(pg.more, got < n);
					if (pg.more)
						assert_int_equal(h.n, limit);
					record_history_free(&h);
					pg.after_time = pg.next_time;
					pg.after_seq = pg.next_seq;
				} while (pg.more);
				assert_int_equal(got, n);
			}
		}
	/* Every row, as many as there are: the gap's edges exactly. */
	assert_int_equal(record_history(r, "SIM-000000", 1, T0 + 30 * MINUTE, T0 + 90 * MINUTE,
					&(struct record_page){ .max = 100 }, &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.status[0], RECORD_NOT_RUNNING);
	record_history_free(&h);
	/* The other probe sees the gaps but none of probe 1's long rows. */
	assert_int_equal(record_history(r, "SIM-000000", 2, T0 + 90 * MINUTE, T0 + 104 * MINUTE,
					&(struct record_page){ .max = 100 }, &h), 0);
	assert_int_equal(h.n, 0);
	record_history_free(&h);
	sqlite3_close(db);
	record_close(r);
}

static int collect_event(void *userdata, const struct record_event *ev)
{
	uint64_t *seqs = userdata;

	assert_true(seqs[0] < 64);
	seqs[++seqs[0]] = ev->seq;
	return 0;
}

/* A unit's audit entries page after page: time order, ties and a clock set back. */
static void test_events_paged(void **state)
{
	struct fixture *f = *state;
	struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	/* seq 11..14: at T0+5m, another unit's, T0+1m (the clock set back), T0+5m. */
	static const uint64_t at[] = { 5, 5, 1, 5 };
	/* SIM-000000's in [T0+1m, T0+9m) by (time, seq); write_intervals' at T0+2m, 4m, 6m, 8m. */
	static const uint64_t want[] = { 7, 13, 3, 5, 11, 14, 7, 9 };

	write_intervals(f->path, T0, 10);
	assert_int_equal(record_open(f->path, RECORD_WRITE, &r, err, sizeof(err)), 0);
	assert_int_equal(record_begin(r), 0);
	for (size_t i = 0; i < 4; i++) {
		struct record_event ev = {
			.time_us = T0 + at[i] * MINUTE + 1000, .event = "alarm-acknowledged",
			.serial = i == 1 ? "SIM-000001" : "SIM-000000", .probe = 1,
		};

		assert_int_equal(record_add_event(r, &ev), 0);
	}
	assert_int_equal(record_commit(r), 0);
	for (size_t max = 1; max <= 16; max *= 2) {
		uint64_t got[65] = { 0 };
		struct record_page pg = { .max = max };

		do {
			uint64_t before = got[0];

			assert_int_equal(record_events(r, "SIM-000000", T0 + MINUTE, T0 + 9 * MINUTE,
						       &pg, collect_event, got), 0);
			assert_true(got[0] - before <= max);
			assert_int_equal(pg.more, got[0] < want[0]);
			pg.after_time = pg.next_time;
			pg.after_seq = pg.next_seq;
		} while (pg.more);
		assert_memory_equal(got, want, sizeof(want));
	}
	record_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_and_bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_and_real, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inserted_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_in_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_hashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema1_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_paged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
