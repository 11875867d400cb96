// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_set.c - set: a unit's label, interval, thresholds and alarm
 * delays, every assignment checked before any is made; and reload:
 * coldroomd's configuration read again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "parse_util.h"
#include "unit_client.h"

int parse_temp(const char *s, int32_t *out)
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

int cmd_set(sd_bus *bus, const char *key, char **assignments, int n)
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

int cmd_reload(sd_bus *bus)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE, "Reload", &e, NULL, NULL);
	r = r < 0 ? fail_call("reload", &e, r) : 0;
	sd_bus_error_free(&e);
	return r;
}
