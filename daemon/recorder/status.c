// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * status.c - what the recorder shows: STATUS=, Recorder1's Status and
 * WriteFailing; apart, as the intervals and the audit trail both report to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "record.h"
#include "recorder.h"
#include "recorderbus.h"

void format_when(uint64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / USEC_PER_SEC);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "%" PRIu64, us);
}

void publish_status(struct recorder *rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rc->status, sizeof(rc->status), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", rc->status);
	rc->face.write_failing = rc->write_failing;
	recorder_bus_changed(rc->bus);
}

void write_failed(struct recorder *rc, int k)
{
	if (!rc->write_failing)
		log_error("cannot write the record %s: %s%s", rc->db_path, record_error(rc->rec),
			  k == -ENOSPC ? " (disk full); retrying" : "; retrying");
	rc->write_failing = true;
	publish_status(rc, "cannot write the record: %s; retrying",
		       k == -ENOSPC ? "disk full" : record_error(rc->rec));
}

void write_recovered(struct recorder *rc)
{
	if (!rc->write_failing)
		return;
	log_notice("the record is written again");
	rc->write_failing = false;
	rc->face.write_failing = false;
	recorder_bus_changed(rc->bus);
}
