// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * anchor.c - the chain heads sent out of the file as they are committed:
 * a journal entry (RECORD.md, "Anchors in the journal") after each commit
 * that moved a head, which coldroomctl record verify checks the database
 * against. With --anchor-export the entries go to a file in the journal
 * export format instead (systemd-journal-remote makes a journal of it),
 * for tests on hosts without journald.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "hexstr.h"
#include "log.h"
#include "record.h"
#include "recorder.h"

#define ANCHOR_FIELDS 9

/* An entry in the export format: the fields, with the trusted ones a journal would add. */
static int export_entry(struct recorder *rc, const struct iovec *iov, size_t n)
{
	sd_id128_t boot;
	char b[SD_ID128_STRING_MAX];
	int k;

	k = sd_id128_get_boot(&boot);
	if (k < 0)
		return k;
	fprintf(rc->anchor_export, "__REALTIME_TIMESTAMP=%" PRIu64 "\n"
		"__MONOTONIC_TIMESTAMP=%" PRIu64 "\n_BOOT_ID=%s\n_UID=%u\n_PID=%d\n",
		now_us(CLOCK_REALTIME), now_us(CLOCK_MONOTONIC), sd_id128_to_string(boot, b),
		(unsigned int)getuid(), (int)getpid());
	for (size_t i = 0; i < n; i++)
		fprintf(rc->anchor_export, "%.*s\n", (int)iov[i].iov_len,
			(const char *)iov[i].iov_base);
	fputc('\n', rc->anchor_export);
	return fflush(rc->anchor_export) ? -errno : 0;
}

void anchor_heads(struct recorder *rc)
{
	char field[ANCHOR_FIELDS][PATH_MAX + 128];
	char a[HEXSTR_SIZE(RECORD_HASH_SIZE)], b[HEXSTR_SIZE(RECORD_HASH_SIZE)];
	struct record_head rec, aud;
	struct iovec iov[ANCHOR_FIELDS];
	size_t n = 0;
	int k;

	record_heads(rc->rec, &rec, &aud);
	if (rc->anchored && rec.seq == rc->anchored_record && aud.seq == rc->anchored_audit)
		return;
	hexstr_encode(rec.hash, RECORD_HASH_SIZE, a);
	hexstr_encode(aud.hash, RECORD_HASH_SIZE, b);
#define ADD(...) do { \
		iov[n].iov_base = field[n]; \
		iov[n].iov_len = (size_t)snprintf(field[n], sizeof(field[n]), __VA_ARGS__); \
		n++; \
	} while (0)
	ADD("MESSAGE=chain heads of %s: record %" PRId64 " %s, audit %" PRId64 " %s",
	    rc->db_real, rec.seq, a, aud.seq, b);
	ADD("MESSAGE_ID=%s", RECORD_ANCHOR_MESSAGE_ID);
	ADD("PRIORITY=%d", LOG_INFO);
	ADD("SYSLOG_IDENTIFIER=coldroom-recorder");
	ADD("COLDROOM_DATABASE=%s", rc->db_real);
	ADD("COLDROOM_RECORD_SEQ=%" PRId64, rec.seq);
	ADD("COLDROOM_RECORD_HASH=%s", a);
	ADD("COLDROOM_AUDIT_SEQ=%" PRId64, aud.seq);
	ADD("COLDROOM_AUDIT_HASH=%s", b);
#undef ADD
	k = rc->anchor_export ? export_entry(rc, iov, n) : sd_journal_sendv(iov, (int)n);
	if (k < 0) {
		/* Said once per run of failures; the next commit tries again. */
		if (!rc->anchor_failing)
			log_warning("cannot anchor the chain heads in the journal: %s",
				    strerror(-k));
		rc->anchor_failing = true;
		return;
	}
	rc->anchor_failing = false;
	rc->anchored = true;
	rc->anchored_record = rec.seq;
	rc->anchored_audit = aud.seq;
}
