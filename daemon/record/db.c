// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * db.c - the record's database opened (created with its schema by the
 * writer) and closed, its errors, and the meta table that keeps the
 * chains' heads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "record.h"
#include "record_internal.h"

#define RECORD_SCHEMA_VERSION 2

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  value) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS record ("
	"  seq INTEGER PRIMARY KEY,"
	"  start_us INTEGER NOT NULL,"
	"  end_us INTEGER NOT NULL,"
	"  serial TEXT NOT NULL,"
	"  probe INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  min INTEGER,"
	"  mean INTEGER,"
	"  max INTEGER,"
	"  status INTEGER NOT NULL,"
	"  samples_sha256 BLOB,"
	"  samples BLOB,"
	"  hash BLOB NOT NULL,"
	"  lost INTEGER,"
	"  lost_why INTEGER);"
	"CREATE INDEX IF NOT EXISTS record_by_probe ON record (serial, probe, start_us);"
	"CREATE TABLE IF NOT EXISTS audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  time_us INTEGER NOT NULL,"
	"  event TEXT NOT NULL,"
	"  serial TEXT NOT NULL,"
	"  probe INTEGER NOT NULL,"
	"  uid INTEGER,"
	"  user TEXT,"
	"  what TEXT,"
	"  old_value TEXT,"
	"  new_value TEXT,"
	"  reading INTEGER,"
	"  detail TEXT,"
	"  hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS audit_by_unit ON audit (serial, time_us);";

static __attribute__((format(printf, 2, 3)))
int set_error(struct record *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -EIO;
}

/* An SQLite failure: the message, and the errno that best says it. */
int db_error(struct record *r, const char *what)
{
	int code = sqlite3_extended_errcode(r->db);

	snprintf(r->error, sizeof(r->error), "%s: %s", what, sqlite3_errmsg(r->db));
	switch (code & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CANTOPEN:
		return sqlite3_system_errno(r->db) ? -sqlite3_system_errno(r->db) : -ENOENT;
	default:
		return -EIO;
	}
}

const char *record_error(const struct record *r)
{
	return r->error;
}

/* --- meta ------------------------------------------------------------- */

int meta_get(struct record *r, const char *key, int64_t *seq, uint8_t *hash)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL))
		return db_error(r, "reading the record's heads");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (hash) {
			if (sqlite3_column_type(st, 0) == SQLITE_BLOB &&
			    sqlite3_column_bytes(st, 0) == RECORD_HASH_SIZE)
				memcpy(hash, sqlite3_column_blob(st, 0), RECORD_HASH_SIZE);
			else
				memset(hash, 0xff, RECORD_HASH_SIZE);	/* never a real hash */
		}
		if (seq)
			*seq = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r, "reading the record's heads");
	return rc == SQLITE_ROW;
}

int meta_set(struct record *r, const char *key, const struct col *value)
{
	int rc;

	sqlite3_reset(r->set_meta);
	rc = sqlite3_bind_text(r->set_meta, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = bind_cols(r->set_meta, 2, value, 1) == SQLITE_OK && value->type != 'N' ?
		     SQLITE_OK : SQLITE_MISUSE;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(r->set_meta);
	sqlite3_reset(r->set_meta);
	return rc == SQLITE_DONE ? 0 : db_error(r, "writing the record's heads");
}

int load_head(struct record *r, const char *name, struct record_head *h)
{
	char key[64];
	int k;

	memset(h, 0, sizeof(*h));
	snprintf(key, sizeof(key), "%s_seq", name);
	k = meta_get(r, key, &h->seq, NULL);
	if (k <= 0)
		return k;
	snprintf(key, sizeof(key), "%s_hash", name);
	k = meta_get(r, key, NULL, h->hash);
	return k < 0 ? k : 0;
}

int store_head(struct record *r, const char *name, const struct record_head *h)
{
	char key[64];
	struct col c;
	int k;

	snprintf(key, sizeof(key), "%s_seq", name);
	c = col_int(h->seq);
	k = meta_set(r, key, &c);
	if (k < 0)
		return k;
	snprintf(key, sizeof(key), "%s_hash", name);
	c = col_blob(h->hash, RECORD_HASH_SIZE);
	return meta_set(r, key, &c);
}

/* --- the verifier's checkpoint ------------------------------------------ */

int record_checkpoint_load(struct record *r, struct record_checkpoint *cp)
{
	sqlite3_stmt *st;
	int k, rc;

	memset(cp, 0, sizeof(*cp));
	k = load_head(r, "verified_record", &cp->record);
	if (!k)
		k = load_head(r, "verified_audit", &cp->audit);
	if (!k)
		k = meta_get(r, "verified_full_us", &cp->full_us, NULL);
	if (k < 0)
		return k;
	if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = 'verified_pruned'",
			       -1, &st, NULL))
		return db_error(r, "reading the checkpoint");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT)
		snprintf(cp->pruned, sizeof(cp->pruned), "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r, "reading the checkpoint");
	/* Not a checkpoint a walk could have left: start from the base. */
	if (cp->record.seq < 0 || cp->audit.seq < 0)
		memset(cp, 0, sizeof(*cp));
	return 0;
}

/* The checkpoint's meta entries, inside the caller's transaction. */
int checkpoint_write(struct record *r, const struct record_checkpoint *cp)
{
	struct col c = col_text(cp->pruned);
	int k;

	k = store_head(r, "verified_record", &cp->record);
	if (!k)
		k = store_head(r, "verified_audit", &cp->audit);
	if (!k)
		k = meta_set(r, "verified_pruned", &c);
	c = col_int(cp->full_us);
	if (!k)
		k = meta_set(r, "verified_full_us", &c);
	return k;
}

int record_checkpoint_store(struct record *r, const struct record_checkpoint *cp)
{
	int k;

	if (!r->writer || r->in_group)
		return -EINVAL;
	k = db_exec(r, "BEGIN IMMEDIATE", "writing the checkpoint");
	if (k)
		return k;
	k = checkpoint_write(r, cp);
	if (!k)
		k = db_exec(r, "COMMIT", "writing the checkpoint");
	if (k)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	else
		r->cp_pending = false;
	return k;
}

int record_checkpoint_defer(struct record *r, const struct record_checkpoint *cp)
{
	if (!r->writer)
		return -EINVAL;
	r->cp = *cp;
	r->cp_pending = true;
	return 0;
}

/* --- open and close ----------------------------------------------------- */

int db_exec(struct record *r, const char *sql, const char *what)
{
	return sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_error(r, what);
}

static int open_writer(struct record *r, const char *path)
{
	int k;

	/* One writer: a second recorder on the same file would fork the chains. */
	r->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->lock_fd < 0)
		return set_error(r, "%s: %s", path, strerror(errno));
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		k = errno == EWOULDBLOCK ? -EBUSY : -errno;
		set_error(r, "%s: %s", path, k == -EBUSY ?
			  "another recorder is writing it" : strerror(-k));
		return k;
	}
	k = db_exec(r, "PRAGMA journal_mode = WAL", "setting WAL mode");
	/* FULL: a committed interval survives a power cut, not only a crash. */
	if (!k)
		k = db_exec(r, "PRAGMA synchronous = FULL", "setting synchronous");
	if (!k)
		k = db_exec(r, "BEGIN IMMEDIATE", "creating the schema");
	if (!k)
		k = db_exec(r, schema_sql, "creating the schema");
	/* Before record_by_probe, history was read by (serial, start_us): now redundant. */
	if (!k)
		k = db_exec(r, "DROP INDEX IF EXISTS record_by_unit", "upgrading the schema");
	if (!k) {
		int64_t version = 0;

		k = meta_get(r, "schema", &version, NULL);
		if (k == 0) {
			k = db_exec(r, "INSERT INTO meta VALUES ('schema', 2)", "creating the schema");
		} else if (k > 0 && version == 1) {
			/*
			 * Schema 1 had no lost samples: its rows keep NULL
			 * there, and with it the hash they were written with.
			 */
			k = db_exec(r, "ALTER TABLE record ADD COLUMN lost INTEGER;"
				    "ALTER TABLE record ADD COLUMN lost_why INTEGER;"
				    "UPDATE meta SET value = 2 WHERE key = 'schema'",
				    "upgrading the schema to 2");
		} else if (k > 0 && version != RECORD_SCHEMA_VERSION) {
			k = set_error(r, "%s: schema version %" PRId64 ", this recorder writes %d",
				      path, version, RECORD_SCHEMA_VERSION);
		} else {
			k = k < 0 ? k : 0;
		}
	}
	if (!k)
		k = db_exec(r, "COMMIT", "creating the schema");
	else
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	if (k)
		return k;

	if (sqlite3_prepare_v3(r->db,
			       "INSERT INTO record (" RECORD_COLUMNS ", samples, hash) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &r->insert_row, NULL) ||
	    sqlite3_prepare_v3(r->db,
			       "INSERT INTO audit (" AUDIT_COLUMNS ", hash) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &r->insert_event, NULL) ||
	    sqlite3_prepare_v3(r->db,
			       "INSERT INTO meta (key, value) VALUES (?, ?) "
			       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			       -1, SQLITE_PREPARE_PERSISTENT, &r->set_meta, NULL))
		return db_error(r, "preparing statements");
	return 0;
}

/* Schema 2 or later (a reader may open a file the writer never upgraded). */
static int has_lost_columns(struct record *r)
{
	sqlite3_stmt *st = NULL;

	r->has_lost = sqlite3_prepare_v2(r->db, "SELECT lost, lost_why FROM record LIMIT 0", -1,
					 &st, NULL) == SQLITE_OK;
	sqlite3_finalize(st);
	if (!r->has_lost && r->writer)
		return db_error(r, "the record has no lost columns");
	return 0;
}

int record_open(const char *path, enum record_mode mode, struct record **ret,
		char *err, size_t err_len)
{
	struct record *r;
	int flags, k;

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	r->lock_fd = -1;
	r->writer = mode == RECORD_WRITE;
	r->rec.table = "record";
	r->aud.table = "audit";
	flags = r->writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
	if (sqlite3_open_v2(path, &r->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		k = r->db ? db_error(r, path) : -ENOMEM;
		if (!r->db)
			set_error(r, "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(r->db, 1);
	/* A reader waits out the writer's commit rather than failing. */
	sqlite3_busy_timeout(r->db, 5000);
	if (r->writer) {
		k = open_writer(r, path);
		if (k)
			goto fail;
	} else {
		k = db_exec(r, "SELECT 1 FROM meta, record, audit LIMIT 1", "not a coldroom record");
		if (k)
			goto fail;
	}
	k = has_lost_columns(r);
	if (!k)
		k = load_head(r, "record_head", &r->rec.head);
	if (!k)
		k = load_head(r, "audit_head", &r->aud.head);
	if (!k)
		k = load_head(r, "record_base", &r->base);
	if (!k && r->writer)
		k = meta_get(r, "raw_pruned", &r->raw_pruned, NULL);
	if (k < 0)
		goto fail;
	r->rec.pending = r->rec.head;
	r->aud.pending = r->aud.head;
	*ret = r;
	return 0;
fail:
	snprintf(err, err_len, "%s", r->error);
	record_close(r);
	return k;
}

void record_close(struct record *r)
{
	if (r->in_group)
		record_rollback(r);
	sqlite3_finalize(r->insert_row);
	sqlite3_finalize(r->insert_event);
	sqlite3_finalize(r->set_meta);
	sqlite3_close(r->db);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	free(r);
}

void record_heads(const struct record *r, struct record_head *record,
		  struct record_head *audit)
{
	if (record)
		*record = r->rec.head;
	if (audit)
		*audit = r->aud.head;
}
