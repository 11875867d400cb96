// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_bus.c - coldroomd and coldroom-recorder over the bus: a
 * failed call turned into a message and an exit status, the units
 * fetched, a unit resolved to its serial.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "macro.h"
#include "unit_client.h"

/* Map a failed call to a message and an exit status. */
int fail_call(const char *what, const sd_bus_error *e, int r)
{
	const char *name = e && e->name ? e->name : "";

	if (!strcmp(name, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    !strcmp(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		fprintf(stderr, "coldroomctl: coldroomd is not running (no %s on the %s bus)\n",
			SENSORS_BUS_NAME, arg_bus);
		return EXIT_NOT_RUNNING;
	}
	if (!strcmp(name, SENSORS_ERROR_NO_SUCH_UNIT) ||
	    !strcmp(name, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
		fprintf(stderr, "coldroomctl: %s\n", e->message ? e->message : "no such unit");
		return EXIT_NO_UNIT;
	}
	if (!strcmp(name, SENSORS_ERROR_NO_SUCH_ALARM)) {
		fprintf(stderr, "coldroomctl: %s: %s\n", what, e->message ? e->message : "no such alarm");
		return EXIT_NO_UNIT;
	}
	if (!strcmp(name, SD_BUS_ERROR_ACCESS_DENIED) ||
	    !strcmp(name, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
		fprintf(stderr, "coldroomctl: %s: access denied: %s\n", what,
			e->message ? e->message : "not allowed");
		return EXIT_DENIED;
	}
	if (!strcmp(name, SD_BUS_ERROR_INVALID_ARGS)) {
		fprintf(stderr, "coldroomctl: %s: %s\n", what, e->message);
		return EXIT_REJECTED;
	}
	if (e && e->message)
		fprintf(stderr, "coldroomctl: %s: %s\n", what, e->message);
	else
		fprintf(stderr, "coldroomctl: %s: %s\n", what, strerror(-r));
	return EXIT_FAILURE;
}

int fetch_units(sd_bus *bus, struct unit_list *out)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = units_fetch(bus, out, &e);
	if (r < 0)
		return fail_call("listing units", &e, r);
	return 0;
}

int fetch_unit(sd_bus *bus, const char *key, struct unit_info *u)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	int r, ret = 0;

	memset(u, 0, sizeof(*u));
	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE, "GetUnit", &e,
			       &reply, "s", key);
	if (r < 0) {
		ret = fail_call(key, &e, r);
		goto out;
	}
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0 || !(u->path = strdup(path))) {
		ret = EXIT_FAILURE;
		goto out;
	}
	reply = sd_bus_message_unref(reply);
	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u->path, "org.freedesktop.DBus.Properties",
			       "GetAll", &e, &reply, "s", SENSORS_UNIT_IFACE);
	if (r < 0) {
		ret = fail_call(key, &e, r);
		goto out;
	}
	r = unit_props_read(reply, u);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: cannot read the daemon's reply: %s\n", strerror(-r));
		ret = EXIT_FAILURE;
	}
out:
	if (ret) {
		free(u->path);
		u->path = NULL;
	}
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return ret;
}

/*
 * The serial of @key (a unit name or serial) from coldroomd, with the
 * unit's settings in @u when it knows the unit; else @key itself, since
 * the record outlives units and coldroomd.
 */
void resolve_unit(sd_bus *bus, const char *key, struct unit_info *u)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *path;

	memset(u, 0, sizeof(*u));
	if (sd_bus_call_method(bus, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE, "GetUnit", &e, &reply,
			       "s", key) >= 0 &&
	    sd_bus_message_read(reply, "o", &path) > 0 && (u->path = strdup(path))) {
		reply = sd_bus_message_unref(reply);
		if (sd_bus_call_method(bus, SENSORS_BUS_NAME, u->path, "org.freedesktop.DBus.Properties",
				       "GetAll", &e, &reply, "s", SENSORS_UNIT_IFACE) >= 0 &&
		    unit_props_read(reply, u) >= 0 && u->serial[0])
			return;
	}
	free(u->path);
	memset(u, 0, sizeof(*u));
	snprintf(u->serial, sizeof(u->serial), "%s", key);
}

int fail_record(const char *what, const sd_bus_error *e, int r)
{
	const char *name = e && e->name ? e->name : "";

	if (!strcmp(name, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    !strcmp(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		fprintf(stderr, "coldroomctl: %s: coldroom-recorder is not running (no %s on the %s bus)\n",
			what, RECORDER_BUS_NAME, arg_bus);
		return EXIT_NOT_RUNNING;
	}
	return fail_call(what, e, r);
}
