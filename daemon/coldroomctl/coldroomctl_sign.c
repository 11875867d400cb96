// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_sign.c - sign UNIT DAY reviewed|approved [--comment TEXT]:
 * a person's signature of a unit's day report (Recorder1.SignReport),
 * with their own password (coldroomctl_agent.c brings up the prompt).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "macro.h"

int cmd_sign(sd_bus *bus, char **args, int n)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *comment;
	struct unit_info u;
	int r;

	if (comment_option(args, 3, n, &comment) < 0) {
		fprintf(stderr, "coldroomctl: sign: usage: sign UNIT DAY reviewed|approved [--comment TEXT]\n");
		return EXIT_USAGE;
	}
	if (strcmp(args[2], "reviewed") && strcmp(args[2], "approved")) {
		fprintf(stderr, "coldroomctl: sign: the meaning is reviewed or approved, not '%s'\n",
			args[2]);
		return EXIT_USAGE;
	}
	/* The record keeps units by serial; coldroomd knows their names. */
	resolve_unit(bus, args[0], &u);
	free(u.path);
	r = sd_bus_call_method(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE, "SignReport",
			       &e, NULL, "ssss", u.serial, args[1], args[2], comment);
	if (r < 0)
		return fail_record("sign", &e, r);
	printf("signed: the day report of %s for %s, %s\n", args[1], u.serial, args[2]);
	return 0;
}
