/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * recorderbus.h - org.coldroom.Recorder1: the record, read back over the
 * system bus for users who may not open the database file (history,
 * events, verification) and the recorder's state (a full disk).
 */
#ifndef COLDROOM_RECORDERBUS_H
#define COLDROOM_RECORDERBUS_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "record.h"

#define RECORDER_BUS_NAME	"org.coldroom.Recorder1"
#define RECORDER_PATH		"/org/coldroom/Recorder1"
#define RECORDER_IFACE		"org.coldroom.Recorder1"
/* One call answers at most this many rows or events; callers page on. */
#define RECORDER_MAX_ROWS	100000
#define RECORDER_MAX_EVENTS	10000
#define RECORDER_MAX_FOLLOW	10000	/* GetRecordsAfter, GetAuditAfter */

struct recorder_face {
	struct record *rec;
	const char *status;		/* the STATUS= line */
	int write_failing;		/* the record cannot be written (disk full); int: "b" */
	uint32_t interval_s;
	int64_t signalled_record, signalled_audit;	/* heads in the last Committed */
};

/* Serve @face's object on @bus and ask for the name. */
int recorder_bus_publish(sd_bus *bus, struct recorder_face *face);
/* Status or WriteFailing changed. */
void recorder_bus_changed(sd_bus *bus);

/* After a commit: Committed(record head, audit head) when either moved. */
void recorder_bus_committed(sd_bus *bus, struct recorder_face *face);

#endif
