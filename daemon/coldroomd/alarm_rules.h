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

/* A serial fit for the state file and a unit instance name. */
bool alarm_serial_ok(const char *serial);

/*
 * The state file: "next-id N", "delay SERIAL PROBE SECONDS" and one
 * "alarm ..." line per open alarm. alarm_state_parse() calls @on_alarm and
 * @on_delay per valid line; it rejects the whole text (-EINVAL, @line set)
 * at the first line it cannot parse.
 */
struct alarm_state_parser {
	void *userdata;
	int (*on_alarm)(void *userdata, const struct alarm_record *a);
	int (*on_delay)(void *userdata, const char *serial, unsigned int probe,
			unsigned int seconds);
	uint64_t next_id;
};
int alarm_state_parse(const char *text, size_t len, struct alarm_state_parser *p,
		      unsigned int *line);
/* One "alarm" line (with its newline) into @buf; returns its length or -ENOSPC. */
int alarm_state_format(const struct alarm_record *a, char *buf, size_t size);

/*
 * The unit instance of @serial and @probe, "SERIAL-PROBE": a serial
 * alarm_serial_ok() accepts needs no escaping, so the unit's name is the
 * serial as operators know it.
 */
int alarm_instance_name(const char *serial, unsigned int probe, char *buf, size_t size);

#endif
