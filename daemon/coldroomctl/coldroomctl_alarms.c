// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_alarms.c - alarms: the open alarms coldroomd lists; and ack:
 * a probe's alarm acknowledged, with a comment.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <json-c/json.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "macro.h"
#include "parse_util.h"

static void json_object_putp(struct json_object **o)
{
	json_object_put(*o);
}

static const char *const alarm_state_names[] = {
	"unknown", "raised", "acknowledged", "cleared", "closed",
};

/* The open alarms: raised, acknowledged, or cleared but not acknowledged. */
int cmd_alarms(sd_bus *bus)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(json_object_putp) struct json_object *a = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	unsigned int n = 0;
	int r;

	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE, "ListAlarms", &e, &reply,
			       NULL);
	if (r < 0) {
		r = fail_call("alarms", &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_bus_message_enter_container(reply, 'a', "(tssuuuitttusss)");
	if (arg_json)
		a = jnew(json_object_new_array());
	else if (r >= 0)
		printf("%-6s %-16s %-10s %-5s %-11s %-13s %-19s %9s %-19s %s\n", "ID", "SERIAL",
		       "UNIT", "PROBE", "KIND", "STATE", "RAISED", "AT (C)", "ACKNOWLEDGED",
		       "BY / COMMENT");
	while (r >= 0) {
		const char *serial, *unit, *user, *comment, *kind;
		uint64_t id, raised, cleared, acked;
		uint32_t probe, state, level, uid;
		char traised[32], tacked[32];
		int32_t temp;

		r = sd_bus_message_read(reply, "(tssuuuitttusss)", &id, &serial, &unit, &probe,
					&state, &level, &temp, &raised, &cleared, &acked, &uid,
					&user, &comment, &kind);
		if (r <= 0)
			break;
		if (state >= sizeof(alarm_state_names) / sizeof(alarm_state_names[0]))
			state = 0;
		if (arg_json) {
			struct json_object *o = jnew(json_object_new_object());

			jset(o, "id", juint(id));
			jset(o, "serial", jstr(serial));
			jset(o, "unit", jstr(unit));
			jset(o, "probe", juint(probe));
			jset(o, "kind", jstr(kind));
			jset(o, "state", jstr(alarm_state_names[state]));
			jset(o, "level", juint(level));
			jset(o, "temp_mdeg", jint(temp));
			jset(o, "raised_usec", juint(raised));
			jset(o, "cleared_usec", juint(cleared));
			jset(o, "acknowledged_usec", juint(acked));
			jset(o, "acknowledged_uid", juint(uid));
			jset(o, "acknowledged_by", jstr(user));
			jset(o, "comment", jstr(comment));
			jappend(a, o);
		} else {
			format_time(traised, sizeof(traised), raised);
			format_time(tacked, sizeof(tacked), acked);
			printf("%-6" PRIu64 " %-16s %-10s %-5u %-11s %-13s %-19s %9.3f %-19s %s%s%s\n",
			       id, serial, unit[0] ? unit : "(gone)", probe, kind,
			       alarm_state_names[state],
			       traised, temp / 1000.0, tacked, user, comment[0] ? ": " : "",
			       comment);
		}
		n++;
	}
	if (r < 0) {
		fprintf(stderr, "coldroomctl: alarms: malformed reply: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	if (a)
		json_print(json_object_get(a));
	else if (!n)
		printf("no open alarms\n");
	return 0;
}

int comment_option(char **args, int from, int n, const char **comment)
{
	*comment = "";
	for (int i = from; i < n; i++) {
		if ((!strcmp(args[i], "--comment") || !strcmp(args[i], "-m")) && i + 1 < n)
			*comment = args[++i];
		else if (!strncmp(args[i], "--comment=", 10))
			*comment = args[i] + 10;
		else
			return -1;
	}
	return 0;
}

/* ack UNIT PROBE [--comment TEXT] */
int cmd_ack(sd_bus *bus, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *comment;
	unsigned long long probe;
	int r;

	if (parse_ull(args[1], &probe) < 0 || probe < 1 || probe > 2) {
		fprintf(stderr, "coldroomctl: ack: PROBE is 1 or 2, not '%s'\n", args[1]);
		return EXIT_USAGE;
	}
	if (comment_option(args, 2, n, &comment) < 0) {
		fprintf(stderr, "coldroomctl: ack: usage: ack UNIT PROBE [--comment TEXT]\n");
		return EXIT_USAGE;
	}
	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Acknowledge", &e, NULL,
			       "sus", args[0], (uint32_t)probe, comment);
	if (r < 0) {
		r = fail_call("ack", &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	printf("acknowledged: %s probe %llu\n", args[0], probe);
	return 0;
}
