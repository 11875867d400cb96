/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * alarm_lifecycle.h - the alarm lifecycle on top of the kernel's raw
 * condition.
 *
 * The kernel's thresholds and hysteresis decide when a probe is out of
 * band (tempN_alarm); that stays the one source of the condition. On top
 * of it coldroomd keeps, per unit serial and probe, what a person acts on:
 * the condition must hold for the probe's delay before an alarm is
 * raised, and be gone as long before it is back to normal; an alarm is
 * raised -> acknowledged (who, when, comment) -> closed, or raised ->
 * cleared (not acknowledged) -> closed by the acknowledgement. Raising
 * starts coldroom-alarm@SERIAL-PROBE.service, and an alarm not
 * acknowledged in time coldroom-escalate@SERIAL-PROBE.service
 * (alarm_notify.c).
 *
 * Layer: below the units (units.c tells it once per changed condition,
 * the bus methods ask it to acknowledge and to set delays), above
 * alarm_rules.h (the pure rules), alarm_notify.h (systemd) and publish.c
 * (AlarmChanged, UnacknowledgedAlarms, STATUS=). It never calls up.
 */
#ifndef COLDROOMD_ALARM_LIFECYCLE_H
#define COLDROOMD_ALARM_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alarm_rules.h"

struct daemon;
struct unit;

int alarms_init(struct daemon *d, const char *state_dir);
void alarms_done(struct daemon *d);
void alarms_unit_added(struct unit *u);
void alarms_unit_removed(struct unit *u);
/* u->alarm[ch] changed (the kernel's condition): once per change. */
void alarms_condition_changed(struct unit *u, unsigned int ch);
/*
 * @u has a new sample (@new_sample) or a changed status: the probe-health
 * rules on its readings (fault, stuck, rate; silent is over). The rest
 * (silent, after an outage) is one sweep a second over the units.
 */
void alarms_sample(struct unit *u, bool new_sample);
unsigned int alarms_delay(const struct unit *u, unsigned int ch);
int alarms_set_delay(struct unit *u, unsigned int ch, unsigned int seconds);
/*
 * Acknowledge the open alarm of @u (found by the caller, or NULL) or else
 * of serial @key, probe @probe.
 */
int alarms_acknowledge(struct daemon *d, struct unit *u, const char *key, unsigned int probe,
		       uid_t uid, const char *user, const char *comment);
/*
 * The open alarms: slot @i of alarms_slots() is one, or NULL. @unit_name
 * gets the unit's name, "" when the unit is gone.
 */
size_t alarms_slots(const struct daemon *d);
/*
 * A probe's calibration (kept in the state directory, by serial): set it
 * (-EINVAL: calibration_check() refuses it), or NULL when none is known;
 * slot @i of alarms_slots() holds one, or NULL.
 */
int alarms_set_calibration(struct unit *u, unsigned int ch, const struct calibration *c);
const struct calibration *alarms_calibration(const struct unit *u, unsigned int ch);
const struct calibration *alarms_calibration_slot(const struct daemon *d, size_t i,
						  const char **serial, unsigned int *probe);
const struct alarm_record *alarms_slot(const struct daemon *d, size_t i, const char **unit_name);

#endif
