// SPDX-License-Identifier: GPL-2.0
/*
 * dbus-latency - how long after a sample its reading reaches a D-Bus client.
 *
 *   dbus-latency SECONDS
 *
 * Listens on the system bus for SECONDS to coldroomd's Manager
 * Readings signals. Each reading carries LastUpdate, the kernel's
 * timestamp of the sample (CLOCK_REALTIME microseconds); its latency is the
 * time the signal was handled here minus that. Also counts the per-unit
 * PropertiesChanged signals. Prints one line (percentiles 0 when no reading
 * arrived in the window):
 *
 *   LATENCY <readings> <p50 us> <p99 us> <max us> <Readings signals> <PropertiesChanged>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "readings_msg.h"

struct samples {
	uint64_t *v;
	size_t n, cap;
	uint64_t readings_signals;
	uint64_t unit_signals;
};

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static int push(struct samples *s, uint64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 65536;
		uint64_t *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

/* Readings (readings_msg.h): the latency of each entry's sample. */
static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct samples *s = userdata;
	uint64_t now = realtime_usec();
	struct readings_msg r;
	int k;

	(void)error;
	s->readings_signals++;
	k = readings_msg_read(m, &r);
	if (k < 0) {
		fprintf(stderr, "dbus-latency: bad Readings: %s\n", strerror(-k));
		return 0;
	}
	for (size_t i = 0; i < r.n; i++)
		/* A unit that never sampled has no timestamp to measure from. */
		if (r.last_update[i] &&
		    push(s, now > r.last_update[i] ? now - r.last_update[i] : 0) < 0)
			return -ENOMEM;
	return 0;
}

static int on_unit_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct samples *s = userdata;

	(void)m, (void)error;
	s->unit_signals++;
	return 0;
}

static int on_done(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)usec, (void)userdata;
	return sd_event_exit(sd_event_source_get_event(src), 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t percentile(const struct samples *s, unsigned int p)
{
	size_t i = s->n * p / 100;

	return s->n ? s->v[i < s->n ? i : s->n - 1] : 0;
}

int main(int argc, char **argv)
{
	struct samples s = { 0 };
	sd_event *event = NULL;
	sd_bus *bus = NULL;
	char *end;
	unsigned long seconds;
	int r;

	seconds = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
	if (argc != 2 || *end || seconds == 0 || seconds > 3600) {
		fprintf(stderr, "usage: dbus-latency SECONDS (1..3600)\n");
		return 2;
	}
	r = sd_event_default(&event);
	if (r >= 0)
		r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_attach_event(bus, event, 0);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, "org.coldroom.Sensors1", "/org/coldroom/Sensors1",
					"org.coldroom.Sensors1.Manager", "Readings",
					on_readings, &s);
	if (r >= 0)
		r = sd_bus_add_match(bus, NULL,
				     "type='signal',sender='org.coldroom.Sensors1',"
				     "interface='org.freedesktop.DBus.Properties',"
				     "member='PropertiesChanged',"
				     "arg0='org.coldroom.Sensors1.Unit'",
				     on_unit_changed, &s);
	if (r >= 0)
		r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC,
					       seconds * 1000000ULL, 0, on_done, NULL);
	if (r >= 0)
		r = sd_event_loop(event);
	if (r < 0) {
		fprintf(stderr, "dbus-latency: %s\n", strerror(-r));
		return 1;
	}
	qsort(s.v, s.n, sizeof(*s.v), cmp_u64);
	printf("LATENCY %zu %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
	       s.n, percentile(&s, 50), percentile(&s, 99), s.n ? s.v[s.n - 1] : 0,
	       s.readings_signals, s.unit_signals);
	free(s.v);
	sd_bus_unref(bus);
	sd_event_unref(event);
	/* No reading in the window is a result too (a saturated bus). */
	return 0;
}
