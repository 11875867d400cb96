// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl - the command-line client of coldroomd (org.coldroom.Sensors1).
 *
 * Exit status: 0 success, 1 other failure, 2 usage, 3 coldroomd is not
 * running, 4 no such unit, 5 access denied, 6 a value was rejected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <json-c/json.h>

#include "bus_names.h"
#include "busopen.h"
#include "frameimage.h"
#include "history_client.h"
#include "macro.h"
#include "parse_util.h"
#include "readings_msg.h"
#include "record.h"
#include "report.h"
#include "timestamp.h"
#include "unit_client.h"

#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

enum {
	EXIT_USAGE = 2,
	EXIT_NOT_RUNNING = 3,
	EXIT_NO_UNIT = 4,
	EXIT_DENIED = 5,
	EXIT_REJECTED = 6,
	EXIT_NOT_INTACT = 7,
};

static bool arg_json;
static const char *arg_bus = "system";
static unsigned int arg_count;	/* watch: stop after this many screens */
static const char *arg_database = RECORD_DEFAULT_PATH;

/* Map a failed call to a message and an exit status. */
static int fail_call(const char *what, const sd_bus_error *e, int r)
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

static int connect_bus(sd_bus **bus)
{
	int r;

	r = bus_open_spec(arg_bus, "coldroomctl", bus);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: cannot connect to the %s bus: %s\n",
			arg_bus, strerror(-r));
		*bus = sd_bus_unref(*bus);
		return EXIT_NOT_RUNNING;
	}
	return 0;
}

/* One a{sv} of the Unit interface into @u. */


static int fetch_units(sd_bus *bus, struct unit_list *out)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = units_fetch(bus, out, &e);
	if (r < 0)
		return fail_call("listing units", &e, r);
	return 0;
}

static int fetch_unit(sd_bus *bus, const char *key, struct unit_info *u)
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

/*
 * --json output is built with json-c. A failed allocation ends the
 * program: half an object printed would read as a valid answer.
 */
static _Noreturn void oom(void)
{
	fputs("coldroomctl: out of memory\n", stderr);
	exit(EXIT_FAILURE);
}

static struct json_object *jnew(struct json_object *v)
{
	if (!v)
		oom();
	return v;
}

static struct json_object *jstr(const char *s)
{
	return jnew(json_object_new_string(s));
}

static struct json_object *jint(int64_t v)
{
	return jnew(json_object_new_int64(v));
}

static struct json_object *juint(uint64_t v)
{
	return jnew(json_object_new_uint64(v));
}

static struct json_object *jbool(bool v)
{
	return jnew(json_object_new_boolean(v));
}

/* A number printed with two decimals, as the text output has it. */
static struct json_object *jfixed2(double v)
{
	char text[64];

	snprintf(text, sizeof(text), "%.2f", v);
	return jnew(json_object_new_double_s(v, text));
}

/* @v NULL is JSON null. */
static void jset(struct json_object *o, const char *key, struct json_object *v)
{
	if (json_object_object_add(o, key, v) < 0)
		oom();
}

static void jappend(struct json_object *a, struct json_object *v)
{
	if (json_object_array_add(a, v) < 0)
		oom();
}

/* @o on one line of stdout, compact as before; frees @o. */
static void json_print(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s)
		oom();
	puts(s);
	json_object_put(o);
}

static void json_object_putp(struct json_object **o)
{
	json_object_put(*o);
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

static void print_list(const struct unit_list *l)
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

static int cmd_list(sd_bus *bus)
{
	struct unit_list l = { 0 };
	int r = fetch_units(bus, &l);

	if (r)
		return r;
	print_list(&l);
	unit_list_free(&l);
	return 0;
}

static void format_time(char *buf, size_t size, uint64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!usec || !localtime_r(&t, &tm))
		snprintf(buf, size, "never");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static int cmd_show(sd_bus *bus, const char *key)
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

/* The unit's latest thermal frame as a false-colour PNG. */
static int cmd_frame(sd_bus *bus, const char *key, const char *path)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct frame_range range;
	struct unit_info u;
	struct stat st;
	uint16_t width, height;
	uint64_t seq, when;
	const int16_t *pixels;
	size_t size;
	char err[512];
	int fd, r;

	r = fetch_unit(bus, key, &u);
	if (r)
		return r;
	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "GetFrame", &e, &reply, NULL);
	free(u.path);
	if (r < 0)
		return fail_call("frame", &e, r);
	r = sd_bus_message_read(reply, "hqqtt", &fd, &width, &height, &seq, &when);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: frame: bad reply: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	size = (size_t)width * height * sizeof(*pixels);
	/* The daemon sealed it: its size is what it is and cannot change. */
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != size || !size) {
		fprintf(stderr, "coldroomctl: frame: the pixels do not match %u x %u\n",
			width, height);
		return EXIT_FAILURE;
	}
	pixels = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (pixels == MAP_FAILED) {
		fprintf(stderr, "coldroomctl: frame: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	r = frame_write_png(pixels, width, height, path, &range, err, sizeof(err));
	munmap((void *)pixels, size);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: frame: %s\n", err);
		return EXIT_FAILURE;
	}
	if (arg_json) {
		struct json_object *o = jnew(json_object_new_object());

		jset(o, "unit", jstr(u.name));
		jset(o, "file", jstr(path));
		jset(o, "width", juint(width));
		jset(o, "height", juint(height));
		jset(o, "sample_seq", juint(seq));
		jset(o, "timestamp", juint(when));
		jset(o, "min", jfixed2(range.min_cdeg / 100.0));
		jset(o, "max", jfixed2(range.max_cdeg / 100.0));
		json_print(o);
	} else {
		printf("%s: frame of sample %" PRIu64 ", %u x %u, %.2f..%.2f \u00b0C, written to %s\n",
		       u.name, seq, width, height, range.min_cdeg / 100.0,
		       range.max_cdeg / 100.0, path);
	}
	return 0;
}

static int cmd_firmware(sd_bus *bus, const char *key, const char *action)
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

/* Millidegrees, or degrees with a "C" suffix ("-18.5C"). */
static int parse_temp(const char *s, int32_t *out)
{
	size_t n = strlen(s);
	char *end;

	if (n > 1 && (s[n - 1] == 'C' || s[n - 1] == 'c')) {
		char *copy = strndup(s, n - 1);
		double v;

		if (!copy)
			return -ENOMEM;
		errno = 0;
		v = strtod(copy, &end);
		n = (size_t)(end - copy);
		free(copy);
		if (errno || n != strlen(s) - 1 || !isfinite(v) || fabs(v) > 2e6)
			return -EINVAL;
		*out = (int32_t)lround(v * 1000.0);
		return 0;
	} else {
		long v;

		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || end == s || *end || v < INT32_MIN || v > INT32_MAX)
			return -EINVAL;
		*out = (int32_t)v;
		return 0;
	}
}

static int cmd_set(sd_bus *bus, const char *key, char **assignments, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *label = NULL;
	bool thr_set[2] = { false, false }, interval_set = false, delay_set[2] = { false, false };
	uint32_t delay[2] = { 0, 0 };
	int32_t min[2], max[2], hyst[2];
	uint32_t interval = 0;
	struct unit_info u;
	int r, ret = 0;

	if (n == 0) {
		fprintf(stderr, "coldroomctl: set: nothing to set (KEY=VALUE...)\n");
		return EXIT_USAGE;
	}
	r = fetch_unit(bus, key, &u);
	if (r)
		return r;
	memcpy(min, u.min, sizeof(min));
	memcpy(max, u.max, sizeof(max));
	memcpy(hyst, u.hyst, sizeof(hyst));
	/* Check every assignment before changing anything. */
	for (int i = 0; i < n; i++) {
		char *eq = strchr(assignments[i], '=');
		const char *k, *v;
		int ch = -1;

		if (!eq) {
			fprintf(stderr, "coldroomctl: set: '%s' is not KEY=VALUE\n", assignments[i]);
			ret = EXIT_USAGE;
			goto out;
		}
		*eq = '\0';
		k = assignments[i];
		v = eq + 1;
		if (!strncmp(k, "temp1.", 6))
			ch = 0;
		else if (!strncmp(k, "temp2.", 6))
			ch = 1;
		if (!strcmp(k, "label")) {
			label = v;
		} else if (!strcmp(k, "interval") || !strcmp(k, "interval_ms")) {
			char *end;
			unsigned long ms;

			errno = 0;
			ms = strtoul(v, &end, 10);
			if (errno || end == v || *end || *v == '-' || ms > UINT32_MAX) {
				fprintf(stderr, "coldroomctl: set: interval must be milliseconds, not '%s'\n", v);
				ret = EXIT_USAGE;
				goto out;
			}
			interval = (uint32_t)ms;
			interval_set = true;
		} else if (ch >= 0 && (!strcmp(k + 6, "min") || !strcmp(k + 6, "max") ||
				       !strcmp(k + 6, "hyst"))) {
			int32_t *field = !strcmp(k + 6, "min") ? &min[ch] :
					 !strcmp(k + 6, "max") ? &max[ch] : &hyst[ch];

			if (parse_temp(v, field) < 0) {
				fprintf(stderr, "coldroomctl: set: %s must be millidegrees or degrees with a C suffix, not '%s'\n",
					k, v);
				ret = EXIT_USAGE;
				goto out;
			}
			thr_set[ch] = true;
		} else if (ch >= 0 && !strcmp(k + 6, "alarm_delay")) {
			unsigned long long sec;

			if (parse_ull(v, &sec) < 0 || sec > UINT32_MAX) {
				fprintf(stderr, "coldroomctl: set: %s must be seconds, not '%s'\n", k, v);
				ret = EXIT_USAGE;
				goto out;
			}
			delay[ch] = (uint32_t)sec;
			delay_set[ch] = true;
		} else {
			fprintf(stderr, "coldroomctl: set: unknown key '%s' (label, interval, temp1.min, temp1.max, temp1.hyst, temp1.alarm_delay, temp2.min, temp2.max, temp2.hyst, temp2.alarm_delay)\n",
				k);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (label) {
		r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "SetLabel", &e, NULL,
				       "s", label);
		if (r < 0) {
			ret = fail_call("label", &e, r);
			goto out;
		}
	}
	if (interval_set) {
		r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "SetInterval", &e,
				       NULL, "u", interval);
		if (r < 0) {
			ret = fail_call("interval", &e, r);
			goto out;
		}
	}
	for (int ch = 0; ch < 2; ch++) {
		if (!thr_set[ch])
			continue;
		r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "SetThresholds", &e,
				       NULL, "uiii", (uint32_t)ch + 1, min[ch], max[ch], hyst[ch]);
		if (r < 0) {
			ret = fail_call(ch ? "temp2 thresholds" : "temp1 thresholds", &e, r);
			goto out;
		}
	}
	for (int ch = 0; ch < 2; ch++) {
		if (!delay_set[ch])
			continue;
		r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "SetAlarmDelay", &e,
				       NULL, "uu", (uint32_t)ch + 1, delay[ch]);
		if (r < 0) {
			ret = fail_call(ch ? "temp2 alarm delay" : "temp1 alarm delay", &e, r);
			goto out;
		}
	}
out:
	sd_bus_error_free(&e);
	free(u.path);
	return ret;
}

static int cmd_reload(sd_bus *bus)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Reload", &e, NULL, NULL);
	r = r < 0 ? fail_call("reload", &e, r) : 0;
	sd_bus_error_free(&e);
	return r;
}

/*
 * watch: the units as GetManagedObjects gave them, once; then the
 * readings of each Readings signal into that list. The objects are
 * fetched again only when something else changes (a property, a unit
 * that comes or goes, the daemon), so that a watch costs the daemon one
 * GetManagedObjects, not one per redraw.
 */
struct watch {
	sd_bus *bus;
	sd_event *event;
	sd_event_source *redraw;
	struct unit_list units;
	struct unit_info **by_number;	/* units.v by Number */
	size_t n_by_number;
	bool stale;			/* fetch the objects before drawing */
	unsigned int shown;
	int status;
	bool tty;
};

static void watch_forget(struct watch *w)
{
	unit_list_free(&w->units);
	free(w->by_number);
	w->by_number = NULL;
	w->n_by_number = 0;
}

/* The objects, and their index by Number. */
static int watch_fetch(struct watch *w)
{
	size_t n = 0;
	int r;

	watch_forget(w);
	r = fetch_units(w->bus, &w->units);
	if (r)
		return r;
	for (size_t i = 0; i < w->units.n; i++)
		if (w->units.v[i].number != NO_NUMBER && w->units.v[i].number >= n)
			n = (size_t)w->units.v[i].number + 1;
	if (n) {
		w->by_number = calloc(n, sizeof(*w->by_number));
		if (!w->by_number)
			return -ENOMEM;
	}
	w->n_by_number = n;
	for (size_t i = 0; i < w->units.n; i++)
		if (w->units.v[i].number != NO_NUMBER)
			w->by_number[w->units.v[i].number] = &w->units.v[i];
	w->stale = false;
	return 0;
}

static int watch_draw(struct watch *w)
{
	char now[64];
	int r;

	if (w->stale || !w->units.v) {
		r = watch_fetch(w);
		if (r == EXIT_NOT_RUNNING) {
			/* The daemon went away: wait for it to come back. */
			watch_forget(w);
			return 0;
		}
		if (r)
			return r < 0 ? EXIT_FAILURE : r;
	}
	if (w->tty && !arg_json)
		fputs("\033[H\033[2J", stdout);
	if (!arg_json) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		format_time(now, sizeof(now), (uint64_t)ts.tv_sec * 1000000ULL);
		printf("coldroomctl watch  %s  (%zu units; Ctrl-C to stop)\n\n", now,
		       w->units.n);
	}
	print_list(&w->units);
	fflush(stdout);
	w->shown++;
	if (arg_count && w->shown >= arg_count)
		sd_event_exit(w->event, 0);
	return 0;
}

static int on_redraw(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct watch *w = userdata;
	int r;

	(void)s, (void)usec;
	w->redraw = sd_event_source_unref(w->redraw);
	r = watch_draw(w);
	if (r) {
		w->status = r;
		sd_event_exit(w->event, r);
	}
	return 0;
}

/* Redraw soon, at most five times a second. */
static int watch_schedule(struct watch *w)
{
	if (w->redraw)
		return 0;
	return sd_event_add_time_relative(w->event, &w->redraw, CLOCK_MONOTONIC,
					  200 * 1000, 10 * 1000, on_redraw, w);
}

/*
 * Readings(au, ai, ai, ay, ay, ay, at, at): entry i of each array is unit
 * units[i]'s (readings_msg.h). A malformed signal, or a unit not in the
 * list, makes the next redraw fetch the objects.
 */
static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct watch *w = userdata;
	struct readings_msg r;

	(void)error;
	if (readings_msg_read(m, &r) < 0) {
		w->stale = true;
		return watch_schedule(w);
	}
	for (size_t i = 0; i < r.n; i++) {
		struct unit_info *u = r.unit[i] < w->n_by_number ? w->by_number[r.unit[i]] : NULL;

		if (!u) {
			w->stale = true;
			continue;
		}
		u->temp[0] = r.temp1[i];
		u->temp[1] = r.temp2[i];
		u->status[0] = r.temp1_status[i];
		u->status[1] = r.temp2_status[i];
		u->alarm[0] = !!(r.alarms[i] & READINGS_ALARM_TEMP1);
		u->alarm[1] = !!(r.alarms[i] & READINGS_ALARM_TEMP2);
		u->seq = r.sample_seq[i];
		u->last_update = r.last_update[i];
	}
	return watch_schedule(w);
}

/*
 * Any other signal of the daemon's units (a property, an alarm, a unit
 * that comes or goes) or of its name: fetch the objects again. The
 * manager's own properties are not in the table.
 */
static int on_bus_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct watch *w = userdata;
	const char *path = sd_bus_message_get_path(m);

	(void)error;
	if (sd_bus_message_is_signal(m, SENSORS_MANAGER_IFACE, "Readings"))
		return 0;
	if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") &&
	    path && !strcmp(path, SENSORS_PATH))
		return 0;
	w->stale = true;
	return watch_schedule(w);
}

static int cmd_watch(sd_bus *bus)
{
	struct watch w = { .bus = bus, .tty = isatty(STDOUT_FILENO) };
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&w.event);
	if (r >= 0)
		r = sd_event_add_signal(w.event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(w.event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(bus, w.event, 0);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Readings",
					on_readings, &w);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, SENSORS_BUS_NAME, NULL, NULL, NULL, on_bus_signal, &w);
	if (r >= 0)
		r = sd_bus_add_match(bus, NULL,
				     "type='signal',sender='org.freedesktop.DBus',"
				     "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
				     "arg0='" SENSORS_BUS_NAME "'", on_bus_signal, &w);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: watch: %s\n", strerror(-r));
		sd_event_unref(w.event);
		return EXIT_FAILURE;
	}
	r = watch_draw(&w);
	if (!r && !(arg_count && w.shown >= arg_count))
		r = sd_event_loop(w.event);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: watch: %s\n", strerror(-r));
		r = EXIT_FAILURE;
	}
	sd_event_source_unref(w.redraw);
	sd_bus_detach_event(bus);
	sd_event_unref(w.event);
	watch_forget(&w);
	return r ? r : w.status;
}

/* Walks the record's hash chains; no bus, no coldroomd needed. */
static int cmd_record_verify(void)
{
	_cleanup_(record_closep) struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	struct record_verify v;
	int k;

	k = record_open(arg_database, RECORD_READ, &r, err, sizeof(err));
	if (k < 0) {
		/* A file that SQLite or the schema refuses is no intact record either. */
		if (k == -EBADMSG || k == -EIO) {
			fprintf(stderr, "coldroomctl: %s: not intact: %s\n", arg_database, err);
			return EXIT_NOT_INTACT;
		}
		fprintf(stderr, "coldroomctl: cannot open the record: %s\n", err);
		return EXIT_FAILURE;
	}
	k = record_verify(r, &v);
	if (k < 0) {
		fprintf(stderr, "coldroomctl: cannot verify %s: %s\n", arg_database, record_error(r));
		return EXIT_FAILURE;
	}
	if (arg_json) {
		struct json_object *o = jnew(json_object_new_object());

		jset(o, "intact", jbool(v.intact));
		jset(o, "record_rows", jint(v.record_rows));
		jset(o, "audit_rows", jint(v.audit_rows));
		jset(o, "message", jstr(v.message));
		json_print(o);
	} else if (v.intact) {
		printf("%s: %s\n", arg_database, v.message);
	} else {
		printf("%s: NOT INTACT: %s\n", arg_database, v.message);
	}
	return v.intact ? 0 : EXIT_NOT_INTACT;
}

static const char *const alarm_state_names[] = {
	"unknown", "raised", "acknowledged", "cleared", "closed",
};

/* The open alarms: raised, acknowledged, or cleared but not acknowledged. */
static int cmd_alarms(sd_bus *bus)
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
	r = sd_bus_message_enter_container(reply, 'a', "(tssuuuitttuss)");
	if (arg_json)
		a = jnew(json_object_new_array());
	else if (r >= 0)
		printf("%-6s %-16s %-10s %-5s %-13s %-19s %9s %-19s %s\n", "ID", "SERIAL", "UNIT",
		       "PROBE", "STATE", "RAISED", "AT (C)", "ACKNOWLEDGED", "BY / COMMENT");
	while (r >= 0) {
		const char *serial, *unit, *user, *comment;
		uint64_t id, raised, cleared, acked;
		uint32_t probe, state, level, uid;
		char traised[32], tacked[32];
		int32_t temp;

		r = sd_bus_message_read(reply, "(tssuuuitttuss)", &id, &serial, &unit, &probe,
					&state, &level, &temp, &raised, &cleared, &acked, &uid,
					&user, &comment);
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
			printf("%-6" PRIu64 " %-16s %-10s %-5u %-13s %-19s %9.3f %-19s %s%s%s\n", id,
			       serial, unit[0] ? unit : "(gone)", probe, alarm_state_names[state],
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

/* ack UNIT PROBE [--comment TEXT] */
static int cmd_ack(sd_bus *bus, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *comment = "";
	unsigned long long probe;
	int r;

	if (parse_ull(args[1], &probe) < 0 || probe < 1 || probe > 2) {
		fprintf(stderr, "coldroomctl: ack: PROBE is 1 or 2, not '%s'\n", args[1]);
		return EXIT_USAGE;
	}
	for (int i = 2; i < n; i++) {
		if ((!strcmp(args[i], "--comment") || !strcmp(args[i], "-m")) && i + 1 < n) {
			comment = args[++i];
		} else if (!strncmp(args[i], "--comment=", 10)) {
			comment = args[i] + 10;
		} else {
			fprintf(stderr, "coldroomctl: ack: usage: ack UNIT PROBE [--comment TEXT]\n");
			return EXIT_USAGE;
		}
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

/*
 * The serial of @key (a unit name or serial) from coldroomd, with the
 * unit's settings in @u when it knows the unit; else @key itself, since
 * the record outlives units and coldroomd.
 */
static void resolve_unit(sd_bus *bus, const char *key, struct unit_info *u)
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

static int fail_record(const char *what, const sd_bus_error *e, int r)
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

/* A host row (the recorder not running, a clock jump, not written) is every probe's. */
static bool host_status(uint8_t s)
{
	return s == RECORD_NOT_RUNNING || s == RECORD_CLOCK_JUMP || s == RECORD_NOT_WRITTEN;
}

static void format_local(uint64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "@%" PRIu64, usec / 1000000);
}

enum history_format { HISTORY_TABLE, HISTORY_CSV, HISTORY_JSON };

/* A row printed, or with --json appended to @rows. */
static void print_history_row(enum history_format f, struct json_object *rows, bool *first,
			      const char *serial, unsigned int probe,
			      const struct history_series *s, size_t i)
{
	struct json_object *o;
	char a[32], b[32];

	format_local(s->start[i], a, sizeof(a));
	format_local(s->end[i], b, sizeof(b));
	switch (f) {
	case HISTORY_CSV:
		printf("%s,%" PRIu64 ",%" PRIu64 ",%s,%u,%u,", a, s->start[i], s->end[i], serial,
		       probe, s->count[i]);
		if (s->count[i])
			printf("%.3f,%.3f,%.3f,", s->min[i] / 1000.0, s->mean[i] / 1000.0,
			       s->max[i] / 1000.0);
		else
			printf(",,,");
		printf("%s\n", record_status_name(s->status[i]));
		break;
	case HISTORY_JSON:
		o = jnew(json_object_new_object());
		jset(o, "start_usec", juint(s->start[i]));
		jset(o, "end_usec", juint(s->end[i]));
		jset(o, "serial", jstr(serial));
		jset(o, "probe", juint(probe));
		jset(o, "samples", juint(s->count[i]));
		jset(o, "min_mdeg", s->count[i] ? jint(s->min[i]) : NULL);
		jset(o, "mean_mdeg", s->count[i] ? jint(s->mean[i]) : NULL);
		jset(o, "max_mdeg", s->count[i] ? jint(s->max[i]) : NULL);
		jset(o, "status", jstr(record_status_name(s->status[i])));
		jappend(rows, o);
		break;
	default:
		if (probe)
			printf("%-19s %-19s %5u %7u ", a, b, probe, s->count[i]);
		else
			printf("%-19s %-19s %5s %7u ", a, b, "-", s->count[i]);
		if (s->count[i])
			printf("%9.3f %9.3f %9.3f ", s->min[i] / 1000.0, s->mean[i] / 1000.0,
			       s->max[i] / 1000.0);
		else
			printf("%9s %9s %9s ", "-", "-", "-");
		printf("%s\n", record_status_name(s->status[i]));
	}
	*first = false;
}

/* history UNIT [--since WHEN] [--until WHEN] [--csv|--json] */
static int cmd_history(sd_bus *bus, char **args, int n)
{
	enum history_format f = arg_json ? HISTORY_JSON : HISTORY_TABLE;
	struct history_series s[2] = { { 0 }, { 0 } };
	struct json_object *rows = NULL;
	uint64_t now = (uint64_t)time(NULL) * 1000000ULL, until = now, since = now - 86400ULL * 1000000ULL;
	struct unit_info u;
	size_t k[2] = { 0, 0 };
	bool first = true;
	int ret = 0;

	for (int i = 1; i < n; i++) {
		uint64_t *when = NULL;

		if (!strcmp(args[i], "--csv"))
			f = HISTORY_CSV;
		else if (!strcmp(args[i], "--json"))
			f = HISTORY_JSON;
		else if (!strcmp(args[i], "--since") && i + 1 < n)
			when = &since;
		else if (!strcmp(args[i], "--until") && i + 1 < n)
			when = &until;
		else {
			fprintf(stderr, "coldroomctl: history: usage: history UNIT [--since WHEN] [--until WHEN] [--csv|--json]\n");
			return EXIT_USAGE;
		}
		if (when) {
			int r = timestamp_parse(args[++i], now, when);

			if (r == -ERANGE) {
				fprintf(stderr, "coldroomctl: history: '%s' is out of range (1970 to 9999)\n",
					args[i]);
				return EXIT_USAGE;
			}
			if (r < 0) {
				fprintf(stderr, "coldroomctl: history: '%s' is not a time: YYYY-MM-DD [HH:MM[:SS]], HH:MM, "
					"now, today, yesterday, @EPOCH, -2h, \"1h 30min ago\", +1d, each with an "
					"optional \" UTC\" (see systemd.time(7))\n", args[i]);
				return EXIT_USAGE;
			}
		}
	}
	if (since >= until) {
		fprintf(stderr, "coldroomctl: history: --since must be before --until\n");
		return EXIT_USAGE;
	}
	resolve_unit(bus, args[0], &u);
	for (unsigned int p = 0; p < 2; p++) {
		_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
		int r = history_fetch(bus, u.serial, p + 1, since, until, &s[p], &e);

		if (r < 0) {
			ret = fail_record("history", &e, r);
			goto out;
		}
	}
	if (f == HISTORY_CSV)
		printf("start,start_usec,end_usec,serial,probe,samples,min_c,mean_c,max_c,status\n");
	else if (f == HISTORY_JSON)
		rows = jnew(json_object_new_array());
	else
		printf("%-19s %-19s %5s %7s %9s %9s %9s %s\n", "START", "END", "PROBE", "SAMPLES",
		       "MIN (C)", "MEAN (C)", "MAX (C)", "STATUS");
	/* Both probes merged by time; a host row once, as probe 0. */
	while (k[0] < s[0].n || k[1] < s[1].n) {
		unsigned int p = k[1] < s[1].n &&
				 (k[0] >= s[0].n || s[1].start[k[1]] < s[0].start[k[0]]);

		if (host_status(s[p].status[k[p]]) && s[p].count[k[p]] == 0 && p == 1) {
			k[p]++;
			continue;
		}
		print_history_row(f, rows, &first, u.serial,
				  host_status(s[p].status[k[p]]) && !s[p].count[k[p]] ? 0 : p + 1,
				  &s[p], k[p]);
		k[p]++;
	}
	if (rows)
		json_print(rows);
	else if (f == HISTORY_TABLE && first)
		printf("no rows for %s in that time\n", u.serial);
out:
	history_series_free(&s[0]);
	history_series_free(&s[1]);
	free(u.path);
	return ret;
}

/* @u's record of the day into @ru; 0 or an exit status. */
static int report_fetch_unit(sd_bus *bus, const struct report *r, const struct unit_info *u,
			     struct report_unit *ru)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	int k;

	snprintf(ru->name, sizeof(ru->name), "%s", u->name);
	snprintf(ru->serial, sizeof(ru->serial), "%s", u->serial);
	snprintf(ru->label, sizeof(ru->label), "%s", u->label);
	snprintf(ru->model, sizeof(ru->model), "%s", u->model);
	for (unsigned int p = 0; p < 2; p++) {
		/* The band in force now: the record keeps changes in its trail, not per row. */
		ru->probe[p].has_band = u->path != NULL;
		ru->probe[p].band_min = u->min[p];
		ru->probe[p].band_max = u->max[p];
		k = history_fetch(bus, u->serial, p + 1, r->start_us, r->end_us, &ru->probe[p].rows,
				  &e);
		if (k < 0)
			return fail_record("report", &e, k);
	}
	k = history_events_fetch(bus, u->serial, r->start_us, r->end_us, &ru->events,
				 &ru->n_events, &e);
	return k < 0 ? fail_record("report", &e, k) : 0;
}

static void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n_units; i++) {
		history_series_free(&r->units[i].probe[0].rows);
		history_series_free(&r->units[i].probe[1].rows);
		free(r->units[i].events);
	}
	free(r->units);
}

/* report [--day DATE] [--unit UNIT] -o FILE.pdf|png|svg */
static int cmd_report(sd_bus *bus, char **args, int n)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *day = NULL, *unit = NULL, *out = NULL;
	struct unit_list l = { 0 };
	struct report r = { 0 };
	struct tm tm = { .tm_isdst = -1 };
	char err[512], host[64] = "", when[32];
	time_t now = time(NULL);
	int ret = 0, k;

	for (int i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(args[i], "--day"))
			day = args[++i];
		else if (i + 1 < n && !strcmp(args[i], "--unit"))
			unit = args[++i];
		else if (i + 1 < n && (!strcmp(args[i], "-o") || !strcmp(args[i], "--output")))
			out = args[++i];
		else
			out = NULL, i = n;
	}
	if (!out) {
		fprintf(stderr, "coldroomctl: report: usage: report [--day YYYY-MM-DD] [--unit UNIT] -o FILE.pdf|png|svg\n");
		return EXIT_USAGE;
	}
	if (day) {
		const char *end = strptime(day, "%Y-%m-%d", &tm);

		if (!end || *end) {
			fprintf(stderr, "coldroomctl: report: --day takes YYYY-MM-DD, not '%s'\n", day);
			return EXIT_USAGE;
		}
	} else {
		localtime_r(&now, &tm);
	}
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	r.start_us = (uint64_t)mktime(&tm) * 1000000ULL;
	strftime(r.day, sizeof(r.day), "%Y-%m-%d", &tm);
	tm.tm_mday++;
	tm.tm_isdst = -1;
	r.end_us = (uint64_t)mktime(&tm) * 1000000ULL;	/* 23 or 25 hours across DST */

	if (unit) {
		l.v = calloc(1, sizeof(*l.v));
		if (!l.v)
			return EXIT_FAILURE;
		l.n = 1;
		resolve_unit(bus, unit, &l.v[0]);
	} else {
		k = units_fetch(bus, &l, &e);
		if (k < 0) {
			ret = fail_call("report (no --unit: the units come from coldroomd)", &e, k);
			goto out;
		}
	}
	r.units = calloc(l.n ? l.n : 1, sizeof(*r.units));
	if (!r.units) {
		ret = EXIT_FAILURE;
		goto out;
	}
	for (size_t i = 0; i < l.n && !ret; i++, r.n_units++)
		ret = report_fetch_unit(bus, &r, &l.v[i], &r.units[i]);
	if (ret)
		goto out;
	k = history_verify(bus, &r.intact, r.verify_message, sizeof(r.verify_message), &e);
	r.verified = k >= 0;
	if (k < 0)
		snprintf(r.verify_message, sizeof(r.verify_message), "%s",
			 e.message ? e.message : strerror(-k));
	gethostname(host, sizeof(host) - 1);
	format_local((uint64_t)now * 1000000ULL, when, sizeof(when));
	snprintf(r.generated, sizeof(r.generated), "Generated %s on %s by coldroomctl %s", when,
		 host, COLDROOM_VERSION);
	k = report_render(&r, out, err, sizeof(err));
	if (k < 0) {
		fprintf(stderr, "coldroomctl: report: %s\n", err);
		ret = k == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	printf("%s: %zu unit%s, %s; record %s\n", out, r.n_units, r.n_units == 1 ? "" : "s", r.day,
	       !r.verified ? "not verified" : r.intact ? "intact" : "NOT INTACT");
out:
	report_free(&r);
	unit_list_free(&l);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroomctl [OPTION]... COMMAND [ARG]...\n"
		"Show and change cold-room sensor units through coldroomd.\n\n"
		"Commands:\n"
		"  list                      one line per unit: label, readings, alarms, firmware\n"
		"  show UNIT                 everything about one unit\n"
		"  watch                     live table, redrawn as readings arrive\n"
		"  set UNIT KEY=VALUE...     label, interval (ms), temp1.min, temp1.max,\n"
		"                            temp1.hyst, temp2.min, temp2.max, temp2.hyst\n"
		"                            (millidegrees, or degrees with a C suffix)\n"
		"                            temp1.alarm_delay, temp2.alarm_delay (seconds)\n"
		"  alarms                    the open alarms: raised, acknowledged, cleared\n"
		"                            but not acknowledged\n"
		"  history UNIT [--since WHEN] [--until WHEN] [--csv|--json]\n"
		"                            the record: min, mean, max per interval and\n"
		"                            probe (default: the last 24 hours); WHEN is a\n"
		"                            timestamp as journalctl takes it, see\n"
		"                            systemd.time(7): \"2026-01-15 08:00\", 08:00,\n"
		"                            today, yesterday, @EPOCH, -2h, \"1h 30min ago\";\n"
		"                            local time unless it ends in \" UTC\"\n"
		"  report [--day YYYY-MM-DD] [--unit UNIT] -o FILE.pdf|png|svg\n"
		"                            a day of the record drawn: both probes, bands,\n"
		"                            gaps, alarms and acknowledgements (default: today,\n"
		"                            every unit)\n"
		"  ack UNIT PROBE [--comment TEXT]\n"
		"                            acknowledge the alarm of a probe (1 or 2)\n"
		"  firmware UNIT [reload]    firmware state and source; reload it\n"
		"  frame UNIT -o FILE.png    the latest thermal frame as a false-colour image\n"
		"  reload                    make coldroomd re-read its configuration\n"
		"  record verify             walk the record's hash chains: intact, or the\n"
		"                            first row changed, deleted, inserted or moved\n\n"
		"UNIT is a unit name (sensor0) or a serial (SIM-000001).\n\n"
		"Options:\n"
		"  -j, --json                machine-readable output\n"
		"  -b, --bus BUS             system (default), user, or a D-Bus address\n"
		"  -n, --count N             watch: stop after N screens\n"
		"  -D, --database FILE       record: the database (default " RECORD_DEFAULT_PATH ")\n"
		"  -h, --help                this text\n"
		"      --version             the version\n\n"
		"Exit status: 0 success, 1 failure, 2 usage, 3 coldroomd not running,\n"
		"4 no such unit, 5 access denied, 6 value rejected, 7 record not intact.\n");
}

int main(int argc, char **argv)
{
	enum { OPT_VERSION = 0x100 };
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bus", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'n' },
		{ "database", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	const char *cmd;
	sd_bus *bus = NULL;
	char *end;
	int c, r, nargs;

	while ((c = getopt_long(argc, argv, "+jb:n:D:h", options, NULL)) >= 0) {
		switch (c) {
		case 'j':
			arg_json = true;
			break;
		case 'b':
			arg_bus = optarg;
			break;
		case 'n':
			arg_count = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !arg_count || *optarg == '-') {
				fprintf(stderr, "coldroomctl: --count takes a positive number\n");
				return EXIT_USAGE;
			}
			break;
		case 'D':
			arg_database = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			puts("coldroomctl " COLDROOM_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
#define NEED(lo, hi) do { if (nargs < (lo) || nargs > (hi)) { \
		fprintf(stderr, "coldroomctl: %s: wrong number of arguments\n", cmd); \
		usage(stderr); return EXIT_USAGE; } } while (0)
	if (!strcmp(cmd, "list") || !strcmp(cmd, "watch") || !strcmp(cmd, "reload") ||
	    !strcmp(cmd, "alarms"))
		NEED(0, 0);
	else if (!strcmp(cmd, "ack"))
		NEED(2, 4);
	else if (!strcmp(cmd, "history"))
		NEED(1, 6);
	else if (!strcmp(cmd, "report"))
		NEED(2, 6);
	else if (!strcmp(cmd, "show"))
		NEED(1, 1);
	else if (!strcmp(cmd, "firmware"))
		NEED(1, 2);
	else if (!strcmp(cmd, "set"))
		NEED(1, 1000);
	else if (!strcmp(cmd, "record")) {
		NEED(1, 1);
		if (strcmp(argv[optind + 1], "verify")) {
			fprintf(stderr, "coldroomctl: record: unknown action '%s'\n", argv[optind + 1]);
			return EXIT_USAGE;
		}
		return cmd_record_verify();
	}
	else if (!strcmp(cmd, "frame")) {
		NEED(3, 3);
		if (strcmp(argv[optind + 2], "-o") && strcmp(argv[optind + 2], "--output")) {
			fprintf(stderr, "coldroomctl: frame: usage: frame UNIT -o FILE.png\n");
			return EXIT_USAGE;
		}
	} else {
		fprintf(stderr, "coldroomctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
#undef NEED
	r = connect_bus(&bus);
	if (r)
		return r;
	if (!strcmp(cmd, "list"))
		r = cmd_list(bus);
	else if (!strcmp(cmd, "show"))
		r = cmd_show(bus, argv[optind + 1]);
	else if (!strcmp(cmd, "watch"))
		r = cmd_watch(bus);
	else if (!strcmp(cmd, "firmware"))
		r = cmd_firmware(bus, argv[optind + 1], nargs > 1 ? argv[optind + 2] : NULL);
	else if (!strcmp(cmd, "reload"))
		r = cmd_reload(bus);
	else if (!strcmp(cmd, "frame"))
		r = cmd_frame(bus, argv[optind + 1], argv[optind + 3]);
	else if (!strcmp(cmd, "alarms"))
		r = cmd_alarms(bus);
	else if (!strcmp(cmd, "ack"))
		r = cmd_ack(bus, &argv[optind + 1], nargs);
	else if (!strcmp(cmd, "history"))
		r = cmd_history(bus, &argv[optind + 1], nargs);
	else if (!strcmp(cmd, "report"))
		r = cmd_report(bus, &argv[optind + 1], nargs);
	else
		r = cmd_set(bus, argv[optind + 1], &argv[optind + 2], nargs - 1);
	sd_bus_flush_close_unref(bus);
	return r;
}
