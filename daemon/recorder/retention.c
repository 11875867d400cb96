// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * retention.c - old rows pruned a batch at a time, then the chain heads
 * logged; apart, as it runs on its own hourly timer.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <systemd/sd-event.h>

#include "hexstr.h"
#include "log.h"
#include "record.h"
#include "recorder.h"
#include "recorderbus.h"

#define PRUNE_EVERY_US		(3600 * USEC_PER_SEC)
#define PRUNE_BATCH		5000

void log_heads(struct recorder *rc)
{
	struct record_head rec, aud;
	char a[HEXSTR_SIZE(RECORD_HASH_SIZE)], b[HEXSTR_SIZE(RECORD_HASH_SIZE)];

	/* Kept outside the database: a trail to check the file's heads against. */
	record_heads(rc->rec, &rec, &aud);
	hexstr_encode(rec.hash, RECORD_HASH_SIZE, a);
	hexstr_encode(aud.hash, RECORD_HASH_SIZE, b);
	log_info("chain heads: record %" PRId64 " %s, audit %" PRId64 " %s", rec.seq, a, aud.seq, b);
}

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
	if (k)
		write_failed(rc, k);
	else
		recorder_bus_committed(rc->bus, &rc->face);
	if (!more)
		log_heads(rc);
	/* A batch at a time, between readings, until done. */
	k = sd_event_source_set_time_relative(s, more ? 10000 : PRUNE_EVERY_US);
	return k < 0 ? k : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}
