// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomd - serves the firmware of cold-room sensor units and publishes
 * them on D-Bus as org.coldroom.Sensors1. See coldroomd(8), DBUS-API.md.
 *
 * main(): sets the layers up (daemon.h lists them) and runs the loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "alarm_lifecycle.h"
#include "bus_names.h"
#include "daemon.h"
#include "log.h"

#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroomd [OPTION]...\n"
		"Loads the firmware of cold-room sensor units through the kernel's\n"
		"sysfs fallback and publishes the units on D-Bus (org.coldroom.Sensors1).\n\n"
		"  -c, --config FILE      configuration file (default %s)\n"
		"  -b, --bus BUS          system (default), user, or a D-Bus address\n"
		"      --sysfs-root DIR   sysfs to work on (default /sys; another\n"
		"                         directory is read as a plain tree, for tests)\n"
		"      --records-from FIFO\n"
		"                         read records in the /dev/coldroom format from FIFO\n"
		"                         instead of the device (benchmarks and tests)\n"
		"      --state-dir DIR    keep open alarms and probe delays in DIR\n"
		"                         (default $STATE_DIRECTORY; none: not kept)\n"
		"  -d, --debug            log debug messages\n"
		"  -h, --help             this text\n"
		"      --version          the version\n",
		COLDROOMD_CONFIG_PATH);
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)userdata;
	log_info("%s: stopping", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_hangup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s, (void)si;
	sd_notify(0, "RELOADING=1");
	daemon_reload(d);
	if (d->bus)
		(void)sd_bus_emit_properties_changed(d->bus, SENSORS_PATH,
						     SENSORS_MANAGER_IFACE,
						     "ConfigError", NULL);
	sd_notify(0, "READY=1");
	return 0;
}

/* One kept-open sample_seq per unit: thousands of units need more fds. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	enum { OPT_SYSFS_ROOT = 0x100, OPT_RECORDS_FROM, OPT_STATE_DIR, OPT_VERSION };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "bus", required_argument, NULL, 'b' },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
		{ "records-from", required_argument, NULL, OPT_RECORDS_FROM },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	const char *config_path = COLDROOMD_CONFIG_PATH, *bus_spec = "system";
	const char *sysfs_root = "/sys", *records_from = NULL;
	/* systemd's StateDirectory= says where, by default. */
	const char *state_dir = getenv("STATE_DIRECTORY");
	struct daemon d;
	sd_event *event = NULL;
	sigset_t mask;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:b:dh", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'b':
			bus_spec = optarg;
			break;
		case OPT_SYSFS_ROOT:
			sysfs_root = optarg;
			break;
		case OPT_RECORDS_FROM:
			records_from = optarg;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case 'd':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case OPT_VERSION:
			puts("coldroomd " COLDROOM_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "coldroomd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	raise_fd_limit();
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&event);
	if (r < 0) {
		log_error("cannot create the event loop: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	r = daemon_init(&d, event, sysfs_root, config_path);
	sd_event_unref(event);
	if (r >= 0 && records_from) {
		d.records_path = strdup(records_from);
		if (!d.records_path)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = alarms_init(&d, state_dir);
	if (r < 0)
		goto out;
	r = sd_event_add_signal(d.event, NULL, SIGTERM, on_terminate, &d);
	if (r >= 0)
		r = sd_event_add_signal(d.event, NULL, SIGINT, on_terminate, &d);
	if (r >= 0)
		r = sd_event_add_signal(d.event, NULL, SIGHUP, on_hangup, &d);
	if (r >= 0)
		r = sd_event_set_watchdog(d.event, 1);
	if (r < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		goto out;
	}
	r = bus_setup(&d, bus_spec);
	if (r < 0)
		goto out;
	/* Listen before looking, so nothing falls between the two. */
	r = daemon_start_monitor(&d);
	if (r < 0) {
		log_error("cannot follow device events: %s", strerror(-r));
		goto out;
	}
	/* The first unit found opens the bulk path (bulk_attach()). */
	daemon_scan(&d);
	r = bus_request_name(&d);
	if (r < 0)
		goto out;
	d.ready = true;
	daemon_publish_status(&d);
	sd_notify(0, "READY=1");
	log_info("ready: %s", d.last_status);

	r = sd_event_loop(d.event);
	if (r < 0) {
		log_error("event loop failed: %s", strerror(-r));
	} else if (r > 0) {
		/* sd-bus ended the loop: the bus connection is gone. */
		log_error("lost the connection to the bus; exiting, to be restarted");
		r = -ECONNRESET;
	}
out:
	daemon_done(&d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
