// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * scrape.c - one scrape: GetReadings, the Manager's properties and those of
 * the recorder and the uplink, all at once, shared by the requests waiting;
 * apart, as a request never calls coldroomd.
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
/* The recorder and the uplink answer property reads at once; one stuck holds no page long. */
#define PEER_TIMEOUT_USEC	(2 * 1000000ULL)

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* OpenAlarms' dictionary, as many kinds as there is room for. */
static int open_alarms_read(sd_bus_message *reply, struct metrics_manager *mg)
{
	const char *kind;
	uint32_t n;
	int r;

	r = sd_bus_message_enter_container(reply, 'v', "a{su}");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "{su}");
	while (r >= 0 && (r = sd_bus_message_read(reply, "{su}", &kind, &n)) > 0)
		if (mg->n_kinds < METRICS_ALARM_KINDS_MAX) {
			mg->open_alarms[mg->n_kinds].kind = kind;
			mg->open_alarms[mg->n_kinds++].n = n;
		}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	return r;
}

/* Calibrations' array: serial, probe and days left of each probe. */
static int calibrations_read(sd_bus_message *reply, struct metrics_manager *mg)
{
	size_t cap = 0;
	int r;

	r = sd_bus_message_enter_container(reply, 'v', "a(suttsiix)");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(suttsiix)");
	while (r >= 0) {
		struct metrics_calibration c;
		uint64_t calibrated;
		const char *cert;
		int32_t found, left;
		int64_t days_left;

		r = sd_bus_message_read(reply, "(suttsiix)", &c.serial, &c.probe, &calibrated,
					&c.due_us, &cert, &found, &left, &days_left);
		if (r <= 0)
			break;
		if (c.probe < 1 || c.probe > 2)
			continue;
		if (mg->n_calibrations == cap) {
			struct metrics_calibration *n;

			cap = cap ? 2 * cap : 64;
			n = reallocarray(mg->calibrations, cap, sizeof(*n));
			if (!n)
				return -ENOMEM;
			mg->calibrations = n;
		}
		mg->calibrations[mg->n_calibrations++] = c;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	return r;
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
		else if (!strcmp(key, "OpenAlarms") && !strcmp(contents, "a{su}"))
			r = open_alarms_read(reply, mg);
		else if (!strcmp(key, "Calibrations") && !strcmp(contents, "a(suttsiix)"))
			r = calibrations_read(reply, mg);
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

/*
 * The recorder's or the uplink's properties from a GetAll reply into @p;
 * false if it did not answer, the reply is malformed or lacks one of them
 * (then nothing of it is on the page).
 */
static bool peer_read(sd_bus_message *reply, enum scrape_call call, struct metrics_peers *p)
{
	struct metrics_peers got = *p;
	unsigned int found = 0;
	int r;

	if (!reply || sd_bus_message_is_method_error(reply, NULL))
		return false;
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key, *contents;
		char type;
		int b;

		r = sd_bus_message_read(reply, "s", &key);
		if (r >= 0)
			r = sd_bus_message_peek_type(reply, &type, &contents);
		if (r < 0)
			break;
		if (call == CALL_RECORDER && !strcmp(key, "WriteFailing") && !strcmp(contents, "b")) {
			r = sd_bus_message_read(reply, "v", "b", &b);
			got.write_failing = b;
			found++;
		} else if (call == CALL_RECORDER && !strcmp(key, "SamplesLost") &&
			   !strcmp(contents, "t")) {
			r = sd_bus_message_read(reply, "v", "t", &got.samples_lost);
			found++;
		} else if (call == CALL_UPLINK && !strcmp(key, "Connected") && !strcmp(contents, "b")) {
			r = sd_bus_message_read(reply, "v", "b", &b);
			got.uplink_connected = b;
			found++;
		} else if (call == CALL_UPLINK && !strcmp(key, "Backlog") && !strcmp(contents, "t")) {
			r = sd_bus_message_read(reply, "v", "t", &got.uplink_backlog);
			found++;
		} else {
			r = sd_bus_message_skip(reply, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r < 0 || found != 2U)
		return false;
	*p = got;
	return true;
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

/* Every reply is in: build the page and answer. */
static void scrape_finish(struct metricsd *m)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *readings = m->replies[CALL_READINGS];
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *manager = m->replies[CALL_MANAGER];
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *recorder = m->replies[CALL_RECORDER];
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *uplink = m->replies[CALL_UPLINK];
	struct metrics_manager mg = { .version = "", .reading_source = "", .event_source = "" };
	struct metrics_peers peers = { 0 };
	const sd_bus_error *e;
	struct readings_msg rd;
	char why[512];
	int r;

	memset(m->replies, 0, sizeof(m->replies));
	e = readings ? sd_bus_message_get_error(readings) : NULL;
	if (!readings || e) {
		snprintf(why, sizeof(why), "coldroomd did not answer GetReadings: %s",
			 e ? (e->message ?: e->name) : m->call_error);
	} else if (readings_msg_read(readings, &rd) < 0) {
		snprintf(why, sizeof(why), "coldroomd answered GetReadings with a malformed reply");
	} else {
		bool have_manager = manager && !sd_bus_message_is_method_error(manager, NULL) &&
				    manager_read(manager, &mg) == 0;

		peers.recorder = peer_read(recorder, CALL_RECORDER, &peers);
		peers.uplink = peer_read(uplink, CALL_UPLINK, &peers);
		m->counters.scrapes++;
		r = page_build(m, &rd, have_manager ? &mg : NULL, &peers, NULL);
		free(mg.calibrations);
		if (r == 0) {
			answer_waiting(m, MHD_HTTP_OK);
			return;
		}
		snprintf(why, sizeof(why), "cannot build the page: %s", strerror(-r));
	}
	log_warning("scrape failed: %s", why);
	m->counters.scrapes++;
	m->counters.scrape_errors++;
	r = page_build(m, NULL, NULL, NULL, why);
	answer_waiting(m, r == 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR);
}

static bool scrape_in_flight(const struct metricsd *m)
{
	for (size_t i = 0; i < N_SCRAPE_CALLS; i++)
		if (m->slots[i])
			return true;
	return false;
}

/* A reply (or the bus's error for it) to one of the scrape's calls. */
static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	sd_bus_slot *slot = sd_bus_get_current_slot(m->bus);

	(void)error;
	for (size_t i = 0; i < N_SCRAPE_CALLS; i++) {
		if (!m->slots[i] || m->slots[i] != slot)
			continue;
		m->slots[i] = sd_bus_slot_unref(m->slots[i]);
		m->replies[i] = sd_bus_message_ref(reply);
		/* coldroomd's round trip, whatever the recorder and the uplink take. */
		if (i <= CALL_MANAGER && !m->slots[CALL_READINGS] && !m->slots[CALL_MANAGER])
			m->counters.readings_call_usec = now_usec() - m->scrape_started;
	}
	if (!scrape_in_flight(m))
		scrape_finish(m);
	return 0;
}

/*
 * An asynchronous call for @call. The recorder and the uplink are called
 * without activation: one that is not running is simply not on the page.
 */
static int call_async(struct metricsd *m, enum scrape_call call, const char *dest,
		      const char *path, const char *iface, const char *member, const char *arg)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
	bool peer = call == CALL_RECORDER || call == CALL_UPLINK;
	int r;

	r = sd_bus_message_new_method_call(m->bus, &msg, dest, path, iface, member);
	if (r >= 0 && arg)
		r = sd_bus_message_append(msg, "s", arg);
	if (r >= 0 && peer)
		r = sd_bus_message_set_auto_start(msg, false);
	if (r >= 0)
		r = sd_bus_call_async(m->bus, &m->slots[call], msg, on_reply, m,
				      peer ? PEER_TIMEOUT_USEC : CALL_TIMEOUT_USEC);
	return r;
}

/* Start a scrape unless one is in flight (the request joins it). */
int scrape_start(struct metricsd *m)
{
	static const char props[] = "org.freedesktop.DBus.Properties";
	int r;

	mkt_refresh_maybe(m);
	if (scrape_in_flight(m))
		return 0;
	m->scrape_started = now_usec();
	m->call_error[0] = 0;
	r = call_async(m, CALL_READINGS, SENSORS_BUS_NAME, SENSORS_PATH, SENSORS_MANAGER_IFACE,
		       "GetReadings", NULL);
	if (r >= 0)
		r = call_async(m, CALL_MANAGER, SENSORS_BUS_NAME, SENSORS_PATH, props, "GetAll",
			       SENSORS_MANAGER_IFACE);
	if (r >= 0)
		r = call_async(m, CALL_RECORDER, RECORDER_BUS_NAME, RECORDER_PATH, props, "GetAll",
			       RECORDER_IFACE);
	if (r >= 0)
		r = call_async(m, CALL_UPLINK, UPLINK_BUS_NAME, UPLINK_PATH, props, "GetAll",
			       UPLINK_IFACE);
	if (r < 0) {
		/* Whatever was sent is cancelled; the waiting requests get 503. */
		for (size_t i = 0; i < N_SCRAPE_CALLS; i++)
			m->slots[i] = sd_bus_slot_unref(m->slots[i]);
		snprintf(m->call_error, sizeof(m->call_error), "cannot call it: %s", strerror(-r));
		m->counters.readings_call_usec = now_usec() - m->scrape_started;
		scrape_finish(m);
	}
	return 0;
}
