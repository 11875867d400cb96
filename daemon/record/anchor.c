// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * anchor.c - the record checked against the chain heads the recorder sent
 * to the journal as it committed them (RECORD.md, "Anchors in the
 * journal"): every anchored row must still be there with the anchored
 * hash, or have been pruned by an audit entry that is anchored itself. A
 * consistent rewrite of the file (rows, hashes and meta) passes the chain
 * walk but not this. Only coldroomctl links it (libsystemd's sd-journal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-journal.h>

#include "hexstr.h"
#include "parse_util.h"
#include "record.h"
#include "record_internal.h"

struct anchor {
	uint64_t time_us;
	int64_t seq[2];				/* record, audit */
	uint8_t hash[2][RECORD_HASH_SIZE];
};

/* Field @name of the current entry, as a NUL-terminated copy in @buf. */
static int field(sd_journal *j, const char *name, char *buf, size_t size)
{
	const void *data;
	size_t len, n = strlen(name);
	int k;

	k = sd_journal_get_data(j, name, &data, &len);
	if (k < 0)
		return k;
	if (len <= n + 1 || len - n - 1 >= size)
		return -EBADMSG;
	memcpy(buf, (const char *)data + n + 1, len - n - 1);
	buf[len - n - 1] = '\0';
	return 0;
}

static int parse_anchor(sd_journal *j, struct anchor *a)
{
	static const char *const names[2][2] = {
		{ "COLDROOM_RECORD_SEQ", "COLDROOM_RECORD_HASH" },
		{ "COLDROOM_AUDIT_SEQ", "COLDROOM_AUDIT_HASH" },
	};
	char buf[2 * RECORD_HASH_SIZE + 2];
	unsigned long long v;
	int k;

	k = sd_journal_get_realtime_usec(j, &a->time_us);
	for (int c = 0; k >= 0 && c < 2; c++) {
		k = field(j, names[c][0], buf, sizeof(buf));
		if (k >= 0)
			k = parse_ull(buf, &v) < 0 || v > INT64_MAX ? -EBADMSG : 0;
		if (k >= 0) {
			a->seq[c] = (int64_t)v;
			k = field(j, names[c][1], buf, sizeof(buf));
		}
		if (k >= 0 && (strlen(buf) != 2 * RECORD_HASH_SIZE ||
			       hexstr_decode(buf, a->hash[c], RECORD_HASH_SIZE) != RECORD_HASH_SIZE))
			k = -EBADMSG;
	}
	return k;
}

static void when(uint64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, size, "%" PRIu64 " us", us);
}

static void note_bad(struct record_anchor_report *rep, int c, int64_t seq)
{
	struct record_anchor_bad *b = &rep->bad[c];

	/* Anchors come in commit order: a seq repeats when only the other head moved. */
	if (b->total && b->last == seq)
		return;
	if (b->n < RECORD_ANCHOR_BAD_MAX)
		b->seq[b->n++] = seq;
	b->last = seq;
	b->total++;
}

/*
 * The audit seq of the record-pruned entry that moved the base to @seq or
 * past it first, and the base it wrote; 0 when none did.
 */
static int pruned_by(struct record *r, int64_t seq, int64_t *audit_seq, int64_t *base,
		     uint8_t base_hash[RECORD_HASH_SIZE])
{
	sqlite3_stmt *st;
	int rc;

	*audit_seq = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT seq, new_value FROM audit WHERE event = 'record-pruned' "
			       "ORDER BY seq", -1, &st, NULL))
		return db_error(r, "reading the audit trail");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 1);
		const char *colon = v ? strchr(v, ':') : NULL;
		char num[24];
		unsigned long long b;

		if (!colon || colon - v >= (ptrdiff_t)sizeof(num))
			continue;
		memcpy(num, v, (size_t)(colon - v));
		num[colon - v] = '\0';
		if (parse_ull(num, &b) < 0 || b > INT64_MAX || (int64_t)b < seq ||
		    strlen(colon + 1) != 2 * RECORD_HASH_SIZE ||
		    hexstr_decode(colon + 1, base_hash, RECORD_HASH_SIZE) != RECORD_HASH_SIZE)
			continue;
		*audit_seq = sqlite3_column_int64(st, 0);
		*base = (int64_t)b;
		break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(r, "reading the audit trail");
}

/* One anchored row of chain @c (0 record, 1 audit): true when it agrees. */
static int check_one(struct record *r, int c, const struct anchor *a, int64_t audit_ok,
		     bool *ok)
{
	uint8_t h[RECORD_HASH_SIZE];
	int k;

	*ok = true;
	if (a->seq[c] == 0)
		return 0;
	k = record_hash_at(r, c == 1, a->seq[c], h);
	if (k < 0)
		return k;
	if (k == 0 && c == 0 && a->seq[c] < r->base.seq) {
		int64_t by, base;

		/* Pruned: fine if an anchored audit entry says so. */
		k = pruned_by(r, a->seq[c], &by, &base, h);
		if (k < 0)
			return k;
		*ok = by && by <= audit_ok &&
		      (base != a->seq[c] || !memcmp(h, a->hash[c], RECORD_HASH_SIZE));
		return 0;
	}
	*ok = k == 1 && !memcmp(h, a->hash[c], RECORD_HASH_SIZE);
	return 0;
}

static void describe(struct record_anchor_report *rep, int c, const char *table,
		     int64_t good_before, char *buf, size_t size)
{
	const struct record_anchor_bad *b = &rep->bad[c];
	size_t n;

	if (!b->total)
		return;
	n = strlen(buf);
	n += (size_t)snprintf(buf + n, size - n, "%s%s rows %" PRId64 "..%" PRId64
			      " rewritten or deleted (the journal anchored row %" PRId64
			      " with another hash; %zu anchored rows disagree: %" PRId64,
			      n ? "; " : "", table, good_before + 1, b->seq[0], b->seq[0],
			      b->total, b->seq[0]);
	for (size_t i = 1; i < b->n && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, ", %" PRId64, b->seq[i]);
	if (n < size)
		snprintf(buf + n, size - n, "%s)", b->total > b->n ? ", ..." : "");
}

int record_check_anchors(struct record *r, sd_journal *j, const char *database, uid_t writer,
			 struct record_anchor_report *rep)
{
	char match[4200], a_t[64], b_t[64];
	struct anchor *v = NULL, *p;
	size_t n = 0, cap = 0;
	int64_t audit_ok = 0, good[2] = { 0, 0 };
	int k;

	memset(rep, 0, sizeof(*rep));
	if (strlen(database) > 4000)
		return -ENAMETOOLONG;
	k = sd_journal_add_match(j, "MESSAGE_ID=" RECORD_ANCHOR_MESSAGE_ID, 0);
	snprintf(match, sizeof(match), "COLDROOM_DATABASE=%s", database);
	if (k >= 0)
		k = sd_journal_add_match(j, match, 0);
	/* Only the database's writer anchors it: any user can log the rest. */
	snprintf(match, sizeof(match), "_UID=%u", (unsigned int)writer);
	if (k >= 0)
		k = sd_journal_add_match(j, match, 0);
	if (k < 0)
		return k;
	SD_JOURNAL_FOREACH(j) {
		struct anchor a;

		if (parse_anchor(j, &a) < 0) {
			rep->malformed++;
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			p = realloc(v, cap * sizeof(*v));
			if (!p) {
				free(v);
				return -ENOMEM;
			}
			v = p;
		}
		v[n++] = a;
	}

	/* The audit trail first: a pruning counts only when it is anchored. */
	for (size_t i = 0; i < n; i++) {
		bool ok;

		k = check_one(r, 1, &v[i], 0, &ok);
		if (k < 0)
			goto out;
		if (!ok)
			note_bad(rep, 1, v[i].seq[1]);
		else if (v[i].seq[1] > audit_ok)
			audit_ok = v[i].seq[1];
	}
	for (int c = 0; c < 2; c++)
		for (size_t i = 0; i < n; i++) {
			bool ok;

			k = check_one(r, c, &v[i], audit_ok, &ok);
			if (k < 0)
				goto out;
			if (c == 0 && !ok)
				note_bad(rep, 0, v[i].seq[0]);
			/* The last agreeing anchor below the first that disagrees. */
			if (ok && v[i].seq[c] > good[c] &&
			    (!rep->bad[c].n || v[i].seq[c] < rep->bad[c].seq[0]))
				good[c] = v[i].seq[c];
		}
	k = 0;
	rep->anchors = n;
	if (n) {
		rep->first_us = v[0].time_us;
		rep->last_us = v[n - 1].time_us;
	}
	rep->agree = !rep->bad[0].total && !rep->bad[1].total;
	when(rep->first_us, a_t, sizeof(a_t));
	when(rep->last_us, b_t, sizeof(b_t));
	if (!n)
		snprintf(rep->message, sizeof(rep->message),
			 "no anchor of %s in the journal", database);
	else if (rep->agree)
		snprintf(rep->message, sizeof(rep->message),
			 "%zu anchors from %s to %s agree", n, a_t, b_t);
	else {
		char what[768] = "";

		describe(rep, 0, "record", good[0], what, sizeof(what));
		describe(rep, 1, "audit", good[1], what, sizeof(what));
		snprintf(rep->message, sizeof(rep->message),
			 "%zu anchors from %s to %s: %.768s", n, a_t, b_t, what);
	}
out:
	free(v);
	return k;
}
