// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * publish.c - what coldroomd tells the world, batched: each unit gets at
 * most one PropertiesChanged per batch window, the manager one Readings
 * signal with every sample read in the window, in the order read; the
 * Alarm and AlarmChanged signals, UnacknowledgedAlarms, and the STATUS=
 * line systemd shows.
 *
 * Layer: the bottom. units.c tells it once per sample what changed
 * (publish_unit_changed()), the alarm lifecycle what became of an alarm;
 * it calls nothing of coldroomd but the log. The batch window's timer is
 * an event source like any other: when it fires (window_end()) the
 * device's waiting records are read first (bulk.c, from the top), then
 * the window is published, then the replies that waited for it go out
 * (replies.c, from the top).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "alarm_rules.h"
#include "bus_names.h"
#include "daemon.h"
#include "log.h"
#include "macro.h"

/* Temp1Alarm, Temp2Alarm in the Readings signal's alarms byte. */
#define READINGS_ALARM1 0x1
#define READINGS_ALARM2 0x2

/*
 * The Readings signal of one batch window: one dense array per field. Each
 * new sample of a unit takes the next entry (a change without a new
 * sample, an alarm or a status, rewrites the unit's last entry), and the
 * arrays are appended whole at the window's end: no pass over the units
 * at the end of a window. Also GetReadings' snapshot of every unit.
 */
struct readings_window {
	size_t n, cap;
	uint32_t *unit;
	int32_t *temp1, *temp2;
	uint8_t *status1, *status2, *alarms;
	uint64_t *seq, *last_update;
};

#define WINDOW_ARRAYS(X) X(unit) X(temp1) X(temp2) X(status1) X(status2) X(alarms) \
	X(seq) X(last_update)

/*
 * A unit's entries in one window. A window that runs late (a flood of
 * calls, a slow disk) holds several samples of a unit that samples faster;
 * past this many the unit's last entry takes the newest sample instead, so
 * that a window stays bounded (units x this), and the jump in sample_seq
 * between its last two entries says how many were skipped (DBUS-API.md).
 */
#define WINDOW_SAMPLES_MAX 32

static void window_free(struct readings_window *w)
{
	if (!w)
		return;
#define FREE_ARRAY(field) free(w->field);
	WINDOW_ARRAYS(FREE_ARRAY)
#undef FREE_ARRAY
	free(w);
}

static int window_reserve(struct readings_window *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 256;

	if (n <= w->cap)
		return 0;
	while (cap < n)
		cap *= 2;
#define GROW(field) { \
		void *p = realloc(w->field, cap * sizeof(*w->field)); \
		if (!p) \
			return -ENOMEM; \
		w->field = p; \
	}
	WINDOW_ARRAYS(GROW)
#undef GROW
	w->cap = cap;
	return 0;
}

/* The window's arrays, with room for @n entries; NULL when out of memory. */
static struct readings_window *window_get(struct readings_window **wp, size_t n)
{
	if (!*wp) {
		*wp = calloc(1, sizeof(**wp));
		if (!*wp)
			return NULL;
	}
	if (window_reserve(*wp, n) < 0)
		return NULL;
	return *wp;
}

/* Entry @k of @w: @u's reading as of now. */
static void window_set(struct readings_window *w, size_t k, const struct unit *u)
{
	w->unit[k] = u->number;
	w->temp1[k] = u->temp[0];
	w->temp2[k] = u->temp[1];
	w->status1[k] = (uint8_t)u->temp_status[0];
	w->status2[k] = (uint8_t)u->temp_status[1];
	w->alarms[k] = (u->alarm[0] ? READINGS_ALARM1 : 0) | (u->alarm[1] ? READINGS_ALARM2 : 0);
	w->seq[k] = u->sample_seq;
	w->last_update[k] = u->last_update_usec;
}

/*
 * @u's reading into the current window: a new entry for a new sample, else
 * (the same sample changed, or the unit's cap reached) its last entry.
 */
static void window_put(struct daemon *d, struct unit *u)
{
	struct readings_window *w = d->window;

	d->window_touched = true;
	if (u->window_gen == d->window_gen) {
		uint64_t last = w->seq[u->window_slot];

		if (u->sample_seq == last) {
			window_set(w, u->window_slot, u);
			return;
		}
		if (u->window_count >= WINDOW_SAMPLES_MAX) {
			/* The skipped samples show as a jump of sample_seq. */
			if (u->sample_seq > last)
				d->samples_coalesced += u->sample_seq - last;
			if (!d->samples_coalesced_logged) {
				log_warning("%s: more than %u samples in one batch window; the "
					    "window carries its latest, the gap shows in sample_seq",
					    u->name, WINDOW_SAMPLES_MAX);
				d->samples_coalesced_logged = true;
			}
			window_set(w, u->window_slot, u);
			return;
		}
	} else {
		u->window_gen = d->window_gen;
		u->window_count = 0;
	}
	if (!w || w->n == w->cap) {
		w = window_get(&d->window, (w ? w->n : 0) + 1);
		if (!w) {
			log_error("out of memory: a reading of %s is not signalled", u->name);
			if (!u->window_count)
				u->window_gen = 0;
			return;
		}
	}
	u->window_slot = (uint32_t)w->n;
	u->window_count++;
	window_set(w, w->n++, u);
}

/*
 * A unit that goes leaves the window: its entries are taken out, the
 * others keep their order (a pass over the window; units go rarely).
 */
static void window_drop(struct daemon *d, struct unit *u)
{
	struct readings_window *w = d->window;
	size_t k = 0;

	if (!w || u->window_gen != d->window_gen)
		return;
	u->window_gen = 0;
	for (size_t i = 0; i < w->n; i++) {
		struct unit *o;

		if (w->unit[i] == u->number)
			continue;
		if (k != i) {
#define MOVE(field) w->field[k] = w->field[i];
			WINDOW_ARRAYS(MOVE)
#undef MOVE
		}
		o = daemon_find_unit_number(d, w->unit[k]);
		if (o && o != u && o->window_gen == d->window_gen)
			o->window_slot = (uint32_t)k;
		k++;
	}
	w->n = k;
}

/* The arrays of @w, each appended whole: Readings and GetReadings alike. */
static int append_readings(sd_bus_message *m, const struct readings_window *w)
{
	int r;

	r = sd_bus_message_append_array(m, 'u', w->unit, w->n * sizeof(*w->unit));
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'i', w->temp1, w->n * sizeof(*w->temp1));
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'i', w->temp2, w->n * sizeof(*w->temp2));
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', w->status1, w->n);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', w->status2, w->n);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', w->alarms, w->n);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 't', w->seq, w->n * sizeof(*w->seq));
	if (r >= 0)
		r = sd_bus_message_append_array(m, 't', w->last_update,
						w->n * sizeof(*w->last_update));
	return r;
}

/* Every unit as of now, taken once until invalidated; NULL when out of memory. */
static struct readings_window *readings_snapshot(struct daemon *d)
{
	struct readings_window *w;

	if (d->snapshot_valid)
		return d->snapshot;
	w = window_get(&d->snapshot, d->n_units);
	if (!w)
		return NULL;
	for (w->n = 0; w->n < d->n_units; w->n++)
		window_set(w, w->n, d->units[w->n]);
	d->snapshot_valid = true;
	return w;
}


/* GetReadings: every unit's reading as of now, in the Readings signal's shape. */
int publish_append_readings(struct daemon *d, sd_bus_message *m)
{
	struct readings_window *snap = readings_snapshot(d);

	return snap ? append_readings(m, snap) : -ENOMEM;
}

void publish_free(struct daemon *d)
{
	window_free(d->window);
	d->window = NULL;
	window_free(d->snapshot);
	d->snapshot = NULL;
}

static void schedule_flush(struct daemon *d);

/* One Readings signal with the window's arrays. */
static int send_readings(struct daemon *d, const struct readings_window *w)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
	int r;

	r = sd_bus_message_new_signal(d->bus, &sig, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Readings");
	if (r >= 0)
		r = append_readings(sig, w);
	if (r >= 0)
		r = sd_bus_send(d->bus, sig, NULL);
	return r;
}

static void emit_unit_changed(struct daemon *d, const struct unit *u, uint32_t props)
{
	const char *names[PROP_COUNT + 1];
	size_t n = 0;

	for (unsigned int p = 0; p < PROP_COUNT; p++)
		if (props & PROP_BIT(p))
			names[n++] = unit_prop_names[p];
	names[n] = NULL;
	(void)sd_bus_emit_properties_changed_strv(d->bus, u->object_path, SENSORS_UNIT_IFACE,
						  (char **)names);
}

/*
 * The end of a batch window: the records that came meanwhile, then
 * PropertiesChanged for the units whose other properties changed and the
 * window's Readings signal, whose arrays the readings filled as they came.
 */
static int publish_window(struct daemon *d)
{
	struct readings_window *w;
	int r = 0;

	if (!d->bus)
		goto out;
	/* PropertiesChanged: whatever changed but the high-rate properties. */
	for (size_t i = 0; i < d->n_dirty; i++) {
		struct unit *u = d->dirty[i];

		if (d->config.unit_signals)
			emit_unit_changed(d, u, u->unsignalled);
		u->unsignalled = 0;
		u->dirty = false;
	}
	d->n_dirty = 0;
	w = d->window;
	if (d->window_touched)
		d->snapshot_valid = false;
	d->window_touched = false;
	if (w && w->n) {
		r = send_readings(d, w);
		if (r < 0)
			log_warning("cannot send Readings: %s", strerror(-r));
		w->n = 0;
	}
	/* Every unit's entry belongs to the window that ended. */
	d->window_gen++;
	/* The replies that carry every unit wait behind the window's signal. */
	replies_window_ended(d);
out:
	daemon_update_status(d);
	return r;
}

/*
 * The window's end, an event source: the records that came meanwhile
 * (read now, they belong to this window), then what the window holds.
 */
static void window_end(struct daemon *d)
{
	bool busy = bulk_window_end(d);

	d->flush_due = false;	/* the oneshot source is off again */
	if (busy)
		schedule_flush(d);
	publish_window(d);
}

static int on_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s, (void)usec;
	window_end(userdata);
	return 0;
}

static int on_flush_defer(sd_event_source *s, void *userdata)
{
	(void)s;
	window_end(userdata);
	return 0;
}

/*
 * The end of the current batch window, unless it is already set. One
 * source serves every window (ten a second by default), re-armed rather
 * than made anew; a Reload that switches between a window and none
 * replaces it.
 */
static void schedule_flush(struct daemon *d)
{
	bool timer = d->config.batch_ms > 0;
	int r;

	if (d->flush_due)
		return;
	if (d->flush_timer && d->flush_is_timer != timer)
		d->flush_timer = sd_event_source_disable_unref(d->flush_timer);
	if (!d->flush_timer) {
		if (timer)
			r = sd_event_add_time_relative(d->event, &d->flush_timer, CLOCK_MONOTONIC,
						       d->config.batch_ms * 1000ULL, 1000,
						       on_flush, d);
		else
			r = sd_event_add_defer(d->event, &d->flush_timer, on_flush_defer, d);
		/* A window ends on time whatever callers keep the loop busy with. */
		if (r >= 0)
			r = sd_event_source_set_priority(d->flush_timer,
							 SD_EVENT_PRIORITY_IMPORTANT);
		d->flush_is_timer = timer;
	} else if (timer) {
		r = sd_event_source_set_time_relative(d->flush_timer,
						      d->config.batch_ms * 1000ULL);
	} else {
		r = 0;
	}
	if (r >= 0)
		r = sd_event_source_set_enabled(d->flush_timer, SD_EVENT_ONESHOT);
	if (r < 0) {
		log_error("cannot schedule the signals: %s", strerror(-r));
		return;
	}
	d->flush_due = true;
}

/* The Alarm signal of @u's probe @channel, and the journal's line. */
static void emit_alarm(struct unit *u, unsigned int channel)
{
	struct daemon *d = u->daemon;
	int r;

	log_fields(u->alarm[channel - 1] ? LOG_WARNING : LOG_NOTICE,
		   &(struct log_fields){ .unit = u->name, .serial = u->info->serial,
					 .outcome = u->alarm[channel - 1] ? "alarm" : "alarm-cleared" },
		   "%s (%s): temp%u alarm %s at %d mC", u->name, u->info->label, channel,
		   u->alarm[channel - 1] ? "raised" : "cleared", u->temp[channel - 1]);
	if (!d->bus)
		return;
	r = sd_bus_emit_signal(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Alarm", "osubi",
			       u->object_path, u->name, (uint32_t)channel,
			       u->alarm[channel - 1], u->temp[channel - 1]);
	if (r < 0)
		log_warning("cannot send Alarm: %s", strerror(-r));
}

/*
 * What changed of @u since it was last published: the Alarm signal of a
 * probe whose condition changed, its entry in the window's Readings, its
 * PropertiesChanged at the window's end.
 */
void publish_unit_changed(struct unit *u, uint32_t props)
{
	struct daemon *d = u->daemon;

	if (props & PROP_BIT(PROP_TEMP1_ALARM))
		emit_alarm(u, 1);
	if (props & PROP_BIT(PROP_TEMP2_ALARM))
		emit_alarm(u, 2);
	if (!d->bus)
		return;
	if (props & READING_PROPS)
		window_put(d, u);
	props &= ~HIGH_RATE_PROPS;
	if (props) {
		u->unsignalled |= props;
		if (!u->dirty) {
			if (d->n_dirty == d->cap_dirty) {
				size_t cap = d->cap_dirty ? 2 * d->cap_dirty : 16;
				struct unit **nd = realloc(d->dirty, cap * sizeof(*nd));

				if (!nd) {
					log_error("out of memory");
					return;
				}
				d->dirty = nd;
				d->cap_dirty = cap;
			}
			d->dirty[d->n_dirty++] = u;
			u->dirty = true;
		}
	}
	if (!d->flush_due)
		schedule_flush(d);
}

void publish_unit_added(struct unit *u)
{
	struct daemon *d = u->daemon;

	d->snapshot_valid = false;
	/* Before the name is ours, clients find units with GetManagedObjects. */
	if (!d->bus || !d->ready)
		return;
	(void)sd_bus_emit_object_added(d->bus, u->object_path);
	(void)sd_bus_emit_properties_changed(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					     "UnitCount", NULL);
}

void publish_unit_removed(struct unit *u)
{
	struct daemon *d = u->daemon;

	d->snapshot_valid = false;
	window_drop(d, u);
	/* Before the name is ours, clients find units with GetManagedObjects. */
	if (!d->bus || !d->ready)
		return;
	(void)sd_bus_emit_object_removed(d->bus, u->object_path);
	(void)sd_bus_emit_properties_changed(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					     "UnitCount", NULL);
}

void publish_open_alarms_changed(struct daemon *d)
{
	if (d->bus && d->ready)
		(void)sd_bus_emit_properties_changed(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE,
						     "OpenAlarms", NULL);
}

void publish_unacked_changed(struct daemon *d)
{
	if (d->bus && d->ready)
		(void)sd_bus_emit_properties_changed(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE,
						     "UnacknowledgedAlarms", NULL);
	daemon_update_status(d);
}

void publish_alarm_changed(struct daemon *d, const struct alarm_record *a, const char *event,
			   const char *unit_name, uint32_t uid, const char *user,
			   const char *comment, uint64_t when_usec, int32_t temp)
{
	int r;

	if (!d->bus)
		return;
	r = sd_bus_emit_signal(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE, "AlarmChanged",
			       "tsssuuuitusss", a->id, event, a->serial, unit_name,
			       (uint32_t)a->probe, (uint32_t)a->state, (uint32_t)a->level, temp,
			       when_usec, uid, user, comment, alarm_kind_name(a->kind));
	if (r < 0)
		log_warning("cannot send AlarmChanged: %s", strerror(-r));
}

static struct status_counts status_counts(const struct daemon *d)
{
	return (struct status_counts){
		.units = d->n_units,
		.ready = d->n_ready,
		.alarms = d->n_alarming,
		.unacknowledged = d->n_unacked,
	};
}

static bool status_counts_equal(const struct status_counts *a, const struct status_counts *b)
{
	return a->units == b->units && a->ready == b->ready && a->alarms == b->alarms &&
	       a->unacknowledged == b->unacknowledged;
}

void daemon_publish_status(struct daemon *d)
{
	struct status_counts now = status_counts(d);
	unsigned int ready = now.ready, alarms = now.alarms;
	unsigned int unacked = now.unacknowledged;
	char status[128], tail[48] = "";

	/* What an operator must answer, on the line "systemctl status" shows. */
	if (unacked)
		snprintf(tail, sizeof(tail), ", %u not acknowledged", unacked);
	snprintf(status, sizeof(status), "%zu unit%s, %u ready, %u alarm%s%s",
		 d->n_units, d->n_units == 1 ? "" : "s", ready, alarms,
		 alarms == 1 ? "" : "s", tail);
	if (!d->ready || !strcmp(status, d->last_status))
		return;
	d->shown = now;
	snprintf(d->last_status, sizeof(d->last_status), "%s", status);
	sd_notifyf(0, "STATUS=%s", status);
}

static int on_status(sd_event_source *s, void *userdata)
{
	(void)s;
	daemon_publish_status(userdata);
	return 0;
}

/*
 * Once, when the loop is done with what woke it: STATUS= is a message.
 * Most calls end a batch window that changed no count: they cost no
 * formatting and no extra turn of the loop.
 */
void daemon_update_status(struct daemon *d)
{
	struct status_counts now;

	if (!d->ready)
		return;
	now = status_counts(d);
	if (d->last_status[0] && status_counts_equal(&now, &d->shown))
		return;
	if (!d->status_source ||
	    sd_event_source_set_enabled(d->status_source, SD_EVENT_ONESHOT) < 0)
		daemon_publish_status(d);
}


int publish_init(struct daemon *d)
{
	int r = sd_event_add_defer(d->event, &d->status_source, on_status, d);

	if (r >= 0)
		r = sd_event_source_set_enabled(d->status_source, SD_EVENT_OFF);
	return r;
}
