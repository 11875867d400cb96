// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * forward.c - the record to the broker: rows and audit entries asked of
 * Recorder1 after the cursors, a window at a time; apart, as it loses nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "log.h"
#include "record_types.h"
#include "uplink.h"
#include "uplinkmsg.h"

/*
 * A forwarded message could not be published: the session is not usable
 * (or memory ran out). Start a new one rather than ask the recorder again
 * and again; the cursor has not moved, so nothing is skipped.
 */
static void publish_failed(struct uplink *u, int rc)
{
	lost(u, rc, errno);
}

static bool historical(const struct stream *s, uint64_t seq)
{
	return !s->historical_known || seq <= s->historical_upto;
}

/* A message of @s with @seq went out as @mid. */
static void sent(struct stream *s, uint64_t seq, int mid)
{
	s->q[s->n++] = (struct inflight){ .seq = seq, .mid = mid };
	s->sent = seq;
}

/*
 * A reply with nothing after @s->sent although the head is further: rows
 * deleted behind the recorder's back. There is nothing to send for them;
 * move on rather than ask again forever.
 */
static void nothing_until_head(struct uplink *u, struct stream *s, uint64_t head)
{
	if (head <= s->sent)
		return;
	log_warning("the record has no %s %" PRIu64 "..%" PRIu64 " although it says it wrote them; "
		    "skipping them (coldroomctl record verify tells what happened)", s->name,
		    s->sent + 1, head);
	s->sent = head;
	if (!s->n) {
		s->acked = head;
		u->cursor_dirty = true;
	}
}

/* A reply's head: what is known to be committed, and this session's backlog. */
static void heard_head(struct uplink *u, struct stream *s, uint64_t head)
{
	if (head < s->acked) {
		/* The record was replaced by a new one (its seqs start again at 1). */
		log_warning("the recorder's last %s is %" PRIu64 ", behind what was forwarded (%"
			    PRIu64 "): a new record; forwarding it from its start", s->name, head,
			    s->acked);
		s->acked = s->sent = 0;
		s->n = 0;
		u->cursor_dirty = true;
	}
	if (head > s->head)
		s->head = head;
	if (!s->historical_known && u->conn == CONNECTED) {
		s->historical_upto = head;
		s->historical_known = true;
	}
}

static int read_array(sd_bus_message *m, char type, const void **p, size_t size, size_t *n)
{
	size_t bytes;
	int k = sd_bus_message_read_array(m, type, p, &bytes);

	if (k < 0)
		return k;
	if (bytes % size)
		return -EBADMSG;
	*n = bytes / size;
	return 0;
}

/* A hash of the chain: 32 bytes, or with @empty_ok none. */
static int read_hash(sd_bus_message *m, const uint8_t **p, bool empty_ok)
{
	size_t n;
	int k = sd_bus_message_read_array(m, 'y', (const void **)p, &n);

	if (k < 0)
		return k;
	if (n == 0 && empty_ok) {
		*p = NULL;
		return 0;
	}
	return n == UPLINK_HASH_SIZE ? 0 : -EBADMSG;
}

/* GetRecordsAfter3's array of hashes (or digests, empty where none). */
static int read_hashes(sd_bus_message *m, size_t n, const uint8_t **out, bool empty_ok)
{
	size_t i = 0;
	int k;

	k = sd_bus_message_enter_container(m, 'a', "ay");
	while (k >= 0 && i < n && (k = sd_bus_message_at_end(m, false)) == 0) {
		k = read_hash(m, &out[i], empty_ok);
		i++;
	}
	if (k >= 0 && i != n)
		k = -EBADMSG;
	/* More hashes than rows: exiting early fails. */
	return k < 0 ? k : sd_bus_message_exit_container(m);
}

/* GetRecordsAfter3's reply, checked: n rows as parallel arrays inside the message. */
struct rows_reply {
	uint64_t head;
	const uint8_t *prev_hash;	/* what the first row chains from */
	size_t n;
	const uint64_t *seq, *start, *end;
	const char **serial;		/* malloc()ed; the strings are the message's */
	const uint8_t *probe, *status;
	const uint32_t *count;
	const int32_t *min, *mean, *max;
	const uint8_t **samples_sha256, **hash;	/* malloc()ed; the bytes are the message's */
	const uint32_t *lost;
	const uint8_t *lost_why, *has_lost;
};

static void rows_reply_free(struct rows_reply *r)
{
	free(r->serial);
	free(r->samples_sha256);
	free(r->hash);
}

/* Read and check @m: rows after @after, in seq order, none past the head. */
static int read_rows(sd_bus_message *m, uint64_t after, struct rows_reply *r)
{
	size_t n[12], i = 0;
	int k;

	memset(r, 0, sizeof(*r));
	k = sd_bus_message_read(m, "t", &r->head);
	if (k >= 0)
		k = read_hash(m, &r->prev_hash, true);
	if (k >= 0)
		k = read_array(m, 't', (const void **)&r->seq, 8, &n[0]);
	if (k >= 0)
		k = read_array(m, 't', (const void **)&r->start, 8, &n[1]);
	if (k >= 0)
		k = read_array(m, 't', (const void **)&r->end, 8, &n[2]);
	if (k < 0)
		return k;
	r->n = n[0];
	r->serial = calloc(r->n ? r->n : 1, sizeof(*r->serial));
	r->samples_sha256 = calloc(r->n ? r->n : 1, sizeof(*r->samples_sha256));
	r->hash = calloc(r->n ? r->n : 1, sizeof(*r->hash));
	if (!r->serial || !r->samples_sha256 || !r->hash)
		return -ENOMEM;
	k = sd_bus_message_enter_container(m, 'a', "s");
	while (k >= 0 && i < r->n && (k = sd_bus_message_read(m, "s", &r->serial[i])) > 0)
		i++;
	/* More serials than rows: exiting early fails. */
	if (k >= 0)
		k = sd_bus_message_exit_container(m);
	if (k >= 0)
		k = read_array(m, 'y', (const void **)&r->probe, 1, &n[3]);
	if (k >= 0)
		k = read_array(m, 'u', (const void **)&r->count, 4, &n[4]);
	if (k >= 0)
		k = read_array(m, 'i', (const void **)&r->min, 4, &n[5]);
	if (k >= 0)
		k = read_array(m, 'i', (const void **)&r->mean, 4, &n[6]);
	if (k >= 0)
		k = read_array(m, 'i', (const void **)&r->max, 4, &n[7]);
	if (k >= 0)
		k = read_array(m, 'y', (const void **)&r->status, 1, &n[8]);
	if (k >= 0)
		k = read_hashes(m, r->n, r->samples_sha256, true);
	if (k >= 0)
		k = read_hashes(m, r->n, r->hash, false);
	if (k >= 0)
		k = read_array(m, 'u', (const void **)&r->lost, 4, &n[9]);
	if (k >= 0)
		k = read_array(m, 'y', (const void **)&r->lost_why, 1, &n[10]);
	if (k >= 0)
		k = read_array(m, 'y', (const void **)&r->has_lost, 1, &n[11]);
	if (k >= 0 && i != r->n)
		k = -EBADMSG;
	if (k >= 0 && r->n && !r->prev_hash)
		k = -EBADMSG;
	for (int j = 1; k >= 0 && j < 12; j++)
		if (n[j] != r->n)
			k = -EBADMSG;
	for (i = 0; k >= 0 && i < r->n; i++)
		if (r->seq[i] <= (i ? r->seq[i - 1] : after) || r->seq[i] > r->head ||
		    r->probe[i] > 2 || r->status[i] >= RECORD_STATUS_COUNT || r->end[i] < r->start[i] ||
		    (r->lost_why[i] & ~RECORD_LOST_KNOWN) || r->has_lost[i] > 1)
			k = -EBADMSG;
	return k < 0 ? k : 0;
}

/*
 * A fetch's reply came: the stream may fetch again. True when it is rows
 * to publish (an error reply or a lost broker leaves them for the next
 * fetch, from what was sent).
 */
static bool fetch_answered(struct uplink *u, struct stream *s, sd_bus_message *m,
			   const char *method)
{
	s->fetching = false;
	s->call = sd_bus_slot_unref(s->call);
	if (sd_bus_message_is_method_error(m, NULL)) {
		log_debug("%s: %s", method, sd_bus_message_get_error(m)->message);
		return false;
	}
	return u->mosq && u->conn == CONNECTED;
}

/* After a batch of publishes: the units' state, the backlog, and more. */
static void published(struct uplink *u)
{
	ack_wait_update(u);
	publish_units(u, false);
	backlog_update(u);
	sync_io(u);
	pump(u);
}

static int on_records(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	struct rows_reply r;
	int k;

	(void)ret_error;
	if (!fetch_answered(u, &u->rec, m, "GetRecordsAfter3"))
		return 0;
	k = read_rows(m, u->rec.sent, &r);
	if (k < 0) {
		log_warning("ignoring a malformed GetRecordsAfter3 reply: %s", strerror(-k));
		rows_reply_free(&r);
		return 0;
	}
	heard_head(u, &u->rec, r.head);
	if (!r.n)
		nothing_until_head(u, &u->rec, r.head);
	for (size_t i = 0; i < r.n && u->rec.n < WINDOW; i++) {
		struct uplink_row row = {
			.seq = r.seq[i], .start_us = r.start[i], .end_us = r.end[i],
			.serial = r.serial[i], .probe = r.probe[i], .n = r.count[i],
			.min = r.min[i], .mean = r.mean[i], .max = r.max[i], .status = r.status[i],
			.lost = r.lost[i], .lost_why = r.lost_why[i], .has_lost = r.has_lost[i],
			.samples_sha256 = r.samples_sha256[i], .hash = r.hash[i],
			.prev_hash = i ? r.hash[i - 1] : r.prev_hash,
		};
		bool host = !*row.serial;
		int mid;

		k = publish(u, uplink_topic(&u->origin, host ? NULL : row.serial,
					    host ? "gap" : "interval"),
			    uplink_interval_json(&u->origin, &row, historical(&u->rec, row.seq)),
			    1, false, &mid);
		if (k != MOSQ_ERR_SUCCESS) {
			publish_failed(u, k);
			break;
		}
		sent(&u->rec, row.seq, mid);
		if (!host) {
			struct unit_slot *s = unit_slot(u, row.serial);

			if (s && uplink_state_row(&s->st, &row))
				s->dirty = true;
		}
	}
	rows_reply_free(&r);
	published(u);
	return 0;
}

static int read_entry(sd_bus_message *m, struct record_event *ev)
{
	int has_uid, has_reading, k;
	uint32_t probe, uid, nulls;

	k = sd_bus_message_enter_container(m, 'r', "ttssubussssbxsuay");
	if (k <= 0)
		return k;
	k = sd_bus_message_read(m, "ttssubussssbxsu", &ev->seq, &ev->time_us, &ev->event,
				&ev->serial, &probe, &has_uid, &uid, &ev->user, &ev->what,
				&ev->old_value, &ev->new_value, &has_reading, &ev->reading,
				&ev->detail, &nulls);
	if (k >= 0)
		k = read_hash(m, &ev->hash, false);
	if (k >= 0)
		k = sd_bus_message_exit_container(m);
	if (k < 0)
		return k;
	if (probe > 2 || !*ev->event || nulls > 31)
		return -EBADMSG;
	/* The columns that are NULL in the record, not '' (the chain tells them apart). */
	if (nulls & 1)
		ev->user = NULL;
	if (nulls & 2)
		ev->what = NULL;
	if (nulls & 4)
		ev->old_value = NULL;
	if (nulls & 8)
		ev->new_value = NULL;
	if (nulls & 16)
		ev->detail = NULL;
	ev->probe = probe;
	ev->has_uid = has_uid;
	ev->uid = uid;
	ev->has_reading = has_reading;
	return 1;
}

static int on_audit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	struct record_event ev;
	const uint8_t *prev;
	uint64_t head;
	int k;

	(void)ret_error;
	if (!fetch_answered(u, &u->aud, m, "GetAuditAfter2"))
		return 0;
	k = sd_bus_message_read(m, "t", &head);
	if (k >= 0)
		k = read_hash(m, &prev, true);
	if (k >= 0)
		k = sd_bus_message_enter_container(m, 'a', "(ttssubussssbxsuay)");
	if (k >= 0)
		heard_head(u, &u->aud, head);
	if (k >= 0 && sd_bus_message_at_end(m, false) > 0)
		nothing_until_head(u, &u->aud, head);
	while (k >= 0 && u->aud.n < WINDOW && (k = read_entry(m, &ev)) > 0) {
		bool host = !*ev.serial;
		int mid;

		if (ev.seq <= u->aud.sent || ev.seq > head || !prev) {
			k = -EBADMSG;
			break;
		}
		k = publish(u, uplink_topic(&u->origin, host ? NULL : ev.serial, "event"),
			    uplink_event_json(&u->origin, &ev, prev, historical(&u->aud, ev.seq)), 1,
			    false, &mid);
		if (k != MOSQ_ERR_SUCCESS) {
			publish_failed(u, k);
			k = 0;
			break;
		}
		sent(&u->aud, ev.seq, mid);
		prev = ev.hash;
		if (!host) {
			struct unit_slot *s = unit_slot(u, ev.serial);

			if (s && uplink_state_event(&s->st, &ev))
				s->dirty = true;
		}
	}
	if (k < 0)
		log_warning("ignoring the rest of a malformed GetAuditAfter2 reply: %s", strerror(-k));
	published(u);
	return 0;
}

/* Ask the recorder for what comes after what was sent, as far as the window allows. */
static void fetch(struct uplink *u, struct stream *s, bool audit)
{
	uint32_t room = WINDOW - (uint32_t)s->n;
	int k;

	if (s->fetching || !room || (s->historical_known && s->sent >= s->head))
		return;
	k = sd_bus_call_method_async(u->bus, &s->call, RECORDER_BUS_NAME, RECORDER_PATH,
				     RECORDER_IFACE, audit ? "GetAuditAfter2" : "GetRecordsAfter3",
				     audit ? on_audit : on_records, u, "tu", s->sent, room);
	if (k < 0)
		log_error("cannot ask the recorder for the %s: %s", s->name, strerror(-k));
	else
		s->fetching = true;
}

void pump(struct uplink *u)
{
	if (u->conn != CONNECTED || !u->cursor_known)
		return;
	fetch(u, &u->rec, false);
	fetch(u, &u->aud, true);
}

/*
 * Since when a PUBACK is due: the first message of an empty window, or the
 * last acknowledgement (@progress) while others are still out.
 */
static void ack_wait(struct uplink *u, bool progress)
{
	struct timespec ts;

	if (!u->rec.n && !u->aud.n) {
		u->waiting_since = 0;
		return;
	}
	if (u->waiting_since && !progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	u->waiting_since = (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000 ?: 1;
}

void ack_wait_update(struct uplink *u)
{
	ack_wait(u, false);
}

/* The broker has the message @mid: move the cursor over what it has in a row. */
void on_publish(struct mosquitto *mosq, void *userdata, int mid)
{
	struct uplink *u = userdata;
	struct stream *streams[] = { &u->rec, &u->aud };

	(void)mosq;
	for (int j = 0; j < 2; j++) {
		struct stream *s = streams[j];
		size_t i, done;

		for (i = 0; i < s->n && s->q[i].mid != mid; i++)
			;
		if (i == s->n)
			continue;
		s->q[i].acked = true;
		ack_wait(u, true);
		for (done = 0; done < s->n && s->q[done].acked; done++)
			;
		if (!done)
			return;
		memmove(s->q, s->q + done, (s->n - done) * sizeof(s->q[0]));
		s->n -= done;
		ack_wait(u, true);
		s->acked = s->n ? s->q[0].seq - 1 : s->sent;
		u->cursor_dirty = true;
		backlog_update(u);
		pump(u);
		return;
	}
}

/* First start: forward from the record's end as it is now (MQTT.md). */
static int on_first_audit_head(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	uint64_t head;

	(void)ret_error;
	u->learning = false;
	if (sd_bus_message_is_method_error(m, NULL) || sd_bus_message_read(m, "t", &head) < 0)
		return 0;	/* when the recorder is back, again */
	u->aud.acked = u->aud.sent = head;
	if (head > u->aud.head)
		u->aud.head = head;
	u->cursor_known = u->cursor_dirty = true;
	log_info("first start: forwarding the record from row %" PRIu64 " and the audit trail "
		 "from entry %" PRIu64 " on", u->rec.acked + 1, u->aud.acked + 1);
	(void)cursor_save(u);
	backlog_update(u);
	pump(u);
	return 0;
}

static int on_first_record_head(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	uint64_t head;
	int k;

	(void)ret_error;
	if (sd_bus_message_is_method_error(m, NULL) || sd_bus_message_read(m, "t", &head) < 0) {
		u->learning = false;
		return 0;
	}
	u->rec.acked = u->rec.sent = head;
	if (head > u->rec.head)
		u->rec.head = head;
	k = sd_bus_call_method_async(u->bus, NULL, RECORDER_BUS_NAME, RECORDER_PATH,
				     RECORDER_IFACE, "GetAuditAfter", on_first_audit_head, u, "tu",
				     (uint64_t)INT64_MAX, (uint32_t)1);
	if (k < 0) {
		u->learning = false;
		log_error("cannot ask the recorder for its heads: %s", strerror(-k));
	}
	return 0;
}

/* With no cursor yet: ask for the heads (a call past any seq answers only them). */
void learn_heads(struct uplink *u)
{
	int k;

	if (u->cursor_known || u->learning)
		return;
	k = sd_bus_call_method_async(u->bus, NULL, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
				     "GetRecordsAfter", on_first_record_head, u, "tu",
				     (uint64_t)INT64_MAX, (uint32_t)1);
	if (k < 0)
		log_error("cannot ask the recorder for its heads: %s", strerror(-k));
	else
		u->learning = true;
}

int on_committed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	uint64_t rec, aud;

	(void)ret_error;
	if (sd_bus_message_read(m, "tt", &rec, &aud) < 0) {
		log_warning("ignoring a malformed Committed signal");
		return 0;
	}
	if (rec > u->rec.head)
		u->rec.head = rec;
	if (aud > u->aud.head)
		u->aud.head = aud;
	backlog_update(u);
	pump(u);
	return 0;
}

int on_recorder_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	const char *name, *old_owner, *new_owner;

	(void)ret_error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	if (*new_owner) {
		learn_heads(u);
		pump(u);
	}
	return 0;
}
