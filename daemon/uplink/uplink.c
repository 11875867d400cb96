// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-uplink - forwards the temperature record to an MQTT broker
 * (MQTT.md), the only networked piece of coldroom-sensor.
 *
 * What it sends comes from the record (coldroom-recorder, over
 * org.coldroom.Recorder1): every interval row and every audit entry once,
 * in seq order, each stream from a cursor kept in the state directory
 * that moves only over entries the broker acknowledged (PUBACK). So a
 * broker that is away loses nothing: on the next connection the backlog
 * goes first, marked historical, then the live stream.
 *
 * libmosquitto runs inside sd-event, single-threaded: its socket is an IO
 * source (EPOLLOUT only while it has something to write), a 1 s timer
 * does its keepalive, and a failed connection is retried with an
 * exponential backoff on a timer. Every attempt gets a new mosquitto
 * object, so that nothing libmosquitto queued in a broken session is sent
 * twice behind our back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus_names.h"
#include "log.h"
#include "readings_msg.h"
#include "service.h"
#include "unit_client.h"
#include "uplinkconf.h"
#include "uplinkmsg.h"
#include "util.h"

#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

#define DEFAULT_STATE_DIR	"/var/lib/coldroom-uplink"
#define CURSOR_FILE		"cursor"
#define USEC_PER_SEC		1000000ULL
#define WINDOW			100	/* unacknowledged messages per stream */
#define BACKOFF_MIN_S		1
#define BACKOFF_MAX_S		60
#define SECRET_MAX		4096
#define STATE_MAX		512

enum conn { DOWN, CONNECTING, CONNECTED };

struct inflight {
	uint64_t seq;
	int mid;
	bool acked;
};

/* The record rows or the audit entries, forwarded in seq order. */
struct stream {
	const char *name;		/* "record rows", "audit entries" */
	uint64_t acked;			/* every seq up to this one the broker has */
	uint64_t sent;			/* the last seq published in this session */
	uint64_t head;			/* the recorder's last commit, as last heard */
	uint64_t historical_upto;	/* this session's backlog: seqs up to it */
	bool historical_known;
	bool fetching;
	sd_bus_slot *call;		/* the pending GetRecordsAfter/GetAuditAfter */
	struct inflight q[WINDOW];	/* published, in seq order, not all acknowledged */
	size_t n;
};

struct unit_slot {
	struct uplink_unit_state st;
	bool used, dirty, discovered;
};

struct uplink {
	sd_event *event;
	sd_bus *bus;
	struct uplink_config cfg;
	struct uplink_origin origin;
	char host[UPLINK_NAME_MAX + 1];
	char client_id[128];
	char *password;
	const char *key_path;
	char key_cred[4096];
	const char *state_dir;

	struct mosquitto *mosq;
	sd_event_source *io, *misc_timer, *retry_timer, *tick, *refetch_timer;
	int io_fd;
	enum conn conn;
	unsigned int backoff_s;
	bool refused;			/* the broker refused this attempt's CONNECT */
	char last_error[256];	/* libmosquitto's last error log line */
	char verify_error[128];		/* why OpenSSL refused the broker's certificate */

	struct stream rec, aud;
	bool cursor_known;		/* the cursors are set (file, or the heads at first start) */
	bool learning;			/* asking for the heads at the first start */
	bool cursor_dirty;

	struct unit_slot *units;	/* by serial, open addressing */
	size_t units_cap, units_used;
	char **serial_by_number;	/* PublishSamples: coldroomd's unit numbers */
	size_t n_numbers;

	char state[STATE_MAX];		/* the State property and STATUS= line */
	char broker[300];
	uint64_t backlog;
	uint64_t told_record, told_audit;	/* the cursors last in PropertiesChanged */
	bool props_dirty;
	int connected;			/* "b" */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* --- what is shown: State, Backlog, STATUS= -------------------------------- */

/*
 * The backlog or a cursor moved. Told once a second at most (on_tick): at
 * thousands of units a PropertiesChanged per PUBACK would be a storm.
 */
static void backlog_update(struct uplink *u)
{
	uint64_t b = (u->rec.head > u->rec.acked ? u->rec.head - u->rec.acked : 0) +
		     (u->aud.head > u->aud.acked ? u->aud.head - u->aud.acked : 0);

	if (!u->cursor_known)
		b = 0;
	if (b == u->backlog && u->rec.acked == u->told_record && u->aud.acked == u->told_audit)
		return;
	u->backlog = b;
	u->props_dirty = true;
	(void)sd_event_source_set_enabled(u->tick, SD_EVENT_ONESHOT);
}

static void notify_status(struct uplink *u)
{
	if (u->conn == CONNECTED)
		sd_notifyf(0, "STATUS=connected to %s as %s/%s; backlog %" PRIu64, u->broker,
			   u->origin.site, u->origin.host, u->backlog);
	else
		sd_notifyf(0, "STATUS=%s; backlog %" PRIu64, u->state, u->backlog);
}

static __attribute__((format(printf, 3, 4)))
void set_state(struct uplink *u, int priority, const char *fmt, ...)
{
	char s[STATE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (!strcmp(s, u->state))
		return;
	snprintf(u->state, sizeof(u->state), "%s", s);
	log_fields(priority, NULL, "%s: %s", u->broker, s);
	u->connected = u->conn == CONNECTED;
	notify_status(u);
	if (u->bus)
		(void)sd_bus_emit_properties_changed(u->bus, UPLINK_PATH, UPLINK_IFACE, "State",
						     "Connected", NULL);
}

/* --- the cursors ------------------------------------------------------------ */

static int cursor_load(struct uplink *u)
{
	_cleanup_(closep) int dir = open(u->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(freep) char *text = NULL;
	unsigned long long rec, aud;
	size_t len;
	char tail;
	int k;

	if (dir < 0) {
		k = -errno;
		log_error("cannot open the state directory %s: %s", u->state_dir, strerror(-k));
		return k;
	}
	k = read_file_at(dir, CURSOR_FILE, 256, &text, &len);
	if (k == -ENOENT)
		return 0;	/* the first start: the heads, once known */
	if (k < 0) {
		log_error("cannot read %s/" CURSOR_FILE ": %s", u->state_dir, strerror(-k));
		return k;
	}
	if (sscanf(text, "record %llu\naudit %llu\n%c", &rec, &aud, &tail) != 2 ||
	    text[len - 1] != '\n') {
		log_error("%s/" CURSOR_FILE " is damaged; remove it to start again from the "
			  "record's end (what was not yet sent would not be sent)", u->state_dir);
		return -EBADMSG;
	}
	u->rec.acked = rec;
	u->aud.acked = aud;
	u->cursor_known = true;
	return 0;
}

/* Written whole to a new file and renamed over the old: never half a cursor. */
static int cursor_save(struct uplink *u)
{
	char path[4200], tmp[4210], text[64];
	int fd, k, n;

	if (!u->cursor_known || !u->cursor_dirty)
		return 0;
	n = snprintf(text, sizeof(text), "record %" PRIu64 "\naudit %" PRIu64 "\n", u->rec.acked,
		     u->aud.acked);
	snprintf(path, sizeof(path), "%s/" CURSOR_FILE, u->state_dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		k = -errno;
	} else {
		k = write_all(fd, text, (size_t)n);
		if (!k && fsync(fd) < 0)
			k = -errno;
		close(fd);
		if (!k && rename(tmp, path) < 0)
			k = -errno;
	}
	if (k) {
		log_error("cannot write %s: %s", path, strerror(-k));
		return k;
	}
	u->cursor_dirty = false;
	return 0;
}

/* --- units: the retained state and the discovery ------------------------- */

static struct unit_slot *unit_slot(struct uplink *u, const char *serial)
{
	uint32_t h = 2166136261u;
	size_t i;

	if (u->units_used * 2 >= u->units_cap) {
		size_t cap = u->units_cap ? u->units_cap * 2 : 64;
		struct unit_slot *old = u->units, *v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		u->units = v;
		u->units_cap = cap;
		u->units_used = 0;
		for (i = 0; old && i < cap / 2; i++)
			if (old[i].used)
				*unit_slot(u, old[i].st.serial) = old[i];
		free(old);
	}
	for (const char *p = serial; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = h & (u->units_cap - 1); u->units[i].used; i = (i + 1) & (u->units_cap - 1))
		if (!strcmp(u->units[i].st.serial, serial))
			return &u->units[i];
	u->units[i].used = true;
	snprintf(u->units[i].st.serial, sizeof(u->units[i].st.serial), "%s", serial);
	u->units_used++;
	return &u->units[i];
}

static void sync_io(struct uplink *u);

/*
 * Publish @payload (owned) on @topic (owned); the mid in *@mid when asked.
 * Returns libmosquitto's code (MOSQ_ERR_NOMEM when either is NULL).
 */
static int publish(struct uplink *u, char *topic, char *payload, int qos, bool retain, int *mid)
{
	int k = MOSQ_ERR_NOMEM;

	if (topic && payload)
		k = mosquitto_publish(u->mosq, mid, topic, (int)strlen(payload), payload, qos,
				      retain);
	if (k != MOSQ_ERR_SUCCESS)
		log_debug("cannot publish on %s: %s", topic ?: "?", mosquitto_strerror(k));
	free(topic);
	free(payload);
	return k;
}

static void publish_unit(struct uplink *u, struct unit_slot *s)
{
	char *topic = NULL;

	if (u->cfg.ha_discovery && !s->discovered) {
		s->discovered = true;
		for (unsigned int p = 1; p <= 2; p++) {
			char *payload = uplink_discovery_json(&u->origin, s->st.serial, p, &topic);

			(void)publish(u, topic, payload, 1, true, NULL);
		}
	}
	s->dirty = false;
	(void)publish(u, uplink_topic(&u->origin, s->st.serial, "state"),
		      uplink_state_json(&u->origin, &s->st), 1, true, NULL);
}

/* Every unit's state that changed (all, after a connect). */
static void publish_units(struct uplink *u, bool all)
{
	if (u->conn != CONNECTED)
		return;
	for (size_t i = 0; i < u->units_cap; i++)
		if (u->units[i].used && (all || u->units[i].dirty))
			publish_unit(u, &u->units[i]);
}

/* --- forwarding ------------------------------------------------------------ */

static void pump(struct uplink *u);
static void lost(struct uplink *u, int rc, int err);

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

/* GetRecordsAfter's reply, checked: n rows as parallel arrays inside the message. */
struct rows_reply {
	uint64_t head;
	size_t n;
	const uint64_t *seq, *start, *end;
	const char **serial;		/* malloc()ed; the strings are the message's */
	const uint8_t *probe, *status;
	const uint32_t *count;
	const int32_t *min, *mean, *max;
};

/* Read and check @m: rows after @after, in seq order, none past the head. */
static int read_rows(sd_bus_message *m, uint64_t after, struct rows_reply *r)
{
	size_t n[9], i = 0;
	int k;

	memset(r, 0, sizeof(*r));
	k = sd_bus_message_read(m, "t", &r->head);
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
	if (!r->serial)
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
	if (k >= 0 && i != r->n)
		k = -EBADMSG;
	for (int j = 1; k >= 0 && j < 9; j++)
		if (n[j] != r->n)
			k = -EBADMSG;
	for (i = 0; k >= 0 && i < r->n; i++)
		if (r->seq[i] <= (i ? r->seq[i - 1] : after) || r->seq[i] > r->head ||
		    r->probe[i] > 2 || r->status[i] >= RECORD_STATUS_COUNT || r->end[i] < r->start[i])
			k = -EBADMSG;
	return k < 0 ? k : 0;
}

static int on_records(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	struct rows_reply r;
	int k;

	(void)ret_error;
	u->rec.fetching = false;
	u->rec.call = sd_bus_slot_unref(u->rec.call);
	if (sd_bus_message_is_method_error(m, NULL)) {
		log_debug("GetRecordsAfter: %s", sd_bus_message_get_error(m)->message);
		return 0;
	}
	if (!u->mosq || u->conn != CONNECTED)
		return 0;
	k = read_rows(m, u->rec.sent, &r);
	if (k < 0) {
		log_warning("ignoring a malformed GetRecordsAfter reply: %s", strerror(-k));
		free(r.serial);
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
	free(r.serial);
	publish_units(u, false);
	backlog_update(u);
	sync_io(u);
	pump(u);
	return 0;
}

static int read_entry(sd_bus_message *m, struct record_event *ev)
{
	int has_uid, has_reading, k;
	uint32_t probe, uid;

	k = sd_bus_message_read(m, "(ttssubussssbxs)", &ev->seq, &ev->time_us, &ev->event,
				&ev->serial, &probe, &has_uid, &uid, &ev->user, &ev->what,
				&ev->old_value, &ev->new_value, &has_reading, &ev->reading,
				&ev->detail);
	if (k <= 0)
		return k;
	if (probe > 2 || !*ev->event)
		return -EBADMSG;
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
	uint64_t head;
	int k;

	(void)ret_error;
	u->aud.fetching = false;
	u->aud.call = sd_bus_slot_unref(u->aud.call);
	if (sd_bus_message_is_method_error(m, NULL)) {
		log_debug("GetAuditAfter: %s", sd_bus_message_get_error(m)->message);
		return 0;
	}
	if (!u->mosq || u->conn != CONNECTED)
		return 0;
	k = sd_bus_message_read(m, "t", &head);
	if (k >= 0)
		k = sd_bus_message_enter_container(m, 'a', "(ttssubussssbxs)");
	if (k >= 0)
		heard_head(u, &u->aud, head);
	if (k >= 0 && sd_bus_message_at_end(m, false) > 0)
		nothing_until_head(u, &u->aud, head);
	while (k >= 0 && u->aud.n < WINDOW && (k = read_entry(m, &ev)) > 0) {
		bool host = !*ev.serial;
		int mid;

		if (ev.seq <= u->aud.sent || ev.seq > head) {
			k = -EBADMSG;
			break;
		}
		k = publish(u, uplink_topic(&u->origin, host ? NULL : ev.serial, "event"),
			    uplink_event_json(&u->origin, &ev, historical(&u->aud, ev.seq)), 1, false,
			    &mid);
		if (k != MOSQ_ERR_SUCCESS) {
			publish_failed(u, k);
			k = 0;
			break;
		}
		sent(&u->aud, ev.seq, mid);
		if (!host) {
			struct unit_slot *s = unit_slot(u, ev.serial);

			if (s && uplink_state_event(&s->st, &ev))
				s->dirty = true;
		}
	}
	if (k < 0)
		log_warning("ignoring the rest of a malformed GetAuditAfter reply: %s", strerror(-k));
	publish_units(u, false);
	backlog_update(u);
	sync_io(u);
	pump(u);
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
				     RECORDER_IFACE, audit ? "GetAuditAfter" : "GetRecordsAfter",
				     audit ? on_audit : on_records, u, "tu", s->sent, room);
	if (k < 0)
		log_error("cannot ask the recorder for the %s: %s", s->name, strerror(-k));
	else
		s->fetching = true;
}

static void pump(struct uplink *u)
{
	if (u->conn != CONNECTED || !u->cursor_known)
		return;
	fetch(u, &u->rec, false);
	fetch(u, &u->aud, true);
}

/* The broker has the message @mid: move the cursor over what it has in a row. */
static void on_publish(struct mosquitto *mosq, void *userdata, int mid)
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
		for (done = 0; done < s->n && s->q[done].acked; done++)
			;
		if (!done)
			return;
		memmove(s->q, s->q + done, (s->n - done) * sizeof(s->q[0]));
		s->n -= done;
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
static void learn_heads(struct uplink *u)
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

static int on_committed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
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

static int on_recorder_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
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

/* --- PublishSamples: coldroomd's Readings, live only -------------------------- */

static void numbers_free(struct uplink *u)
{
	for (size_t i = 0; i < u->n_numbers; i++)
		free(u->serial_by_number[i]);
	free(u->serial_by_number);
	u->serial_by_number = NULL;
	u->n_numbers = 0;
}

static void numbers_fetch(struct uplink *u)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct unit_list l = { 0 };
	size_t n = 0;

	numbers_free(u);
	if (units_fetch(u->bus, &l, &e) < 0) {
		log_debug("cannot list coldroomd's units: %s", e.message ?: "?");
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].number != NO_NUMBER && l.v[i].number >= n)
			n = l.v[i].number + 1;
	u->serial_by_number = n ? calloc(n, sizeof(char *)) : NULL;
	u->n_numbers = u->serial_by_number ? n : 0;
	for (size_t i = 0; i < l.n && u->n_numbers; i++)
		if (l.v[i].number != NO_NUMBER && l.v[i].serial[0])
			u->serial_by_number[l.v[i].number] = strdup(l.v[i].serial);
	unit_list_free(&l);
}

static int on_refetch(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s, (void)usec;
	numbers_fetch(userdata);
	return 0;
}

/* Units came or went: list them again, once for a whole burst (thousands at boot). */
static int on_units_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;

	(void)m, (void)ret_error;
	if (sd_event_source_get_enabled(u->refetch_timer, NULL) > 0)
		return 0;
	(void)sd_event_source_set_time_relative(u->refetch_timer, USEC_PER_SEC / 2);
	(void)sd_event_source_set_enabled(u->refetch_timer, SD_EVENT_ONESHOT);
	return 0;
}

static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	struct readings_msg r;

	(void)ret_error;
	if (u->conn != CONNECTED)
		return 0;	/* live only: nothing of it is kept */
	if (readings_msg_read(m, &r) < 0) {
		log_warning("ignoring a malformed Readings signal");
		return 0;
	}
	for (size_t i = 0; i < r.n; i++) {
		const char *serial = r.unit[i] < u->n_numbers ? u->serial_by_number[r.unit[i]] : NULL;
		struct uplink_sample s = {
			.serial = serial, .sample_seq = r.sample_seq[i], .time_us = r.last_update[i],
			.temp = { r.temp1[i], r.temp2[i] },
			.status = { r.temp1_status[i], r.temp2_status[i] },
			.alarm = { r.alarms[i] & READINGS_ALARM_TEMP1, r.alarms[i] & READINGS_ALARM_TEMP2 },
		};

		if (serial)
			(void)publish(u, uplink_topic(&u->origin, serial, "sample"),
				      uplink_sample_json(&u->origin, &s), 0, false, NULL);
	}
	sync_io(u);
	return 0;
}

/* --- the connection ------------------------------------------------------- */

static void schedule_retry(struct uplink *u)
{
	uint64_t delay = (uint64_t)u->backoff_s * USEC_PER_SEC;

	if (u->backoff_s < BACKOFF_MAX_S)
		u->backoff_s = u->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : u->backoff_s * 2;
	(void)sd_event_source_set_time_relative(u->retry_timer, delay);
	(void)sd_event_source_set_enabled(u->retry_timer, SD_EVENT_ONESHOT);
}

/* What went wrong with a connection, in words a person can act on. */
static void describe_failure(struct uplink *u, int rc, int err, char *buf, size_t size)
{
	if (u->verify_error[0])
		snprintf(buf, size, "TLS: certificate verify failed (%s)", u->verify_error);
	else if (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE)
		snprintf(buf, size, "TLS: %s", u->last_error[0] ? u->last_error :
			 "the handshake failed");
	else if (rc == MOSQ_ERR_ERRNO && u->conn == CONNECTING && (err == EPIPE || err == ECONNRESET))
		/* In a TLS handshake libmosquitto swallows the refusal itself. */
		snprintf(buf, size, "connection failed: refused or closed before the broker "
			 "answered (%s)", strerror(err));
	else if (rc == MOSQ_ERR_ERRNO)
		snprintf(buf, size, "connection failed: %s", strerror(err));
	else if (rc == MOSQ_ERR_EAI)
		snprintf(buf, size, "cannot resolve the broker's name: %s", gai_strerror(err));
	else if (rc == MOSQ_ERR_KEEPALIVE)
		snprintf(buf, size, "connection lost: the broker did not answer within the keepalive");
	else
		snprintf(buf, size, "connection lost: %s", mosquitto_strerror(rc));
}

/* The connection is over (or never was): say why, and try again later. */
static void lost(struct uplink *u, int rc, int err)
{
	char why[STATE_MAX];

	if (u->conn == DOWN)
		return;
	if (!u->refused)
		describe_failure(u, rc, err, why, sizeof(why));
	u->conn = DOWN;
	u->io = sd_event_source_disable_unref(u->io);
	u->io_fd = -1;
	(void)sd_event_source_set_enabled(u->misc_timer, SD_EVENT_OFF);
	/* Not acknowledged is not sent: the next session sends it again. */
	u->rec.n = u->aud.n = 0;
	u->rec.fetching = u->aud.fetching = false;
	u->rec.call = sd_bus_slot_unref(u->rec.call);
	u->aud.call = sd_bus_slot_unref(u->aud.call);
	if (!u->refused)
		set_state(u, LOG_ERR, "%s; retrying in %u s", why, u->backoff_s);
	schedule_retry(u);
}

static void on_connect(struct mosquitto *mosq, void *userdata, int rc)
{
	struct uplink *u = userdata;
	char *online;

	(void)mosq;
	if (rc) {
		/* MQTT 3.1.1 CONNACK codes: 4 bad user name or password, 5 not authorized. */
		u->refused = true;
		set_state(u, LOG_ERR, "refused by the broker: %s%s; retrying in %u s",
			  mosquitto_connack_string(rc),
			  rc == 4 || rc == 5 ? " (not authorized: bad user name or password?)" : "",
			  u->backoff_s);
		return;
	}
	u->conn = CONNECTED;
	u->backoff_s = BACKOFF_MIN_S;
	u->rec.sent = u->rec.acked;
	u->aud.sent = u->aud.acked;
	/* What is committed by now is this session's backlog; the first replies say how far. */
	u->rec.historical_known = u->aud.historical_known = false;
	/* A broker without persistence forgot the retained discovery: say it again. */
	for (size_t i = 0; i < u->units_cap; i++)
		u->units[i].discovered = false;
	online = uplink_status_json(&u->origin, true, COLDROOM_VERSION, now_us());
	(void)publish(u, uplink_topic(&u->origin, NULL, "status"), online, 1, true, NULL);
	publish_units(u, true);
	set_state(u, LOG_NOTICE, "connected");
	pump(u);
}

static void on_disconnect(struct mosquitto *mosq, void *userdata, int rc)
{
	(void)mosq;
	lost(userdata, rc, errno);
}

static void on_log(struct mosquitto *mosq, void *userdata, int level, const char *str)
{
	struct uplink *u = userdata;

	if (level & MOSQ_LOG_ERR) {
		SSL *ssl = mosquitto_ssl_get(mosq);
		long verdict = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

		snprintf(u->last_error, sizeof(u->last_error), "%s", str);
		/* Logged while the TLS session is still there: OpenSSL's reason. */
		if (verdict != X509_V_OK)
			snprintf(u->verify_error, sizeof(u->verify_error), "%s",
				 X509_verify_cert_error_string(verdict));
		log_debug("libmosquitto: %s", str);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct uplink *u = userdata;
	int rc = MOSQ_ERR_SUCCESS, read_errno;

	(void)s;
	if (revents & EPOLLERR) {
		/* Before any read or write consumes it: why the socket failed (a refused connect). */
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
			lost(u, MOSQ_ERR_ERRNO, err);
			return 0;
		}
	}
	errno = 0;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		rc = mosquitto_loop_read(u->mosq, 1);
	read_errno = errno;
	if (rc == MOSQ_ERR_SUCCESS && u->conn != DOWN && (revents & (EPOLLHUP | EPOLLERR))) {
		/*
		 * What was readable is read; a socket that is still in error
		 * (a refused connect during the TLS handshake, which
		 * libmosquitto does not report) would wake us forever.
		 */
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || !err)
			err = read_errno && read_errno != EAGAIN ? read_errno : ECONNRESET;
		lost(u, MOSQ_ERR_ERRNO, err);
		return 0;
	}
	if (rc == MOSQ_ERR_SUCCESS && u->conn != DOWN && (revents & EPOLLOUT))
		rc = mosquitto_loop_write(u->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		lost(u, rc, errno);
	else
		sync_io(u);
	return 0;
}

/* Follow libmosquitto's socket: a new one after a connect, writes only when pending. */
static void sync_io(struct uplink *u)
{
	int fd = u->mosq && u->conn != DOWN ? mosquitto_socket(u->mosq) : -1;
	uint32_t events = EPOLLIN | (fd >= 0 && mosquitto_want_write(u->mosq) ? EPOLLOUT : 0);

	if (fd != u->io_fd) {
		u->io = sd_event_source_disable_unref(u->io);
		u->io_fd = -1;
		if (fd >= 0 && sd_event_add_io(u->event, &u->io, fd, events, on_io, u) >= 0)
			u->io_fd = fd;
		return;
	}
	if (u->io)
		(void)sd_event_source_set_io_events(u->io, events);
}

static int on_misc(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;
	int rc;

	(void)usec;
	if (u->conn == DOWN)
		return 0;
	rc = mosquitto_loop_misc(u->mosq);
	/* Also what TLS holds decrypted but unread, which epoll cannot see. */
	if (rc == MOSQ_ERR_SUCCESS && u->conn != DOWN && mosquitto_socket(u->mosq) >= 0)
		rc = mosquitto_loop_read(u->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		lost(u, rc, errno);
	else
		sync_io(u);
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}

static int new_client(struct uplink *u)
{
	char *will;
	int k;

	u->mosq = mosquitto_new(u->client_id, true, u);
	if (!u->mosq)
		return -errno;
	mosquitto_connect_callback_set(u->mosq, on_connect);
	mosquitto_disconnect_callback_set(u->mosq, on_disconnect);
	mosquitto_publish_callback_set(u->mosq, on_publish);
	mosquitto_log_callback_set(u->mosq, on_log);
	(void)mosquitto_int_option(u->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	/* Our window bounds what is in flight; libmosquitto must not hold any back. */
	(void)mosquitto_max_inflight_messages_set(u->mosq, 0);
	k = u->cfg.username ? mosquitto_username_pw_set(u->mosq, u->cfg.username, u->password) :
			      MOSQ_ERR_SUCCESS;
	if (k == MOSQ_ERR_SUCCESS && u->cfg.ca_file)
		k = mosquitto_tls_set(u->mosq, u->cfg.ca_file, NULL, u->cfg.cert_file, u->key_path,
				      NULL);
	will = uplink_status_json(&u->origin, false, NULL, 0);
	if (k == MOSQ_ERR_SUCCESS) {
		char *topic = uplink_topic(&u->origin, NULL, "status");

		k = topic && will ? mosquitto_will_set(u->mosq, topic, (int)strlen(will), will, 1,
						       true) : MOSQ_ERR_NOMEM;
		free(topic);
	}
	free(will);
	return k == MOSQ_ERR_SUCCESS ? 0 : -EINVAL;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;
	int k, err;

	(void)s, (void)usec;
	if (u->mosq)
		mosquitto_destroy(u->mosq);
	u->mosq = NULL;
	u->refused = false;
	u->last_error[0] = u->verify_error[0] = '\0';
	k = new_client(u);
	if (k < 0) {
		set_state(u, LOG_ERR, "cannot set up the client: %s; retrying in %u s",
			  u->last_error[0] ? u->last_error :
			  "a CAFile=, CertFile= or KeyFile= that cannot be read", u->backoff_s);
		schedule_retry(u);
		return 0;
	}
	u->conn = CONNECTING;
	set_state(u, LOG_INFO, "connecting");
	/* The name is resolved here, blocking: MQTT.md says why that is acceptable. */
	k = mosquitto_connect_async(u->mosq, u->cfg.broker, (int)u->cfg.port,
				    (int)u->cfg.keepalive_s);
	err = errno;
	if (k != MOSQ_ERR_SUCCESS) {
		lost(u, k, err);
		return 0;
	}
	sync_io(u);
	(void)sd_event_source_set_time_relative(u->misc_timer, USEC_PER_SEC);
	(void)sd_event_source_set_enabled(u->misc_timer, SD_EVENT_ON);
	return 0;
}

/* Once a second while anything moves: the cursors to disk, the backlog to the bus. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;

	(void)usec;
	(void)cursor_save(u);
	if (u->props_dirty && u->bus) {
		u->props_dirty = false;
		u->told_record = u->rec.acked;
		u->told_audit = u->aud.acked;
		(void)sd_bus_emit_properties_changed(u->bus, UPLINK_PATH, UPLINK_IFACE, "Backlog",
						     "RecordSeq", "AuditSeq", NULL);
	}
	notify_status(u);
	/* At most once a second: a crash re-sends at most a second's worth (by seq). */
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}

/* --- D-Bus: org.coldroom.Uplink1 -------------------------------------------- */

static int get_cursor(sd_bus *bus, const char *path, const char *interface, const char *property,
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct uplink *u = userdata;

	(void)bus, (void)path, (void)interface, (void)error;
	return sd_bus_message_append(reply, "t",
				     !strcmp(property, "RecordSeq") ? u->rec.acked : u->aud.acked);
}

static int get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct uplink *u = userdata;

	(void)bus, (void)path, (void)interface, (void)error;
	if (!strcmp(property, "State"))
		return sd_bus_message_append(reply, "s", u->state);
	if (!strcmp(property, "Broker"))
		return sd_bus_message_append(reply, "s", u->broker);
	if (!strcmp(property, "Site"))
		return sd_bus_message_append(reply, "s", u->origin.site);
	return sd_bus_message_append(reply, "s", u->origin.host);
}

static const sd_bus_vtable properties_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("State", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Connected", "b", NULL, offsetof(struct uplink, connected),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Broker", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Site", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Host", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Backlog", "t", NULL, offsetof(struct uplink, backlog),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("RecordSeq", "t", get_cursor, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("AuditSeq", "t", get_cursor, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

static int on_name(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)userdata, (void)ret_error;
	if (e)
		log_warning("cannot own %s (%s): forwarding goes on, but its state cannot be read "
			    "over the bus", UPLINK_BUS_NAME, e->message ?: e->name);
	return 0;
}

static int bus_setup(struct uplink *u, const struct service *service, const char *spec)
{
	int k;

	k = service_bus_open(service, u->event, spec, &u->bus);
	if (k >= 0)
		k = sd_bus_add_object_vtable(u->bus, NULL, UPLINK_PATH, UPLINK_IFACE,
					     properties_vtable, u);
	if (k >= 0)
		k = sd_bus_request_name_async(u->bus, NULL, UPLINK_BUS_NAME, 0, on_name, NULL);
	if (k >= 0)
		k = sd_bus_match_signal(u->bus, NULL, RECORDER_BUS_NAME, RECORDER_PATH,
					RECORDER_IFACE, "Committed", on_committed, u);
	if (k >= 0)
		k = sd_bus_add_match(u->bus, NULL,
				     "type='signal',sender='org.freedesktop.DBus',"
				     "member='NameOwnerChanged',arg0='" RECORDER_BUS_NAME "'",
				     on_recorder_owner, u);
	if (k >= 0 && u->cfg.publish_samples) {
		k = sd_bus_match_signal(u->bus, NULL, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					"Readings", on_readings, u);
		if (k >= 0)
			k = sd_bus_match_signal(u->bus, NULL, SENSORS_BUS_NAME, SENSORS_PATH,
						"org.freedesktop.DBus.ObjectManager",
						"InterfacesAdded", on_units_changed, u);
		if (k >= 0)
			k = sd_bus_match_signal(u->bus, NULL, SENSORS_BUS_NAME, SENSORS_PATH,
						"org.freedesktop.DBus.ObjectManager",
						"InterfacesRemoved", on_units_changed, u);
		if (k >= 0)
			k = sd_bus_add_match(u->bus, NULL,
					     "type='signal',sender='org.freedesktop.DBus',"
					     "member='NameOwnerChanged',arg0='" SENSORS_BUS_NAME "'",
					     on_units_changed, u);
	}
	if (k < 0)
		log_error("cannot set up the bus: %s", strerror(-k));
	return k;
}

/* --- secrets: never on a command line, never world-readable ------------------ */

/*
 * The systemd credential @name ($CREDENTIALS_DIRECTORY/@name) if there is
 * one, else @path; in *@used the file it is. A file others may read is
 * refused: the secret is out already, and saying so is the help.
 */
static int secret_path(const char *name, const char *path, char *buf, size_t size,
		       const char **used)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	struct stat st;

	*used = NULL;
	if (dir && *dir) {
		snprintf(buf, size, "%s/%s", dir, name);
		if (access(buf, F_OK) == 0) {
			*used = buf;
			return 0;
		}
	}
	if (!path)
		return 0;
	if (stat(path, &st) < 0) {
		log_error("cannot read %s: %m", path);
		return -errno;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		log_error("%s may be read by every user (mode %04o): refusing to use it; "
			  "chmod o-rwx it, or use LoadCredential=%s:%s", path,
			  (unsigned int)(st.st_mode & 07777), name, path);
		return -EPERM;
	}
	*used = path;
	return 0;
}

static int load_secrets(struct uplink *u)
{
	char buf[4096];
	const char *path;
	size_t len;
	int k;

	k = secret_path("mqtt-password", u->cfg.password_file, buf, sizeof(buf), &path);
	if (k < 0)
		return k;
	if (path) {
		if (!u->cfg.username) {
			log_error("a password (%s) but no Username=", path);
			return -EINVAL;
		}
		k = read_file_at(AT_FDCWD, path, SECRET_MAX, &u->password, &len);
		if (k < 0) {
			log_error("cannot read the password from %s: %s", path, strerror(-k));
			return k;
		}
		/* One line: the newline an editor adds is not part of it. */
		u->password[strcspn(u->password, "\r\n")] = '\0';
	}
	k = secret_path("mqtt-key", u->cfg.key_file, u->key_cred, sizeof(u->key_cred), &u->key_path);
	if (k < 0)
		return k;
	if (u->key_path && !u->cfg.cert_file) {
		log_error("a TLS key (%s) but no CertFile=", u->key_path);
		return -EINVAL;
	}
	if (u->cfg.cert_file && !u->key_path) {
		log_error("CertFile= needs its key: KeyFile= or the credential mqtt-key");
		return -EINVAL;
	}
	return 0;
}

/* --- start and stop ------------------------------------------------------------ */

/* A clean stop says offline itself (a will is only for the unclean ones). */
static void say_goodbye(struct uplink *u)
{
	if (u->conn != CONNECTED)
		return;
	(void)publish(u, uplink_topic(&u->origin, NULL, "status"),
		      uplink_status_json(&u->origin, false, NULL, 0), 1, true, NULL);
	(void)mosquitto_disconnect(u->mosq);
	for (int i = 0; i < 10 && mosquitto_want_write(u->mosq); i++)
		if (mosquitto_loop_write(u->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
}

static int identity(struct uplink *u)
{
	if (u->cfg.host) {
		snprintf(u->host, sizeof(u->host), "%.64s", u->cfg.host);
	} else {
		char name[256];

		if (gethostname(name, sizeof(name)) < 0)
			return -errno;
		name[sizeof(name) - 1] = '\0';
		name[strcspn(name, ".")] = '\0';	/* the short name */
		if (!uplink_name_valid(name)) {
			log_error("the host name '%s' cannot be a topic level: set Host=", name);
			return -EINVAL;
		}
		snprintf(u->host, sizeof(u->host), "%.64s", name);
	}
	u->origin = (struct uplink_origin){ .site = u->cfg.site, .host = u->host };
	if (u->cfg.client_id)
		snprintf(u->client_id, sizeof(u->client_id), "%s", u->cfg.client_id);
	else
		snprintf(u->client_id, sizeof(u->client_id), "coldroom-%s-%s", u->cfg.site, u->host);
	snprintf(u->broker, sizeof(u->broker), strchr(u->cfg.broker, ':') ? "[%s]:%u" : "%s:%u",
		 u->cfg.broker, u->cfg.port);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroom-uplink [OPTIONS]\n"
		"Forwards the temperature record to an MQTT broker.\n\n"
		"  -c, --config FILE      settings (default " UPLINK_CONFIG_PATH ")\n"
		"  -s, --state-dir DIR    where the cursors are kept (default " DEFAULT_STATE_DIR ")\n");

}

static void uplink_done(struct uplink *u)
{
	if (u->mosq)
		mosquitto_destroy(u->mosq);
	sd_event_source_disable_unref(u->io);
	sd_event_source_disable_unref(u->misc_timer);
	sd_event_source_disable_unref(u->retry_timer);
	sd_event_source_disable_unref(u->tick);
	sd_event_source_disable_unref(u->refetch_timer);
	sd_bus_flush_close_unref(u->bus);
	sd_event_unref(u->event);
	numbers_free(u);
	free(u->units);
	if (u->password) {
		explicit_bzero(u->password, strlen(u->password));
		free(u->password);
	}
	uplink_config_free(&u->cfg);
}

static int on_option(int c, const char *arg, void *userdata)
{
	struct uplink *u = userdata;

	if (c != 's')
		return -EINVAL;
	u->state_dir = arg;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ 0 }
	};
	static const struct service service = {
		.name = "coldroom-uplink",
		.usage = usage,
		.default_config = UPLINK_CONFIG_PATH,
		.shortopts = "s:",
		.options = options,
		.option = on_option,
	};
	struct uplink u = { .state_dir = DEFAULT_STATE_DIR, .io_fd = -1,
			    .backoff_s = BACKOFF_MIN_S,
			    .rec = { .name = "record rows" }, .aud = { .name = "audit entries" } };
	struct service_args args;
	char err[UPLINK_ERROR_MAX + 64];
	int k;

	k = service_parse_args(&service, argc, argv, &args, &u);
	if (k <= 0)
		return service_exit_code(k);

	k = uplink_config_load(args.config, &u.cfg, err, sizeof(err));
	if (k == -ENOENT || (k == 0 && !u.cfg.broker)) {
		/* Off until configured: a clean exit, not a failure to restart. */
		log_notice("not configured: no Broker= in %s; nothing to do", args.config);
		/* Ready first: a notify service that exits before it is a failure. */
		sd_notifyf(0, "READY=1\nSTATUS=not configured (no Broker= in %s)", args.config);
		uplink_config_free(&u.cfg);
		return EXIT_SUCCESS;
	}
	if (k < 0) {
		log_error("%s", err);
		sd_notifyf(0, "STATUS=%s", err);
		goto out;
	}
	k = identity(&u);
	if (k >= 0)
		k = load_secrets(&u);
	if (k >= 0)
		k = cursor_load(&u);
	if (k < 0) {
		sd_notify(0, "STATUS=cannot start; the journal says why");
		goto out;
	}
	mosquitto_lib_init();

	k = service_event_new(&service, &u, &u.event);
	if (k < 0)
		goto out;
	k = sd_event_add_time_relative(u.event, &u.retry_timer, CLOCK_MONOTONIC, 0, 0, on_retry,
				       &u);
	if (k >= 0)
		k = sd_event_add_time_relative(u.event, &u.misc_timer, CLOCK_MONOTONIC,
					       USEC_PER_SEC, 100000, on_misc, &u);
	if (k >= 0)
		k = sd_event_source_set_enabled(u.misc_timer, SD_EVENT_OFF);
	if (k >= 0)
		k = sd_event_add_time_relative(u.event, &u.tick, CLOCK_MONOTONIC,
					       USEC_PER_SEC, 100000, on_tick, &u);
	if (k >= 0)
		k = sd_event_source_set_enabled(u.tick, SD_EVENT_OFF);
	if (k >= 0)
		k = sd_event_add_time_relative(u.event, &u.refetch_timer, CLOCK_MONOTONIC,
					       USEC_PER_SEC, 100000, on_refetch, &u);
	if (k >= 0)
		k = sd_event_source_set_enabled(u.refetch_timer, SD_EVENT_OFF);
	if (k < 0) {
		log_error("cannot set up the event loop: %s", strerror(-k));
		goto out;
	}
	snprintf(u.state, sizeof(u.state), "starting");
	k = bus_setup(&u, &service, args.bus);
	if (k < 0)
		goto out;
	learn_heads(&u);
	if (u.cfg.publish_samples)
		numbers_fetch(&u);
	sd_notify(0, "READY=1");
	log_info("forwarding the record of site %s, host %s to %s%s", u.origin.site, u.origin.host,
		 u.broker, u.cfg.ca_file ? " (TLS)" : "");

	k = service_run(u.event);
	say_goodbye(&u);
	u.cursor_dirty = true;
	if (cursor_save(&u) < 0 && k >= 0)
		k = -EIO;
	mosquitto_lib_cleanup();
out:
	uplink_done(&u);
	return k < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
