// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The record's hash chains: written and read back intact, and every kind
 * of edit behind the product's back (a changed value, a deleted, inserted
 * or moved row, rows dropped at either end, changed raw samples, a
 * truncated file) found and named by record_verify().
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
	       " probe, n, min, mean, max, status, samples_sha256, samples, hash"
	       " FROM record WHERE seq = 12");
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
