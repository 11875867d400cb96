/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * verifier.h - the recorder's own verification of the record, for
 * Recorder1.Verify: the chains walked in short slices at idle priority
 * from a checkpoint kept in the database, a walk from the base once a
 * week, and the callers' replies held until the walk reaches the heads
 * (RECORD.md, "Verification by the recorder").
 */
#ifndef COLDROOM_VERIFIER_H
#define COLDROOM_VERIFIER_H

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "record.h"

#define VERIFY_SLICE_US		10000ULL	/* one slice's walking */
#define VERIFY_PAUSE_US		10000ULL	/* between slices: at most half a core */
#define VERIFY_WAIT_US		20000000ULL	/* a caller's reply, under sd-bus' 25 s */
#define VERIFY_MAX_WAITERS	32
#define VERIFY_AGAIN_US		(3600ULL * 1000000)	/* the checkpoint moved on hourly */
#define VERIFY_FULL_EVERY_US	(7ULL * 24 * 3600 * 1000000)	/* from the base, weekly */

struct verifier;

int verifier_new(sd_event *event, struct record *rec, struct verifier **ret);
/* The checkpoint stored, the held callers let go. */
void verifier_free(struct verifier *v);

/*
 * A Verify call: queued for the walk under way (or a new one from the
 * checkpoint). Returns 1 with the reply to come, or a negative errno with
 * @error set: one call pending per sender, VERIFY_MAX_WAITERS in all.
 */
int verifier_request(struct verifier *v, sd_bus_message *m, sd_bus_error *error);

/* The longest slice so far, microseconds (benchmarks, debug log). */
uint64_t verifier_longest_slice(const struct verifier *v);

#endif
