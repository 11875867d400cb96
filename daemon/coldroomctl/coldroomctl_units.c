// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_units.c - list and show: the units as coldroomd has them,
 * one line each or one in full, as text or --json.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <json-c/json.h>

#include "coldroomctl.h"
#include "unit_client.h"

static const char *status_name(uint32_t status)
{
	switch (status) {
	case 1:
		return "ok";
	case 2:
		return "no-data";
	case 3:
		return "disconnected";
	default:
		return "unknown";
	}
}

static void format_temp(char *buf, size_t size, const struct unit_info *u, int ch)
{
	if (u->status[ch] == 1)
		snprintf(buf, size, "%.2f°C", u->temp[ch] / 1000.0);
	else
		snprintf(buf, size, "%s", status_name(u->status[ch]));
}

static void format_alarms(char *buf, size_t size, const struct unit_info *u)
{
	snprintf(buf, size, "%s", u->alarm[0] && u->alarm[1] ? "temp1,temp2" :
		 u->alarm[0] ? "temp1" : u->alarm[1] ? "temp2" : "-");
}

static struct json_object *json_unit(const struct unit_info *u, bool full)
{
	struct json_object *o = jnew(json_object_new_object());
	char key[32];

	jset(o, "unit", jstr(u->name));
	jset(o, "serial", jstr(u->serial));
	jset(o, "model", jstr(u->model));
	jset(o, "label", jstr(u->label));
	for (int ch = 0; ch < 2; ch++) {
		snprintf(key, sizeof(key), "temp%d", ch + 1);
		jset(o, key, u->status[ch] == 1 ? jint(u->temp[ch]) : NULL);
		snprintf(key, sizeof(key), "temp%d_status", ch + 1);
		jset(o, key, jstr(status_name(u->status[ch])));
		snprintf(key, sizeof(key), "temp%d_alarm", ch + 1);
		jset(o, key, jbool(u->alarm[ch]));
		if (!full)
			continue;
		snprintf(key, sizeof(key), "temp%d_min", ch + 1);
		jset(o, key, jint(u->min[ch]));
		snprintf(key, sizeof(key), "temp%d_max", ch + 1);
		jset(o, key, jint(u->max[ch]));
		snprintf(key, sizeof(key), "temp%d_hyst", ch + 1);
		jset(o, key, jint(u->hyst[ch]));
	}
	jset(o, "firmware_state", jstr(u->fw_state));
	if (full) {
		jset(o, "update_interval_ms", juint(u->interval_ms));
		jset(o, "sample_seq", juint(u->seq));
		jset(o, "last_update_usec", juint(u->last_update));
		jset(o, "firmware_name", jstr(u->fw_name));
		jset(o, "firmware_version", jstr(u->fw_version));
		jset(o, "firmware_source", jstr(u->fw_source));
	}
	jset(o, "firmware_error", jstr(u->fw_error));
	return o;
}

void print_list(const struct unit_list *l)
{
	if (arg_json) {
		struct json_object *a = jnew(json_object_new_array());

		for (size_t i = 0; i < l->n; i++)
			jappend(a, json_unit(&l->v[i], false));
		json_print(a);
		return;
	}
	printf("%-10s %-24s %12s %12s %-11s %s\n", "UNIT", "LABEL", "TEMP1", "TEMP2",
	       "ALARMS", "FIRMWARE");
	for (size_t i = 0; i < l->n; i++) {
		const struct unit_info *u = &l->v[i];
		char t1[32], t2[32], alarms[16];

		format_temp(t1, sizeof(t1), u, 0);
		format_temp(t2, sizeof(t2), u, 1);
		format_alarms(alarms, sizeof(alarms), u);
		/* "°" is two bytes but one column wide. */
		printf("%-10s %-24s %*s %*s %-11s %s%s%s\n", u->name, u->label,
		       12 + (u->status[0] == 1), t1, 12 + (u->status[1] == 1), t2,
		       alarms, u->fw_state, u->fw_error[0] ? ": " : "", u->fw_error);
	}
	if (!l->n)
		printf("(no units)\n");
}

int cmd_list(sd_bus *bus)
{
	struct unit_list l = { 0 };
	int r = fetch_units(bus, &l);

	if (r)
		return r;
	print_list(&l);
	unit_list_free(&l);
	return 0;
}

int cmd_show(sd_bus *bus, const char *key)
{
	struct unit_info u;
	char t[32], when[64];
	int r = fetch_unit(bus, key, &u);

	if (r)
		return r;
	if (arg_json) {
		json_print(json_unit(&u, true));
		free(u.path);
		return 0;
	}
	printf("Unit:        %s (%s)\n", u.name, u.path);
	printf("Model:       %s\nSerial:      %s\nLabel:       %s\n", u.model, u.serial, u.label);
	for (int ch = 0; ch < 2; ch++) {
		format_temp(t, sizeof(t), &u, ch);
		printf("Temp%d:       %s%s  (alarm below %.2f°C or above %.2f°C, hysteresis %.2f°C)\n",
		       ch + 1, t, u.alarm[ch] ? "  ALARM" : "", u.min[ch] / 1000.0,
		       u.max[ch] / 1000.0, u.hyst[ch] / 1000.0);
	}
	format_time(when, sizeof(when), u.last_update);
	printf("Interval:    %" PRIu32 " ms\nSample:      #%" PRIu64 " at %s\n",
	       u.interval_ms, u.seq, when);
	printf("Firmware:    %s%s%s\n", u.fw_state, u.fw_version[0] ? " " : "", u.fw_version);
	printf("  Request:   %s\n", u.fw_name);
	if (u.fw_source[0])
		printf("  Source:    %s\n", u.fw_source);
	if (u.fw_error[0])
		printf("  Error:     %s\n", u.fw_error);
	free(u.path);
	return 0;
}
