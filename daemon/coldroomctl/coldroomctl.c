// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl - the command-line client of coldroomd (org.coldroom.Sensors1).
 *
 * Exit status: 0 success, 1 other failure, 2 usage, 3 coldroomd is not
 * running, 4 no such unit, 5 access denied, 6 a value was rejected, 7 the
 * record is not intact (coldroomctl.h).
 *
 * main(): the options and the verbs dispatched; each verb is in its
 * coldroomctl_*.c.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "busopen.h"
#include "coldroomctl.h"
#include "record.h"

bool arg_json;
const char *arg_bus = "system";
unsigned int arg_count;	/* watch: stop after this many screens */
const char *arg_database = RECORD_DEFAULT_PATH;

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
		"                            gaps, alarms and acknowledgements, MKT (default:\n"
		"                            today, every unit)\n"
		"  report --excursions [--since WHEN] [--until WHEN] [--unit UNIT]\n"
		"         -o FILE.csv|pdf    each time a probe was out of its band, with its\n"
		"                            alarm's entries and MKT, and each day's time out\n"
		"                            of band (default: the last 30 days); with a\n"
		"                            manifest, FILE.manifest\n"
		"  ack UNIT PROBE [--comment TEXT]\n"
		"                            acknowledge the open alarms of a probe (1 or 2)\n"
		"  sign UNIT DAY reviewed|approved [--comment TEXT]\n"
		"                            sign the unit's day report (DAY: YYYY-MM-DD)\n"
		"  calibrate UNIT PROBE --date WHEN --due WHEN --certificate REF\n"
		"            [--as-found T] [--as-left T]\n"
		"                            a probe's calibration: its reminders come 90\n"
		"                            and 30 days before and on the due date\n"
		"  firmware UNIT [reload]    firmware state and source; reload it\n"
		"  frame UNIT -o FILE.png    the latest thermal frame as a false-colour image\n"
		"  reload                    make coldroomd re-read its configuration\n"
		"  record verify [--no-journal|--journal] [--journal-directory DIR]\n"
		"                [--journal-file FILE]...\n"
		"                            walk the record's hash chains: intact, or the\n"
		"                            first row changed, deleted, inserted or moved;\n"
		"                            and check it against the chain heads the\n"
		"                            recorder anchored in the journal\n"
		"  record verify-export FILE whether an export still matches the record it\n"
		"                            was made from (its FILE.manifest)\n\n"
		"UNIT is a unit name (sensor0) or a serial (SIM-000001).\n\n"
		"Options:\n"
		"  -j, --json                machine-readable output\n"
		"  -b, --bus BUS             system (default), user, or a D-Bus address\n"
		"  -n, --count N             watch: stop after N screens\n"
		"  -D, --database FILE       record: the database (default " RECORD_DEFAULT_PATH ")\n"
		"      --no-ask-password     never ask for a password (an act that needs\n"
		"                            one is refused)\n"
		"  -h, --help                this text\n"
		"      --version             the version\n\n"
		"Exit status: 0 success, 1 failure, 2 usage, 3 coldroomd not running,\n"
		"4 no such unit, 5 access denied, 6 value rejected, 7 record not intact.\n");
}

int main(int argc, char **argv)
{
	enum { OPT_VERSION = 0x100, OPT_NO_ASK_PASSWORD };
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bus", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'n' },
		{ "database", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "no-ask-password", no_argument, NULL, OPT_NO_ASK_PASSWORD },
		{ 0 }
	};
	bool ask_password = true, act;
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
		case OPT_NO_ASK_PASSWORD:
			ask_password = false;
			break;
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
	else if (!strcmp(cmd, "sign"))
		NEED(3, 5);
	else if (!strcmp(cmd, "calibrate"))
		NEED(2, 12);
	else if (!strcmp(cmd, "history"))
		NEED(1, 6);
	else if (!strcmp(cmd, "report"))
		NEED(2, 10);
	else if (!strcmp(cmd, "show"))
		NEED(1, 1);
	else if (!strcmp(cmd, "firmware"))
		NEED(1, 2);
	else if (!strcmp(cmd, "set"))
		NEED(1, 1000);
	else if (!strcmp(cmd, "record")) {
		NEED(1, 1 + 2 * RECORD_JOURNAL_FILES_MAX);
		if (!strcmp(argv[optind + 1], "verify-export")) {
			NEED(2, 2);
			r = connect_bus(&bus);
			if (!r)
				r = cmd_record_verify_export(bus, argv[optind + 2]);
			sd_bus_flush_close_unref(bus);
			return r;
		}
		if (strcmp(argv[optind + 1], "verify")) {
			fprintf(stderr, "coldroomctl: record: unknown action '%s'\n", argv[optind + 1]);
			return EXIT_USAGE;
		}
		return cmd_record_verify(argv + optind + 2, nargs - 1);
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
	/* The acts of a person: polkit may ask for their password (SECURITY.md, "Roles"). */
	act = !strcmp(cmd, "ack") || !strcmp(cmd, "sign") || !strcmp(cmd, "set") ||
	      !strcmp(cmd, "calibrate") || !strcmp(cmd, "reload") ||
	      (!strcmp(cmd, "firmware") && nargs > 1);
	r = ask_password_begin(bus, act && ask_password);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: cannot allow a password prompt: %s\n", strerror(-r));
		sd_bus_flush_close_unref(bus);
		return EXIT_FAILURE;
	}
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
	else if (!strcmp(cmd, "sign"))
		r = cmd_sign(bus, &argv[optind + 1], nargs);
	else if (!strcmp(cmd, "calibrate"))
		r = cmd_calibrate(bus, &argv[optind + 1], nargs);
	else if (!strcmp(cmd, "history"))
		r = cmd_history(bus, &argv[optind + 1], nargs);
	else if (!strcmp(cmd, "report"))
		r = cmd_report(bus, &argv[optind + 1], nargs);
	else
		r = cmd_set(bus, argv[optind + 1], &argv[optind + 2], nargs - 1);
	ask_password_end();
	sd_bus_flush_close_unref(bus);
	return r;
}
