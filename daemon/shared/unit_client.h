/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * unit_client.h - the client side of org.coldroom.Sensors1's units
 * (DBUS-API.md): their properties as one struct, read from
 * GetManagedObjects, GetAll or PropertiesChanged. One reader for
 * coldroomctl and coldroom-recorder.
 */
#ifndef COLDROOM_UNIT_CLIENT_H
#define COLDROOM_UNIT_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "signal_guard.h"


#define NO_NUMBER UINT32_MAX

struct unit_info {
	char *path;
	uint32_t number;		/* Number, or NO_NUMBER */
	char name[64], serial[64], model[64], label[64];
	int32_t temp[2], min[2], max[2], hyst[2];
	uint32_t status[2], interval_ms;
	int alarm[2];
	uint64_t seq, last_update;
	char fw_name[128], fw_state[16], fw_version[16], fw_error[256], fw_source[1024];
};

struct unit_list {
	struct unit_info *v;
	size_t n;
};

void unit_list_free(struct unit_list *l);

/*
 * Read an a{sv} of Unit properties from @m onto @u: the properties in it
 * are set, the others left as they were (so PropertiesChanged updates).
 */
int unit_props_read(sd_bus_message *m, struct unit_info *u);

/*
 * Read an ObjectManager InterfacesAdded signal: the object's @path and,
 * when the Unit interface is among those added, its properties onto @u.
 * 1 for a unit, 0 for other objects, negative errno when malformed.
 */
int unit_interfaces_added_read(sd_bus_message *m, const char **path, struct unit_info *u);

/* What a client that follows the units is called for (DBUS-API.md). */
struct units_follow {
	sd_bus_message_handler_t interfaces_added, interfaces_removed;
	sd_bus_message_handler_t properties_changed;	/* of the units */
	sd_bus_message_handler_t owner_changed;		/* coldroomd came or went */
};

/*
 * Subscribe @f's handlers, with @userdata, for the lifetime of @bus, each
 * signal taken only from coldroomd's current owner (signal_guard.h).
 * @ret, when not NULL, is that guard, for the client's other matches of
 * coldroomd's signals.
 */
int units_follow(sd_bus *bus, const struct units_follow *f, void *userdata,
		 struct signal_guard **ret);

/* Every unit, from GetManagedObjects. Negative errno; @e says why. */
int units_fetch(sd_bus *bus, struct unit_list *out, sd_bus_error *e);

#endif
