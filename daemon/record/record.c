// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * record.c - the temperature record and the audit trail in SQLite, each a
 * SHA-256 hash chain (record.h; the schema and the hashed encoding are in
 * RECORD.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "hexstr.h"
#include "record.h"

#define RECORD_SCHEMA_VERSION 1

struct chain {
	const char *table;
	struct record_head head;	/* committed */
	struct record_head pending;	/* with the open group's rows */
};

struct record {
	sqlite3 *db;
	int lock_fd;
	bool writer;
	bool in_group;
	struct chain rec, aud;
	struct record_head base;	/* the record chain's start after pruning */
	int64_t raw_pruned;		/* rows up to this seq have no samples */
	sqlite3_stmt *insert_row, *insert_event, *set_meta;
	char error[RECORD_MESSAGE_MAX];
};

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
	"  hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS record_by_unit ON record (serial, start_us);"
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
	"  hash BLOB NOT NULL);";

/* The hashed columns of each table, in hashing order (RECORD.md). */
#define RECORD_COLUMNS "seq, start_us, end_us, serial, probe, n, min, mean, max, status, samples_sha256"
#define RECORD_NCOLS 11
#define AUDIT_COLUMNS "seq, time_us, event, serial, probe, uid, user, what, old_value, new_value, reading, detail"
#define AUDIT_NCOLS 12

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
static int db_error(struct record *r, const char *what)
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

/* --- the hashed encoding ---------------------------------------------- */

/*
 * One column value as it is hashed: a type tag, then the value. The same
 * encoder serves the writer (from the values it binds) and the verifier
 * (from the values SQLite hands back), so both hash exactly what is stored.
 */
struct col {
	char type;		/* 'N' null, 'I' integer, 'F' real, 'T' text, 'B' blob */
	int64_t i;
	double f;
	const void *p;
	size_t len;
};

static struct col col_int(int64_t v)
{
	return (struct col){ .type = 'I', .i = v };
}

static struct col col_text(const char *s)
{
	return s ? (struct col){ .type = 'T', .p = s, .len = strlen(s) } :
		   (struct col){ .type = 'N' };
}

static struct col col_blob(const void *p, size_t len)
{
	return p ? (struct col){ .type = 'B', .p = p, .len = len } :
		   (struct col){ .type = 'N' };
}

static void put_le64(uint8_t *b, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		b[k] = (uint8_t)(v >> (8 * k));
}

static void hash_row(const char *table, const uint8_t prev[RECORD_HASH_SIZE],
		     const struct col *cols, size_t n, uint8_t out[RECORD_HASH_SIZE])
{
	struct sha256_ctx ctx;
	uint8_t b[9];

	sha256_init(&ctx);
	sha256_update(&ctx, strlen("coldroom-record-v1") + 1,
		      (const uint8_t *)"coldroom-record-v1");
	sha256_update(&ctx, strlen(table) + 1, (const uint8_t *)table);
	sha256_update(&ctx, RECORD_HASH_SIZE, prev);
	for (size_t k = 0; k < n; k++) {
		const struct col *c = &cols[k];

		b[0] = (uint8_t)c->type;
		switch (c->type) {
		case 'I':
			put_le64(b + 1, (uint64_t)c->i);
			sha256_update(&ctx, 9, b);
			break;
		case 'F': {
			uint64_t bits;

			memcpy(&bits, &c->f, sizeof(bits));
			put_le64(b + 1, bits);
			sha256_update(&ctx, 9, b);
			break;
		}
		case 'T':
		case 'B':
			put_le64(b + 1, c->len);
			sha256_update(&ctx, 9, b);
			sha256_update(&ctx, c->len, c->p);
			break;
		default:
			sha256_update(&ctx, 1, b);
			break;
		}
	}
	sha256_digest(&ctx, RECORD_HASH_SIZE, out);
}

static void sha256_of(const void *p, size_t len, uint8_t out[RECORD_HASH_SIZE])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, p);
	sha256_digest(&ctx, RECORD_HASH_SIZE, out);
}

/* Bind @cols to the parameters of @st from number @first on. */
static int bind_cols(sqlite3_stmt *st, int first, const struct col *cols, size_t n)
{
	int rc = SQLITE_OK;

	for (size_t k = 0; k < n && rc == SQLITE_OK; k++) {
		int i = first + (int)k;

		switch (cols[k].type) {
		case 'I':
			rc = sqlite3_bind_int64(st, i, cols[k].i);
			break;
		case 'T':
			rc = sqlite3_bind_text(st, i, cols[k].p, (int)cols[k].len, SQLITE_STATIC);
			break;
		case 'B':
			rc = sqlite3_bind_blob(st, i, cols[k].p, (int)cols[k].len, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, i);
			break;
		}
	}
	return rc;
}

/* Column @i of the current row of @st, as hashed. */
static struct col col_of(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return col_int(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return (struct col){ .type = 'F', .f = sqlite3_column_double(st, i) };
	case SQLITE_TEXT: {
		const unsigned char *t = sqlite3_column_text(st, i);

		return (struct col){ .type = 'T', .p = t ? (const void *)t : "",
				     .len = (size_t)sqlite3_column_bytes(st, i) };
	}
	case SQLITE_BLOB: {
		const void *p = sqlite3_column_blob(st, i);

		return (struct col){ .type = 'B', .p = p ? p : "",
				     .len = (size_t)sqlite3_column_bytes(st, i) };
	}
	default:
		return (struct col){ .type = 'N' };
	}
}

/* --- meta ------------------------------------------------------------- */

static int meta_get(struct record *r, const char *key, int64_t *seq, uint8_t *hash)
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

static int meta_set(struct record *r, const char *key, const struct col *value)
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

static int load_head(struct record *r, const char *name, struct record_head *h)
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

static int store_head(struct record *r, const char *name, const struct record_head *h)
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

/* --- open and close ----------------------------------------------------- */

static int exec(struct record *r, const char *sql, const char *what)
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
	k = exec(r, "PRAGMA journal_mode = WAL", "setting WAL mode");
	/* FULL: a committed interval survives a power cut, not only a crash. */
	if (!k)
		k = exec(r, "PRAGMA synchronous = FULL", "setting synchronous");
	if (!k)
		k = exec(r, "BEGIN IMMEDIATE", "creating the schema");
	if (!k)
		k = exec(r, schema_sql, "creating the schema");
	if (!k) {
		int64_t version = 0;

		k = meta_get(r, "schema", &version, NULL);
		if (k == 0)
			k = exec(r, "INSERT INTO meta VALUES ('schema', 1)", "creating the schema");
		else if (k > 0 && version != RECORD_SCHEMA_VERSION)
			k = set_error(r, "%s: schema version %" PRId64 ", this recorder writes %d",
				      path, version, RECORD_SCHEMA_VERSION);
		else
			k = k < 0 ? k : 0;
	}
	if (!k)
		k = exec(r, "COMMIT", "creating the schema");
	else
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	if (k)
		return k;

	if (sqlite3_prepare_v3(r->db,
			       "INSERT INTO record (" RECORD_COLUMNS ", samples, hash) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
		k = exec(r, "SELECT 1 FROM meta, record, audit LIMIT 1", "not a coldroom record");
		if (k)
			goto fail;
	}
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

/* --- reading back -------------------------------------------------------- */

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
	"new_value, reading, detail"

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
			       "SELECT start_us, end_us, n, min, mean, max, status, seq, serial, probe "
			       "FROM record WHERE seq > ?1 ORDER BY seq LIMIT ?2", -1, &st, NULL))
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
			k = 0;
		}
		history_row(st, h, i);
		b->seq[i] = (uint64_t)sqlite3_column_int64(st, 7);
		b->probe[i] = (uint8_t)sqlite3_column_int64(st, 9);
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

/* --- writing ------------------------------------------------------------ */

int record_begin(struct record *r)
{
	int k;

	if (!r->writer || r->in_group)
		return -EINVAL;
	k = exec(r, "BEGIN IMMEDIATE", "starting a write");
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
	uint8_t hash[RECORD_HASH_SIZE];
	struct col hcol;
	int rc;

	if (!r->in_group)
		return -EINVAL;
	cols[0] = col_int(c->pending.seq + 1);
	hash_row(c->table, c->pending.hash, cols, n, hash);
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
	    row->status >= RECORD_STATUS_COUNT)
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
	if (!k)
		k = exec(r, "COMMIT", "committing");
	if (k)
		return k;
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

/* --- retention ---------------------------------------------------------- */

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

/* --- verification ------------------------------------------------------- */

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
	k = exec(r, "BEGIN", "reading the record");
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
