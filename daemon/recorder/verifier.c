// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * verifier.c - Recorder1.Verify without stalling the recorder: one walk
 * at a time (record_walk_step), in slices of VERIFY_SLICE_US at idle
 * priority with a pause between them, so that readings and commits always
 * come first. Every caller of Verify waits for the walk under way (one
 * call per sender, VERIFY_MAX_WAITERS in all) and gets its verdict when it
 * reaches the heads, or after VERIFY_WAIT_US the last verdict and how far
 * the walk is. A call starts a walk from the base; the recorder's own
 * hourly walk starts from the checkpoint (the last rows found intact),
 * kept in the database, and from the base once a week.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "recorder.h"
#include "verifier.h"

struct waiter {
	sd_bus_message *m;
	char *sender;
	uint64_t deadline;	/* CLOCK_MONOTONIC */
};

struct verifier {
	sd_event *event;
	struct record *rec;
	sd_event_source *slice, *reply_timer, *schedule;
	struct record_walk *walk;
	bool walk_full;
	unsigned int walk_slices;
	struct record_verify progress;	/* the walk under way, after its last slice */
	struct record_checkpoint cp, stored;
	struct record_verify last;	/* the last walk's verdict */
	bool have_last;
	uint64_t last_at;		/* CLOCK_REALTIME */
	struct waiter waiters[VERIFY_MAX_WAITERS];
	size_t n_waiters;
	uint64_t longest;
};

static bool ahead(const struct record_checkpoint *a, const struct record_checkpoint *b)
{
	return a->record.seq >= b->record.seq && a->audit.seq >= b->audit.seq;
}

/*
 * The checkpoint kept: with the recorder's next commit (it costs no
 * commit, no fsync, of its own), or @now at stop.
 */
static void store(struct verifier *v, bool now)
{
	int k;

	if (!now && !memcmp(&v->cp, &v->stored, sizeof(v->cp)))
		return;
	k = now ? record_checkpoint_store(v->rec, &v->cp) :
		  record_checkpoint_defer(v->rec, &v->cp);
	/* Kept in memory: the next walk starts from it all the same. */
	if (k < 0) {
		log_debug("verify: cannot store the checkpoint: %s", record_error(v->rec));
		return;
	}
	v->stored = v->cp;
}

static void reply(struct waiter *w, bool intact, int64_t record_rows, int64_t audit_rows,
		  const char *message)
{
	/* A caller gone or timed out meanwhile: nothing to do about it. */
	(void)sd_bus_reply_method_return(w->m, "bxxs", (int)intact, record_rows, audit_rows,
					 message);
	sd_bus_message_unref(w->m);
	free(w->sender);
	*w = (struct waiter){ 0 };
}

/* A caller that waited long enough: the last verdict, and how far the walk is. */
static void reply_interim(struct verifier *v, struct waiter *w)
{
	char msg[RECORD_MESSAGE_MAX + 200], when[32];

	if (v->have_last) {
		format_when(v->last_at, when, sizeof(when));
		snprintf(msg, sizeof(msg), "%s (as of %s; a new walk is at record row %" PRId64
			 ", audit row %" PRId64 ")", v->last.message, when,
			 v->progress.record_rows, v->progress.audit_rows);
		reply(w, v->last.intact, v->last.record_rows, v->last.audit_rows, msg);
	} else {
		snprintf(msg, sizeof(msg), "not verified yet: the walk has found %" PRId64
			 " record rows and %" PRId64 " audit rows intact so far; ask again",
			 v->progress.record_rows, v->progress.audit_rows);
		reply(w, false, v->progress.record_rows, v->progress.audit_rows, msg);
	}
}

static void arm_reply_timer(struct verifier *v)
{
	uint64_t first = UINT64_MAX;

	for (size_t i = 0; i < v->n_waiters; i++)
		if (v->waiters[i].deadline < first)
			first = v->waiters[i].deadline;
	if (first == UINT64_MAX) {
		(void)sd_event_source_set_enabled(v->reply_timer, SD_EVENT_OFF);
		return;
	}
	if (sd_event_source_set_time(v->reply_timer, first) < 0 ||
	    sd_event_source_set_enabled(v->reply_timer, SD_EVENT_ONESHOT) < 0)
		log_error("verify: cannot arm a timer; callers get their reply with the walk's");
}

static int on_reply_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct verifier *v = userdata;
	size_t j = 0;

	(void)s;
	for (size_t i = 0; i < v->n_waiters; i++) {
		if (v->waiters[i].deadline <= usec)
			reply_interim(v, &v->waiters[i]);
		else
			v->waiters[j++] = v->waiters[i];
	}
	v->n_waiters = j;
	arm_reply_timer(v);
	return 0;
}

static int start_walk(struct verifier *v, bool full)
{
	int k;

	/* No checkpoint: the walk starts at the base, as a full one does. */
	if (!v->cp.record.seq && !v->cp.audit.seq)
		full = true;
	k = record_walk_new(full ? NULL : &v->cp, &v->walk);
	if (k < 0)
		return k;
	v->walk_full = full;
	v->walk_slices = 0;
	memset(&v->progress, 0, sizeof(v->progress));
	k = sd_event_source_set_time(v->slice, now_us(CLOCK_MONOTONIC));
	if (k >= 0)
		k = sd_event_source_set_enabled(v->slice, SD_EVENT_ONESHOT);
	if (k < 0) {
		record_walk_free(v->walk);
		v->walk = NULL;
	}
	return k;
}

static void walk_done(struct verifier *v, const struct record_verify *res)
{
	struct record_checkpoint pos;

	record_walk_position(v->walk, &pos);
	pos.full_us = v->cp.full_us;
	/*
	 * Where the walk found the chains intact. A walk from the base that
	 * broke before the checkpoint moves it back: every later walk then
	 * meets the same break.
	 */
	if (v->walk_full || ahead(&pos, &v->cp)) {
		if (v->walk_full && res->intact)
			pos.full_us = (int64_t)now_us(CLOCK_REALTIME);
		v->cp = pos;
	}
	store(v, false);
	if (!res->intact && (!v->have_last || v->last.intact ||
			     strcmp(v->last.message, res->message)))
		log_warning("verify: the record is NOT INTACT: %s", res->message);
	log_debug("verify: %s walk over after %u slices (longest slice so far %" PRIu64 " us): %s",
		  v->walk_full ? "full" : "checkpoint", v->walk_slices, v->longest, res->message);
	v->last = *res;
	v->have_last = true;
	v->last_at = now_us(CLOCK_REALTIME);
	record_walk_free(v->walk);
	v->walk = NULL;
	for (size_t i = 0; i < v->n_waiters; i++)
		reply(&v->waiters[i], res->intact, res->record_rows, res->audit_rows, res->message);
	v->n_waiters = 0;
	arm_reply_timer(v);
}

static int on_slice(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct verifier *v = userdata;
	struct record_checkpoint pos;
	struct record_verify res;
	uint64_t t0 = now_us(CLOCK_MONOTONIC), dt;
	int k;

	(void)usec;
	k = record_walk_step(v->rec, v->walk, VERIFY_SLICE_US, &res);
	dt = now_us(CLOCK_MONOTONIC) - t0;
	if (dt > v->longest)
		v->longest = dt;
	v->walk_slices++;
	if (k < 0 && k != -EINVAL) {
		res = (struct record_verify){ .intact = false };
		snprintf(res.message, sizeof(res.message), "cannot verify the record: %s",
			 strerror(-k));
		k = 1;
	}
	if (k == 1) {
		walk_done(v, &res);
		return 0;
	}
	/* More to walk (or a write group open: -EINVAL, try again). */
	if (k == 0) {
		v->progress = res;
		record_walk_position(v->walk, &pos);
		pos.full_us = v->cp.full_us;
		if (ahead(&pos, &v->cp)) {
			v->cp = pos;
			store(v, false);
		}
	}
	k = sd_event_source_set_time(s, now_us(CLOCK_MONOTONIC) + VERIFY_PAUSE_US);
	if (k >= 0)
		k = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return k;
}

/* Hourly: the checkpoint moved on to the heads, or a walk from the base when due. */
static int on_schedule(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct verifier *v = userdata;
	uint64_t real = now_us(CLOCK_REALTIME);
	int k;

	if (!v->walk) {
		bool full = v->cp.full_us <= 0 || real >= (uint64_t)v->cp.full_us + VERIFY_FULL_EVERY_US;

		k = start_walk(v, full);
		if (k < 0)
			log_error("verify: cannot start a walk: %s", strerror(-k));
	}
	k = sd_event_source_set_time(s, usec + VERIFY_AGAIN_US);
	return k < 0 ? k : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

int verifier_request(struct verifier *v, sd_bus_message *m, sd_bus_error *error)
{
	const char *sender = sd_bus_message_get_sender(m);
	struct waiter *w;
	int k;

	if (!sender)
		sender = "";
	for (size_t i = 0; i < v->n_waiters; i++)
		if (!strcmp(v->waiters[i].sender, sender))
			return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
						 "a Verify call of %s is still pending", sender);
	if (v->n_waiters == VERIFY_MAX_WAITERS)
		return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					 "%u Verify calls are pending: try again later",
					 VERIFY_MAX_WAITERS);
	/*
	 * A caller is owed the whole chain, as coldroomctl record verify
	 * walks it: a walk from the base (an edit before the checkpoint
	 * included), and the last verdict if it takes longer than the wait.
	 */
	if (!v->walk) {
		k = start_walk(v, true);
		if (k < 0)
			return k;
	}
	w = &v->waiters[v->n_waiters];
	w->sender = strdup(sender);
	if (!w->sender)
		return -ENOMEM;
	w->m = sd_bus_message_ref(m);
	w->deadline = now_us(CLOCK_MONOTONIC) + VERIFY_WAIT_US;
	v->n_waiters++;
	arm_reply_timer(v);
	/* Handled: sd-bus sends nothing now (0 would mean "unknown method"). */
	return 1;
}

uint64_t verifier_longest_slice(const struct verifier *v)
{
	return v->longest;
}

int verifier_new(sd_event *event, struct record *rec, struct verifier **ret)
{
	struct verifier *v = calloc(1, sizeof(*v));
	int k;

	if (!v)
		return -ENOMEM;
	v->event = event;
	v->rec = rec;
	k = record_checkpoint_load(rec, &v->cp);
	if (k < 0) {
		log_error("verify: cannot read the checkpoint: %s", record_error(rec));
		free(v);
		return k;
	}
	v->stored = v->cp;
	/* After readings, commits and calls: only what the loop has to spare. */
	k = sd_event_add_time(event, &v->slice, CLOCK_MONOTONIC, 0, 1000, on_slice, v);
	if (k >= 0)
		k = sd_event_source_set_enabled(v->slice, SD_EVENT_OFF);
	if (k >= 0)
		k = sd_event_source_set_priority(v->slice, SD_EVENT_PRIORITY_IDLE);
	if (k >= 0)
		k = sd_event_add_time(event, &v->reply_timer, CLOCK_MONOTONIC, 0, 100000,
				      on_reply_timer, v);
	if (k >= 0)
		k = sd_event_source_set_enabled(v->reply_timer, SD_EVENT_OFF);
	/* The first walk right after the start: from the checkpoint, or the base if due. */
	if (k >= 0)
		k = sd_event_add_time_relative(event, &v->schedule, CLOCK_MONOTONIC, 0,
					       USEC_PER_SEC, on_schedule, v);
	if (k >= 0)
		k = sd_event_source_set_priority(v->schedule, SD_EVENT_PRIORITY_IDLE);
	if (k < 0) {
		verifier_free(v);
		return k;
	}
	*ret = v;
	return 0;
}

void verifier_free(struct verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_waiters; i++) {
		(void)sd_bus_reply_method_errorf(v->waiters[i].m, SD_BUS_ERROR_FAILED,
						 "the recorder is stopping");
		sd_bus_message_unref(v->waiters[i].m);
		free(v->waiters[i].sender);
	}
	store(v, true);
	record_walk_free(v->walk);
	sd_event_source_disable_unref(v->slice);
	sd_event_source_disable_unref(v->reply_timer);
	sd_event_source_disable_unref(v->schedule);
	free(v);
}
