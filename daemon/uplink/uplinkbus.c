// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * uplinkbus.c - org.coldroom.Uplink1 and the bus set-up: properties, name,
 * the signals followed; apart, as the one place that says what is matched.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "log.h"
#include "service.h"
#include "signal_guard.h"
#include "uplink.h"

static int get_cursor(sd_bus *bus, const char *path, const char *interface, const char *property,
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct uplink *u = userdata;

	(void)bus, (void)path, (void)interface, (void)error;
	return sd_bus_message_append(reply, "t",
				     !strcmp(property, "RecordSeq") ? u->rec.acked : u->aud.acked);
}

static int get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct uplink *u = userdata;

	(void)bus, (void)path, (void)interface, (void)error;
	if (!strcmp(property, "State"))
		return sd_bus_message_append(reply, "s", u->state);
	if (!strcmp(property, "Broker"))
		return sd_bus_message_append(reply, "s", u->broker);
	if (!strcmp(property, "Site"))
		return sd_bus_message_append(reply, "s", u->origin.site);
	return sd_bus_message_append(reply, "s", u->origin.host);
}

static const sd_bus_vtable properties_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("State", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Connected", "b", NULL, offsetof(struct uplink, connected),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Broker", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Site", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Host", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Backlog", "t", NULL, offsetof(struct uplink, backlog),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("RecordSeq", "t", get_cursor, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("AuditSeq", "t", get_cursor, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

int bus_setup(struct uplink *u, const struct service *service, const char *spec)
{
	struct signal_guard *recorder, *sensors;
	int k;

	k = service_bus_open(service, u->event, spec, &u->bus);
	if (k >= 0)
		k = sd_bus_add_object_vtable(u->bus, NULL, UPLINK_PATH, UPLINK_IFACE,
					     properties_vtable, u);
	if (k >= 0)
		k = service_request_name(u->bus, UPLINK_BUS_NAME,
					 "forwarding goes on, but its state cannot be read over the bus");
	/* The recorder's and coldroomd's signals, from their names' owners only. */
	if (k >= 0)
		k = signal_guard_new(u->bus, RECORDER_BUS_NAME, on_recorder_owner, u, &recorder);
	if (k >= 0)
		k = signal_guard_match(recorder, RECORDER_PATH, RECORDER_IFACE, "Committed",
				       on_committed, u);
	if (k >= 0 && u->cfg.publish_samples) {
		k = signal_guard_new(u->bus, SENSORS_BUS_NAME, on_units_changed, u, &sensors);
		if (k >= 0)
			k = signal_guard_match(sensors, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					       "Readings", on_readings, u);
		if (k >= 0)
			k = signal_guard_match(sensors, SENSORS_PATH,
					       "org.freedesktop.DBus.ObjectManager",
					       "InterfacesAdded", on_units_changed, u);
		if (k >= 0)
			k = signal_guard_match(sensors, SENSORS_PATH,
					       "org.freedesktop.DBus.ObjectManager",
					       "InterfacesRemoved", on_units_changed, u);
	}
	if (k < 0)
		log_error("cannot set up the bus: %s", strerror(-k));
	return k;
}
