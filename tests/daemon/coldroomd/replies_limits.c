// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * replies_limits ADDRESS COLDROOMD_PID - the limits of coldroomd's calls
 * whose replies carry every unit (replies.c), without a race: with
 * coldroomd stopped (SIGSTOP, by the caller), connection "a" sends two
 * GetManagedObjects and two GetReadings calls, connections "b" to "e" one
 * GetManagedObjects each; a round trip to the bus after each connection's
 * calls makes sure the bus has routed them, so coldroomd finds them all
 * queued when it gets SIGCONT. Prints one line per call: who, the method,
 * and "ok N" (the units in the reply) or "error NAME: MESSAGE".
 *
 * replies_limits ADDRESS --again SECONDS - a client that calls again as
 * soon as it is answered or refused: two GetReadings in flight on one
 * connection for SECONDS; then it waits (up to DRAIN_US) for the answers
 * to the calls still in flight, without calling again, and prints
 * "answered N refused M". While a window is under way coldroomd tells a
 * refusal at its end, so M stays at about one a window (without that,
 * thousands a second), and the calls in flight are answered by then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "busclient.h"

#define CONNECTIONS 5
#define DRAIN_US (60 * 1000000ULL)

struct call {
	char who[2];
	int objects;
};

static int pending;

/* The entries of the reply's first array: units either way. */
static int count_units(sd_bus_message *m, int objects)
{
	int n = 0, r;

	if (!objects) {
		const void *p;
		size_t size;

		r = sd_bus_message_read_array(m, 'u', &p, &size);
		return r < 0 ? r : (int)(size / sizeof(uint32_t));
	}
	r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_skip(m, "{oa{sa{sv}}}")) > 0)
		n++;
	return r < 0 ? r : n;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct call *c = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	const char *method = c->objects ? "GetManagedObjects" : "GetReadings";

	(void)ret_error;
	if (e)
		printf("%s %s error %s: %s\n", c->who, method, e->name, e->message);
	else
		printf("%s %s ok %d\n", c->who, method, count_units(m, c->objects));
	if (--pending == 0)
		sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), 0);
	return 0;
}

static int call_async(sd_bus *bus, struct call *c)
{
	int r = sd_bus_call_method_async(bus, NULL, "org.coldroom.Sensors1", "/org/coldroom/Sensors1",
					 c->objects ? "org.freedesktop.DBus.ObjectManager" :
						      "org.coldroom.Sensors1.Manager",
					 c->objects ? "GetManagedObjects" : "GetReadings",
					 on_reply, c, NULL);

	if (r >= 0)
		pending++;
	return r;
}

struct again {
	sd_bus *bus;
	unsigned long answered, refused;
	unsigned int in_flight;
	bool draining;		/* SECONDS are over: no call again */
	int r;
};

static int call_again(struct again *a);

static int on_again(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct again *a = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)ret_error;
	a->in_flight--;
	if (!e)
		a->answered++;
	else if (sd_bus_error_has_name(e, SD_BUS_ERROR_LIMITS_EXCEEDED))
		a->refused++;
	else
		a->r = -sd_bus_message_get_errno(m);
	if (a->r >= 0 && !a->draining)
		a->r = call_again(a);
	if (a->r < 0 || (a->draining && !a->in_flight))
		sd_event_exit(sd_bus_get_event(a->bus), a->r);
	return 0;
}

static int call_again(struct again *a)
{
	int r = sd_bus_call_method_async(a->bus, NULL, "org.coldroom.Sensors1",
					 "/org/coldroom/Sensors1", "org.coldroom.Sensors1.Manager",
					 "GetReadings", on_again, a, NULL);

	if (r >= 0)
		a->in_flight++;
	return r;
}

/* SECONDS over: the calls in flight are waited for, up to DRAIN_US. */
static int on_time_up(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct again *a = userdata;

	(void)usec;
	if (a->draining) {
		fprintf(stderr, "replies_limits: %u call(s) unanswered after %llu s\n",
			a->in_flight, DRAIN_US / 1000000ULL);
		return sd_event_exit(sd_event_source_get_event(s), -ETIMEDOUT);
	}
	a->draining = true;
	if (!a->in_flight)
		return sd_event_exit(sd_event_source_get_event(s), 0);
	return sd_event_source_set_time_relative(s, DRAIN_US) < 0 ||
	       sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0 ?
		       sd_event_exit(sd_event_source_get_event(s), -EIO) : 0;
}

static int again(const char *address, const char *seconds)
{
	struct again a = { 0 };
	sd_event *event = NULL;
	int r;

	r = sd_event_default(&event);
	if (r >= 0)
		r = busclient_connect(address, event, &a.bus);
	for (int i = 0; r >= 0 && i < 2; i++)
		r = call_again(&a);
	if (r >= 0)
		r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC,
					       strtoull(seconds, NULL, 10) * 1000000ULL, 0,
					       on_time_up, &a);
	if (r >= 0)
		r = sd_event_loop(event);
	if (r >= 0)
		printf("answered %lu refused %lu\n", a.answered, a.refused);
	else
		fprintf(stderr, "replies_limits: %s\n", strerror(-r));
	sd_bus_flush_close_unref(a.bus);
	sd_event_unref(event);
	return r < 0;
}

int main(int argc, char **argv)
{
	static struct call a[4] = { { "a", 1 }, { "a", 1 }, { "a", 0 }, { "a", 0 } };
	static struct call others[CONNECTIONS - 1];
	sd_bus *buses[CONNECTIONS] = { NULL };
	sd_event *event = NULL;
	pid_t pid;
	int r;

	if (argc == 4 && !strcmp(argv[2], "--again"))
		return again(argv[1], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: replies_limits ADDRESS COLDROOMD_PID | ADDRESS --again SECONDS\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	r = sd_event_default(&event);
	if (r >= 0)
		r = busclient_connect(argv[1], event, &buses[0]);
	for (int i = 0; r >= 0 && i < 4; i++)
		r = call_async(buses[0], &a[i]);
	if (r >= 0)
		r = busclient_round_trip(buses[0]);
	for (int i = 0; r >= 0 && i < CONNECTIONS - 1; i++) {
		others[i] = (struct call){ { (char)('b' + i), '\0' }, 1 };
		r = busclient_connect(argv[1], event, &buses[i + 1]);
		if (r >= 0)
			r = call_async(buses[i + 1], &others[i]);
		if (r >= 0)
			r = busclient_round_trip(buses[i + 1]);
	}
	return busclient_finish("replies_limits", pid, r, event, buses, CONNECTIONS);
}
