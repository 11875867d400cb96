/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * alarm_rules.h - the pure layer under the alarm lifecycle: an alarm's
 * states and the rules between them, the state file's format, and which
 * serials and unit instance names are fit for it.
 *
 * Layer: the bottom of the alarms. No daemon, unit, timer or bus here:
 * alarm_rules.c calls only libc and shared/ helpers, and everything above
 * (alarm_lifecycle.c, the tests, the fuzzer) may call it.
 */
#ifndef COLDROOMD_ALARM_RULES_H
#define COLDROOMD_ALARM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AlarmChanged's and ListAlarms' state; 0 is "unknown" as the D-Bus guide asks. */
enum alarm_state {
	ALARM_STATE_NONE = 0,		/* no alarm (never sent as a state) */
	ALARM_STATE_RAISED = 1,		/* out of band, not acknowledged */
	ALARM_STATE_ACKNOWLEDGED = 2,	/* out of band, acknowledged */
	ALARM_STATE_CLEARED = 3,	/* back in band, not acknowledged */
	ALARM_STATE_CLOSED = 4,		/* back in band and acknowledged: gone from the list */
};

/*
 * What an alarm is about: the kernel's band (after the delay) or the
 * probe's health. A probe has at most one open alarm of each kind.
 */
enum alarm_kind {
	ALARM_KIND_TEMPERATURE = 0,	/* out of the kernel's band */
	ALARM_KIND_SILENT,		/* no new sample for SilentIntervals intervals */
	ALARM_KIND_STUCK,		/* the reading within StuckBandMdeg for StuckSec */
	ALARM_KIND_FAULT,		/* TempNStatus no-data or disconnected */
	ALARM_KIND_OUTAGE,		/* out of band on the first reading after an outage */
	ALARM_KIND_RATE,		/* faster than RateLimitMdegPerMin */
	ALARM_KIND_CAL_90,		/* calibration due within 90 days */
	ALARM_KIND_CAL_30,		/* calibration due within 30 days */
	ALARM_KIND_CAL_DUE,		/* calibration due today or overdue */
	ALARM_KINDS
};

#define ALARM_SERIAL_MAX 64
#define ALARM_USER_MAX 64
#define ALARM_COMMENT_MAX 256
#define ALARM_LEVEL_NOTIFIED 1		/* coldroom-alarm@ started */
#define ALARM_LEVEL_ESCALATED 2		/* coldroom-escalate@ started */

/* One probe's alarm as it is kept and persisted. */
struct alarm_record {
	uint64_t id;			/* from 1, never reused; 0: no alarm */
	char serial[ALARM_SERIAL_MAX];
	unsigned int probe;		/* 1 or 2 */
	enum alarm_state state;
	unsigned int level;		/* ALARM_LEVEL_* reached */
	int32_t temp;			/* the reading when raised, mC */
	uint64_t raised_usec;		/* CLOCK_REALTIME */
	uint64_t cleared_usec;		/* 0 while out of band */
	uint64_t acked_usec;		/* 0 until acknowledged */
	uint32_t acked_uid;
	enum alarm_kind kind;		/* here: no padding for a byte compare to trip on */
	char acked_user[ALARM_USER_MAX];
	char comment[ALARM_COMMENT_MAX];
};

/*
 * The rules (tested in test_alarms.c). Each returns the new state; the
 * caller acts on a change.
 */
/* The delay after the condition appeared has run out. */
enum alarm_state alarm_rule_raise(enum alarm_state s);
/* The delay after the condition went has run out. */
enum alarm_state alarm_rule_clear(enum alarm_state s);
/* Somebody acknowledged; -EALREADY when there is nothing to acknowledge. */
int alarm_rule_ack(enum alarm_state s, enum alarm_state *out);

const char *alarm_state_name(enum alarm_state s);
/*
 * "temperature", "silent", "stuck", "fault", "outage", "rate",
 * "calibration-90d", "calibration-30d", "calibration-due".
 */
const char *alarm_kind_name(enum alarm_kind k);
/* The kind called @name, or -EINVAL. */
int alarm_kind_from_name(const char *name);

/*
 * The probe-health rules: each decides its condition from the readings
 * and the time it is given (CLOCK_REALTIME us), never from a clock of its
 * own; alarm_lifecycle.c raises and clears on them like on the kernel's.
 */
struct config;

/* What the rules keep of a probe between its samples. */
struct probe_health {
	int32_t stuck_ref;		/* the reading the probe stays near */
	uint64_t stuck_since;		/* since when; 0: no reading yet */
	int32_t rate_ref;		/* the reading the rate is measured from */
	uint64_t rate_since;		/* its time; 0: none */
	bool rate_high;			/* the last measured rate was too fast */
};

/* No new sample since @seen_usec for SilentIntervals of @interval_ms (at least SilentMinSec). */
bool health_silent(const struct config *c, uint64_t seen_usec, uint32_t interval_ms,
		   uint64_t now_usec);
/* A valid reading @temp at @now_usec: the probe has stayed within the band for StuckSec. */
bool health_stuck(const struct config *c, struct probe_health *h, int32_t temp,
		  uint64_t now_usec);
/*
 * A valid reading @temp at @now_usec: the rate over the last minute or
 * more is above RateLimitMdegPerMin (measured once a minute, kept between).
 */
bool health_rate(const struct config *c, struct probe_health *h, int32_t temp,
		 uint64_t now_usec);
/* A reading that is not valid (@status as TempNStatus): forget the references. */
void health_no_reading(struct probe_health *h);
/* TempNStatus 2 (no data) or 3 (disconnected): the kernel reports a probe fault. */
bool health_fault(const struct config *c, uint32_t status);
/* coldroomd (or the host) was down from @alive_usec to @start_usec longer than OutageSec. */
bool health_outage(const struct config *c, uint64_t alive_usec, uint64_t start_usec);
/* A reading out of its band: the kernel's condition, or outside [@min, @max]. */
bool health_out_of_band(bool kernel_alarm, bool valid, int32_t temp, int32_t min, int32_t max);

/* A serial fit for the state file and a unit instance name. */
bool alarm_serial_ok(const char *serial);

/* A probe's calibration, as an admin set it (SetCalibration). */
#define CALIBRATION_CERT_MAX 64
#define CALIBRATION_OFFSET_MAX 100000	/* mC either way */

struct calibration {
	uint64_t calibrated_usec;	/* CLOCK_REALTIME; 0: none known */
	uint64_t due_usec;
	int32_t as_found_mdeg;		/* the probe's error found, before adjusting */
	int32_t as_left_mdeg;		/* and left, after */
	char certificate[CALIBRATION_CERT_MAX];
};

/* A calibration fit to keep; else -EINVAL and @why says what is wrong. */
int calibration_check(const struct calibration *c, const char **why);
/* Whole days from @now_usec until the due date, counted down; negative: overdue. */
int64_t calibration_days_left(const struct calibration *c, uint64_t now_usec);
/* The reminder @kind (ALARM_KIND_CAL_*) is due at @now_usec: 90 or 30 days before, or on the day. */
bool calibration_reminder(const struct calibration *c, enum alarm_kind kind, uint64_t now_usec);

/*
 * The state file: "next-id N", "delay SERIAL PROBE SECONDS" and one
 * "alarm ..." line per open alarm, a "calibration ..." line per probe
 * whose calibration is known, the alarm's kind last unless it is the
 * temperature (so that a file of temperature alarms is what older
 * coldroomd versions wrote and read). alarm_state_parse() calls @on_alarm and
 * @on_delay per valid line; it rejects the whole text (-EINVAL, @line set)
 * at the first line it cannot parse.
 */
struct alarm_state_parser {
	void *userdata;
	int (*on_alarm)(void *userdata, const struct alarm_record *a);
	int (*on_delay)(void *userdata, const char *serial, unsigned int probe,
			unsigned int seconds);
	int (*on_calibration)(void *userdata, const char *serial, unsigned int probe,
			      const struct calibration *c);
	uint64_t next_id;
};
int alarm_state_parse(const char *text, size_t len, struct alarm_state_parser *p,
		      unsigned int *line);
/* One "alarm" line (with its newline) into @buf; returns its length or -ENOSPC. */
int alarm_state_format(const struct alarm_record *a, char *buf, size_t size);
/* One "calibration SERIAL PROBE CALIBRATED DUE AS_FOUND AS_LEFT CERTIFICATE" line. */
int calibration_state_format(const char *serial, unsigned int probe,
			     const struct calibration *c, char *buf, size_t size);

/*
 * The unit instance of @serial, @probe and @kind, "SERIAL-PROBE" for the
 * temperature, "SERIAL-PROBE-KIND" for the others: a serial
 * alarm_serial_ok() accepts needs no escaping, so the unit's name is the
 * serial as operators know it.
 */
int alarm_instance_name(const char *serial, unsigned int probe, enum alarm_kind kind,
			char *buf, size_t size);

#endif
