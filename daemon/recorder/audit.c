// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * audit.c - the audit trail: events queued as they come, committed between
 * intervals; apart, as they are queued and written on their own schedule.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "record.h"
#include "recorder.h"
#include "recorderbus.h"

#define PENDING_MAX		100000	/* events waiting for the disk */

void pending_free(struct pending *p)
{
	for (size_t k = 0; k < 7; k++)
		free(p->strings[k]);
}

static int arm_commit(struct recorder *rc)
{
	return sd_event_source_set_enabled(rc->commit_defer, SD_EVENT_ONESHOT);
}

/*
 * Queue an event for the next commit. Strings are copied; any may be NULL.
 * Past PENDING_MAX (the disk has been failing for long) events are
 * counted, not kept, and the count goes into the trail when it works again.
 */
void audit_by(struct recorder *rc, const char *event, const char *serial,
	      unsigned int probe, const char *what, const char *old_value,
	      const char *new_value, const int64_t *reading, const char *detail,
	      const uid_t *uid, const char *user)
{
	const char *src[7] = { event, serial, what, old_value, new_value, detail, user };
	struct pending *p;

	if (rc->n_pending == PENDING_MAX) {
		rc->dropped_events++;
		return;
	}
	if (rc->n_pending == rc->cap_pending) {
		size_t cap = rc->cap_pending ? rc->cap_pending * 2 : 64;
		struct pending *n = realloc(rc->pending, cap * sizeof(*n));

		if (!n) {
			rc->dropped_events++;
			return;
		}
		rc->pending = n;
		rc->cap_pending = cap;
	}
	p = &rc->pending[rc->n_pending];
	memset(p, 0, sizeof(*p));
	for (size_t k = 0; k < 7; k++)
		if (src[k] && !(p->strings[k] = strdup(src[k]))) {
			pending_free(p);
			rc->dropped_events++;
			return;
		}
	p->ev.time_us = now_us(CLOCK_REALTIME);
	p->ev.event = p->strings[0];
	p->ev.serial = p->strings[1];
	p->ev.probe = probe;
	p->ev.what = p->strings[2];
	p->ev.old_value = p->strings[3];
	p->ev.new_value = p->strings[4];
	p->ev.detail = p->strings[5];
	p->ev.user = p->strings[6];
	if (uid) {
		p->ev.has_uid = true;
		p->ev.uid = *uid;
	}
	if (reading) {
		p->ev.has_reading = true;
		p->ev.reading = *reading;
	}
	rc->n_pending++;
	(void)arm_commit(rc);
}

void audit(struct recorder *rc, const char *event, const char *serial,
	   unsigned int probe, const char *what, const char *old_value,
	   const char *new_value, const int64_t *reading, const char *detail)
{
	audit_by(rc, event, serial, probe, what, old_value, new_value, reading, detail,
		 NULL, NULL);
}

/* Add the queued events to the open group. */
int write_pending(struct recorder *rc)
{
	int k;

	if (rc->dropped_events) {
		char detail[96];
		struct record_event ev = { .time_us = now_us(CLOCK_REALTIME),
					   .event = "events-lost", .detail = detail };

		snprintf(detail, sizeof(detail), "%" PRIu64 " events while the record could not be written",
			 rc->dropped_events);
		k = record_add_event(rc->rec, &ev);
		if (k)
			return k;
	}
	for (size_t i = 0; i < rc->n_pending; i++) {
		k = record_add_event(rc->rec, &rc->pending[i].ev);
		if (k)
			return k;
	}
	return 0;
}

void pending_done(struct recorder *rc)
{
	for (size_t i = 0; i < rc->n_pending; i++)
		pending_free(&rc->pending[i]);
	rc->n_pending = 0;
	rc->dropped_events = 0;
}

int on_commit(sd_event_source *s, void *userdata)
{
	struct recorder *rc = userdata;
	int k;

	(void)s;
	if (!rc->n_pending && !rc->dropped_events)
		return 0;
	k = record_begin(rc->rec);
	if (!k)
		k = write_pending(rc);
	if (!k)
		k = record_commit(rc->rec);
	if (k) {
		record_rollback(rc->rec);
		/* Kept queued: the next interval's commit tries again. */
		write_failed(rc, k);
		return 0;
	}
	pending_done(rc);
	write_recovered(rc);
	anchor_heads(rc);
	recorder_bus_committed(rc->bus, &rc->face);
	return 0;
}
