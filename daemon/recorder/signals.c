// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * signals.c - coldroomd's D-Bus signals followed (Readings, settings, alarms,
 * units) and their matches; apart, as the way everything comes in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "intervals.h"
#include "log.h"
#include "parse_util.h"
#include "polkit.h"
#include "readings_msg.h"
#include "recorder.h"
#include "service.h"
#include "signal_guard.h"
#include "unit_client.h"

static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	struct readings_msg r;
	size_t hint = 0;

	(void)error;
	if (readings_msg_read(m, &r) < 0) {
		log_warning("ignoring a malformed Readings signal from %s",
			    sd_bus_message_get_sender(m) ?: "?");
		return 0;
	}
	for (size_t i = 0; i < r.n; i++) {
		long at = unit_index_next(&rc->index, r.unit[i], &hint);
		uint32_t n = (uint32_t)at;
		uint8_t changed;

		if (at < 0 || !rc->units[n].present)
			continue;
		/* Every entry is a sample, in order; a skipped sample_seq is counted lost. */
		(void)intervals_reading(rc->iv, n, &(const struct intervals_reading){
					.seq = r.sample_seq[i], .epoch = rc->coldroomd_epoch,
					.mdeg = { r.temp1[i], r.temp2[i] },
					.status = { r.temp1_status[i], r.temp2_status[i] },
					.stamp_us = r.last_update[i] });
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
	rc->face.samples_lost = intervals_lost_total(rc->iv);
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
	uint32_t at;
	int k;

	(void)error;
	st = unit_by_path(rc, sd_bus_message_get_path(m), &at);
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
	uint32_t at, uid;
	uid_t who;

	(void)error;
	if (sd_bus_message_read(m, "osssssus", &path, &name, &serial, &setting, &old_value,
				&new_value, &uid, &user) < 0) {
		log_warning("ignoring a malformed SettingChanged");
		return 0;
	}
	who = (uid_t)uid;
	st = unit_by_path(rc, path, &at);
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
	const char *event, *serial, *unit, *user, *comment, *kind = "temperature";
	uint32_t probe, st, level, uid;
	uint64_t id, when;
	char name[64], detail[512];
	int32_t temp;
	int64_t reading;
	uid_t who;

	(void)error;
	if (sd_bus_message_read(m, "tsssuuuituss", &id, &event, &serial, &unit, &probe, &st,
				&level, &temp, &when, &uid, &user, &comment) < 0 ||
	    strlen(event) > 20 || probe < 1 || probe > 2 ||
	    /* What the alarm is about: the last argument (coldroomd 0.1 sent none). */
	    (!sd_bus_message_at_end(m, false) && sd_bus_message_read(m, "s", &kind) < 0) ||
	    strlen(kind) > 20) {
		log_warning("ignoring a malformed AlarmChanged");
		return 0;
	}
	snprintf(name, sizeof(name), "alarm-%s", event);
	snprintf(detail, sizeof(detail), "alarm %llu (%s), level %u%s%s", (unsigned long long)id,
		 kind, level, comment[0] ? ": " : "", comment);
	reading = temp;
	who = (uid_t)uid;
	if (!strcmp(event, "acknowledged")) {
		/*
		 * The signature's manifestation (21 CFR 11.50): the printed name
		 * as the user database has it now, the meaning; the entry's time
		 * is the date and time, the comment is above.
		 */
		char u[64], printed[128];
		size_t len = strlen(detail);

		polkit_names_of(who, u, sizeof(u), printed, sizeof(printed));
		snprintf(detail + len, sizeof(detail) - len, "; signed by %s (%s), meaning: acknowledged",
			 printed, user);
	}
	audit_by(rc, name, serial, probe, NULL, NULL, NULL, &reading, detail,
		 !strcmp(event, "acknowledged") ? &who : NULL,
		 !strcmp(event, "acknowledged") ? user : NULL);
	return 0;
}

/*
 * Manager.AuthorizationRefused: an act of a person that polkit refused or
 * the person cancelled (a wrong password, no agent, no right): nothing
 * changed, and the attempt is in the trail as "refused".
 */
static int on_authorization_refused(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct recorder *rc = userdata;
	const char *action, *unit, *user, *reason;
	uint32_t probe, uid;
	uid_t who;

	(void)error;
	if (sd_bus_message_read(m, "ssuuss", &action, &unit, &probe, &uid, &user, &reason) < 0 ||
	    probe > 2 || strlen(action) > 64) {
		log_warning("ignoring a malformed AuthorizationRefused");
		return 0;
	}
	who = (uid_t)uid;
	audit_by(rc, "refused", unit, probe, action, NULL, NULL, NULL, reason, &who, user);
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
	uint32_t at;

	(void)error;
	if (sd_bus_message_read(m, "o", &path) < 0)
		return 0;
	if (unit_by_path(rc, path, &at))
		unit_gone(rc, at, "removed");
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
	/* Samples skipped from here on were taken while it was away. */
	rc->coldroomd_epoch++;
	audit(rc, "coldroomd-started", NULL, 0, NULL, NULL, NULL, NULL, NULL);
	if (fetch_all(rc, true) < 0)
		log_warning("coldroomd is back but its units could not be listed");
	return 0;
}

int bus_connect(struct recorder *rc, const struct service *service, const char *spec)
{
	struct signal_guard *g;
	int k;

	k = service_bus_open(service, rc->event, spec, &rc->bus);
	if (k < 0)
		return k;
	/* Each of coldroomd's signals is taken from its name's owner only. */
	k = units_follow(rc->bus, &(const struct units_follow){
				 .interfaces_added = on_interfaces_added,
				 .interfaces_removed = on_interfaces_removed,
				 .properties_changed = on_properties_changed,
				 .owner_changed = on_owner_changed,
			 }, rc, &g);
	if (k >= 0)
		k = signal_guard_match(g, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Readings",
				       on_readings, rc);
	if (k >= 0)
		k = signal_guard_match(g, SENSORS_PATH, SENSORS_MANAGER_IFACE, "SettingChanged",
				       on_setting_changed, rc);
	if (k >= 0)
		k = signal_guard_match(g, SENSORS_PATH, SENSORS_MANAGER_IFACE, "AlarmChanged",
				       on_alarm_changed, rc);
	if (k >= 0)
		k = signal_guard_match(g, SENSORS_PATH, SENSORS_MANAGER_IFACE, "AuthorizationRefused",
				       on_authorization_refused, rc);
	if (k < 0)
		log_error("cannot follow coldroomd on the bus: %s", strerror(-k));
	return k;
}
