// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * scrape.c - one scrape: GetReadings and the Manager's properties at once,
 * shared by the requests waiting; apart, as a request never calls coldroomd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "metricsfmt.h"
#include "readings_msg.h"

#define CALL_TIMEOUT_USEC	(5 * 1000000ULL)	/* below Prometheus' 10 s scrape timeout */

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* The Manager's properties from a GetAll reply; -EBADMSG if malformed. */
static int manager_read(sd_bus_message *reply, struct metrics_manager *mg)
{
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key, *contents;
		char type;

		r = sd_bus_message_read(reply, "s", &key);
		if (r >= 0)
			r = sd_bus_message_peek_type(reply, &type, &contents);
		if (r < 0)
			break;
		if (!strcmp(key, "Version") && !strcmp(contents, "s"))
			r = sd_bus_message_read(reply, "v", "s", &mg->version);
		else if (!strcmp(key, "ReadingSource") && !strcmp(contents, "s"))
			r = sd_bus_message_read(reply, "v", "s", &mg->reading_source);
		else if (!strcmp(key, "EventSource") && !strcmp(contents, "s"))
			r = sd_bus_message_read(reply, "v", "s", &mg->event_source);
		else if (!strcmp(key, "UnitCount") && !strcmp(contents, "u"))
			r = sd_bus_message_read(reply, "v", "u", &mg->unit_count);
		else if (!strcmp(key, "UnacknowledgedAlarms") && !strcmp(contents, "u"))
			r = sd_bus_message_read(reply, "v", "u", &mg->unacknowledged_alarms);
		else if (!strcmp(key, "ConfigError") && !strcmp(contents, "s")) {
			const char *s;

			r = sd_bus_message_read(reply, "v", "s", &s);
			mg->config_error = r >= 0 && *s;
		} else
			r = sd_bus_message_skip(reply, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	return r < 0 ? -EBADMSG : 0;
}

/* Answer every waiting request with the current page and @status. */
static void answer_waiting(struct metricsd *m, unsigned int status)
{
	struct request *rq;

	while ((rq = m->waiting)) {
		m->waiting = rq->next;
		rq->next = NULL;
		rq->status = status;
		rq->response = page_response(m);
		/* Without a response the resumed request is closed (on_request). */
		MHD_resume_connection(rq->connection);
	}
	servers_kick(m);
}

/* Both replies are in: build the page and answer. */
static void scrape_finish(struct metricsd *m)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *readings = m->readings_reply;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *manager = m->manager_reply;
	struct metrics_manager mg = { .version = "", .reading_source = "", .event_source = "" };
	const sd_bus_error *e;
	struct readings_msg rd;
	char why[512];
	int r;

	m->readings_reply = m->manager_reply = NULL;
	m->counters.readings_call_usec = now_usec() - m->scrape_started;
	e = readings ? sd_bus_message_get_error(readings) : NULL;
	if (!readings || e) {
		snprintf(why, sizeof(why), "coldroomd did not answer GetReadings: %s",
			 e ? (e->message ?: e->name) : m->call_error);
	} else if (readings_msg_read(readings, &rd) < 0) {
		snprintf(why, sizeof(why), "coldroomd answered GetReadings with a malformed reply");
	} else {
		bool have_manager = manager && !sd_bus_message_is_method_error(manager, NULL) &&
				    manager_read(manager, &mg) == 0;

		m->counters.scrapes++;
		r = page_build(m, &rd, have_manager ? &mg : NULL, NULL);
		if (r == 0) {
			answer_waiting(m, MHD_HTTP_OK);
			return;
		}
		snprintf(why, sizeof(why), "cannot build the page: %s", strerror(-r));
	}
	log_warning("scrape failed: %s", why);
	m->counters.scrapes++;
	m->counters.scrape_errors++;
	r = page_build(m, NULL, NULL, why);
	answer_waiting(m, r == 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR);
}

static int on_readings_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;

	(void)error;
	m->readings_slot = sd_bus_slot_unref(m->readings_slot);
	m->readings_reply = sd_bus_message_ref(reply);
	if (!m->manager_slot)
		scrape_finish(m);
	return 0;
}

static int on_manager_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;

	(void)error;
	m->manager_slot = sd_bus_slot_unref(m->manager_slot);
	m->manager_reply = sd_bus_message_ref(reply);
	if (!m->readings_slot)
		scrape_finish(m);
	return 0;
}

/* An asynchronous call to coldroomd's Manager object, with our timeout. */
static int call_manager(struct metricsd *m, sd_bus_slot **slot, const char *iface,
			const char *member, const char *arg, sd_bus_message_handler_t cb)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	int r;

	r = sd_bus_message_new_method_call(m->bus, &call, SENSORS_BUS_NAME, SENSORS_PATH, iface, member);
	if (r >= 0 && arg)
		r = sd_bus_message_append(call, "s", arg);
	if (r >= 0)
		r = sd_bus_call_async(m->bus, slot, call, cb, m, CALL_TIMEOUT_USEC);
	return r;
}

/* Start a scrape unless one is in flight (the request joins it). */
int scrape_start(struct metricsd *m)
{
	int r;

	mkt_refresh_maybe(m);
	if (m->readings_slot || m->manager_slot)
		return 0;
	m->scrape_started = now_usec();
	m->call_error[0] = 0;
	r = call_manager(m, &m->readings_slot, SENSORS_MANAGER_IFACE, "GetReadings", NULL,
			 on_readings_reply);
	if (r >= 0)
		r = call_manager(m, &m->manager_slot, "org.freedesktop.DBus.Properties", "GetAll",
				 SENSORS_MANAGER_IFACE, on_manager_reply);
	if (r < 0) {
		/* Whatever was sent is cancelled; the waiting requests get 503. */
		m->readings_slot = sd_bus_slot_unref(m->readings_slot);
		m->manager_slot = sd_bus_slot_unref(m->manager_slot);
		snprintf(m->call_error, sizeof(m->call_error), "cannot call it: %s", strerror(-r));
		scrape_finish(m);
	}
	return 0;
}
