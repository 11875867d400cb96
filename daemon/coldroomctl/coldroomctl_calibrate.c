// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_calibrate.c - calibrate: a probe's calibration (date, due
 * date, certificate reference, as-found and as-left offsets) set through
 * coldroomd's SetCalibration, which keeps it and raises its reminders.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "parse_util.h"
#include "timestamp.h"
#include "unit_client.h"

#define CALIBRATE_USAGE "usage: calibrate UNIT PROBE --date WHEN --due WHEN --certificate REF " \
	"[--as-found T] [--as-left T]"

/* calibrate UNIT PROBE --date WHEN --due WHEN --certificate REF [--as-found T] [--as-left T] */
int cmd_calibrate(sd_bus *bus, char **args, int n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint64_t date = 0, due = 0, now = (uint64_t)time(NULL) * 1000000ULL;
	const char *cert = NULL;
	int32_t found = 0, left = 0;
	unsigned long long probe;
	struct unit_info u;
	int r;

	if (n < 2 || parse_ull(args[1], &probe) < 0 || probe < 1 || probe > 2) {
		fprintf(stderr, "coldroomctl: calibrate: PROBE is 1 or 2; " CALIBRATE_USAGE "\n");
		return EXIT_USAGE;
	}
	for (int i = 2; i < n; i++) {
		uint64_t *when = NULL;
		int32_t *offset = NULL;

		if (i + 1 >= n) {
			fprintf(stderr, "coldroomctl: calibrate: " CALIBRATE_USAGE "\n");
			return EXIT_USAGE;
		}
		if (!strcmp(args[i], "--date"))
			when = &date;
		else if (!strcmp(args[i], "--due"))
			when = &due;
		else if (!strcmp(args[i], "--as-found"))
			offset = &found;
		else if (!strcmp(args[i], "--as-left"))
			offset = &left;
		else if (!strcmp(args[i], "--certificate"))
			cert = args[i + 1];
		else {
			fprintf(stderr, "coldroomctl: calibrate: " CALIBRATE_USAGE "\n");
			return EXIT_USAGE;
		}
		i++;
		if (when && timestamp_parse(args[i], now, when) < 0) {
			fprintf(stderr, "coldroomctl: calibrate: '%s' is not a time (YYYY-MM-DD, "
				"see systemd.time(7))\n", args[i]);
			return EXIT_USAGE;
		}
		if (offset && parse_temp(args[i], offset) < 0) {
			fprintf(stderr, "coldroomctl: calibrate: '%s' is not an offset (millidegrees, "
				"or degrees with a C: -0.15C)\n", args[i]);
			return EXIT_USAGE;
		}
	}
	if (!date || !due || !cert) {
		fprintf(stderr, "coldroomctl: calibrate: --date, --due and --certificate are "
			"needed; " CALIBRATE_USAGE "\n");
		return EXIT_USAGE;
	}
	/* coldroomd checks the rest (due after the date, the offsets, the text). */
	r = fetch_unit(bus, args[0], &u);
	if (r)
		return r;
	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "SetCalibration",
			       &e, NULL, "uttsii", (uint32_t)probe, date, due, cert, found, left);
	free(u.path);
	if (r < 0) {
		r = fail_call("calibrate", &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	printf("calibrated: %s probe %llu\n", args[0], probe);
	return 0;
}
