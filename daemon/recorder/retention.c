// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * retention.c - old rows pruned a batch at a time, the new heads anchored;
 * apart, as it runs on its own hourly timer.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "record.h"
#include "recorder.h"
#include "recorderbus.h"

#define PRUNE_EVERY_US		(3600 * USEC_PER_SEC)
#define PRUNE_BATCH		5000

int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct recorder *rc = userdata;
	uint64_t real = now_us(CLOCK_REALTIME), hour = 3600 * USEC_PER_SEC;
	uint64_t raw_keep = rc->cfg.raw_hours * hour, keep = rc->cfg.retention_days * 24 * hour;
	bool more = false;
	int k;

	(void)usec;
	k = record_prune(rc->rec, real > raw_keep ? real - raw_keep : 0,
			 real > keep ? real - keep : 0, PRUNE_BATCH, &more);
	if (k) {
		write_failed(rc, k);
	} else {
		anchor_heads(rc);
		recorder_bus_committed(rc->bus, &rc->face);
	}
	/* A batch at a time, between readings, until done. */
	k = sd_event_source_set_time_relative(s, more ? 10000 : PRUNE_EVERY_US);
	return k < 0 ? k : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}
