// SPDX-License-Identifier: GPL-2.0
/*
 * dbus-flood - what any local user may do to coldroomd: call its most
 * expensive read-only methods back to back.
 *
 *   dbus-flood SECONDS
 *
 * Keeps four calls in flight on the system bus for SECONDS, alternating
 * GetManagedObjects and Manager.GetReadings, and prints
 * "FLOOD <calls answered> <errors> <GetManagedObjects answered>
 * <GetReadings answered> <refused with LimitsExceeded>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define IN_FLIGHT 4

struct flood {
	sd_bus *bus;
	uint64_t calls, answered, errors, objects, readings, limited;
	int stopping;
};

static int send_one(struct flood *f);

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error, int objects)
{
	struct flood *f = userdata;

	(void)error;
	if (sd_bus_message_is_method_error(m, SD_BUS_ERROR_LIMITS_EXCEEDED)) {
		f->errors++;
		f->limited++;
	} else if (sd_bus_message_is_method_error(m, NULL)) {
		f->errors++;
	} else {
		f->answered++;
		if (objects)
			f->objects++;
		else
			f->readings++;
	}
	return f->stopping ? 0 : send_one(f);
}

static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return on_reply(m, userdata, error, 1);
}

static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return on_reply(m, userdata, error, 0);
}

static int send_one(struct flood *f)
{
	const int objects = f->calls++ % 2 == 0;

	return sd_bus_call_method_async(f->bus, NULL, "org.coldroom.Sensors1",
					"/org/coldroom/Sensors1",
					objects ? "org.freedesktop.DBus.ObjectManager"
						: "org.coldroom.Sensors1.Manager",
					objects ? "GetManagedObjects" : "GetReadings",
					objects ? on_objects : on_readings, f, NULL);
}

static int on_done(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct flood *f = userdata;

	(void)usec;
	f->stopping = 1;
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

int main(int argc, char **argv)
{
	struct flood f = { 0 };
	sd_event *event = NULL;
	unsigned long seconds;
	char *end;
	int r;

	seconds = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
	if (argc != 2 || *end || seconds == 0 || seconds > 3600) {
		fprintf(stderr, "usage: dbus-flood SECONDS (1..3600)\n");
		return 2;
	}
	r = sd_event_default(&event);
	if (r >= 0)
		r = sd_bus_open_system(&f.bus);
	if (r >= 0)
		r = sd_bus_attach_event(f.bus, event, 0);
	for (int i = 0; r >= 0 && i < IN_FLIGHT; i++)
		r = send_one(&f);
	if (r >= 0)
		r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC,
					       seconds * 1000000ULL, 0, on_done, &f);
	if (r >= 0)
		r = sd_event_loop(event);
	if (r < 0) {
		fprintf(stderr, "dbus-flood: %s\n", strerror(-r));
		return 1;
	}
	printf("FLOOD %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", f.answered,
	       f.errors, f.objects, f.readings, f.limited);
	sd_bus_flush_close_unref(f.bus);
	sd_event_unref(event);
	return 0;
}
