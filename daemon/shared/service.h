/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * service.h - what every service's main() shares: the command line's
 * common options, an event loop that systemd can stop, reload and watch,
 * the bus connection, and the loop's end. A service describes itself in
 * a struct service; main() keeps only what is its own.
 */
#ifndef COLDROOM_SERVICE_H
#define COLDROOM_SERVICE_H

#include <getopt.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

struct service {
	const char *name;		/* messages, --version, the bus connection */
	void (*usage)(FILE *f);		/* --help: all but the common options' lines */
	const char *default_config;	/* -c/--config's default; NULL: no settings */
	/* The service's own options, besides -b, -c, -d, -h and --version. */
	const char *shortopts;
	const struct option *options;	/* ended by { 0 }, or NULL */
	/* One of them: 0, or negative when it is a usage error (said). */
	int (*option)(int c, const char *arg, void *userdata);
	/* SIGHUP, between RELOADING=1 and READY=1; NULL: not handled. */
	void (*reload)(void *userdata);
};

/* What every service's command line sets. */
struct service_args {
	const char *bus;		/* -b, --bus: "system", "user" or an address */
	const char *config;		/* -c, --config (default_config) */
};

/*
 * Parse @argv: -b/--bus, -c/--config (when the service has settings),
 * -d/--debug, -h/--help, --version and the service's own options.
 * Returns 1 to go on, 0 when done (--help, --version), or -EINVAL when
 * the command line is wrong (said on stderr, with the usage): main()
 * exits with service_exit_code().
 */
int service_parse_args(const struct service *s, int argc, char **argv,
		       struct service_args *args, void *userdata);
static inline int service_exit_code(int r)
{
	return r < 0 ? 2 : 0;		/* 2: a usage error, as getopt programs say */
}

/*
 * The service's event loop: SIGTERM and SIGINT end it (STOPPING=1),
 * SIGHUP reloads when the service can, and the watchdog is pinged at
 * half of $WATCHDOG_USEC. Errors are logged.
 */
int service_event_new(const struct service *s, void *userdata, sd_event **ret);

/*
 * Connect to @spec (service_args.bus) and attach the connection to @e;
 * losing it ends the loop (service_run() returns an error, and systemd's
 * Restart=on-failure starts the service again). Errors are logged.
 */
int service_bus_open(const struct service *s, sd_event *e, const char *spec, sd_bus **ret);

/*
 * Ask the bus for @name, without waiting: the bus answers RequestName
 * itself, so the call has no timeout (on a starved host the answer may
 * come late, and a timed-out call could not tell whether the name was
 * granted). A refusal, or a queue behind another owner, is logged with
 * @without, what the service cannot do without the name; the service
 * goes on either way. Returns 0, or negative errno when the call cannot be
 * sent (logged).
 */
int service_request_name(sd_bus *bus, const char *name, const char *without);

/*
 * Run @e until a signal or the bus's loss ends it: 0, or negative errno.
 * A dispatch longer than SERVICE_SLOW_DISPATCH_US is said at debug level.
 */
#define SERVICE_SLOW_DISPATCH_US 10000
int service_run(sd_event *e);

#endif
