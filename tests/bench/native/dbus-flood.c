// SPDX-License-Identifier: GPL-2.0
/*
 * dbus-flood - what any local user may do to coldroomd: call its methods
 * back to back.
 *
 *   dbus-flood SECONDS [METHOD...]
 *
 * Keeps four calls in flight on the system bus for SECONDS, the METHODs in
 * turn (by default GetManagedObjects and GetReadings, the most expensive),
 * and prints "FLOOD <calls answered> <errors> <GetManagedObjects answered>
 * <GetReadings answered> <refused with LimitsExceeded>". A METHOD is one of
 * the names in calls[] below: each is called as the most expensive way to
 * call it at 10,000 units (GetUnit of a serial no unit has: a look at
 * every unit).
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
#define METHODS_MAX 16
#define ROOT "/org/coldroom/Sensors1"
#define UNIT1 ROOT "/unit/sensor1"
#define MANAGER "org.coldroom.Sensors1.Manager"
#define UNIT "org.coldroom.Sensors1.Unit"
#define PROPS "org.freedesktop.DBus.Properties"
#define INTROSPECTABLE "org.freedesktop.DBus.Introspectable"

static const struct flood_call {
	const char *name, *path, *iface, *member, *arg1, *arg2;
} calls[] = {
	{ "GetManagedObjects", ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
	  NULL, NULL },
	{ "GetReadings", ROOT, MANAGER, "GetReadings", NULL, NULL },
	{ "GetUnit", ROOT, MANAGER, "GetUnit", "NO-SUCH-SERIAL", NULL },
	{ "ListAlarms", ROOT, MANAGER, "ListAlarms", NULL, NULL },
	{ "Get", UNIT1, PROPS, "Get", UNIT, "Temp1" },
	{ "GetAll", UNIT1, PROPS, "GetAll", UNIT, NULL },
	{ "GetFrame", UNIT1, UNIT, "GetFrame", NULL, NULL },
	{ "Introspect", ROOT, INTROSPECTABLE, "Introspect", NULL, NULL },
	{ "IntrospectUnits", ROOT "/unit", INTROSPECTABLE, "Introspect", NULL, NULL },
	{ "Ping", ROOT, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL },
};

struct flood {
	sd_bus *bus;
	const struct flood_call *methods[METHODS_MAX];
	size_t n_methods;
	uint64_t calls, answered, errors, objects, readings, limited;
	int stopping;
};

static int send_one(struct flood *f);

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
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
		/* A reply names no method: the two counted by their signatures. */
		if (sd_bus_message_has_signature(m, "a{oa{sa{sv}}}"))
			f->objects++;
		else if (sd_bus_message_has_signature(m, "auaiaiayayayatat"))
			f->readings++;
	}
	return f->stopping ? 0 : send_one(f);
}

static int send_one(struct flood *f)
{
	sd_bus_message *m = NULL;
	const struct flood_call *c = f->methods[f->calls++ % f->n_methods];
	int r;

	r = sd_bus_message_new_method_call(f->bus, &m, "org.coldroom.Sensors1", c->path, c->iface,
					   c->member);
	if (r >= 0 && c->arg1)
		r = sd_bus_message_append_basic(m, 's', c->arg1);
	if (r >= 0 && c->arg2)
		r = sd_bus_message_append_basic(m, 's', c->arg2);
	if (r >= 0)
		r = sd_bus_call_async(f->bus, NULL, m, on_reply, f, 0);
	sd_bus_message_unref(m);
	return r;
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

	seconds = argc >= 2 ? strtoul(argv[1], &end, 10) : 0;
	if (argc < 2 || *end || seconds == 0 || seconds > 3600 || argc - 2 > METHODS_MAX) {
		fprintf(stderr, "usage: dbus-flood SECONDS (1..3600) [METHOD...]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		size_t k;

		for (k = 0; k < sizeof(calls) / sizeof(calls[0]) && strcmp(calls[k].name, argv[i]); k++)
			;
		if (k == sizeof(calls) / sizeof(calls[0])) {
			fprintf(stderr, "dbus-flood: no method %s\n", argv[i]);
			return 2;
		}
		f.methods[f.n_methods++] = &calls[k];
	}
	if (!f.n_methods) {
		f.methods[f.n_methods++] = &calls[0];
		f.methods[f.n_methods++] = &calls[1];
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
