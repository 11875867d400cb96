// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-uplink - forwards the temperature record to an MQTT broker
 * (MQTT.md), the only networked piece of coldroom-sensor.
 *
 * What it sends comes from the record (coldroom-recorder, over
 * org.coldroom.Recorder1): every interval row and every audit entry once,
 * in seq order, each stream from a cursor kept in the state directory
 * that moves only over entries the broker acknowledged (PUBACK). So a
 * broker that is away loses nothing: on the next connection the backlog
 * goes first, marked historical, then the live stream.
 *
 * libmosquitto runs inside sd-event, single-threaded: its socket is an IO
 * source (EPOLLOUT only while it has something to write), a 1 s timer
 * does its keepalive, and a failed connection is retried with an
 * exponential backoff on a timer. Every attempt gets a new mosquitto
 * object, so that nothing libmosquitto queued in a broken session is sent
 * twice behind our back.
 *
 * This file: main(), start and stop; uplink.h says where the rest is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "service.h"
#include "uplink.h"
#include "uplinkconf.h"
#include "uplinkmsg.h"

#define DEFAULT_STATE_DIR	"/var/lib/coldroom-uplink"

/* A clean stop says offline itself (a will is only for the unclean ones). */
static void say_goodbye(struct uplink *u)
{
	if (u->conn != CONNECTED)
		return;
	(void)publish(u, uplink_topic(&u->origin, NULL, "status"),
		      uplink_status_json(&u->origin, false, NULL, 0), 1, true, NULL);
	(void)mosquitto_disconnect(u->mosq);
	for (int i = 0; i < 10 && mosquitto_want_write(u->mosq); i++)
		if (mosquitto_loop_write(u->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
}

static int identity(struct uplink *u)
{
	if (u->cfg.host) {
		snprintf(u->host, sizeof(u->host), "%.64s", u->cfg.host);
	} else {
		char name[256];

		if (gethostname(name, sizeof(name)) < 0)
			return -errno;
		name[sizeof(name) - 1] = '\0';
		name[strcspn(name, ".")] = '\0';	/* the short name */
		if (!uplink_name_valid(name)) {
			log_error("the host name '%s' cannot be a topic level: set Host=", name);
			return -EINVAL;
		}
		snprintf(u->host, sizeof(u->host), "%.64s", name);
	}
	u->origin = (struct uplink_origin){ .site = u->cfg.site, .host = u->host };
	if (u->cfg.client_id)
		snprintf(u->client_id, sizeof(u->client_id), "%s", u->cfg.client_id);
	else
		snprintf(u->client_id, sizeof(u->client_id), "coldroom-%s-%s", u->cfg.site, u->host);
	snprintf(u->broker, sizeof(u->broker), strchr(u->cfg.broker, ':') ? "[%s]:%u" : "%s:%u",
		 u->cfg.broker, u->cfg.port);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroom-uplink [OPTIONS]\n"
		"Forwards the temperature record to an MQTT broker.\n\n"
		"  -c, --config FILE      settings (default " UPLINK_CONFIG_PATH ")\n"
		"  -s, --state-dir DIR    where the cursors are kept (default " DEFAULT_STATE_DIR ")\n");
}

static void uplink_done(struct uplink *u)
{
	if (u->mosq)
		mosquitto_destroy(u->mosq);
	sd_event_source_disable_unref(u->io);
	sd_event_source_disable_unref(u->misc_timer);
	sd_event_source_disable_unref(u->retry_timer);
	sd_event_source_disable_unref(u->tick);
	sd_event_source_disable_unref(u->refetch_timer);
	sd_bus_flush_close_unref(u->bus);
	sd_event_unref(u->event);
	numbers_free(u);
	free(u->units);
	if (u->password) {
		explicit_bzero(u->password, strlen(u->password));
		free(u->password);
	}
	uplink_config_free(&u->cfg);
}

static int on_option(int c, const char *arg, void *userdata)
{
	struct uplink *u = userdata;

	if (c != 's')
		return -EINVAL;
	u->state_dir = arg;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ 0 }
	};
	static const struct service service = {
		.name = "coldroom-uplink",
		.usage = usage,
		.default_config = UPLINK_CONFIG_PATH,
		.shortopts = "s:",
		.options = options,
		.option = on_option,
	};
	struct uplink u = { .state_dir = DEFAULT_STATE_DIR, .io_fd = -1,
			    .backoff_s = BACKOFF_MIN_S,
			    .rec = { .name = "record rows" }, .aud = { .name = "audit entries" } };
	struct service_args args;
	char err[UPLINK_ERROR_MAX + 64];
	int k;

	k = service_parse_args(&service, argc, argv, &args, &u);
	if (k <= 0)
		return service_exit_code(k);

	k = uplink_config_load(args.config, &u.cfg, err, sizeof(err));
	if (k == -ENOENT || (k == 0 && !u.cfg.broker)) {
		/* Off until configured: a clean exit, not a failure to restart. */
		log_notice("not configured: no Broker= in %s or its drop-ins; nothing to do",
			   args.config);
		/* Ready first: a notify service that exits before it is a failure. */
		sd_notifyf(0, "READY=1\nSTATUS=not configured (no Broker= in %s or its drop-ins)",
			   args.config);
		uplink_config_free(&u.cfg);
		return EXIT_SUCCESS;
	}
	if (k < 0) {
		log_error("%s", err);
		sd_notifyf(0, "STATUS=%s", err);
		goto out;
	}
	k = identity(&u);
	if (k >= 0)
		k = load_secrets(&u);
	if (k >= 0)
		k = cursor_load(&u);
	if (k < 0) {
		if (u.state[0])
			sd_notifyf(0, "STATUS=%s", u.state);
		else
			sd_notify(0, "STATUS=cannot start; the journal says why");
		goto out;
	}
	mosquitto_lib_init();

	k = service_event_new(&service, &u, &u.event);
	if (k < 0)
		goto out;
	k = sd_event_add_time_relative(u.event, &u.retry_timer, CLOCK_MONOTONIC, 0, 0, on_retry,
				       &u);
	if (k >= 0)
		k = sd_event_add_time_relative(u.event, &u.misc_timer, CLOCK_MONOTONIC,
					       USEC_PER_SEC, 100000, on_misc, &u);
	if (k >= 0)
		k = sd_event_source_set_enabled(u.misc_timer, SD_EVENT_OFF);
	if (k >= 0)
		k = sd_event_add_time_relative(u.event, &u.tick, CLOCK_MONOTONIC,
					       USEC_PER_SEC, 100000, on_tick, &u);
	if (k >= 0)
		k = sd_event_source_set_enabled(u.tick, SD_EVENT_OFF);
	if (k >= 0)
		k = sd_event_add_time_relative(u.event, &u.refetch_timer, CLOCK_MONOTONIC,
					       USEC_PER_SEC, 100000, on_refetch, &u);
	if (k >= 0)
		k = sd_event_source_set_enabled(u.refetch_timer, SD_EVENT_OFF);
	if (k < 0) {
		log_error("cannot set up the event loop: %s", strerror(-k));
		goto out;
	}
	snprintf(u.state, sizeof(u.state), "starting");
	k = bus_setup(&u, &service, args.bus);
	if (k < 0)
		goto out;
	learn_heads(&u);
	if (u.cfg.publish_samples)
		numbers_fetch(&u);
	sd_notify(0, "READY=1");
	log_info("forwarding the record of site %s, host %s to %s%s", u.origin.site, u.origin.host,
		 u.broker, u.cfg.ca_file ? " (TLS)" : "");

	k = service_run(u.event);
	say_goodbye(&u);
	u.cursor_dirty = true;
	if (cursor_save(&u) < 0 && k >= 0)
		k = -EIO;
	mosquitto_lib_cleanup();
out:
	uplink_done(&u);
	return k < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
