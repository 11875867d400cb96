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

#include "bus_names.h"
#include "polkit.h"
#include "record.h"
#include "verifier.h"

struct recorder_face {
	struct record *rec;
	const char *status;		/* the STATUS= line */
	int write_failing;		/* the record cannot be written (disk full); int: "b" */
	uint32_t interval_s;
	uint64_t samples_lost;		/* SamplesLost: counted lost since the start */
	uint32_t mkt_dh;		/* MKTActivationEnergy, J/mol */
	int64_t signalled_record, signalled_audit;	/* heads in the last Committed */
	struct verifier *verifier;	/* Verify */

	/* SignReport: its polkit checks, and the audit trail it writes to. */
	struct polkit_registry *polkit;
	struct polkit_refusals refusals;
	void (*audit)(void *ctx, const char *event, const char *serial, const char *what,
		      const char *new_value, const char *detail, uid_t uid, const char *user);
	void *audit_ctx;
};

/* Serve @face's object on @bus and ask for the name. */
int recorder_bus_publish(sd_bus *bus, struct recorder_face *face);
/* Status or WriteFailing changed. */
void recorder_bus_changed(sd_bus *bus);

/* After a commit: Committed(record head, audit head) when either moved. */
void recorder_bus_committed(sd_bus *bus, struct recorder_face *face);

#endif
