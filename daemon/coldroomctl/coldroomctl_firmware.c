// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_firmware.c - firmware: a unit's firmware state and source,
 * or a reload of it requested.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <json-c/json.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "unit_client.h"

int cmd_firmware(sd_bus *bus, const char *key, const char *action)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct unit_info u;
	int r;

	if (action && strcmp(action, "reload")) {
		fprintf(stderr, "coldroomctl: firmware: unknown action '%s' (only 'reload')\n", action);
		return EXIT_USAGE;
	}
	r = fetch_unit(bus, key, &u);
	if (r)
		return r;
	if (action) {
		r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "ReloadFirmware",
				       &e, NULL, NULL);
		r = r < 0 ? fail_call("firmware reload", &e, r) : 0;
		if (!r && !arg_json)
			printf("%s: firmware reload requested\n", u.name);
		sd_bus_error_free(&e);
		free(u.path);
		return r;
	}
	if (arg_json) {
		struct json_object *o = jnew(json_object_new_object());

		jset(o, "unit", jstr(u.name));
		jset(o, "state", jstr(u.fw_state));
		jset(o, "version", jstr(u.fw_version));
		jset(o, "name", jstr(u.fw_name));
		jset(o, "source", jstr(u.fw_source));
		jset(o, "error", jstr(u.fw_error));
		json_print(o);
	} else {
		printf("%s: %s%s%s\n", u.name, u.fw_state, u.fw_version[0] ? " " : "", u.fw_version);
		printf("  Request: %s\n", u.fw_name);
		if (u.fw_source[0])
			printf("  Source:  %s\n", u.fw_source);
		if (u.fw_error[0])
			printf("  Error:   %s\n", u.fw_error);
	}
	free(u.path);
	return 0;
}
