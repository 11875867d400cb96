// SPDX-License-Identifier: GPL-2.0 OR MIT
/* busclient.c - see busclient.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "busclient.h"

int busclient_connect(const char *address, sd_event *event, sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_attach_event(bus, event, 0);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

int busclient_round_trip(sd_bus *bus)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetId", &e, &reply, NULL);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r;
}

int busclient_finish(const char *prog, pid_t pid, int r, sd_event *event, sd_bus **buses,
		     size_t n)
{
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, strerror(-r));
		kill(pid, SIGCONT);
	} else if (kill(pid, SIGCONT) < 0) {
		fprintf(stderr, "%s: SIGCONT: %s\n", prog, strerror(errno));
		r = -errno;
	} else {
		/* Every call ends: a reply, or sd-bus' own timeout. */
		r = sd_event_loop(event);
		if (r < 0)
			fprintf(stderr, "%s: %s\n", prog, strerror(-r));
	}
	for (size_t i = 0; i < n; i++)
		sd_bus_flush_close_unref(buses[i]);
	sd_event_unref(event);
	return r < 0 ? 1 : 0;
}
