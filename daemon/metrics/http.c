// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * http.c - the HTTP server: libmicrohttpd inside sd-event, requests refused or
 * suspended until their scrape; apart, as the only code a client's bytes reach.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <microhttpd.h>
#include <systemd/sd-event.h>

#include "bus_names.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "metricsfmt.h"
#include "parse_util.h"

/*
 * libmicrohttpd's limits: a request's headers must fit in the memory limit.
 * Its timeout is for idle connections only; one byte a second keeps one
 * open. So the headers have a deadline of their own, and near the limit the
 * oldest connection without a complete request makes room for a new one: a
 * local user trickling headers on many connections cannot lock a scrape out.
 */
#define HTTP_CONNECTION_LIMIT	128
#define HTTP_CONNECTIONS_SPARE	8
#define HTTP_MEMORY_LIMIT	(16 * 1024)
#define HTTP_TIMEOUT_SEC	10
#define HTTP_HEADER_TIMEOUT_SEC	5

/*
 * Markers of a request's state before it waits for a scrape: its headers
 * were accepted (it is answered on the next call, once complete, so that
 * the connection may be kept alive), or it was refused (its body, if any,
 * is dropped; libmicrohttpd then closes the connection).
 */
static int request_accepted, request_refused;

static struct MHD_Response *text_response(const char *text)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					    "text/plain; charset=utf-8") != MHD_YES) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	return resp;
}

static enum MHD_Result respond_text(struct metricsd *m, struct MHD_Connection *c,
				    unsigned int status, const char *text, bool allow_header)
{
	struct MHD_Response *resp = text_response(text);
	enum MHD_Result ret;

	if (status >= 400)
		m->counters.requests_rejected++;
	if (!resp)
		return MHD_NO;
	if (allow_header && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static bool request_has_body(struct MHD_Connection *c)
{
	const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (length && strcmp(length, "0")) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct metricsd *m = cls;
	struct request *rq = *con_cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	if (!rq) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct http_conn *hc = ci ? ci->socket_context : NULL;

		if (hc)
			hc->in_request = true;
		/* The headers: refuse now what cannot be served. */
		if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
			*con_cls = &request_refused;
			return respond_text(m, c, MHD_HTTP_METHOD_NOT_ALLOWED,
					    "only GET and HEAD are served here\n", true);
		}
		if (request_has_body(c)) {
			*con_cls = &request_refused;
			return respond_text(m, c, MHD_HTTP_CONTENT_TOO_LARGE,
					    "a request to this service has no body\n", false);
		}
		*con_cls = &request_accepted;
		return MHD_YES;
	}
	if (rq == (void *)&request_refused) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq != (void *)&request_accepted) {
		/* Resumed: the scrape is done. */
		if (!rq->response)
			return MHD_NO;
		ret = MHD_queue_response(c, rq->status, rq->response);
		MHD_destroy_response(rq->response);
		rq->response = NULL;
		return ret;
	}

	/* The request is complete. */
	if (!strcmp(url, "/"))
		return respond_text(m, c, MHD_HTTP_OK,
				    "coldroom-metrics: the cold-room units' metrics are at /metrics\n",
				    false);
	if (strcmp(url, "/metrics"))
		return respond_text(m, c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n",
				    false);

	if (!m->coldroomd_up) {
		struct MHD_Response *resp;

		m->counters.scrapes++;
		m->counters.scrape_errors++;
		if (page_build(m, NULL, NULL, NULL, "coldroomd (" SENSORS_BUS_NAME ") is not on the bus: "
			       "no readings to serve") < 0)
			return MHD_NO;
		resp = page_response(m);
		if (!resp)
			return MHD_NO;
		ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return MHD_NO;
	rq->connection = c;
	rq->next = m->waiting;
	m->waiting = rq;
	*con_cls = rq;
	MHD_suspend_connection(c);
	scrape_start(m);
	return MHD_YES;
}

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Close @hc: libmicrohttpd sees the end of its socket and lets it go. */
static void conn_close(struct http_conn *hc, const char *why)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(hc->connection, MHD_CONNECTION_INFO_CONNECTION_FD);

	if (hc->closing || !ci)
		return;
	hc->closing = true;
	log_debug("http: closing a connection: %s", why);
	(void)shutdown(ci->connect_fd, SHUT_RDWR);
}

/* Close what is past the headers' deadline; again in a second while any is open. */
static void reap(struct http_server *s, bool make_room)
{
	uint64_t now = monotonic_us();

	for (struct http_conn *hc = s->first; hc; hc = hc->next)
		if (!hc->in_request && now - hc->since >= HTTP_HEADER_TIMEOUT_SEC * 1000000ULL)
			conn_close(hc, "no complete request in time");
	if (make_room && s->n_conns >= HTTP_CONNECTION_LIMIT - HTTP_CONNECTIONS_SPARE)
		for (struct http_conn *hc = s->first; hc; hc = hc->next)
			if (!hc->in_request && !hc->closing) {
				conn_close(hc, "the oldest incomplete one, to make room");
				break;
			}
}

static int on_reaper(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct http_server *s = userdata;

	(void)usec;
	reap(s, false);
	if (s->first)
		(void)sd_event_source_set_time_relative(src, 1000000ULL);
	else
		(void)sd_event_source_set_enabled(src, SD_EVENT_OFF);
	return 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	struct http_conn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		reap(s, true);
		hc = calloc(1, sizeof(*hc));
		if (!hc) {
			/* Not tracked: it still has libmicrohttpd's idle timeout. */
			log_warning("http: out of memory tracking a connection");
			return;
		}
		hc->connection = c;
		hc->since = monotonic_us();
		hc->prev = s->last;
		if (s->last)
			s->last->next = hc;
		else
			s->first = hc;
		s->last = hc;
		s->n_conns++;
		*socket_context = hc;
		if (sd_event_source_get_enabled(s->reaper, NULL) <= 0) {
			(void)sd_event_source_set_time_relative(s->reaper, 1000000ULL);
			(void)sd_event_source_set_enabled(s->reaper, SD_EVENT_ON);
		}
		return;
	}
	if (!hc)
		return;
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		s->first = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	else
		s->last = hc->prev;
	s->n_conns--;
	free(hc);
	*socket_context = NULL;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *hc = ci ? ci->socket_context : NULL;

	(void)cls;
	(void)toe;
	if (hc) {
		/* Kept alive: the next request's headers have their deadline too. */
		hc->in_request = false;
		hc->since = monotonic_us();
	}
	if (!rq || rq == (void *)&request_refused || rq == (void *)&request_accepted)
		return;
	if (rq->response)
		MHD_destroy_response(rq->response);
	free(rq);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	log_debug("http: %s", msg);
}

/* After any change: when libmicrohttpd wants to run next, if not on its fd. */
static void server_kick(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	int r;

	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES) {
		r = sd_event_source_set_time_relative(s->timer, ms * 1000);
		if (r >= 0)
			r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
	} else {
		r = sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
	}
	if (r < 0)
		log_error("cannot schedule the HTTP server: %s", strerror(-r));
}

void servers_kick(struct metricsd *m)
{
	/* Resumed connections are handled by the next MHD_run(): now. */
	for (size_t i = 0; i < m->n_servers; i++) {
		sd_event_source_set_time_relative(m->servers[i].timer, 0);
		sd_event_source_set_enabled(m->servers[i].timer, SD_EVENT_ONESHOT);
	}
}

static int server_run(struct http_server *s)
{
	if (MHD_run(s->mhd) != MHD_YES)
		log_warning("the HTTP server failed a step");
	server_kick(s);
	return 0;
}

static int on_server_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	(void)src;
	(void)fd;
	(void)revents;
	return server_run(userdata);
}

static int on_server_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	return server_run(userdata);
}

int server_start(struct metricsd *m, int fd)
{
	struct http_server *s = &m->servers[m->n_servers];
	const union MHD_DaemonInfo *info;
	int r;

	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
				  NULL, NULL, on_request, m,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONNECTION_LIMIT,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_SEC,
				  MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_END);
	if (!s->mhd)
		return -EINVAL;
	m->n_servers++;
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EINVAL;
	r = sd_event_add_io(m->event, &s->io, info->epoll_fd, EPOLLIN, on_server_io, s);
	if (r >= 0)
		/* Accuracy 1 us: sd-event's default (0) lets it slip by 250 ms. */
		r = sd_event_add_time_relative(m->event, &s->timer, CLOCK_MONOTONIC, 0, 1,
					       on_server_timer, s);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &s->reaper, CLOCK_MONOTONIC, 1000000ULL,
					       100000, on_reaper, s);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->reaper, SD_EVENT_OFF);
	if (r >= 0)
		server_kick(s);
	return r;
}

/* A listening TCP socket on ADDR:PORT or [ADDR6]:PORT (tests, manual runs). */
int listen_on(const char *spec)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr = { 0 };
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *host = NULL;
	const char *colon = strrchr(spec, ':');
	unsigned long long port;
	socklen_t len;
	int one = 1, r;

	if (!colon || parse_ull(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -EINVAL;
	host = strndup(spec, (size_t)(colon - spec));
	if (!host)
		return -ENOMEM;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &addr.in6.sin6_addr) != 1)
			return -EINVAL;
		addr.in6.sin6_family = AF_INET6;
		addr.in6.sin6_port = htons((uint16_t)port);
		len = sizeof(addr.in6);
	} else {
		if (inet_pton(AF_INET, host, &addr.in.sin_addr) != 1)
			return -EINVAL;
		addr.in.sin_family = AF_INET;
		addr.in.sin_port = htons((uint16_t)port);
		len = sizeof(addr.in);
	}
	fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (addr.sa.sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, &addr.sa, len) < 0 || listen(fd, 64) < 0)
		return -errno;
	r = fd;
	fd = -1;
	return r;
}
