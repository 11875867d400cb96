// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-recorder - the temperature record of every unit coldroomd
 * publishes, kept in an SQLite database with hash chains (record.h).
 *
 * It is a client of org.coldroom.Sensors1 and needs none of coldroomd's
 * privileges: it follows the Readings signal (the readings), the
 * ObjectManager (units added and removed) and the units' PropertiesChanged
 * (firmware, labels, thresholds, intervals) and writes:
 * - one row per unit, probe and recording interval (intervals.h), a gap
 *   row with the reason when samples are missing, and a host row for the
 *   time the recorder was not running or the clock jumped;
 * - the audit trail: units, firmware, setting changes, threshold alarms,
 *   starts and stops, pruning.
 * Each interval is one transaction, written a grace period after its end;
 * events between intervals are committed at the end of the event-loop
 * iteration that saw them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus_names.h"
#include "config.h"
#include "hexstr.h"
#include "intervals.h"
#include "log.h"
#include "readings_msg.h"
#include "record.h"
#include "recorderbus.h"
#include "service.h"
#include "unit_client.h"
#include "unit_name.h"
#include "util.h"


#define USEC_PER_SEC		1000000ULL
#define GRACE_US		(5 * USEC_PER_SEC)	/* for samples in flight */
#define CLOCK_JUMP_US		(2 * USEC_PER_SEC)
#define PRUNE_EVERY_US		(3600 * USEC_PER_SEC)
#define PRUNE_BATCH		5000
#define PENDING_MAX		100000	/* events waiting for the disk */

struct unit_state {		/* cold: what the audit trail compares */
	struct unit_info info;
	bool known, present;
};

struct pending {		/* an event waiting for its commit */
	struct record_event ev;
	char *strings[7];	/* owned copies behind ev's pointers */
};

struct recorder {
	sd_event *event;
	sd_bus *bus;
	struct record *rec;
	struct intervals *iv;
	struct config cfg;
	const char *db_path;

	/* Per Number; the first two change with every sample. */
	uint64_t *last_seq;
	uint8_t *alarms;
	struct unit_state *units;
	uint32_t n_units;

	struct pending *pending;
	size_t n_pending, cap_pending;
	uint64_t dropped_events;

	sd_event_source *close_timer, *prune_timer, *commit_defer;
	uint64_t check_real, check_boot;	/* clock-jump detection */
	bool clock_jumped;
	bool write_failing;
	char status[256];
	struct recorder_face face;	/* org.coldroom.Recorder1 */
};

static uint64_t now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void format_when(uint64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / USEC_PER_SEC);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "%" PRIu64, us);
}

static void publish_status(struct recorder *rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void publish_status(struct recorder *rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rc->status, sizeof(rc->status), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", rc->status);
	rc->face.write_failing = rc->write_failing;
	recorder_bus_changed(rc->bus);
}

/* --- the audit trail ------------------------------------------------- */

static void pending_free(struct pending *p)
{
	for (size_t k = 0; k < 7; k++)
		free(p->strings[k]);
}

static int arm_commit(struct recorder *rc)
{
	return sd_event_source_set_enabled(rc->commit_defer, SD_EVENT_ONESHOT);
}

/*
 * Queue an event for the next commit. Strings are copied; any may be NULL.
 * Past PENDING_MAX (the disk has been failing for long) events are
 * counted, not kept, and the count goes into the trail when it works again.
 */
static void audit_by(struct recorder *rc, const char *event, const char *serial,
		     unsigned int probe, const char *what, const char *old_value,
		     const char *new_value, const int64_t *reading, const char *detail,
		     const uid_t *uid, const char *user)
{
	const char *src[7] = { event, serial, what, old_value, new_value, detail, user };
	struct pending *p;

	if (rc->n_pending == PENDING_MAX) {
		rc->dropped_events++;
		return;
	}
	if (rc->n_pending == rc->cap_pending) {
		size_t cap = rc->cap_pending ? rc->cap_pending * 2 : 64;
		struct pending *n = realloc(rc->pending, cap * sizeof(*n));

		if (!n) {
			rc->dropped_events++;
			return;
		}
		rc->pending = n;
		rc->cap_pending = cap;
	}
	p = &rc->pending[rc->n_pending];
	memset(p, 0, sizeof(*p));
	for (size_t k = 0; k < 7; k++)
		if (src[k] && !(p->strings[k] = strdup(src[k]))) {
			pending_free(p);
			rc->dropped_events++;
			return;
		}
	p->ev.time_us = now_us(CLOCK_REALTIME);
	p->ev.event = p->strings[0];
	p->ev.serial = p->strings[1];
	p->ev.probe = probe;
	p->ev.what = p->strings[2];
	p->ev.old_value = p->strings[3];
	p->ev.new_value = p->strings[4];
	p->ev.detail = p->strings[5];
	p->ev.user = p->strings[6];
	if (uid) {
		p->ev.has_uid = true;
		p->ev.uid = *uid;
	}
	if (reading) {
		p->ev.has_reading = true;
		p->ev.reading = *reading;
	}
	rc->n_pending++;
	(void)arm_commit(rc);
}

static void audit(struct recorder *rc, const char *event, const char *serial,
		  unsigned int probe, const char *what, const char *old_value,
		  const char *new_value, const int64_t *reading, const char *detail)
{
	audit_by(rc, event, serial, probe, what, old_value, new_value, reading, detail,
		 NULL, NULL);
}

/* Add the queued events to the open group. */
static int write_pending(struct recorder *rc)
{
	int k;

	if (rc->dropped_events) {
		char detail[96];
		struct record_event ev = { .time_us = now_us(CLOCK_REALTIME),
					   .event = "events-lost", .detail = detail };

		snprintf(detail, sizeof(detail), "%" PRIu64 " events while the record could not be written",
			 rc->dropped_events);
		k = record_add_event(rc->rec, &ev);
		if (k)
			return k;
	}
	for (size_t i = 0; i < rc->n_pending; i++) {
		k = record_add_event(rc->rec, &rc->pending[i].ev);
		if (k)
			return k;
	}
	return 0;
}

static void pending_done(struct recorder *rc)
{
	for (size_t i = 0; i < rc->n_pending; i++)
		pending_free(&rc->pending[i]);
	rc->n_pending = 0;
	rc->dropped_events = 0;
}

static void write_failed(struct recorder *rc, int k)
{
	if (!rc->write_failing)
		log_error("cannot write the record %s: %s%s", rc->db_path, record_error(rc->rec),
			  k == -ENOSPC ? " (disk full); retrying" : "; retrying");
	rc->write_failing = true;
	publish_status(rc, "cannot write the record: %s; retrying",
		       k == -ENOSPC ? "disk full" : record_error(rc->rec));
}

static void write_recovered(struct recorder *rc)
{
	if (!rc->write_failing)
		return;
	log_notice("the record is written again");
	rc->write_failing = false;
	rc->face.write_failing = false;
	recorder_bus_changed(rc->bus);
}

static int on_commit(sd_event_source *s, void *userdata)
{
	struct recorder *rc = userdata;
	int k;

	(void)s;
	if (!rc->n_pending && !rc->dropped_events)
		return 0;
	k = record_begin(rc->rec);
	if (!k)
		k = write_pending(rc);
	if (!k)
		k = record_commit(rc->rec);
	if (k) {
		record_rollback(rc->rec);
		/* Kept queued: the next interval's commit tries again. */
		write_failed(rc, k);
		return 0;
	}
	pending_done(rc);
	write_recovered(rc);
	recorder_bus_committed(rc->bus, &rc->face);
	return 0;
}

/* --- units ------------------------------------------------------------- */

static int units_grow(struct recorder *rc, uint32_t number)
{
	uint32_t n = rc->n_units ? rc->n_units : 64;
	struct unit_state *units;
	uint64_t *seq;
	uint8_t *alarms;

	while (n <= number)
		n *= 2;
	if (n > INTERVALS_MAX_UNITS)
		n = INTERVALS_MAX_UNITS;
	units = realloc(rc->units, n * sizeof(*units));
	if (!units)
		return -ENOMEM;
	rc->units = units;
	seq = realloc(rc->last_seq, n * sizeof(*seq));
	if (!seq)
		return -ENOMEM;
	rc->last_seq = seq;
	alarms = realloc(rc->alarms, n * sizeof(*alarms));
	if (!alarms)
		return -ENOMEM;
	rc->alarms = alarms;
	memset(units + rc->n_units, 0, (n - rc->n_units) * sizeof(*units));
	memset(seq + rc->n_units, 0, (n - rc->n_units) * sizeof(*seq));
	memset(alarms + rc->n_units, 0, (n - rc->n_units) * sizeof(*alarms));
	rc->n_units = n;
	return 0;
}

/* The unit state of a unit object path (.../unit/sensorN), or NULL. */
static struct unit_state *unit_by_path(struct recorder *rc, const char *path, uint32_t *number)
{
	const char *name = strrchr(path, '/');
	long n;

	if (!name || strncmp(path, SENSORS_PATH "/unit/", strlen(SENSORS_PATH "/unit/")))
		return NULL;
	n = unit_name_number(name + 1);
	if (n < 0 || (unsigned long)n >= rc->n_units || !rc->units[n].known ||
	    !rc->units[n].info.path || strcmp(rc->units[n].info.path, path))
		return NULL;
	*number = (uint32_t)n;
	return &rc->units[n];
}

/* Take @u (its path moves into the state) as unit @u->number, present. */
static int unit_seen(struct recorder *rc, struct unit_info *u, bool announce)
{
	struct unit_state *st;
	char detail[400];
	int k;

	if (u->number == NO_NUMBER || u->number >= INTERVALS_MAX_UNITS || !u->serial[0]) {
		log_warning("unit %s is not recorded: it has no sensorN number or serial",
			    u->path ? u->path : "?");
		return 0;
	}
	if (u->number >= rc->n_units) {
		k = units_grow(rc, u->number);
		if (k)
			return k;
	}
	k = intervals_unit_add(rc->iv, u->number, u->serial);
	if (k)
		return k;
	st = &rc->units[u->number];
	if (announce || (st->known && strcmp(st->info.serial, u->serial))) {
		snprintf(detail, sizeof(detail), "%s %s, model %s, label '%s', firmware %s",
			 u->name, u->serial, u->model, u->label, u->fw_state);
		audit(rc, "unit-added", u->serial, 0, NULL, NULL, NULL, NULL, detail);
	}
	free(st->info.path);
	st->info = *u;
	u->path = NULL;
	st->known = true;
	st->present = true;
	rc->alarms[u->number] = (uint8_t)((u->alarm[0] ? READINGS_ALARM_TEMP1 : 0) |
					  (u->alarm[1] ? READINGS_ALARM_TEMP2 : 0));
	return 0;
}

static void unit_gone(struct recorder *rc, uint32_t number, const char *why)
{
	struct unit_state *st = &rc->units[number];

	if (!st->present)
		return;
	st->present = false;
	intervals_unit_gone(rc->iv, number);
	audit(rc, "unit-removed", st->info.serial, 0, NULL, NULL, NULL, NULL, why);
}

/* Every unit coldroomd has now; units it no longer has are gone. */
static int fetch_all(struct recorder *rc, bool announce)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct unit_list l = { 0 };
	bool *listed;
	int k;

	k = units_fetch(rc->bus, &l, &e);
	if (k < 0) {
		/* Not running yet: it announces itself with NameOwnerChanged. */
		if (sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			return 0;
		log_error("cannot list the units: %s", e.message ? e.message : strerror(-k));
		return k;
	}
	for (size_t i = 0; i < l.n && !k; i++) {
		uint32_t number = l.v[i].number;
		bool was = number < rc->n_units && rc->units[number].present;

		k = unit_seen(rc, &l.v[i], announce && !was);
	}
	listed = k ? NULL : calloc(rc->n_units ? rc->n_units : 1, sizeof(*listed));
	if (!k && !listed)
		k = -ENOMEM;
	for (size_t i = 0; i < l.n && !k; i++)
		if (l.v[i].number < rc->n_units)
			listed[l.v[i].number] = true;
	for (uint32_t n = 0; n < rc->n_units && !k; n++)
		if (rc->units[n].present && !listed[n])
			unit_gone(rc, n, "no longer published by coldroomd");
	free(listed);
	unit_list_free(&l);
	return k;
}

/* --- signals ------------------------------------------------------------- */

static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	struct readings_msg r;

	(void)error;
	if (readings_msg_read(m, &r) < 0) {
		log_warning("ignoring a malformed Readings signal from %s",
			    sd_bus_message_get_sender(m) ?: "?");
		return 0;
	}
	for (size_t i = 0; i < r.n; i++) {
		uint32_t n = r.unit[i];
		uint8_t changed;

		if (n >= rc->n_units || !rc->units[n].present)
			continue;
		if (r.sample_seq[i] != rc->last_seq[n]) {
			rc->last_seq[n] = r.sample_seq[i];
			intervals_sample(rc->iv, n, 1, r.temp1[i], r.temp1_status[i], r.last_update[i]);
			intervals_sample(rc->iv, n, 2, r.temp2[i], r.temp2_status[i], r.last_update[i]);
		}
		changed = (uint8_t)(r.alarms[i] ^ rc->alarms[n]);
		if (!changed)
			continue;
		/* The kernel's threshold and hysteresis decide; the trail says when. */
		for (unsigned int p = 1; p <= 2; p++) {
			uint8_t bit = p == 1 ? READINGS_ALARM_TEMP1 : READINGS_ALARM_TEMP2;
			int64_t reading = p == 1 ? r.temp1[i] : r.temp2[i];

			if (changed & bit)
				audit(rc, r.alarms[i] & bit ? "threshold-exceeded" : "threshold-cleared",
				      rc->units[n].info.serial, p, NULL, NULL, NULL, &reading, NULL);
		}
		rc->alarms[n] = r.alarms[i];
	}
	return 0;
}

static void audit_setting(struct recorder *rc, const struct unit_info *u, const char *what,
			  long long old_value, long long new_value)
{
	char o[32], n[32];

	if (old_value == new_value)
		return;
	snprintf(o, sizeof(o), "%lld", old_value);
	snprintf(n, sizeof(n), "%lld", new_value);
	audit(rc, "setting-changed", u->serial, 0, what, o, n, NULL,
	      "not through coldroomd's methods: who is not known");
}

/* What changed in a unit's properties, into the trail. */
static void audit_changes(struct recorder *rc, const struct unit_info *was,
			  const struct unit_info *now)
{
	static const char *const names[2][3] = {
		{ "temp1_min", "temp1_max", "temp1_hyst" },
		{ "temp2_min", "temp2_max", "temp2_hyst" },
	};

	if (strcmp(was->label, now->label))
		audit(rc, "setting-changed", now->serial, 0, "label", was->label, now->label,
		      NULL, "not through coldroomd's methods: who is not known");
	for (int c = 0; c < 2; c++) {
		audit_setting(rc, now, names[c][0], was->min[c], now->min[c]);
		audit_setting(rc, now, names[c][1], was->max[c], now->max[c]);
		audit_setting(rc, now, names[c][2], was->hyst[c], now->hyst[c]);
	}
	audit_setting(rc, now, "update_interval_ms", was->interval_ms, now->interval_ms);
	if (strcmp(was->fw_state, now->fw_state)) {
		char detail[1200];

		if (!strcmp(now->fw_state, "ready")) {
			snprintf(detail, sizeof(detail), "version %s from %s", now->fw_version,
				 now->fw_source[0] ? now->fw_source : "/lib/firmware");
			audit(rc, "firmware-loaded", now->serial, 0, NULL, NULL, NULL, NULL, detail);
		} else if (!strcmp(now->fw_state, "failed")) {
			audit(rc, "firmware-failed", now->serial, 0, NULL, NULL, NULL, NULL,
			      now->fw_error);
		}
	}
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	struct unit_state *st;
	struct unit_info was;
	const char *iface;
	uint32_t number;
	int k;

	(void)error;
	st = unit_by_path(rc, sd_bus_message_get_path(m), &number);
	if (!st)
		return 0;
	k = sd_bus_message_read(m, "s", &iface);
	if (k < 0 || strcmp(iface, SENSORS_UNIT_IFACE))
		return 0;
	was = st->info;
	k = unit_props_read(m, &st->info);
	if (k < 0) {
		log_warning("ignoring a malformed PropertiesChanged of %s", st->info.path);
		return 0;
	}
	audit_changes(rc, &was, &st->info);
	return 0;
}

/*
 * A change made through coldroomd, with who made it. The unit's known
 * value moves with it, so that the PropertiesChanged that follows is no
 * second entry.
 */
static int on_setting_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static const char *const thr[2][3] = {
		{ "temp1_min", "temp1_max", "temp1_hyst" },
		{ "temp2_min", "temp2_max", "temp2_hyst" },
	};
	struct recorder *rc = userdata;
	const char *path, *name, *serial, *setting, *old_value, *new_value, *user;
	struct unit_state *st;
	unsigned long long v;
	uint32_t number, uid;
	uid_t who;

	(void)error;
	if (sd_bus_message_read(m, "osssssus", &path, &name, &serial, &setting, &old_value,
				&new_value, &uid, &user) < 0) {
		log_warning("ignoring a malformed SettingChanged");
		return 0;
	}
	who = (uid_t)uid;
	st = unit_by_path(rc, path, &number);
	if (!strcmp(setting, "firmware_reload")) {
		audit_by(rc, "firmware-reload-requested", serial, 0, NULL, NULL, NULL, NULL, NULL,
			 &who, user);
		return 0;
	}
	audit_by(rc, "setting-changed", serial, 0, setting, old_value, new_value, NULL, NULL,
		 &who, user);
	if (!st)
		return 0;
	if (!strcmp(setting, "label")) {
		snprintf(st->info.label, sizeof(st->info.label), "%s", new_value);
		return 0;
	}
	if (parse_ull(new_value[0] == '-' ? new_value + 1 : new_value, &v) < 0 || v > INT32_MAX)
		return 0;
	for (int c = 0; c < 2; c++) {
		int32_t val = new_value[0] == '-' ? -(int32_t)v : (int32_t)v;

		if (!strcmp(setting, thr[c][0]))
			st->info.min[c] = val;
		else if (!strcmp(setting, thr[c][1]))
			st->info.max[c] = val;
		else if (!strcmp(setting, thr[c][2]))
			st->info.hyst[c] = val;
	}
	if (!strcmp(setting, "update_interval_ms"))
		st->info.interval_ms = (uint32_t)v;
	return 0;
}

/*
 * Manager.AlarmChanged: an alarm's lifecycle (coldroomd's delays,
 * acknowledgements and escalation), with the reading and, for an
 * acknowledgement, who gave it and their comment.
 */
static int on_alarm_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	const char *event, *serial, *unit, *user, *comment;
	uint32_t probe, st, level, uid;
	uint64_t id, when;
	char name[64], detail[512];
	int32_t temp;
	int64_t reading;
	uid_t who;

	(void)error;
	if (sd_bus_message_read(m, "tsssuuuituss", &id, &event, &serial, &unit, &probe, &st,
				&level, &temp, &when, &uid, &user, &comment) < 0 ||
	    strlen(event) > 20 || probe < 1 || probe > 2) {
		log_warning("ignoring a malformed AlarmChanged");
		return 0;
	}
	snprintf(name, sizeof(name), "alarm-%s", event);
	snprintf(detail, sizeof(detail), "alarm %llu, level %u%s%s", (unsigned long long)id,
		 level, comment[0] ? ": " : "", comment);
	reading = temp;
	who = (uid_t)uid;
	audit_by(rc, name, serial, probe, NULL, NULL, NULL, &reading, detail,
		 !strcmp(event, "acknowledged") ? &who : NULL,
		 !strcmp(event, "acknowledged") ? user : NULL);
	return 0;
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	struct unit_info u = { .number = NO_NUMBER };
	const char *path;
	int k;

	(void)error;
	k = unit_interfaces_added_read(m, &path, &u);
	if (k < 0) {
		log_warning("ignoring a malformed InterfacesAdded");
		return 0;
	}
	if (k == 0)
		return 0;
	u.path = strdup(path);
	if (!u.path)
		return -ENOMEM;
	k = unit_seen(rc, &u, true);
	free(u.path);
	if (k < 0)
		log_error("cannot record unit %s: %s", path, strerror(-k));
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	const char *path;
	uint32_t number;

	(void)error;
	if (sd_bus_message_read(m, "o", &path) < 0)
		return 0;
	if (unit_by_path(rc, path, &number))
		unit_gone(rc, number, "removed");
	return 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	const char *name, *old_owner, *new_owner;

	(void)error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, SENSORS_BUS_NAME))
		return 0;
	if (!*new_owner) {
		/* Its units stop sampling; each interval says no-data until it is back. */
		audit(rc, "coldroomd-stopped", NULL, 0, NULL, NULL, NULL, NULL, NULL);
		return 0;
	}
	audit(rc, "coldroomd-started", NULL, 0, NULL, NULL, NULL, NULL, NULL);
	if (fetch_all(rc, true) < 0)
		log_warning("coldroomd is back but its units could not be listed");
	return 0;
}

/* --- intervals, clock and retention ------------------------------------ */

#define RETRY_US (5 * USEC_PER_SEC)

/* The next write: the oldest interval's, or a retry after a failed one. */
static int schedule_close(struct recorder *rc)
{
	uint64_t at = intervals_oldest(rc->iv) + intervals_length(rc->iv) + GRACE_US;
	int k;

	if (rc->write_failing && at < now_us(CLOCK_REALTIME) + RETRY_US)
		at = now_us(CLOCK_REALTIME) + RETRY_US;
	k = sd_event_source_set_time(rc->close_timer, at);
	return k < 0 ? k : sd_event_source_set_enabled(rc->close_timer, SD_EVENT_ONESHOT);
}

/* A host row: the whole host has no record for [start, end). */
static int write_host_gap(struct recorder *rc, uint64_t start, uint64_t end, unsigned int status)
{
	struct record_row row = { .start_us = start, .end_us = end, .serial = "",
				  .status = status };

	return end > start ? record_add_row(rc->rec, &row) : 0;
}

/*
 * Did the wall clock move against the boot clock since the last look?
 * Returns the jump (positive: forward) or 0.
 */
static int64_t clock_jump(struct recorder *rc, uint64_t real, uint64_t boot)
{
	int64_t jump = (int64_t)(real - rc->check_real) - (int64_t)(boot - rc->check_boot);

	rc->check_real = real;
	rc->check_boot = boot;
	return jump > (int64_t)CLOCK_JUMP_US || jump < -(int64_t)CLOCK_JUMP_US ? jump : 0;
}

/*
 * Write every interval that is over (on a stop: what the open ones hold, up
 * to now) and commit it with the queued events. On failure nothing moves:
 * the next try writes the same intervals.
 */
static int close_intervals(struct recorder *rc, uint64_t real, bool stopping)
{
	uint64_t len = intervals_length(rc->iv);
	uint64_t oldest = intervals_oldest(rc->iv);
	uint64_t end = 0, gap_from = 0;
	unsigned int gap_status = RECORD_NOT_RUNNING;
	bool reset = false;
	int k;

	if (stopping) {
		end = real;
	} else if (real < oldest || real > oldest + 2 * len + GRACE_US) {
		/*
		 * The open intervals are behind the clock: it was set back or
		 * forward, the record could not be written for a while, or the
		 * recorder did not run (a suspend, a stop signal). Write them,
		 * a host gap row up to now saying which, and start again.
		 */
		end = oldest + 2 * len;
		gap_from = real > end ? end : 0;
		gap_status = rc->clock_jumped ? RECORD_CLOCK_JUMP :
			     rc->write_failing ? RECORD_NOT_WRITTEN : RECORD_NOT_RUNNING;
		reset = true;
	} else if (real >= oldest + 2 * len + GRACE_US) {
		end = oldest + 2 * len;
	} else if (real >= oldest + len + GRACE_US) {
		end = oldest + len;
	}
	k = record_begin(rc->rec);
	if (!k && end)
		k = intervals_write(rc->iv, end, rc->clock_jumped, rc->rec);
	if (!k && gap_from)
		k = write_host_gap(rc, gap_from, real, gap_status);
	if (!k)
		k = write_pending(rc);
	if (!k)
		k = record_commit(rc->rec);
	if (k) {
		record_rollback(rc->rec);
		write_failed(rc, k);
		return k;
	}
	pending_done(rc);
	write_recovered(rc);
	recorder_bus_committed(rc->bus, &rc->face);
	rc->clock_jumped = false;
	if (reset)
		intervals_reset(rc->iv, real);
	else if (end && !stopping)
		intervals_advance(rc->iv, end);
	if (!stopping) {
		char t[32];

		format_when(intervals_oldest(rc->iv), t, sizeof(t));
		publish_status(rc, "recording %zu units every %u s; recorded up to %s",
			       intervals_units(rc->iv), rc->cfg.record_interval_s, t);
	}
	return 0;
}

static int on_close_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct recorder *rc = userdata;
	uint64_t real = now_us(CLOCK_REALTIME);
	int64_t jump = clock_jump(rc, real, now_us(CLOCK_BOOTTIME));

	(void)s;
	(void)usec;
	if (jump) {
		char detail[96];

		snprintf(detail, sizeof(detail), "the wall clock moved %+.1f s against the boot clock",
			 (double)jump / USEC_PER_SEC);
		audit(rc, "clock-jump", NULL, 0, NULL, NULL, NULL, NULL, detail);
		log_notice("%s", detail);
		rc->clock_jumped = true;
	}
	(void)close_intervals(rc, real, false);
	return schedule_close(rc) < 0 ? -EIO : 0;
}

static void log_heads(struct recorder *rc)
{
	struct record_head rec, aud;
	char a[HEXSTR_SIZE(RECORD_HASH_SIZE)], b[HEXSTR_SIZE(RECORD_HASH_SIZE)];

	/* Kept outside the database: a trail to check the file's heads against. */
	record_heads(rc->rec, &rec, &aud);
	hexstr_encode(rec.hash, RECORD_HASH_SIZE, a);
	hexstr_encode(aud.hash, RECORD_HASH_SIZE, b);
	log_info("chain heads: record %" PRId64 " %s, audit %" PRId64 " %s", rec.seq, a, aud.seq, b);
}

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct recorder *rc = userdata;
	uint64_t real = now_us(CLOCK_REALTIME), hour = 3600 * USEC_PER_SEC;
	uint64_t raw_keep = rc->cfg.raw_hours * hour, keep = rc->cfg.retention_days * 24 * hour;
	bool more = false;
	int k;

	(void)usec;
	k = record_prune(rc->rec, real > raw_keep ? real - raw_keep : 0,
			 real > keep ? real - keep : 0, PRUNE_BATCH, &more);
	if (k)
		write_failed(rc, k);
	else
		recorder_bus_committed(rc->bus, &rc->face);
	if (!more)
		log_heads(rc);
	/* A batch at a time, between readings, until done. */
	k = sd_event_source_set_time_relative(s, more ? 10000 : PRUNE_EVERY_US);
	return k < 0 ? k : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* --- start and stop ------------------------------------------------------- */

/* Before the first interval: the time nothing was recorded, in the record. */
static int record_start(struct recorder *rc, uint64_t real)
{
	uint64_t last_end;
	char detail[160], a[32], b[32];
	int k;

	k = record_last_end(rc->rec, &last_end);
	if (k)
		return k;
	k = record_begin(rc->rec);
	if (k)
		return k;
	if (last_end && real > last_end) {
		format_when(last_end, a, sizeof(a));
		format_when(real, b, sizeof(b));
		snprintf(detail, sizeof(detail), "interval %u s; nothing recorded from %s to %s",
			 rc->cfg.record_interval_s, a, b);
		k = write_host_gap(rc, last_end, real, RECORD_NOT_RUNNING);
	} else if (last_end > real) {
		format_when(last_end, a, sizeof(a));
		snprintf(detail, sizeof(detail),
			 "interval %u s; the clock is behind the record's last interval (%s)",
			 rc->cfg.record_interval_s, a);
	} else {
		snprintf(detail, sizeof(detail), "interval %u s; a new record",
			 rc->cfg.record_interval_s);
	}
	if (!k) {
		struct record_event ev = { .time_us = real, .event = "recorder-started",
					   .detail = detail };

		k = record_add_event(rc->rec, &ev);
	}
	if (!k)
		k = record_commit(rc->rec);
	if (k)
		record_rollback(rc->rec);
	return k;
}

static int bus_connect(struct recorder *rc, const struct service *service, const char *spec)
{
	int k;

	k = service_bus_open(service, rc->event, spec, &rc->bus);
	if (k < 0)
		return k;
	k = sd_bus_match_signal(rc->bus, NULL, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					"Readings", on_readings, rc);
	if (k >= 0)
		k = sd_bus_match_signal(rc->bus, NULL, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					"SettingChanged", on_setting_changed, rc);
	if (k >= 0)
		k = sd_bus_match_signal(rc->bus, NULL, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					"AlarmChanged", on_alarm_changed, rc);
	if (k >= 0)
		k = units_follow(rc->bus, &(const struct units_follow){
					 .interfaces_added = on_interfaces_added,
					 .interfaces_removed = on_interfaces_removed,
					 .properties_changed = on_properties_changed,
					 .owner_changed = on_owner_changed,
				 }, rc);
	if (k < 0)
		log_error("cannot follow coldroomd on the bus: %s", strerror(-k));
	return k;
}

static void recorder_done(struct recorder *rc)
{
	for (uint32_t n = 0; n < rc->n_units; n++)
		free(rc->units[n].info.path);
	free(rc->units);
	free(rc->last_seq);
	free(rc->alarms);
	for (size_t i = 0; i < rc->n_pending; i++)
		pending_free(&rc->pending[i]);
	free(rc->pending);
	sd_event_source_unref(rc->close_timer);
	sd_event_source_unref(rc->prune_timer);
	sd_event_source_unref(rc->commit_defer);
	sd_bus_flush_close_unref(rc->bus);
	intervals_free(rc->iv);
	if (rc->rec)
		record_close(rc->rec);
	config_free(&rc->cfg);
	sd_event_unref(rc->event);
}

static int on_option(int c, const char *arg, void *userdata)
{
	struct recorder *rc = userdata;

	if (c != 'D')
		return -EINVAL;
	rc->db_path = arg;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroom-recorder [OPTIONS]\n"
		"Keeps the temperature record of the units coldroomd publishes.\n\n"
		"  -c, --config FILE      settings (default " COLDROOMD_CONFIG_PATH ")\n"
		"  -D, --database FILE    the record (default " RECORD_DEFAULT_PATH ")\n");

}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "database", required_argument, NULL, 'D' },
		{ 0 }
	};
	static const struct service service = {
		.name = "coldroom-recorder",
		.usage = usage,
		.default_config = COLDROOMD_CONFIG_PATH,
		.shortopts = "D:",
		.options = options,
		.option = on_option,
	};
	struct recorder rc = { .db_path = RECORD_DEFAULT_PATH };
	struct service_args args;
	char err[RECORD_MESSAGE_MAX];
	uint64_t real;
	int k;

	k = service_parse_args(&service, argc, argv, &args, &rc);
	if (k <= 0)
		return service_exit_code(k);

	k = config_init(&rc.cfg);
	if (k == 0)
		k = config_load(args.config, &rc.cfg, err, sizeof(err));
	if (k < 0) {
		log_error("%s", k == -ENOMEM ? "out of memory" : err);
		sd_notifyf(0, "STATUS=%s", err);
		goto out;
	}
	k = record_open(rc.db_path, RECORD_WRITE, &rc.rec, err, sizeof(err));
	if (k < 0) {
		log_error("cannot open the record: %s", err);
		sd_notifyf(0, "STATUS=cannot open the record: %s", err);
		goto out;
	}
	k = intervals_new(rc.cfg.record_interval_s * USEC_PER_SEC, &rc.iv);
	if (k < 0)
		goto out;

	k = service_event_new(&service, &rc, &rc.event);
	if (k < 0)
		goto out;
	k = sd_event_add_defer(rc.event, &rc.commit_defer, on_commit, &rc);
	if (k >= 0)
		k = sd_event_source_set_enabled(rc.commit_defer, SD_EVENT_OFF);
	/* Readings first: the record must not wait behind a commit. */
	if (k >= 0)
		k = sd_event_source_set_priority(rc.commit_defer, SD_EVENT_PRIORITY_IDLE);
	if (k >= 0)
		k = sd_event_add_time(rc.event, &rc.close_timer, CLOCK_REALTIME, 0, 100000,
				      on_close_timer, &rc);
	if (k >= 0)
		k = sd_event_add_time_relative(rc.event, &rc.prune_timer, CLOCK_MONOTONIC,
					       60 * USEC_PER_SEC, USEC_PER_SEC, on_prune_timer, &rc);
	if (k < 0) {
		log_error("cannot set up the event loop: %s", strerror(-k));
		goto out;
	}

	real = now_us(CLOCK_REALTIME);
	rc.check_real = real;
	rc.check_boot = now_us(CLOCK_BOOTTIME);
	k = record_start(&rc, real);
	if (k < 0) {
		log_error("cannot write the record %s: %s", rc.db_path, record_error(rc.rec));
		sd_notifyf(0, "STATUS=cannot write the record: %s", record_error(rc.rec));
		goto out;
	}
	intervals_reset(rc.iv, real);
	rc.face = (struct recorder_face){ .rec = rc.rec, .status = rc.status,
					  .interval_s = rc.cfg.record_interval_s };
	k = bus_connect(&rc, &service, args.bus);
	if (k >= 0)
		k = recorder_bus_publish(rc.bus, &rc.face);
	if (k >= 0)
		k = fetch_all(&rc, false);
	if (k >= 0)
		k = schedule_close(&rc);
	if (k < 0)
		goto out;
	publish_status(&rc, "recording %zu units every %u s", intervals_units(rc.iv),
		       rc.cfg.record_interval_s);
	sd_notify(0, "READY=1");
	log_info("recording %zu units every %u s into %s", intervals_units(rc.iv),
		 rc.cfg.record_interval_s, rc.db_path);

	k = service_run(rc.event);
	/* What the open intervals hold, up to now, and the stop itself. */
	audit(&rc, "recorder-stopped", NULL, 0, NULL, NULL, NULL, NULL, NULL);
	if (close_intervals(&rc, now_us(CLOCK_REALTIME), true) < 0 && k >= 0)
		k = -EIO;
	log_heads(&rc);
out:
	recorder_done(&rc);
	return k < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
