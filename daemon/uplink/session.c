// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * session.c - the MQTT connection: libmosquitto inside sd-event, connect, retry
 * with backoff, what went wrong; apart, as the only network code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "uplink.h"
#include "uplinkmsg.h"

#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

static uint64_t now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* A broker that reads but never acknowledges: given up on after two keepalives. */
#define ACK_TIMEOUT_US(u)	(2ULL * (u)->cfg.keepalive_s * USEC_PER_SEC)

/*
 * Publish @payload (owned) on @topic (owned); the mid in *@mid when asked.
 * Returns libmosquitto's code (MOSQ_ERR_NOMEM when either is NULL).
 */
int publish(struct uplink *u, char *topic, char *payload, int qos, bool retain, int *mid)
{
	int k = MOSQ_ERR_NOMEM;

	if (topic && payload)
		k = mosquitto_publish(u->mosq, mid, topic, (int)strlen(payload), payload, qos,
				      retain);
	if (k != MOSQ_ERR_SUCCESS)
		log_debug("cannot publish on %s: %s", topic ?: "?", mosquitto_strerror(k));
	free(topic);
	free(payload);
	return k;
}

static void schedule_retry(struct uplink *u)
{
	uint64_t delay = (uint64_t)u->backoff_s * USEC_PER_SEC;

	if (u->backoff_s < BACKOFF_MAX_S)
		u->backoff_s = u->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : u->backoff_s * 2;
	(void)sd_event_source_set_time_relative(u->retry_timer, delay);
	(void)sd_event_source_set_enabled(u->retry_timer, SD_EVENT_ONESHOT);
}

/* What went wrong with a connection, in words a person can act on. */
static void describe_failure(struct uplink *u, int rc, int err, char *buf, size_t size)
{
	if (u->verify_error[0])
		snprintf(buf, size, "TLS: certificate verify failed (%s)", u->verify_error);
	else if (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE)
		snprintf(buf, size, "TLS: %s", u->last_error[0] ? u->last_error :
			 "the handshake failed");
	else if (rc == MOSQ_ERR_ERRNO && u->conn == CONNECTING && (err == EPIPE || err == ECONNRESET))
		/* In a TLS handshake libmosquitto swallows the refusal itself. */
		snprintf(buf, size, "connection failed: refused or closed before the broker "
			 "answered (%s)", strerror(err));
	else if (rc == MOSQ_ERR_ERRNO)
		snprintf(buf, size, "connection failed: %s", strerror(err));
	else if (rc == MOSQ_ERR_EAI)
		snprintf(buf, size, "cannot resolve the broker's name: %s", gai_strerror(err));
	else if (rc == MOSQ_ERR_KEEPALIVE)
		snprintf(buf, size, "connection lost: the broker did not answer within the keepalive");
	else
		snprintf(buf, size, "connection lost: %s", mosquitto_strerror(rc));
}

/* The connection is over (or never was): say why, and try again later. */
void lost(struct uplink *u, int rc, int err)
{
	char why[STATE_MAX];

	if (u->conn == DOWN)
		return;
	if (!u->refused)
		describe_failure(u, rc, err, why, sizeof(why));
	u->conn = DOWN;
	u->io = sd_event_source_disable_unref(u->io);
	u->io_fd = -1;
	(void)sd_event_source_set_enabled(u->misc_timer, SD_EVENT_OFF);
	/* Not acknowledged is not sent: the next session sends it again. */
	u->rec.n = u->aud.n = 0;
	u->waiting_since = 0;
	u->samples_queued = 0;
	u->dropping = false;
	u->rec.fetching = u->aud.fetching = false;
	u->rec.call = sd_bus_slot_unref(u->rec.call);
	u->aud.call = sd_bus_slot_unref(u->aud.call);
	if (u->stalled_s)
		/* The broker takes messages but never acknowledges them: a new session. */
		set_state(u, LOG_WARNING, "no acknowledgement for %u s: reconnecting in %u s",
			  u->stalled_s, u->backoff_s);
	else if (!u->refused)
		set_state(u, LOG_ERR, "%s; retrying in %u s", why, u->backoff_s);
	schedule_retry(u);
}

static void on_connect(struct mosquitto *mosq, void *userdata, int rc)
{
	struct uplink *u = userdata;
	char *online;

	(void)mosq;
	if (rc) {
		/* MQTT 3.1.1 CONNACK codes: 4 bad user name or password, 5 not authorized. */
		u->refused = true;
		set_state(u, LOG_ERR, "refused by the broker: %s%s; retrying in %u s",
			  mosquitto_connack_string(rc),
			  rc == 4 || rc == 5 ? " (not authorized: bad user name or password?)" : "",
			  u->backoff_s);
		return;
	}
	u->conn = CONNECTED;
	u->backoff_s = BACKOFF_MIN_S;
	u->rec.sent = u->rec.acked;
	u->aud.sent = u->aud.acked;
	/* What is committed by now is this session's backlog; the first replies say how far. */
	u->rec.historical_known = u->aud.historical_known = false;
	/* A broker without persistence forgot the retained discovery: say it again. */
	for (size_t i = 0; i < u->units_cap; i++)
		u->units[i].discovered = false;
	online = uplink_status_json(&u->origin, true, COLDROOM_VERSION, now(CLOCK_REALTIME));
	(void)publish(u, uplink_topic(&u->origin, NULL, "status"), online, 1, true, NULL);
	publish_units(u, true);
	if (u->stalled_s)
		set_state(u, LOG_NOTICE, "connected (again after no acknowledgement for %u s)",
			  u->stalled_s);
	else
		set_state(u, LOG_NOTICE, "connected");
	u->stalled_s = 0;
	pump(u);
}

static void on_disconnect(struct mosquitto *mosq, void *userdata, int rc)
{
	(void)mosq;
	lost(userdata, rc, errno);
}

static void on_log(struct mosquitto *mosq, void *userdata, int level, const char *str)
{
	struct uplink *u = userdata;

	if (level & MOSQ_LOG_ERR) {
		SSL *ssl = mosquitto_ssl_get(mosq);
		long verdict = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

		snprintf(u->last_error, sizeof(u->last_error), "%s", str);
		/* Logged while the TLS session is still there: OpenSSL's reason. */
		if (verdict != X509_V_OK)
			snprintf(u->verify_error, sizeof(u->verify_error), "%s",
				 X509_verify_cert_error_string(verdict));
		log_debug("libmosquitto: %s", str);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct uplink *u = userdata;
	int rc = MOSQ_ERR_SUCCESS, read_errno;

	(void)s;
	if (revents & EPOLLERR) {
		/* Before any read or write consumes it: why the socket failed (a refused connect). */
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
			lost(u, MOSQ_ERR_ERRNO, err);
			return 0;
		}
	}
	errno = 0;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		rc = mosquitto_loop_read(u->mosq, 1);
	read_errno = errno;
	if (rc == MOSQ_ERR_SUCCESS && u->conn != DOWN && (revents & (EPOLLHUP | EPOLLERR))) {
		/*
		 * What was readable is read; a socket that is still in error
		 * (a refused connect during the TLS handshake, which
		 * libmosquitto does not report) would wake us forever.
		 */
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || !err)
			err = read_errno && read_errno != EAGAIN ? read_errno : ECONNRESET;
		lost(u, MOSQ_ERR_ERRNO, err);
		return 0;
	}
	if (rc == MOSQ_ERR_SUCCESS && u->conn != DOWN && (revents & EPOLLOUT))
		rc = mosquitto_loop_write(u->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		lost(u, rc, errno);
	else
		sync_io(u);
	return 0;
}

/* Follow libmosquitto's socket: a new one after a connect, writes only when pending. */
void sync_io(struct uplink *u)
{
	int fd = u->mosq && u->conn != DOWN ? mosquitto_socket(u->mosq) : -1;
	bool pending = fd >= 0 && mosquitto_want_write(u->mosq);
	uint32_t events = EPOLLIN | (pending ? EPOLLOUT : 0);

	if (!pending)
		u->samples_queued = 0;	/* drained: samples may be queued again */
	if (!pending && u->dropping) {
		u->dropping = false;
		if (u->conn == CONNECTED)
			set_state(u, LOG_NOTICE, "connected; %" PRIu64 " live samples dropped so far "
				  "(the broker did not read them in time)", u->samples_dropped);
	}

	if (fd != u->io_fd) {
		u->io = sd_event_source_disable_unref(u->io);
		u->io_fd = -1;
		if (fd >= 0 && sd_event_add_io(u->event, &u->io, fd, events, on_io, u) >= 0)
			u->io_fd = fd;
		return;
	}
	if (u->io)
		(void)sd_event_source_set_io_events(u->io, events);
}

int on_misc(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;
	int rc;

	(void)usec;
	if (u->conn == DOWN)
		return 0;
	if (u->conn == CONNECTED && u->waiting_since &&
	    now(CLOCK_MONOTONIC) - u->waiting_since >= ACK_TIMEOUT_US(u)) {
		/* Not acknowledged is not sent: the next session sends it again. */
		u->stalled_s = (unsigned int)(ACK_TIMEOUT_US(u) / USEC_PER_SEC);
		lost(u, MOSQ_ERR_KEEPALIVE, 0);
		return 0;
	}
	rc = mosquitto_loop_misc(u->mosq);
	/* Also what TLS holds decrypted but unread, which epoll cannot see. */
	if (rc == MOSQ_ERR_SUCCESS && u->conn != DOWN && mosquitto_socket(u->mosq) >= 0)
		rc = mosquitto_loop_read(u->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		lost(u, rc, errno);
	else
		sync_io(u);
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}

static int new_client(struct uplink *u)
{
	char *will;
	int k;

	u->mosq = mosquitto_new(u->client_id, true, u);
	if (!u->mosq)
		return -errno;
	mosquitto_connect_callback_set(u->mosq, on_connect);
	mosquitto_disconnect_callback_set(u->mosq, on_disconnect);
	mosquitto_publish_callback_set(u->mosq, on_publish);
	mosquitto_log_callback_set(u->mosq, on_log);
	(void)mosquitto_int_option(u->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	/*
	 * Our windows bound the record's messages; this bounds what else is in
	 * flight (retained unit states), the rest waits in libmosquitto's queue.
	 */
	(void)mosquitto_int_option(u->mosq, MOSQ_OPT_SEND_MAXIMUM, MAX_INFLIGHT);
	k = u->cfg.username ? mosquitto_username_pw_set(u->mosq, u->cfg.username, u->password) :
			      MOSQ_ERR_SUCCESS;
	if (k == MOSQ_ERR_SUCCESS && u->cfg.ca_file)
		k = mosquitto_tls_set(u->mosq, u->cfg.ca_file, NULL, u->cfg.cert_file, u->key_path,
				      NULL);
	will = uplink_status_json(&u->origin, false, NULL, 0);
	if (k == MOSQ_ERR_SUCCESS) {
		char *topic = uplink_topic(&u->origin, NULL, "status");

		k = topic && will ? mosquitto_will_set(u->mosq, topic, (int)strlen(will), will, 1,
						       true) : MOSQ_ERR_NOMEM;
		free(topic);
	}
	free(will);
	return k == MOSQ_ERR_SUCCESS ? 0 : -EINVAL;
}

int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;
	int k, err;

	(void)s, (void)usec;
	if (u->mosq)
		mosquitto_destroy(u->mosq);
	u->mosq = NULL;
	u->refused = false;
	u->last_error[0] = u->verify_error[0] = '\0';
	k = new_client(u);
	if (k < 0) {
		set_state(u, LOG_ERR, "cannot set up the client: %s; retrying in %u s",
			  u->last_error[0] ? u->last_error :
			  "a CAFile=, CertFile= or KeyFile= that cannot be read", u->backoff_s);
		schedule_retry(u);
		return 0;
	}
	u->conn = CONNECTING;
	set_state(u, LOG_INFO, "connecting");
	/* The name is resolved here, blocking: MQTT.md says why that is acceptable. */
	k = mosquitto_connect_async(u->mosq, u->cfg.broker, (int)u->cfg.port,
				    (int)u->cfg.keepalive_s);
	err = errno;
	if (k != MOSQ_ERR_SUCCESS) {
		lost(u, k, err);
		return 0;
	}
	sync_io(u);
	(void)sd_event_source_set_time_relative(u->misc_timer, USEC_PER_SEC);
	(void)sd_event_source_set_enabled(u->misc_timer, SD_EVENT_ON);
	return 0;
}
