/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * record_internal.h - the record's state and what one of record/'s files
 * calls in another: the connection with its two chains, the hashed columns
 * and their encoding. Internal to record/, not part of record.h's API.
 */
#ifndef COLDROOM_RECORD_INTERNAL_H
#define COLDROOM_RECORD_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"

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
	struct record_checkpoint cp;	/* record_checkpoint_defer(): for the next commit */
	bool cp_pending;
	bool has_lost;			/* schema 2: the lost columns exist */
	char error[RECORD_MESSAGE_MAX];
};

/*
 * The hashed columns of each table, in hashing order (RECORD.md). The
 * record's last two came with schema 2: a row whose lost and lost_why are
 * both NULL (written before) is hashed without them (record_hashed_cols()).
 */
#define RECORD_COLUMNS_V1 "seq, start_us, end_us, serial, probe, n, min, mean, max, status, " \
	"samples_sha256"
#define RECORD_COLUMNS RECORD_COLUMNS_V1 ", lost, lost_why"
#define RECORD_NCOLS 13
#define RECORD_NCOLS_V1 11
#define RECORD_SHA_COL 10
#define AUDIT_COLUMNS "seq, time_us, event, serial, probe, uid, user, what, old_value, new_value, reading, detail"
#define AUDIT_NCOLS 12

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

static inline struct col col_int(int64_t v)
{
	return (struct col){ .type = 'I', .i = v };
}

static inline struct col col_text(const char *s)
{
	return s ? (struct col){ .type = 'T', .p = s, .len = strlen(s) } :
		   (struct col){ .type = 'N' };
}

static inline struct col col_blob(const void *p, size_t len)
{
	return p ? (struct col){ .type = 'B', .p = p, .len = len } :
		   (struct col){ .type = 'N' };
}

/* How many of a record row's RECORD_NCOLS values @cols are hashed. */
static inline size_t record_hashed_cols(const struct col *cols)
{
	return cols[RECORD_NCOLS_V1].type == 'N' && cols[RECORD_NCOLS_V1 + 1].type == 'N' ?
	       RECORD_NCOLS_V1 : RECORD_NCOLS;
}

/* db.c */
int db_error(struct record *r, const char *what);
int db_exec(struct record *r, const char *sql, const char *what);
int meta_get(struct record *r, const char *key, int64_t *seq, uint8_t *hash);
int meta_set(struct record *r, const char *key, const struct col *value);
int load_head(struct record *r, const char *name, struct record_head *h);
int store_head(struct record *r, const char *name, const struct record_head *h);
int checkpoint_write(struct record *r, const struct record_checkpoint *cp);

/* chain.c */
void hash_row(const char *table, const uint8_t prev[RECORD_HASH_SIZE],
	      const struct col *cols, size_t n, uint8_t out[RECORD_HASH_SIZE]);
void sha256_of(const void *p, size_t len, uint8_t out[RECORD_HASH_SIZE]);
int bind_cols(sqlite3_stmt *st, int first, const struct col *cols, size_t n);
struct col col_of(sqlite3_stmt *st, int i);

#endif
