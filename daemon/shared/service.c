// SPDX-License-Identifier: GPL-2.0 OR MIT
/* service.c - what every service's main() shares (service.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "busopen.h"
#include "log.h"
#include "macro.h"
#include "service.h"

#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

#define OPTIONS_MAX 16

enum { OPT_VERSION = 0x100 };

static const struct option common_options[] = {
	{ "bus", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "debug", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
};

/* The service's own lines, then those of the options every service has. */
static void usage(const struct service *s, FILE *f)
{
	s->usage(f);
	fputs("  -b, --bus BUS          system (default), user, or a D-Bus address\n"
	      "  -d, --debug            log debug messages\n"
	      "  -h, --help             this text\n"
	      "      --version          the version\n", f);
}

static int usage_error(const struct service *s)
{
	usage(s, stderr);
	return -EINVAL;
}

int service_parse_args(const struct service *s, int argc, char **argv,
		       struct service_args *args, void *userdata)
{
	struct option options[OPTIONS_MAX + 1] = { { 0 } };
	char shortopts[64];
	size_t n = 0;
	int c, r;

	*args = (struct service_args){ .bus = "system", .config = s->default_config };
	for (size_t i = 0; i < sizeof(common_options) / sizeof(common_options[0]); i++)
		if (common_options[i].val != 'c' || s->default_config)
			options[n++] = common_options[i];
	for (const struct option *o = s->options; o && o->name; o++) {
		if (n == OPTIONS_MAX)
			abort();	/* a table too long for this build: a programming error */
		options[n++] = *o;
	}
	snprintf(shortopts, sizeof(shortopts), "b:dh%s%s", s->default_config ? "c:" : "",
		 s->shortopts ? s->shortopts : "");

	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
		switch (c) {
		case 'b':
			args->bus = optarg;
			break;
		case 'c':
			args->config = optarg;
			break;
		case 'd':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			usage(s, stdout);
			return 0;
		case OPT_VERSION:
			printf("%s %s\n", s->name, COLDROOM_VERSION);
			return 0;
		case '?':
			return usage_error(s);
		default:
			r = s->option ? s->option(c, optarg, userdata) : -EINVAL;
			if (r < 0)
				return usage_error(s);
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", s->name, argv[optind]);
		return usage_error(s);
	}
	return 1;
}

static int on_terminate(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
	(void)userdata;
	log_info("%s: stopping", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(es), 0);
}

struct reload_ctx {
	const struct service *s;
	void *userdata;
};

static int on_hangup(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
	struct reload_ctx *ctx = userdata;

	(void)es, (void)si;
	sd_notify(0, "RELOADING=1");
	ctx->s->reload(ctx->userdata);
	sd_notify(0, "READY=1");
	return 0;
}

int service_event_new(const struct service *s, void *userdata, sd_event **ret)
{
	_cleanup_(sd_event_unrefp) sd_event *e = NULL;
	sd_event_source *hup = NULL;
	struct reload_ctx *ctx;
	sigset_t mask;
	int r;

	/* signalfd needs the signals blocked, before any thread could start. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (s->reload)
		sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;

	r = sd_event_default(&e);
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGTERM, on_terminate, NULL);
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGINT, on_terminate, NULL);
	if (r >= 0 && s->reload) {
		/* Lives as long as the source: freed with it, when the loop goes. */
		ctx = malloc(sizeof(*ctx));
		if (!ctx)
			r = -ENOMEM;
		if (r >= 0) {
			*ctx = (struct reload_ctx){ .s = s, .userdata = userdata };
			r = sd_event_add_signal(e, &hup, SIGHUP, on_hangup, ctx);
			if (r < 0)
				free(ctx);
		}
		if (r >= 0)
			r = sd_event_source_set_destroy_callback(hup, free);
		if (r >= 0)
			r = sd_event_source_set_floating(hup, 1);
		sd_event_source_unref(hup);
	}
	if (r >= 0)
		r = sd_event_set_watchdog(e, 1);
	if (r < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		return r;
	}
	*ret = e;
	e = NULL;
	return 0;
}

int service_bus_open(const struct service *s, sd_event *e, const char *spec, sd_bus **ret)
{
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	int r;

	r = bus_open_spec(spec, s->name, &bus);
	if (r < 0) {
		log_error("cannot connect to the %s bus: %s", spec, strerror(-r));
		return r;
	}
	r = sd_bus_attach_event(bus, e, SD_EVENT_PRIORITY_NORMAL);
	/* A lost bus ends the loop: systemd starts the service again. */
	if (r >= 0)
		r = sd_bus_set_exit_on_disconnect(bus, 1);
	if (r < 0) {
		log_error("cannot attach the bus to the event loop: %s", strerror(-r));
		return r;
	}
	*ret = bus;
	bus = NULL;
	return 0;
}

/* RequestName's answer when another connection owns the name (D-Bus specification). */
#define REQUEST_NAME_REPLY_IN_QUEUE 2

struct name_request {
	char *name;
	const char *without;
};

static void name_request_free(void *userdata)
{
	struct name_request *nr = userdata;

	free(nr->name);
	free(nr);
}

static int on_name_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct name_request *nr = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	uint32_t reply = 0;

	(void)ret_error;
	if (e) {
		log_warning("cannot own %s (%s): %s", nr->name, e->message ?: e->name,
			    nr->without);
		return 0;
	}
	if (sd_bus_message_read(m, "u", &reply) < 0)
		log_warning("cannot own %s (a malformed answer): %s", nr->name, nr->without);
	else if (reply == REQUEST_NAME_REPLY_IN_QUEUE)
		log_warning("%s is owned by another connection, queued for it until it goes: %s",
			    nr->name, nr->without);
	else
		log_debug("owns %s", nr->name);
	return 0;
}

int service_request_name(sd_bus *bus, const char *name, const char *without)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	struct name_request *nr;
	int r;

	nr = calloc(1, sizeof(*nr));
	if (!nr || !(nr->name = strdup(name))) {
		free(nr);
		log_error("cannot ask for %s: %s", name, strerror(ENOMEM));
		return -ENOMEM;
	}
	nr->without = without;
	r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					   "org.freedesktop.DBus", "RequestName");
	if (r >= 0)
		r = sd_bus_message_append(m, "su", name, 0);
	/* UINT64_MAX: no timeout (a lost bus ends the loop instead). */
	if (r >= 0)
		r = sd_bus_call_async(bus, &slot, m, on_name_reply, nr, UINT64_MAX);
	if (r >= 0)
		r = sd_bus_slot_set_destroy_callback(slot, name_request_free);
	if (r < 0) {
		if (!slot)
			name_request_free(nr);
		log_error("cannot ask for %s: %s", name, strerror(-r));
		return r;
	}
	r = sd_bus_slot_set_floating(slot, 1);
	return r < 0 ? r : 0;
}

static uint64_t clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * sd_event_loop(), with each dispatch timed: no callback may hold the loop
 * long (readings, the watchdog and every caller wait meanwhile). One that
 * takes more than SERVICE_SLOW_DISPATCH_US is said at debug level, with
 * its CPU time (the rest is the host's: preemption, a blocking read) and
 * when (CLOCK_MONOTONIC); the native benchmarks read these lines.
 */
static int run_timed(sd_event *e)
{
	uint64_t longest = 0, t0, c0, took;
	int r, code = 0;

	for (;;) {
		r = sd_event_get_state(e);
		if (r < 0)
			return r;
		if (r == SD_EVENT_FINISHED)
			break;
		r = sd_event_prepare(e);
		if (r == 0)
			r = sd_event_wait(e, UINT64_MAX);
		if (r > 0) {
			t0 = clock_us(CLOCK_MONOTONIC);
			c0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
			r = sd_event_dispatch(e);
			took = clock_us(CLOCK_MONOTONIC) - t0;
			if (took > SERVICE_SLOW_DISPATCH_US)
				log_debug("loop: a dispatch took %" PRIu64 " us (%" PRIu64
					  " us on the CPU), ended at %" PRIu64 " us", took,
					  clock_us(CLOCK_THREAD_CPUTIME_ID) - c0, t0 + took);
			if (took > longest)
				longest = took;
		}
		if (r < 0)
			return r;
	}
	log_debug("loop: the longest dispatch took %" PRIu64 " us", longest);
	r = sd_event_get_exit_code(e, &code);
	return r < 0 ? r : code;
}

int service_run(sd_event *e)
{
	int r = run_timed(e);

	if (r < 0) {
		log_error("event loop failed: %s", strerror(-r));
		return r;
	}
	if (r > 0) {
		/* sd-bus ended the loop (exit on disconnect): the bus is gone. */
		log_error("lost the connection to the bus; exiting, to be restarted");
		return -ECONNRESET;
	}
	return 0;
}
