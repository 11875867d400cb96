/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * uplink.h - coldroom-uplink's state and what one of its files calls in
 * another; internal to uplink/, not an installed API.
 */
#ifndef COLDROOM_UPLINK_H
#define COLDROOM_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <mosquitto.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "service.h"
#include "unit_index.h"
#include "uplinkconf.h"
#include "uplinkmsg.h"

#define USEC_PER_SEC		1000000ULL
#define WINDOW			100	/* unacknowledged messages per stream */
#define BACKOFF_MIN_S		1
#define BACKOFF_MAX_S		60
#define STATE_MAX		512
/* QoS 1 messages libmosquitto may have unacknowledged: both windows, the status and unit states. */
#define MAX_INFLIGHT		(2 * WINDOW + 56)
/* Samples (QoS 0) queued while the socket does not drain; beyond, they are dropped. */
#define SAMPLES_QUEUED_MAX	1000

enum conn { DOWN, CONNECTING, CONNECTED };

struct inflight {
	uint64_t seq;
	int mid;
	bool acked;
};

/* The record rows or the audit entries, forwarded in seq order. */
struct stream {
	const char *name;		/* "record rows", "audit entries" */
	uint64_t acked;			/* every seq up to this one the broker has */
	uint64_t sent;			/* the last seq published in this session */
	uint64_t head;			/* the recorder's last commit, as last heard */
	uint64_t historical_upto;	/* this session's backlog: seqs up to it */
	bool historical_known;
	bool fetching;
	sd_bus_slot *call;		/* the pending GetRecordsAfter3/GetAuditAfter2 */
	struct inflight q[WINDOW];	/* published, in seq order, not all acknowledged */
	size_t n;
};

struct unit_slot {
	struct uplink_unit_state st;
	bool used, dirty, discovered;
};

struct uplink {
	sd_event *event;
	sd_bus *bus;
	struct uplink_config cfg;
	struct uplink_origin origin;
	char host[UPLINK_NAME_MAX + 1];
	char client_id[128];
	char *password;
	const char *key_path;
	char key_cred[4096];
	const char *state_dir;

	struct mosquitto *mosq;
	sd_event_source *io, *misc_timer, *retry_timer, *tick, *refetch_timer;
	int io_fd;
	enum conn conn;
	unsigned int backoff_s;
	bool refused;			/* the broker refused this attempt's CONNECT */
	char last_error[256];	/* libmosquitto's last error log line */
	char verify_error[128];		/* why OpenSSL refused the broker's certificate */

	struct stream rec, aud;
	bool cursor_known;		/* the cursors are set (file, or the heads at first start) */
	bool learning;			/* asking for the heads at the first start */
	bool cursor_dirty;

	struct unit_slot *units;	/* by serial, open addressing */
	size_t units_cap, units_used;
	/* PublishSamples: coldroomd's units' serials, dense, by Number through @numbers */
	char **serials;
	size_t n_serials;
	struct unit_index numbers;

	char state[STATE_MAX];		/* the State property and STATUS= line */
	char broker[300];
	uint64_t backlog;
	uint64_t told_record, told_audit;	/* the cursors last in PropertiesChanged */
	bool props_dirty;
	int connected;			/* "b" */

	uint64_t samples_queued;	/* published since the socket last drained */
	uint64_t samples_dropped;	/* in all, for State */
	bool dropping;			/* since the socket last drained */
	uint64_t waiting_since;		/* CLOCK_MONOTONIC: a PUBACK is due since then; 0: none */
	unsigned int stalled_s;		/* the connection was dropped: no PUBACK for so long */
};

/* status.c: what is shown (State, Backlog, STATUS=) */
void backlog_update(struct uplink *u);
void set_state(struct uplink *u, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int on_tick(sd_event_source *s, uint64_t usec, void *userdata);

/* cursor.c: the cursors in the state directory */
int cursor_load(struct uplink *u);
int cursor_save(struct uplink *u);

/* unitstate.c: the units' retained state and discovery */
struct unit_slot *unit_slot(struct uplink *u, const char *serial);
void publish_units(struct uplink *u, bool all);

/* forward.c: the record's followers */
void pump(struct uplink *u);
void on_publish(struct mosquitto *mosq, void *userdata, int mid);
void ack_wait_update(struct uplink *u);
void learn_heads(struct uplink *u);
int on_committed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int on_recorder_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

/* samples.c: PublishSamples */
void numbers_free(struct uplink *u);
void numbers_fetch(struct uplink *u);
int on_refetch(sd_event_source *s, uint64_t usec, void *userdata);
int on_units_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

/* session.c: the MQTT connection */
int publish(struct uplink *u, char *topic, char *payload, int qos, bool retain, int *mid);
void lost(struct uplink *u, int rc, int err);
void sync_io(struct uplink *u);
int on_misc(sd_event_source *s, uint64_t usec, void *userdata);
int on_retry(sd_event_source *s, uint64_t usec, void *userdata);

/* uplinkbus.c: org.coldroom.Uplink1 and the matches */
int bus_setup(struct uplink *u, const struct service *service, const char *spec);

/* secrets.c: the password and the TLS key */
int load_secrets(struct uplink *u);

#endif
