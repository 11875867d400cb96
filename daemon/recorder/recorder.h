/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * recorder.h - coldroom-recorder's state and what one of its files calls
 * in another; internal to recorder/, not an installed API.
 */
#ifndef COLDROOM_RECORDER_H
#define COLDROOM_RECORDER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "intervals.h"
#include "record.h"
#include "recorderbus.h"
#include "service.h"
#include "unit_client.h"
#include "unit_index.h"

#define USEC_PER_SEC		1000000ULL

struct unit_state {		/* cold: what the audit trail compares */
	struct unit_info info;
	bool present;
};

struct pending {		/* an event waiting for its commit */
	struct record_event ev;
	char *strings[7];	/* owned copies behind ev's pointers */
};

struct recorder {
	sd_event *event;
	sd_bus *bus;
	struct record *rec;
	struct intervals *iv;
	struct config cfg;
	const char *db_path;
	char db_real[PATH_MAX];		/* its absolute path: COLDROOM_DATABASE= */

	/* The heads last sent to the journal (anchor.c). */
	const char *anchor_path;
	FILE *anchor_export;		/* --anchor-export: export format, not the journal */
	bool anchored, anchor_failing;
	int64_t anchored_record, anchored_audit;

	/*
	 * Per unit recorded since the start, dense in the order they came,
	 * each found by its Number through @index (never by indexing with a
	 * Number: that would grow with the largest Number named); entry i is
	 * the intervals' unit i too (which keeps each unit's last sample_seq).
	 * The first changes with every sample.
	 */
	struct unit_index index;
	uint8_t *alarms;
	struct unit_state *units;
	uint32_t n_units, cap_units;

	struct pending *pending;
	size_t n_pending, cap_pending;
	uint64_t dropped_events;

	sd_event_source *close_timer, *prune_timer, *commit_defer;
	uint64_t check_real, check_boot;	/* clock-jump detection */
	bool clock_jumped;
	uint32_t coldroomd_epoch;	/* coldroomd's starts seen: whose samples they are */
	bool write_failing;
	char status[256];
	struct recorder_face face;	/* org.coldroom.Recorder1 */
};

static inline uint64_t now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* status.c: what is shown (STATUS=, Status, WriteFailing) */
void format_when(uint64_t us, char *buf, size_t size);
void publish_status(struct recorder *rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void write_failed(struct recorder *rc, int k);
void write_recovered(struct recorder *rc);

/* audit.c: the audit trail */
void pending_free(struct pending *p);
void audit_by(struct recorder *rc, const char *event, const char *serial,
	      unsigned int probe, const char *what, const char *old_value,
	      const char *new_value, const int64_t *reading, const char *detail,
	      const uid_t *uid, const char *user);
void audit(struct recorder *rc, const char *event, const char *serial,
	   unsigned int probe, const char *what, const char *old_value,
	   const char *new_value, const int64_t *reading, const char *detail);
int write_pending(struct recorder *rc);
void pending_done(struct recorder *rc);
int on_commit(sd_event_source *s, void *userdata);

/* units.c: the units recorded */
struct unit_state *unit_by_path(struct recorder *rc, const char *path, uint32_t *at);
int unit_seen(struct recorder *rc, struct unit_info *u, bool announce);
void unit_gone(struct recorder *rc, uint32_t at, const char *why);
int fetch_all(struct recorder *rc, bool announce);

/* signals.c: coldroomd's signals followed */
int bus_connect(struct recorder *rc, const struct service *service, const char *spec);

/* intervals_close.c: the intervals written on time */
int schedule_close(struct recorder *rc);
int write_host_gap(struct recorder *rc, uint64_t start, uint64_t end, unsigned int status);
int close_intervals(struct recorder *rc, uint64_t real, bool stopping);
int on_close_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* anchor.c: the heads into the journal after each commit that moved one */
void anchor_heads(struct recorder *rc);

/* retention.c: pruning */
int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata);

#endif
