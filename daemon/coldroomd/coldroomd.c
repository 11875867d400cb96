// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomd - serves the firmware of cold-room sensor units and publishes
 * them on D-Bus as org.coldroom.Sensors1. See coldroomd(8), DBUS-API.md.
 *
 * main(): sets the layers up (daemon.h lists them) and runs the loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "alarm_lifecycle.h"
#include "bus_names.h"
#include "daemon.h"
#include "log.h"
#include "service.h"


static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroomd [OPTION]...\n"
		"Loads the firmware of cold-room sensor units through the kernel's\n"
		"sysfs fallback and publishes the units on D-Bus (org.coldroom.Sensors1).\n\n"
		"  -c, --config FILE      configuration file (default %s)\n"
		"      --sysfs-root DIR   sysfs to work on (default /sys; another\n"
		"                         directory is read as a plain tree, for tests)\n"
		"      --records-from FIFO\n"
		"                         read records in the /dev/coldroom format from FIFO\n"
		"                         instead of the device (benchmarks and tests)\n"
		"      --state-dir DIR    keep open alarms and probe delays in DIR\n"
		"                         (default $STATE_DIRECTORY; none: not kept)\n",
		COLDROOMD_CONFIG_PATH);
}

static void on_reload(void *userdata)
{
	struct daemon *d = userdata;

	daemon_reload(d);
	if (d->bus)
		(void)sd_bus_emit_properties_changed(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE,
						     "ConfigError", NULL);
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

/* What main() is handed besides the common options. */
struct coldroomd_args {
	const char *sysfs_root, *records_from, *state_dir;
};

enum { OPT_SYSFS_ROOT = 0x200, OPT_RECORDS_FROM, OPT_STATE_DIR };

static int on_option(int c, const char *arg, void *userdata)
{
	struct coldroomd_args *a = userdata;

	switch (c) {
	case OPT_SYSFS_ROOT:
		a->sysfs_root = arg;
		return 0;
	case OPT_RECORDS_FROM:
		a->records_from = arg;
		return 0;
	case OPT_STATE_DIR:
		a->state_dir = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
		{ "records-from", required_argument, NULL, OPT_RECORDS_FROM },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ 0 }
	};
	static const struct service service = {
		.name = "coldroomd",
		.usage = usage,
		.default_config = COLDROOMD_CONFIG_PATH,
		.options = options,
		.option = on_option,
		.reload = on_reload,
	};
	/* systemd's StateDirectory= says where, by default. */
	struct coldroomd_args a = {
		.sysfs_root = "/sys",
		.state_dir = getenv("STATE_DIRECTORY"),
	};
	struct service_args args;
	struct daemon d;
	sd_event *event = NULL;
	int r;

	r = service_parse_args(&service, argc, argv, &args, &a);
	if (r <= 0)
		return service_exit_code(r);

	raise_fd_limit();
	r = service_event_new(&service, &d, &event);
	if (r < 0)
		return EXIT_FAILURE;
	r = daemon_init(&d, event, a.sysfs_root, args.config);
	sd_event_unref(event);
	if (r >= 0 && a.records_from) {
		d.records_path = strdup(a.records_from);
		if (!d.records_path)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = alarms_init(&d, a.state_dir);
	if (r < 0)
		goto out;
	r = bus_setup(&d, &service, args.bus);
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

	r = service_run(d.event);
out:
	daemon_done(&d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
