// SPDX-License-Identifier: GPL-2.0 OR MIT
/* unit_client.c - reading org.coldroom.Sensors1's units (unit_client.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/coldroom.h>

#include "macro.h"
#include "unit_client.h"

void unit_list_free(struct unit_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

int unit_props_read(sd_bus_message *m, struct unit_info *u)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *contents, *s;
		char type;

		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(m, &type, &contents);
		if (r < 0)
			return r;
		r = sd_bus_message_enter_container(m, 'v', contents);
		if (r < 0)
			return r;
#define STR(k, f) else if (!strcmp(key, k) && contents[0] == 's') { \
			r = sd_bus_message_read(m, "s", &s); copy_str(f, sizeof(f), s); }
#define NUM(k, sig, f) else if (!strcmp(key, k) && !strcmp(contents, sig)) \
			r = sd_bus_message_read(m, sig, &(f));
		if (0)
			;
		STR("Name", u->name)
		STR("Serial", u->serial)
		STR("Model", u->model)
		STR("Label", u->label)
		STR("FirmwareName", u->fw_name)
		STR("FirmwareState", u->fw_state)
		STR("FirmwareVersion", u->fw_version)
		STR("FirmwareError", u->fw_error)
		STR("FirmwareSource", u->fw_source)
		else if (!strcmp(key, "Number") && !strcmp(contents, "u")) {
			uint32_t number;

			/* sensorN stops at COLDROOM_UNIT_MAX; a unit without one has NO_NUMBER. */
			r = sd_bus_message_read(m, "u", &number);
			if (r >= 0 && number > COLDROOM_UNIT_MAX && number != NO_NUMBER)
				r = -EBADMSG;
			else if (r >= 0)
				u->number = number;
		}
		NUM("Temp1", "i", u->temp[0])
		NUM("Temp2", "i", u->temp[1])
		NUM("Temp1Status", "u", u->status[0])
		NUM("Temp2Status", "u", u->status[1])
		NUM("Temp1Alarm", "b", u->alarm[0])
		NUM("Temp2Alarm", "b", u->alarm[1])
		NUM("Temp1Min", "i", u->min[0])
		NUM("Temp1Max", "i", u->max[0])
		NUM("Temp1Hyst", "i", u->hyst[0])
		NUM("Temp2Min", "i", u->min[1])
		NUM("Temp2Max", "i", u->max[1])
		NUM("Temp2Hyst", "i", u->hyst[1])
		NUM("UpdateIntervalMs", "u", u->interval_ms)
		NUM("SampleSeq", "t", u->seq)
		NUM("LastUpdate", "t", u->last_update)
		else
			r = sd_bus_message_skip(m, contents);
#undef STR
#undef NUM
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

int unit_interfaces_added_read(sd_bus_message *m, const char **path, struct unit_info *u)
{
	const char *iface;
	bool is_unit = false;
	int r;

	r = sd_bus_message_read(m, "o", path);
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		r = sd_bus_message_read(m, "s", &iface);
		if (r >= 0 && !strcmp(iface, SENSORS_UNIT_IFACE)) {
			is_unit = true;
			r = unit_props_read(m, u);
		} else if (r >= 0) {
			r = sd_bus_message_skip(m, "a{sv}");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : is_unit;
}

int units_follow(sd_bus *bus, const struct units_follow *f, void *userdata,
		 struct signal_guard **ret)
{
	struct signal_guard *g;
	int r;

	r = signal_guard_new(bus, SENSORS_BUS_NAME, f->owner_changed, userdata, &g);
	if (r >= 0)
		r = signal_guard_match(g, SENSORS_PATH, "org.freedesktop.DBus.ObjectManager",
				       "InterfacesAdded", f->interfaces_added, userdata);
	if (r >= 0)
		r = signal_guard_match(g, SENSORS_PATH, "org.freedesktop.DBus.ObjectManager",
				       "InterfacesRemoved", f->interfaces_removed, userdata);
	if (r >= 0)
		r = signal_guard_add_match(g, "interface='org.freedesktop.DBus.Properties',"
					   "member='PropertiesChanged',"
					   "path_namespace='" SENSORS_UNIT_PREFIX "'",
					   f->properties_changed, userdata);
	if (r >= 0 && ret)
		*ret = g;
	return r;
}

int units_fetch(sd_bus *bus, struct unit_list *out, sd_bus_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct unit_list l = { 0 };
	int r;

	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, SENSORS_PATH, "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects", e, &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		struct unit_info *u, *nv;
		const char *path;

		nv = realloc(l.v, (l.n + 1) * sizeof(*nv));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		l.v = nv;
		u = memset(&l.v[l.n++], 0, sizeof(*u));
		u->number = NO_NUMBER;
		r = sd_bus_message_read(reply, "o", &path);
		if (r < 0 || !(u->path = strdup(path))) {
			r = r < 0 ? r : -ENOMEM;
			break;
		}
		r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
		while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
			const char *iface;

			r = sd_bus_message_read(reply, "s", &iface);
			if (r >= 0)
				r = strcmp(iface, SENSORS_UNIT_IFACE) ? sd_bus_message_skip(reply, "a{sv}")
							       : unit_props_read(reply, u);
			if (r >= 0)
				r = sd_bus_message_exit_container(reply);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r < 0) {
		unit_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}
