// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * uplinkmsg.c - the topics and JSON payloads of coldroom-uplink (MQTT.md,
 * version 1). json-c does the escaping; strings come from the record,
 * which holds what D-Bus delivered (valid UTF-8).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uplinkmsg.h"

#define TOPIC_MAX 1024

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool uplink_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > UPLINK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i]))
			return false;
	return true;
}

/* @s with every character outside the name set as %XX (or as @subst when not 0). */
static void escape(const char *s, char subst, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 4 < size; s++) {
		if (name_char(*s))
			out[n++] = *s;
		else if (subst)
			out[n++] = subst;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", (unsigned char)*s);
	}
	out[n] = '\0';
}

char *uplink_topic(const struct uplink_origin *o, const char *serial, const char *leaf)
{
	char esc[256], *t;

	if (!serial)
		return asprintf(&t, "%s/%s/%s/%s", UPLINK_TOPIC_ROOT, o->site, o->host, leaf) < 0 ?
			NULL : t;
	escape(serial, 0, esc, sizeof(esc));
	return asprintf(&t, "%s/%s/%s/unit/%s/%s", UPLINK_TOPIC_ROOT, o->site, o->host, esc,
			leaf) < 0 ? NULL : t;
}

/* --- building a JSON object; a failed allocation fails the whole ------ */

struct jb {
	struct json_object *o;
	bool failed;
};

static void put(struct jb *b, const char *key, struct json_object *v)
{
	if (!b->o || !v || json_object_object_add(b->o, key, v)) {
		json_object_put(v);
		b->failed = true;
	}
}

static void put_null(struct jb *b, const char *key)
{
	if (!b->o || json_object_object_add(b->o, key, NULL))
		b->failed = true;
}

static void put_int(struct jb *b, const char *key, int64_t v)
{
	put(b, key, json_object_new_int64(v));
}

static void put_uint(struct jb *b, const char *key, uint64_t v)
{
	put(b, key, json_object_new_uint64(v));
}

static void put_str(struct jb *b, const char *key, const char *v)
{
	put(b, key, json_object_new_string(v));
}

static void put_bool(struct jb *b, const char *key, bool v)
{
	put(b, key, json_object_new_boolean(v));
}

/* "<name>_mdeg": the integer, "<name>_c": degrees with exactly 3 decimals. */
static void put_temp(struct jb *b, const char *name, int64_t mdeg)
{
	char key[32], text[32];

	snprintf(key, sizeof(key), "%s_mdeg", name);
	put_int(b, key, mdeg);
	snprintf(key, sizeof(key), "%s_c", name);
	snprintf(text, sizeof(text), "%s%" PRId64 ".%03" PRId64, mdeg < 0 ? "-" : "",
		 (mdeg < 0 ? -mdeg : mdeg) / 1000, (mdeg < 0 ? -mdeg : mdeg) % 1000);
	put(b, key, json_object_new_double_s((double)mdeg / 1000.0, text));
}

static void put_temp_null(struct jb *b, const char *name)
{
	char key[32];

	snprintf(key, sizeof(key), "%s_mdeg", name);
	put_null(b, key);
	snprintf(key, sizeof(key), "%s_c", name);
	put_null(b, key);
}

/* "<name>_us": CLOCK_REALTIME microseconds, "<name>": RFC 3339 UTC with milliseconds. */
static void put_time(struct jb *b, const char *name, uint64_t us)
{
	char key[32], text[40];
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	snprintf(key, sizeof(key), "%s_us", name);
	put_uint(b, key, us);
	if (!gmtime_r(&t, &tm) || !(n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm))) {
		b->failed = true;
		return;
	}
	snprintf(text + n, sizeof(text) - n, ".%03uZ", (unsigned int)(us / 1000 % 1000));
	put_str(b, name, text);
}

static struct jb begin(const struct uplink_origin *o)
{
	struct jb b = { .o = json_object_new_object() };

	put_int(&b, "v", UPLINK_CONTRACT_VERSION);
	put_str(&b, "site", o->site);
	put_str(&b, "host", o->host);
	return b;
}

static char *finish(struct jb *b)
{
	char *text = NULL;

	if (!b->failed) {
		const char *s = json_object_to_json_string_ext(b->o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);

		text = s ? strdup(s) : NULL;
	}
	json_object_put(b->o);
	return text;
}

static void put_hex(struct jb *b, const char *key, const uint8_t *p)
{
	char hex[2 * UPLINK_HASH_SIZE + 1];

	for (size_t i = 0; i < UPLINK_HASH_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	put_str(b, key, hex);
}

/* Where the row is in its chain: its hash and the one it chains from. */
static void put_chain(struct jb *b, const uint8_t *hash, const uint8_t *prev_hash)
{
	if (hash && prev_hash) {
		put_hex(b, "hash", hash);
		put_hex(b, "prev_hash", prev_hash);
	}
}

/* --- payloads ------------------------------------------------------------ */

/* The interval's fields into @b (the row's own object or the state's). */
static void put_interval(struct jb *b, const struct uplink_row *row)
{
	char why[48];

	put_uint(b, "seq", row->seq);
	put_time(b, "start", row->start_us);
	put_time(b, "end", row->end_us);
	put_uint(b, "samples", row->n);
	if (row->n) {
		put_temp(b, "min", row->min);
		put_temp(b, "mean", row->mean);
		put_temp(b, "max", row->max);
	} else {
		put_temp_null(b, "min");
		put_temp_null(b, "mean");
		put_temp_null(b, "max");
	}
	put_str(b, "status", record_status_name(row->status));
	put_uint(b, "lost", row->lost);
	put_str(b, "lost_why", record_lost_why_names(row->lost_why, ",", why, sizeof(why)));
}

char *uplink_interval_json(const struct uplink_origin *o, const struct uplink_row *row,
			   bool historical)
{
	struct jb b = begin(o);

	put_str(&b, "serial", row->serial);
	put_uint(&b, "probe", row->probe);
	put_interval(&b, row);
	if (row->hash && row->prev_hash) {
		if (row->samples_sha256)
			put_hex(&b, "samples_sha256", row->samples_sha256);
		else
			put_null(&b, "samples_sha256");
		put_uint(&b, "status_code", row->status);
		/* A row of schema 1 is hashed without lost and why: null says so. */
		if (row->has_lost)
			put_uint(&b, "lost_why_code", row->lost_why);
		else
			put_null(&b, "lost_why_code");
	}
	put_chain(&b, row->hash, row->prev_hash);
	put_bool(&b, "historical", historical);
	return finish(&b);
}

/* Absent when NULL; "" is sent, as the chain hashes the two apart. */
static void put_opt_str(struct jb *b, const char *key, const char *v)
{
	if (v)
		put_str(b, key, v);
}

char *uplink_event_json(const struct uplink_origin *o, const struct record_event *ev,
			const uint8_t *prev_hash, bool historical)
{
	struct jb b = begin(o);

	put_uint(&b, "seq", ev->seq);
	put_str(&b, "serial", ev->serial ? ev->serial : "");
	put_uint(&b, "probe", ev->probe);
	put_time(&b, "time", ev->time_us);
	put_str(&b, "event", ev->event ? ev->event : "");
	if (ev->has_uid)
		put_uint(&b, "uid", ev->uid);
	put_opt_str(&b, "user", ev->user);
	put_opt_str(&b, "what", ev->what);
	put_opt_str(&b, "old_value", ev->old_value);
	put_opt_str(&b, "new_value", ev->new_value);
	if (ev->has_reading)
		put_temp(&b, "reading", ev->reading);
	put_opt_str(&b, "detail", ev->detail);
	put_chain(&b, ev->hash, prev_hash);
	put_bool(&b, "historical", historical);
	return finish(&b);
}

char *uplink_status_json(const struct uplink_origin *o, bool online, const char *version,
			 uint64_t time_us)
{
	struct jb b = begin(o);

	put_str(&b, "state", online ? "online" : "offline");
	if (online) {
		put_str(&b, "version", version);
		put_time(&b, "time", time_us);
	}
	return finish(&b);
}

char *uplink_sample_json(const struct uplink_origin *o, const struct uplink_sample *s)
{
	struct jb b = begin(o);

	put_str(&b, "serial", s->serial);
	put_uint(&b, "sample_seq", s->sample_seq);
	put_time(&b, "time", s->time_us);
	for (unsigned int p = 0; p < 2; p++) {
		char name[24];

		snprintf(name, sizeof(name), "temp%u", p + 1);
		if (s->status[p] == 1)
			put_temp(&b, name, s->temp[p]);
		else
			put_temp_null(&b, name);
		snprintf(name, sizeof(name), "status%u", p + 1);
		put_str(&b, name, s->status[p] == 1 ? "ok" : s->status[p] == 2 ? "no-data" :
				  s->status[p] == 3 ? "probe-fault" : "unknown");
		snprintf(name, sizeof(name), "alarm%u", p + 1);
		put_bool(&b, name, s->alarm[p]);
	}
	put_bool(&b, "historical", false);
	return finish(&b);
}

/* --- the retained state of a unit -------------------------------------- */

bool uplink_state_row(struct uplink_unit_state *st, const struct uplink_row *row)
{
	if (row->probe < 1 || row->probe > 2 || row->seq <= st->probe[row->probe - 1].seq)
		return false;
	st->probe[row->probe - 1] = *row;
	/* Not kept: the state has the serial; the hashes are the message's. */
	st->probe[row->probe - 1].serial = NULL;
	st->probe[row->probe - 1].samples_sha256 = NULL;
	st->probe[row->probe - 1].hash = NULL;
	st->probe[row->probe - 1].prev_hash = NULL;
	if (row->seq > st->seq)
		st->seq = row->seq;
	if (row->status != RECORD_UNIT_GONE)
		st->present = true;
	return true;
}

/* The alarm's state after an alarm-* event of the audit trail (DBUS-API.md, "Alarms"). */
static enum uplink_alarm alarm_after(enum uplink_alarm was, const char *event)
{
	if (!strcmp(event, "alarm-raised") || !strcmp(event, "alarm-returned"))
		return UPLINK_ALARM_RAISED;
	if (!strcmp(event, "alarm-acknowledged"))
		return was == UPLINK_ALARM_CLEARED ? UPLINK_ALARM_NONE : UPLINK_ALARM_ACKNOWLEDGED;
	if (!strcmp(event, "alarm-cleared"))
		return was == UPLINK_ALARM_ACKNOWLEDGED ? UPLINK_ALARM_NONE : UPLINK_ALARM_CLEARED;
	return was;	/* escalated: still raised */
}

bool uplink_state_event(struct uplink_unit_state *st, const struct record_event *ev)
{
	const char *e = ev->event ? ev->event : "";

	if (ev->seq <= st->event_seq)
		return false;
	st->event_seq = ev->seq;
	if (!strncmp(e, "alarm-", 6) && ev->probe >= 1 && ev->probe <= 2)
		st->alarm[ev->probe - 1] = alarm_after(st->alarm[ev->probe - 1], e);
	else if (!strcmp(e, "unit-added"))
		st->present = true;
	else if (!strcmp(e, "unit-removed"))
		st->present = false;
	else if (!strcmp(e, "firmware-loaded"))
		snprintf(st->firmware, sizeof(st->firmware), "ready");
	else if (!strcmp(e, "firmware-failed"))
		snprintf(st->firmware, sizeof(st->firmware), "failed");
	else
		return false;
	return true;
}

char *uplink_state_json(const struct uplink_origin *o, const struct uplink_unit_state *st)
{
	static const char *const alarm_names[] = { "none", "raised", "acknowledged", "cleared" };
	struct jb b = begin(o);

	put_str(&b, "serial", st->serial);
	put_bool(&b, "present", st->present);
	put_uint(&b, "seq", st->seq);
	put_uint(&b, "event_seq", st->event_seq);
	if (st->firmware[0])
		put_str(&b, "firmware", st->firmware);
	else
		put_null(&b, "firmware");
	for (unsigned int p = 0; p < 2; p++) {
		char key[24];

		snprintf(key, sizeof(key), "temp%u", p + 1);
		if (st->probe[p].seq) {
			struct jb sub = { .o = json_object_new_object() };

			put_interval(&sub, &st->probe[p]);
			if (sub.failed) {
				json_object_put(sub.o);
				b.failed = true;
			} else {
				put(&b, key, sub.o);
			}
		} else {
			put_null(&b, key);
		}
		snprintf(key, sizeof(key), "alarm%u", p + 1);
		put_str(&b, key, alarm_names[st->alarm[p]]);
	}
	put_bool(&b, "historical", false);
	return finish(&b);
}

/* --- Home Assistant -------------------------------------------------------- */

char *uplink_discovery_json(const struct uplink_origin *o, const char *serial,
			    unsigned int probe, char **topic)
{
	char id[512], esc[256], name[320], tmpl[64];
	char *state = uplink_topic(o, serial, "state"), *status = uplink_topic(o, NULL, "status");
	struct jb b = { .o = json_object_new_object() };
	struct jb dev = { .o = json_object_new_object() };
	struct json_object *ids = json_object_new_array();
	char *text = NULL;

	*topic = NULL;
	escape(serial, '_', esc, sizeof(esc));
	snprintf(id, sizeof(id), "coldroom_%s_%s_%s_%u", o->site, o->host, esc, probe);
	for (char *p = id; *p; p++)
		if (*p == '.')
			*p = '_';
	snprintf(name, sizeof(name), "%s probe %u", serial, probe);
	snprintf(tmpl, sizeof(tmpl), "{{ value_json.temp%u.mean_c }}", probe);
	put_str(&b, "name", name);
	put_str(&b, "unique_id", id);
	put_str(&b, "object_id", id);
	if (state && status) {
		put_str(&b, "state_topic", state);
		put_str(&b, "availability_topic", status);
	} else {
		b.failed = true;
	}
	put_str(&b, "value_template", tmpl);
	put_str(&b, "availability_template", "{{ value_json.state }}");
	put_str(&b, "payload_available", "online");
	put_str(&b, "payload_not_available", "offline");
	put_str(&b, "unit_of_measurement", "°C");
	put_str(&b, "device_class", "temperature");
	put_str(&b, "state_class", "measurement");
	snprintf(name, sizeof(name), "coldroom_%s", esc);
	if (!ids || json_object_array_add(ids, json_object_new_string(name)))
		dev.failed = true;
	put(&dev, "identifiers", ids);
	snprintf(name, sizeof(name), "Cold-room unit %s", serial);
	put_str(&dev, "name", name);
	put_str(&dev, "manufacturer", "coldroom-sensor");
	if (dev.failed) {
		json_object_put(dev.o);
		b.failed = true;
	} else {
		put(&b, "device", dev.o);
	}
	text = finish(&b);
	if (text && asprintf(topic, "homeassistant/sensor/%s/config", id) < 0) {
		*topic = NULL;
		free(text);
		text = NULL;
	}
	free(state);
	free(status);
	return text;
}
