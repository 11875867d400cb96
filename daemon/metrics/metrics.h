/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * metrics.h - coldroom-metrics' state and what one of its files calls in
 * another; internal to metrics/, not an installed API.
 */
#ifndef COLDROOM_METRICS_H
#define COLDROOM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "metricsfmt.h"
#include "mkt.h"
#include "readings_msg.h"
#include "service.h"
#include "unit_index.h"

#define MAX_SOCKETS		8

/* The calls of one scrape, made at once. */
enum scrape_call {
	CALL_READINGS,		/* coldroomd's GetReadings */
	CALL_MANAGER,		/* coldroomd's Manager properties */
	CALL_RECORDER,		/* coldroom-recorder's properties */
	CALL_UPLINK,		/* coldroom-uplink's properties */
	N_SCRAPE_CALLS
};

/* A page, shared by the responses that send it; reused once they are done. */
struct page {
	struct mbuf buf;
	unsigned int refs;
};

/* An HTTP request to /metrics waiting for its scrape. */
struct request {
	struct MHD_Connection *connection;
	struct request *next;
	struct MHD_Response *response;	/* the answer, once there is one */
	unsigned int status;
};

/* A client's connection, oldest first: closed if its request's headers are late. */
struct http_conn {
	struct http_conn *prev, *next;
	struct MHD_Connection *connection;
	uint64_t since;		/* CLOCK_MONOTONIC: accepted, or its last request answered */
	bool in_request;	/* its headers are in: a scrape's to wait for, not a trickle */
	bool closing;
};

struct http_server {
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer, *reaper;
	struct http_conn *first, *last;
	size_t n_conns;
};

struct metricsd {
	sd_event *event;
	sd_bus *bus;
	struct http_server servers[MAX_SOCKETS];
	size_t n_servers;

	/*
	 * The units present, dense (unit i: infos[i], units[i]), found by
	 * Number through @index: rare state, kept apart from the readings.
	 */
	struct unit_info *infos;
	struct metrics_unit *units;	/* .info = &infos[i] */
	struct unit_index index;
	size_t n_present, cap_units;
	bool coldroomd_up;

	/* The scrape in flight: its calls' replies, then the waiting requests. */
	sd_bus_slot *slots[N_SCRAPE_CALLS];
	sd_bus_message *replies[N_SCRAPE_CALLS];
	char call_error[256];
	uint64_t scrape_started;
	struct request *waiting;

	struct page *page;
	struct metrics_service counters;

	/* The MKT, refreshed from coldroom-recorder apart from the scrapes (mkt.c). */
	struct {
		sd_bus_slot *slot;
		bool running;
		uint64_t done_usec;		/* CLOCK_MONOTONIC: the last refresh ended */
		uint32_t dh, interval_s;
		size_t unit;			/* the item: unit, probe, window */
		unsigned int probe, window;
		char serial[64];
		uint64_t since, until, after_time, after_seq;
		struct mkt_sum sum;
	} mkt;
};

/* units.c: the units followed */
void publish_status(struct metricsd *m);
void units_clear(struct metricsd *m);
int fetch_units(struct metricsd *m);
int bus_connect(struct metricsd *m, const struct service *service, const char *spec);

/* pages.c: the page and the responses that send it */
void page_unref(void *cls);
int page_build(struct metricsd *m, const struct readings_msg *readings,
	       const struct metrics_manager *manager, const struct metrics_peers *peers,
	       const char *why);
struct MHD_Response *page_response(struct metricsd *m);

/* scrape.c: a scrape of coldroomd */
int scrape_start(struct metricsd *m);

/* mkt.c: the MKT from coldroom-recorder, refreshed when a scrape finds it old */
void mkt_refresh_maybe(struct metricsd *m);
void mkt_refresh_stop(struct metricsd *m);

/* http.c: the HTTP server */
void servers_kick(struct metricsd *m);
int server_start(struct metricsd *m, int fd);
int listen_on(const char *spec);

#endif
