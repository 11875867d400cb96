// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * chain.c - the one hashed encoding of a row (RECORD.md): each column
 * value's type tag and bytes, after the previous row's hash; and the
 * column values as SQLite binds and returns them, so that the writer and
 * the verifier hash alike.
 */
#define _GNU_SOURCE
#include <nettle/sha2.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "record.h"
#include "record_internal.h"

static void put_le64(uint8_t *b, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		b[k] = (uint8_t)(v >> (8 * k));
}

void hash_row(const char *table, const uint8_t prev[RECORD_HASH_SIZE],
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

void sha256_of(const void *p, size_t len, uint8_t out[RECORD_HASH_SIZE])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, p);
	sha256_digest(&ctx, RECORD_HASH_SIZE, out);
}

/* Bind @cols to the parameters of @st from number @first on. */
int bind_cols(sqlite3_stmt *st, int first, const struct col *cols, size_t n)
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
struct col col_of(sqlite3_stmt *st, int i)
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
