// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-metrics - the Prometheus endpoint of the units coldroomd
 * publishes (METRICS.md).
 *
 * A plain client of org.coldroom.Sensors1, with none of coldroomd's
 * privileges: the HTTP parser (libmicrohttpd) never runs inside coldroomd,
 * and a scrape costs coldroomd one GetReadings call, whose reply it builds
 * at most once per batch window. The units' names, serials, labels,
 * thresholds and firmware states come once from GetManagedObjects and then
 * from InterfacesAdded/Removed and PropertiesChanged; a scrape fetches only
 * the readings and the Manager's few properties, asynchronously, and the
 * HTTP requests wait (suspended) for the answer. Requests that arrive while
 * a scrape is in flight share it.
 *
 * Everything runs in one thread in sd-event: each libmicrohttpd daemon
 * (one per listening socket) is an epoll fd watched as one IO source, with
 * a timer from MHD_get_timeout(); nothing polls.
 *
 * This file: main(), start and stop; metrics.h says where the rest is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "metrics.h"
#include "service.h"

static void metricsd_done(struct metricsd *m)
{
	struct request *rq;

	/* Suspended requests are closed with their servers. */
	while ((rq = m->waiting)) {
		m->waiting = rq->next;
		MHD_resume_connection(rq->connection);
	}
	for (size_t i = 0; i < m->n_servers; i++) {
		sd_event_source_unref(m->servers[i].io);
		sd_event_source_unref(m->servers[i].timer);
		MHD_stop_daemon(m->servers[i].mhd);
	}
	for (size_t i = 0; i < N_SCRAPE_CALLS; i++) {
		sd_bus_slot_unref(m->slots[i]);
		sd_bus_message_unref(m->replies[i]);
	}
	mkt_refresh_stop(m);
	units_clear(m);
	free(m->infos);
	free(m->units);
	unit_index_free(&m->index);
	page_unref(m->page);
	sd_bus_flush_close_unref(m->bus);
	sd_event_unref(m->event);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroom-metrics [OPTIONS]\n"
		"Serves the units coldroomd publishes as Prometheus metrics over HTTP,\n"
		"on the sockets systemd passes (socket activation) or on --listen.\n\n"
		"  -l, --listen ADDR:PORT listen on 127.0.0.1:9863, [::1]:9863, ... when\n"
		"                         no socket is passed (up to 8 times)\n");
}

/* --listen, up to MAX_SOCKETS times. */
struct listen_args {
	const char *specs[MAX_SOCKETS];
	size_t n;
};

static int on_option(int c, const char *arg, void *userdata)
{
	struct listen_args *l = userdata;

	if (c != 'l')
		return -EINVAL;
	if (l->n == MAX_SOCKETS) {
		fprintf(stderr, "coldroom-metrics: at most %d --listen\n", MAX_SOCKETS);
		return -EINVAL;
	}
	l->specs[l->n++] = arg;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ 0 }
	};
	static const struct service service = {
		.name = "coldroom-metrics",
		.usage = usage,
		.shortopts = "l:",
		.options = options,
		.option = on_option,
	};
	struct listen_args l = { .n = 0 };
	struct service_args args;
	struct metricsd m = { 0 };
	int fds[MAX_SOCKETS], n_fds, r;

	r = service_parse_args(&service, argc, argv, &args, &l);
	if (r <= 0)
		return service_exit_code(r);

	n_fds = sd_listen_fds(1);
	if (n_fds < 0) {
		log_error("cannot take the sockets systemd passed: %s", strerror(-n_fds));
		return EXIT_FAILURE;
	}
	if (n_fds > MAX_SOCKETS) {
		log_error("%d sockets passed; at most %d are served", n_fds, MAX_SOCKETS);
		return EXIT_FAILURE;
	}
	if (n_fds > 0 && l.n) {
		log_error("--listen is for running without socket activation, but sockets were passed");
		return 2;
	}
	for (int i = 0; i < n_fds; i++) {
		fds[i] = SD_LISTEN_FDS_START + i;
		if (sd_is_socket(fds[i], AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			log_error("passed fd %d is not a listening stream socket", fds[i]);
			return EXIT_FAILURE;
		}
	}
	for (size_t i = 0; i < l.n; i++, n_fds++) {
		fds[n_fds] = listen_on(l.specs[i]);
		if (fds[n_fds] < 0) {
			log_error("cannot listen on %s: %s", l.specs[i],
				  fds[n_fds] == -EINVAL ? "expected ADDR:PORT or [ADDR6]:PORT"
							: strerror(-fds[n_fds]));
			return EXIT_FAILURE;
		}
	}
	if (n_fds == 0) {
		log_error("no socket passed and no --listen: start coldroom-metrics.socket, "
			  "or give --listen ADDR:PORT");
		return 2;
	}

	r = service_event_new(&service, &m, &m.event);
	if (r < 0)
		goto out;
	r = bus_connect(&m, &service, args.bus);
	if (r >= 0)
		r = fetch_units(&m);
	if (r < 0)
		goto out;
	for (int i = 0; i < n_fds; i++) {
		r = server_start(&m, fds[i]);
		if (r < 0) {
			log_error("cannot serve HTTP on fd %d", fds[i]);
			goto out;
		}
	}
	publish_status(&m);
	sd_notify(0, "READY=1");
	log_info("serving %zu units on %d socket(s)%s", m.n_present, n_fds,
		 m.coldroomd_up ? "" : "; coldroomd is not on the bus yet");

	r = service_run(m.event);
out:
	metricsd_done(&m);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
