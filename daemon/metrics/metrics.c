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
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <microhttpd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus_names.h"
#include "log.h"
#include "metricsfmt.h"
#include "readings_msg.h"
#include "service.h"
#include "unit_client.h"
#include "unit_name.h"
#include "util.h"


#define MAX_SOCKETS		8
#define MAX_UNITS		(1U << 20)	/* Numbers above are not served */
#define CALL_TIMEOUT_USEC	(5 * 1000000ULL)	/* below Prometheus' 10 s scrape timeout */
/* libmicrohttpd's limits: a request's headers must fit in the memory limit. */
#define HTTP_CONNECTION_LIMIT	32
#define HTTP_MEMORY_LIMIT	(16 * 1024)
#define HTTP_TIMEOUT_SEC	10

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

struct http_server {
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer;
};

struct metricsd {
	sd_event *event;
	sd_bus *bus;
	struct http_server servers[MAX_SOCKETS];
	size_t n_servers;

	/* The units by Number: rare state, kept apart from the readings. */
	struct unit_info *infos;
	struct metrics_unit *units;	/* .info set while the unit is present */
	size_t n_slots, n_present;
	bool coldroomd_up;

	/* The scrape in flight: both replies, then the waiting requests. */
	sd_bus_slot *readings_slot, *manager_slot;
	sd_bus_message *readings_reply, *manager_reply;
	char call_error[256];
	uint64_t scrape_started;
	struct request *waiting;

	struct page *page;
	struct metrics_service counters;
};

/*
 * Markers of a request's state before it waits for a scrape: its headers
 * were accepted (it is answered on the next call, once complete, so that
 * the connection may be kept alive), or it was refused (its body, if any,
 * is dropped; libmicrohttpd then closes the connection).
 */
static int request_accepted, request_refused;

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void publish_status(struct metricsd *m)
{
	if (m->coldroomd_up)
		sd_notifyf(0, "STATUS=serving %zu units", m->n_present);
	else
		sd_notify(0, "STATUS=coldroomd is not on the bus: scrapes get 503");
}

/* --- units ----------------------------------------------------------------- */

static int units_grow(struct metricsd *m, uint32_t number)
{
	size_t n = m->n_slots ? m->n_slots : 64;
	struct unit_info *infos;
	struct metrics_unit *units;

	while (n <= number)
		n *= 2;
	infos = realloc(m->infos, n * sizeof(*infos));
	if (!infos)
		return -ENOMEM;
	m->infos = infos;
	units = realloc(m->units, n * sizeof(*units));
	if (!units)
		return -ENOMEM;
	m->units = units;
	memset(infos + m->n_slots, 0, (n - m->n_slots) * sizeof(*infos));
	memset(units + m->n_slots, 0, (n - m->n_slots) * sizeof(*units));
	/* The infos moved: point the present units at their new place. */
	for (size_t i = 0; i < m->n_slots; i++)
		if (units[i].info)
			units[i].info = &infos[i];
	m->n_slots = n;
	return 0;
}

static void unit_clear(struct metricsd *m, uint32_t number)
{
	struct metrics_unit *u = &m->units[number];

	if (u->info)
		m->n_present--;
	free(m->infos[number].path);
	free((char *)u->labels);
	memset(&m->infos[number], 0, sizeof(m->infos[number]));
	*u = (struct metrics_unit){ 0 };
}

static void units_clear(struct metricsd *m)
{
	for (size_t n = 0; n < m->n_slots; n++)
		unit_clear(m, (uint32_t)n);
}

/* The labels of unit @number, after its properties changed. */
static int unit_relabel(struct metricsd *m, uint32_t number)
{
	struct metrics_unit *u = &m->units[number];
	char *labels;
	size_t len;
	int r;

	r = metrics_unit_labels(&m->infos[number], &labels, &len);
	if (r)
		return r;
	free((char *)u->labels);
	u->labels = labels;
	u->labels_len = len;
	return 0;
}

/* Take @info (its path moves) as present. */
static int unit_seen(struct metricsd *m, struct unit_info *info)
{
	uint32_t number = info->number;
	int r;

	if (number == NO_NUMBER || number >= MAX_UNITS) {
		log_warning("unit %s is not served: it has no sensorN number",
			    info->path ? info->path : "?");
		return 0;
	}
	if (number >= m->n_slots) {
		r = units_grow(m, number);
		if (r)
			return r;
	}
	unit_clear(m, number);
	m->infos[number] = *info;
	info->path = NULL;
	r = unit_relabel(m, number);
	if (r) {
		unit_clear(m, number);
		return r;
	}
	m->units[number].info = &m->infos[number];
	m->n_present++;
	return 0;
}

/* The Number of the present unit with object path @path, or -1. */
static long unit_by_path(struct metricsd *m, const char *path)
{
	static const char prefix[] = SENSORS_PATH "/unit/";
	long n;

	if (!path || strncmp(path, prefix, sizeof(prefix) - 1))
		return -1;
	n = unit_name_number(path + sizeof(prefix) - 1);
	if (n < 0 || (size_t)n >= m->n_slots || !m->units[n].info ||
	    !m->infos[n].path || strcmp(m->infos[n].path, path))
		return -1;
	return n;
}

/* Every unit coldroomd has, replacing what was known. */
static int fetch_units(struct metricsd *m)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct unit_list l = { 0 };
	int r;

	r = units_fetch(m->bus, &l, &e);
	if (r < 0) {
		/* Not running: it announces itself with NameOwnerChanged. */
		if (sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
			m->coldroomd_up = false;
			units_clear(m);
			return 0;
		}
		log_error("cannot list the units: %s", e.message ? e.message : strerror(-r));
		return r;
	}
	units_clear(m);
	for (size_t i = 0; i < l.n && !r; i++)
		r = unit_seen(m, &l.v[i]);
	unit_list_free(&l);
	m->coldroomd_up = true;
	return r;
}

static int on_interfaces_added(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	struct unit_info u = { .number = NO_NUMBER };
	const char *path;
	int r;

	(void)error;
	r = unit_interfaces_added_read(msg, &path, &u);
	if (r < 0) {
		log_warning("ignoring a malformed InterfacesAdded");
		return 0;
	}
	if (r == 0)
		return 0;
	u.path = strdup(path);
	if (!u.path)
		return -ENOMEM;
	r = unit_seen(m, &u);
	free(u.path);
	if (r < 0)
		log_error("cannot serve unit %s: %s", path, strerror(-r));
	publish_status(m);
	return 0;
}

static int on_interfaces_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	const char *path;
	long n;

	(void)error;
	if (sd_bus_message_read(msg, "o", &path) < 0)
		return 0;
	n = unit_by_path(m, path);
	if (n >= 0) {
		unit_clear(m, (uint32_t)n);
		publish_status(m);
	}
	return 0;
}

static int on_properties_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	struct unit_info was;
	const char *iface;
	long n;
	int r;

	(void)error;
	n = unit_by_path(m, sd_bus_message_get_path(msg));
	if (n < 0)
		return 0;
	r = sd_bus_message_read(msg, "s", &iface);
	if (r < 0 || strcmp(iface, SENSORS_UNIT_IFACE))
		return 0;
	/* A malformed message leaves the unit as it was. */
	was = m->infos[n];
	r = unit_props_read(msg, &m->infos[n]);
	if (r < 0) {
		m->infos[n] = was;
		log_warning("ignoring a malformed PropertiesChanged of %s", was.path);
		return 0;
	}
	r = unit_relabel(m, (uint32_t)n);
	if (r < 0)
		log_error("cannot relabel %s: %s", was.path, strerror(-r));
	return 0;
}

static int on_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	const char *name, *old_owner, *new_owner;

	(void)error;
	if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, SENSORS_BUS_NAME))
		return 0;
	if (!*new_owner) {
		log_notice("coldroomd left the bus");
		m->coldroomd_up = false;
		units_clear(m);
	} else if (fetch_units(m) < 0) {
		log_warning("coldroomd is back but its units could not be listed");
	} else {
		log_notice("coldroomd is on the bus with %zu units", m->n_present);
	}
	publish_status(m);
	return 0;
}

/* --- pages ----------------------------------------------------------------- */

static void page_unref(void *cls)
{
	struct page *p = cls;

	if (p && --p->refs == 0) {
		mbuf_free(&p->buf);
		free(p);
	}
}

/* An empty page to write: the last one if no response still sends it. */
static struct page *page_for_writing(struct metricsd *m)
{
	if (m->page && m->page->refs == 1) {
		m->page->buf.len = 0;
		return m->page;
	}
	page_unref(m->page);
	m->page = calloc(1, sizeof(*m->page));
	if (m->page)
		m->page->refs = 1;
	return m->page;
}

/* One line of text as an exposition-format comment. */
static int page_comment(struct mbuf *b, const char *text)
{
	int r = mbuf_append(b, "# ", 2);

	for (const char *p = text; !r && *p; p++)
		r = mbuf_append(b, *p == '\n' ? " " : p, 1);
	return r ? r : mbuf_append(b, "\n", 1);
}

/*
 * The current page: the units' metrics from @readings, or, without them,
 * @why as a comment and the service's own metrics.
 */
static int page_build(struct metricsd *m, const struct readings_msg *readings,
		      const struct metrics_manager *manager, const char *why)
{
	struct page *p = page_for_writing(m);
	struct metrics_input in = {
		.units = m->units, .n_units = m->n_slots, .readings = readings,
		.manager = manager, .service = &m->counters,
	};
	int r = 0;

	if (!p)
		return -ENOMEM;
	if (why)
		r = page_comment(&p->buf, why);
	return r ? r : metrics_format(&p->buf, &in);
}

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

/* A response that sends the current page (holding a reference to it). */
static struct MHD_Response *page_response(struct metricsd *m)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer_with_free_callback_cls(
		m->page->buf.len, m->page->buf.data, page_unref, m->page);
	if (!resp)
		return NULL;
	m->page->refs++;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    METRICS_CONTENT_TYPE) != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

/* --- scrapes --------------------------------------------------------------- */

static void servers_kick(struct metricsd *m);

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
static int scrape_start(struct metricsd *m)
{
	int r;

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

/* --- HTTP ------------------------------------------------------------------ */

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
		if (page_build(m, NULL, NULL, "coldroomd (" SENSORS_BUS_NAME ") is not on the bus: "
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

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
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

static void servers_kick(struct metricsd *m)
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

static int server_start(struct metricsd *m, int fd)
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
		server_kick(s);
	return r;
}

/* A listening TCP socket on ADDR:PORT or [ADDR6]:PORT (tests, manual runs). */
static int listen_on(const char *spec)
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

/* --- main ------------------------------------------------------------------ */

static int bus_connect(struct metricsd *m, const struct service *service, const char *spec)
{
	int r;

	r = service_bus_open(service, m->event, spec, &m->bus);
	if (r >= 0)
		r = units_follow(m->bus, &(const struct units_follow){
					 .interfaces_added = on_interfaces_added,
					 .interfaces_removed = on_interfaces_removed,
					 .properties_changed = on_properties_changed,
					 .owner_changed = on_owner_changed,
				 }, m);
	if (r < 0)
		log_error("cannot follow coldroomd on the bus: %s", strerror(-r));
	return r;
}

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
	sd_bus_slot_unref(m->readings_slot);
	sd_bus_slot_unref(m->manager_slot);
	sd_bus_message_unref(m->readings_reply);
	sd_bus_message_unref(m->manager_reply);
	units_clear(m);
	free(m->infos);
	free(m->units);
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
