// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_watch.c - watch: the unit table redrawn as the Readings
 * signals arrive, the objects fetched again only when something else
 * changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "readings_msg.h"
#include "signal_guard.h"
#include "unit_client.h"

/*
 * watch: the units as GetManagedObjects gave them, once; then the
 * readings of each Readings signal into that list. The objects are
 * fetched again only when something else changes (a property, a unit
 * that comes or goes, the daemon), so that a watch costs the daemon one
 * GetManagedObjects, not one per redraw.
 */
struct watch {
	sd_bus *bus;
	sd_event *event;
	sd_event_source *redraw;
	struct unit_list units;
	struct unit_info **by_number;	/* units.v by Number */
	size_t n_by_number;
	bool stale;			/* fetch the objects before drawing */
	unsigned int shown;
	int status;
	bool tty;
};

static void watch_forget(struct watch *w)
{
	unit_list_free(&w->units);
	free(w->by_number);
	w->by_number = NULL;
	w->n_by_number = 0;
}

/* The objects, and their index by Number. */
static int watch_fetch(struct watch *w)
{
	size_t n = 0;
	int r;

	watch_forget(w);
	r = fetch_units(w->bus, &w->units);
	if (r)
		return r;
	for (size_t i = 0; i < w->units.n; i++)
		if (w->units.v[i].number != NO_NUMBER && w->units.v[i].number >= n)
			n = (size_t)w->units.v[i].number + 1;
	if (n) {
		w->by_number = calloc(n, sizeof(*w->by_number));
		if (!w->by_number)
			return -ENOMEM;
	}
	w->n_by_number = n;
	for (size_t i = 0; i < w->units.n; i++)
		if (w->units.v[i].number != NO_NUMBER)
			w->by_number[w->units.v[i].number] = &w->units.v[i];
	w->stale = false;
	return 0;
}

static int watch_draw(struct watch *w)
{
	char now[64];
	int r;

	if (w->stale || !w->units.v) {
		r = watch_fetch(w);
		if (r == EXIT_NOT_RUNNING) {
			/* The daemon went away: wait for it to come back. */
			watch_forget(w);
			return 0;
		}
		if (r)
			return r < 0 ? EXIT_FAILURE : r;
	}
	if (w->tty && !arg_json)
		fputs("\033[H\033[2J", stdout);
	if (!arg_json) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		format_time(now, sizeof(now), (uint64_t)ts.tv_sec * 1000000ULL);
		printf("coldroomctl watch  %s  (%zu units; Ctrl-C to stop)\n\n", now,
		       w->units.n);
	}
	print_list(&w->units);
	fflush(stdout);
	w->shown++;
	if (arg_count && w->shown >= arg_count)
		sd_event_exit(w->event, 0);
	return 0;
}

static int on_redraw(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct watch *w = userdata;
	int r;

	(void)s, (void)usec;
	w->redraw = sd_event_source_unref(w->redraw);
	r = watch_draw(w);
	if (r) {
		w->status = r;
		sd_event_exit(w->event, r);
	}
	return 0;
}

/* Redraw soon, at most five times a second. */
static int watch_schedule(struct watch *w)
{
	if (w->redraw)
		return 0;
	return sd_event_add_time_relative(w->event, &w->redraw, CLOCK_MONOTONIC,
					  200 * 1000, 10 * 1000, on_redraw, w);
}

/*
 * Readings(au, ai, ai, ay, ay, ay, at, at): entry i of each array is unit
 * units[i]'s (readings_msg.h). A malformed signal, or a unit not in the
 * list, makes the next redraw fetch the objects.
 */
static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct watch *w = userdata;
	struct readings_msg r;

	(void)error;
	if (readings_msg_read(m, &r) < 0) {
		w->stale = true;
		return watch_schedule(w);
	}
	for (size_t i = 0; i < r.n; i++) {
		struct unit_info *u = r.unit[i] < w->n_by_number ? w->by_number[r.unit[i]] : NULL;

		if (!u) {
			w->stale = true;
			continue;
		}
		u->temp[0] = r.temp1[i];
		u->temp[1] = r.temp2[i];
		u->status[0] = r.temp1_status[i];
		u->status[1] = r.temp2_status[i];
		u->alarm[0] = !!(r.alarms[i] & READINGS_ALARM_TEMP1);
		u->alarm[1] = !!(r.alarms[i] & READINGS_ALARM_TEMP2);
		u->seq = r.sample_seq[i];
		u->last_update = r.last_update[i];
	}
	return watch_schedule(w);
}

/*
 * Any other signal of the daemon's units (a property, an alarm, a unit
 * that comes or goes) or of its name: fetch the objects again. The
 * manager's own properties are not in the table.
 */
static int on_bus_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct watch *w = userdata;
	const char *path = sd_bus_message_get_path(m);

	(void)error;
	if (sd_bus_message_is_signal(m, SENSORS_MANAGER_IFACE, "Readings"))
		return 0;
	if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") &&
	    path && !strcmp(path, SENSORS_PATH))
		return 0;
	w->stale = true;
	return watch_schedule(w);
}

int cmd_watch(sd_bus *bus)
{
	struct watch w = { .bus = bus, .tty = isatty(STDOUT_FILENO) };
	struct signal_guard *guard;
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&w.event);
	if (r >= 0)
		r = sd_event_add_signal(w.event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(w.event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(bus, w.event, 0);
	/* Only coldroomd's name's owner is believed (signal_guard.h). */
	if (r >= 0)
		r = signal_guard_new(bus, SENSORS_BUS_NAME, on_bus_signal, &w, &guard);
	if (r >= 0)
		r = signal_guard_match(guard, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Readings",
				       on_readings, &w);
	if (r >= 0)
		r = signal_guard_match(guard, NULL, NULL, NULL, on_bus_signal, &w);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: watch: %s\n", strerror(-r));
		sd_event_unref(w.event);
		return EXIT_FAILURE;
	}
	r = watch_draw(&w);
	if (!r && !(arg_count && w.shown >= arg_count))
		r = sd_event_loop(w.event);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: watch: %s\n", strerror(-r));
		r = EXIT_FAILURE;
	}
	sd_event_source_unref(w.redraw);
	sd_bus_detach_event(bus);
	sd_event_unref(w.event);
	watch_forget(&w);
	return r ? r : w.status;
}
