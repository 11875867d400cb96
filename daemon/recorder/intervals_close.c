// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * intervals_close.c - intervals written on time: the close timer, clock
 * jumps, host gap rows; apart from intervals.c, which does no I/O.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <systemd/sd-event.h>

#include "intervals.h"
#include "log.h"
#include "record.h"
#include "recorder.h"
#include "recorderbus.h"

#define GRACE_US		(5 * USEC_PER_SEC)	/* for samples in flight */
#define CLOCK_JUMP_US		(2 * USEC_PER_SEC)

#define RETRY_US (5 * USEC_PER_SEC)

/* The next write: the oldest interval's, or a retry after a failed one. */
int schedule_close(struct recorder *rc)
{
	uint64_t at = intervals_oldest(rc->iv) + intervals_length(rc->iv) + GRACE_US;
	int k;

	if (rc->write_failing && at < now_us(CLOCK_REALTIME) + RETRY_US)
		at = now_us(CLOCK_REALTIME) + RETRY_US;
	k = sd_event_source_set_time(rc->close_timer, at);
	return k < 0 ? k : sd_event_source_set_enabled(rc->close_timer, SD_EVENT_ONESHOT);
}

/* A host row: the whole host has no record for [start, end). */
int write_host_gap(struct recorder *rc, uint64_t start, uint64_t end, unsigned int status)
{
	struct record_row row = { .start_us = start, .end_us = end, .serial = "",
				  .status = status };

	return end > start ? record_add_row(rc->rec, &row) : 0;
}

/*
 * Did the wall clock move against the boot clock since the last look?
 * Returns the jump (positive: forward) or 0.
 */
static int64_t clock_jump(struct recorder *rc, uint64_t real, uint64_t boot)
{
	int64_t jump = (int64_t)(real - rc->check_real) - (int64_t)(boot - rc->check_boot);

	rc->check_real = real;
	rc->check_boot = boot;
	return jump > (int64_t)CLOCK_JUMP_US || jump < -(int64_t)CLOCK_JUMP_US ? jump : 0;
}

/*
 * Write every interval that is over (on a stop: what the open ones hold, up
 * to now) and commit it with the queued events. On failure nothing moves:
 * the next try writes the same intervals.
 */
int close_intervals(struct recorder *rc, uint64_t real, bool stopping)
{
	uint64_t len = intervals_length(rc->iv);
	uint64_t oldest = intervals_oldest(rc->iv);
	uint64_t end = 0, gap_from = 0;
	unsigned int gap_status = RECORD_NOT_RUNNING;
	bool reset = false;
	int k;

	if (stopping) {
		end = real;
	} else if (real < oldest || real > oldest + 2 * len + GRACE_US) {
		/*
		 * The open intervals are behind the clock: it was set back or
		 * forward, the record could not be written for a while, or the
		 * recorder did not run (a suspend, a stop signal). Write them,
		 * a host gap row up to now saying which, and start again.
		 */
		end = oldest + 2 * len;
		gap_from = real > end ? end : 0;
		gap_status = rc->clock_jumped ? RECORD_CLOCK_JUMP :
			     rc->write_failing ? RECORD_NOT_WRITTEN : RECORD_NOT_RUNNING;
		reset = true;
	} else if (real >= oldest + 2 * len + GRACE_US) {
		end = oldest + 2 * len;
	} else if (real >= oldest + len + GRACE_US) {
		end = oldest + len;
	}
	k = record_begin(rc->rec);
	if (!k && end)
		k = intervals_write(rc->iv, end, rc->clock_jumped, rc->rec);
	if (!k && gap_from)
		k = write_host_gap(rc, gap_from, real, gap_status);
	if (!k)
		k = write_pending(rc);
	if (!k)
		k = record_commit(rc->rec);
	if (k) {
		record_rollback(rc->rec);
		write_failed(rc, k);
		return k;
	}
	pending_done(rc);
	write_recovered(rc);
	anchor_heads(rc);
	recorder_bus_committed(rc->bus, &rc->face);
	rc->clock_jumped = false;
	if (reset)
		intervals_reset(rc->iv, real);
	else if (end && !stopping)
		intervals_advance(rc->iv, end);
	if (!stopping) {
		char t[32];

		format_when(intervals_oldest(rc->iv), t, sizeof(t));
		publish_status(rc, "recording %zu units every %u s; recorded up to %s",
			       intervals_units(rc->iv), rc->cfg.record_interval_s, t);
	}
	return 0;
}

int on_close_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct recorder *rc = userdata;
	uint64_t real = now_us(CLOCK_REALTIME);
	int64_t jump = clock_jump(rc, real, now_us(CLOCK_BOOTTIME));

	(void)s;
	(void)usec;
	if (jump) {
		char detail[96];

		snprintf(detail, sizeof(detail), "the wall clock moved %+.1f s against the boot clock",
			 (double)jump / USEC_PER_SEC);
		audit(rc, "clock-jump", NULL, 0, NULL, NULL, NULL, NULL, detail);
		log_notice("%s", detail);
		rc->clock_jumped = true;
	}
	(void)close_intervals(rc, real, false);
	return schedule_close(rc) < 0 ? -EIO : 0;
}
