// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-recorder - the temperature record of every unit coldroomd
 * publishes, kept in an SQLite database with hash chains (record.h).
 *
 * It is a client of org.coldroom.Sensors1 and needs none of coldroomd's
 * privileges: it follows the Readings signal (the readings), the
 * ObjectManager (units added and removed) and the units' PropertiesChanged
 * (firmware, labels, thresholds, intervals) and writes:
 * - one row per unit, probe and recording interval (intervals.h), a gap
 *   row with the reason when samples are missing, and a host row for the
 *   time the recorder was not running or the clock jumped;
 * - the audit trail: units, firmware, setting changes, threshold alarms,
 *   starts and stops, pruning.
 * Each interval is one transaction, written a grace period after its end;
 * events between intervals are committed at the end of the event-loop
 * iteration that saw them.
 *
 * This file: main(), start and stop; recorder.h says where the rest is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "intervals.h"
#include "log.h"
#include "record.h"
#include "recorder.h"
#include "recorderbus.h"
#include "service.h"
#include "verifier.h"

/*
 * The site's MKT activation energy is a setting of the record: a value
 * other than the one in force (the last entry, or the default when none)
 * goes into the audit trail, who unknown (the file says nothing of it).
 */
static int record_mkt_setting(struct recorder *rc, uint64_t real)
{
	char last[32], now[32];
	int k;

	k = record_last_setting(rc->rec, "MKTActivationEnergy", last, sizeof(last));
	if (k < 0)
		return k;
	if (!k)
		snprintf(last, sizeof(last), "%u", MKT_DEFAULT_DH);
	snprintf(now, sizeof(now), "%u", rc->cfg.mkt_dh);
	if (!strcmp(last, now))
		return 0;
	log_info("MKTActivationEnergy changed from %s to %s J/mol", last, now);
	return record_add_event(rc->rec, &(struct record_event){
		.time_us = real, .event = "setting-changed", .what = "MKTActivationEnergy",
		.old_value = last, .new_value = now,
		.detail = "J/mol, mean kinetic temperature; coldroomd.conf; who is not known" });
}

/* Before the first interval: the time nothing was recorded, in the record. */
static int record_start(struct recorder *rc, uint64_t real)
{
	uint64_t last_end;
	char detail[160], a[32], b[32];
	int k;

	k = record_last_end(rc->rec, &last_end);
	if (k)
		return k;
	k = record_begin(rc->rec);
	if (k)
		return k;
	if (last_end && real > last_end) {
		format_when(last_end, a, sizeof(a));
		format_when(real, b, sizeof(b));
		snprintf(detail, sizeof(detail), "interval %u s; nothing recorded from %s to %s",
			 rc->cfg.record_interval_s, a, b);
		k = write_host_gap(rc, last_end, real, RECORD_NOT_RUNNING);
	} else if (last_end > real) {
		format_when(last_end, a, sizeof(a));
		snprintf(detail, sizeof(detail),
			 "interval %u s; the clock is behind the record's last interval (%s)",
			 rc->cfg.record_interval_s, a);
	} else {
		snprintf(detail, sizeof(detail), "interval %u s; a new record",
			 rc->cfg.record_interval_s);
	}
	if (!k) {
		struct record_event ev = { .time_us = real, .event = "recorder-started",
					   .detail = detail };

		k = record_add_event(rc->rec, &ev);
	}
	if (!k)
		k = record_mkt_setting(rc, real);
	if (!k)
		k = record_commit(rc->rec);
	if (k)
		record_rollback(rc->rec);
	else
		anchor_heads(rc);
	return k;
}

/* SignReport's entries (recorderbus.c), who signed as the bus vouches. */
static void audit_signature(void *ctx, const char *event, const char *serial, const char *what,
			    const char *new_value, const char *detail, uid_t uid, const char *user)
{
	audit_by(ctx, event, serial, 0, what, NULL, new_value, NULL, detail, &uid, user);
}

static void recorder_done(struct recorder *rc)
{
	/* Its held callers answered while the bus is still there. */
	verifier_free(rc->face.verifier);
	polkit_registry_free(rc->face.polkit);
	for (uint32_t n = 0; n < rc->n_units; n++)
		free(rc->units[n].info.path);
	free(rc->units);
	free(rc->alarms);
	unit_index_free(&rc->index);
	for (size_t i = 0; i < rc->n_pending; i++)
		pending_free(&rc->pending[i]);
	free(rc->pending);
	sd_event_source_unref(rc->close_timer);
	sd_event_source_unref(rc->prune_timer);
	sd_event_source_unref(rc->commit_defer);
	sd_bus_flush_close_unref(rc->bus);
	intervals_free(rc->iv);
	if (rc->rec)
		record_close(rc->rec);
	config_free(&rc->cfg);
	if (rc->anchor_export)
		fclose(rc->anchor_export);
	sd_event_unref(rc->event);
}

static int on_option(int c, const char *arg, void *userdata)
{
	struct recorder *rc = userdata;

	switch (c) {
	case 'D':
		rc->db_path = arg;
		return 0;
	case 'A':
		rc->anchor_path = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: coldroom-recorder [OPTIONS]\n"
		"Keeps the temperature record of the units coldroomd publishes.\n\n"
		"  -c, --config FILE      settings (default " COLDROOMD_CONFIG_PATH ")\n"
		"  -D, --database FILE    the record (default " RECORD_DEFAULT_PATH ")\n"
		"      --anchor-export FILE\n"
		"                         append the chain heads' anchors to FILE in the\n"
		"                         journal export format instead of the journal\n"
		"                         (for systemd-journal-remote; tests)\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "database", required_argument, NULL, 'D' },
		{ "anchor-export", required_argument, NULL, 'A' },
		{ 0 }
	};
	static const struct service service = {
		.name = "coldroom-recorder",
		.usage = usage,
		.default_config = COLDROOMD_CONFIG_PATH,
		.shortopts = "D:",
		.options = options,
		.option = on_option,
	};
	struct recorder rc = { .db_path = RECORD_DEFAULT_PATH };
	struct service_args args;
	char err[RECORD_MESSAGE_MAX];
	uint64_t real;
	int k;

	k = service_parse_args(&service, argc, argv, &args, &rc);
	if (k <= 0)
		return service_exit_code(k);

	k = config_init(&rc.cfg);
	if (k == 0)
		k = config_load(args.config, &rc.cfg, err, sizeof(err));
	if (k < 0) {
		log_error("%s", k == -ENOMEM ? "out of memory" : err);
		sd_notifyf(0, "STATUS=%s", err);
		goto out;
	}
	k = record_open(rc.db_path, RECORD_WRITE, &rc.rec, err, sizeof(err));
	if (k < 0) {
		log_error("cannot open the record: %s", err);
		sd_notifyf(0, "STATUS=cannot open the record: %s", err);
		goto out;
	}
	/* The anchors name the file as coldroomctl will find it: absolute, no links. */
	if (!realpath(rc.db_path, rc.db_real)) {
		k = -errno;
		log_error("cannot resolve %s: %s", rc.db_path, strerror(-k));
		goto out;
	}
	if (rc.anchor_path && !(rc.anchor_export = fopen(rc.anchor_path, "ae"))) {
		k = -errno;
		log_error("cannot open %s: %s", rc.anchor_path, strerror(-k));
		goto out;
	}
	k = intervals_new(rc.cfg.record_interval_s * USEC_PER_SEC, &rc.iv);
	if (k < 0)
		goto out;

	k = service_event_new(&service, &rc, &rc.event);
	if (k < 0)
		goto out;
	k = sd_event_add_defer(rc.event, &rc.commit_defer, on_commit, &rc);
	if (k >= 0)
		k = sd_event_source_set_enabled(rc.commit_defer, SD_EVENT_OFF);
	/* Readings first: the record must not wait behind a commit. */
	if (k >= 0)
		k = sd_event_source_set_priority(rc.commit_defer, SD_EVENT_PRIORITY_IDLE);
	if (k >= 0)
		k = sd_event_add_time(rc.event, &rc.close_timer, CLOCK_REALTIME, 0, 100000,
				      on_close_timer, &rc);
	if (k >= 0)
		k = sd_event_add_time_relative(rc.event, &rc.prune_timer, CLOCK_MONOTONIC,
					       60 * USEC_PER_SEC, USEC_PER_SEC, on_prune_timer, &rc);
	if (k < 0) {
		log_error("cannot set up the event loop: %s", strerror(-k));
		goto out;
	}

	real = now_us(CLOCK_REALTIME);
	rc.check_real = real;
	rc.check_boot = now_us(CLOCK_BOOTTIME);
	k = record_start(&rc, real);
	if (k < 0) {
		log_error("cannot write the record %s: %s", rc.db_path, record_error(rc.rec));
		sd_notifyf(0, "STATUS=cannot write the record: %s", record_error(rc.rec));
		goto out;
	}
	intervals_reset(rc.iv, real);
	rc.face = (struct recorder_face){ .rec = rc.rec, .status = rc.status,
					  .interval_s = rc.cfg.record_interval_s,
					  .mkt_dh = rc.cfg.mkt_dh,
					  .audit = audit_signature, .audit_ctx = &rc };
	k = verifier_new(rc.event, rc.rec, &rc.face.verifier);
	if (k >= 0)
		k = bus_connect(&rc, &service, args.bus);
	if (k >= 0)
		k = recorder_bus_publish(rc.bus, &rc.face);
	if (k >= 0)
		k = fetch_all(&rc, false);
	if (k >= 0)
		k = schedule_close(&rc);
	if (k < 0)
		goto out;
	publish_status(&rc, "recording %zu units every %u s", intervals_units(rc.iv),
		       rc.cfg.record_interval_s);
	sd_notify(0, "READY=1");
	log_info("recording %zu units every %u s into %s", intervals_units(rc.iv),
		 rc.cfg.record_interval_s, rc.db_path);

	k = service_run(rc.event);
	/* What the open intervals hold, up to now, and the stop itself. */
	audit(&rc, "recorder-stopped", NULL, 0, NULL, NULL, NULL, NULL, NULL);
	if (close_intervals(&rc, now_us(CLOCK_REALTIME), true) < 0 && k >= 0)
		k = -EIO;
out:
	recorder_done(&rc);
	return k < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
