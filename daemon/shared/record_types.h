/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * record_types.h - the record's entries as the writer and every reader
 * see them (recorder/RECORD.md), whether it reads the database,
 * Recorder1 or the MQTT payloads: why a row has fewer samples than it
 * should, and an audit trail entry.
 */
#ifndef COLDROOM_RECORD_TYPES_H
#define COLDROOM_RECORD_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* record.status: why an interval has fewer samples than it should. */
enum record_status {
	RECORD_OK = 0,			/* every reading was good */
	RECORD_NO_DATA = 1,		/* no firmware, or no sample came */
	RECORD_PROBE_FAULT = 2,		/* the probe reported disconnected */
	RECORD_UNIT_GONE = 3,		/* the unit was removed */
	RECORD_NOT_RUNNING = 4,		/* the recorder (or coldroomd) was not running */
	RECORD_CLOCK_JUMP = 5,		/* the wall clock was set during the interval */
	RECORD_NOT_WRITTEN = 6,		/* the record could not be written (disk full) */
	RECORD_STATUS_COUNT
};

static inline const char *record_status_name(unsigned int status)
{
	static const char *const names[RECORD_STATUS_COUNT] = {
		[RECORD_OK] = "ok",
		[RECORD_NO_DATA] = "no-data",
		[RECORD_PROBE_FAULT] = "probe-fault",
		[RECORD_UNIT_GONE] = "unit-gone",
		[RECORD_NOT_RUNNING] = "not-running",
		[RECORD_CLOCK_JUMP] = "clock-jump",
		[RECORD_NOT_WRITTEN] = "not-written",
	};

	return status < RECORD_STATUS_COUNT ? names[status] : "invalid";
}

/*
 * record.lost_why: why a row's lost samples (taken by the unit, not in its
 * n) were lost, where known (RECORD.md, "Every sample"); bits.
 */
#define RECORD_LOST_UPSTREAM	0x1	/* a jump of the unit's sample_seq while coldroomd ran */
#define RECORD_LOST_COLDROOMD	0x2	/* taken while coldroomd was not running */
#define RECORD_LOST_LATE	0x4	/* delivered after their interval was written */
#define RECORD_LOST_KNOWN	0x7

/* @why as "upstream", "coldroomd", "late", joined by @sep ("" for 0), into @buf. */
static inline const char *record_lost_why_names(unsigned int why, const char *sep, char *buf,
						size_t size)
{
	static const char *const names[] = { "upstream", "coldroomd", "late" };
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned int b = 0; b < 3 && size; b++) {
		int k;

		if (!(why & (1U << b)))
			continue;
		k = snprintf(buf + len, size - len, "%s%s", len ? sep : "", names[b]);
		if (k < 0 || (size_t)k >= size - len)
			break;
		len += (size_t)k;
	}
	return buf;
}

/* One audit trail entry. Strings may be NULL. */
struct record_event {
	uint64_t seq;			/* set when read back; the writer assigns it */
	uint64_t time_us;		/* CLOCK_REALTIME */
	const char *event;		/* "unit-added", "setting-changed", ... */
	const char *serial;		/* "" or NULL when not about a unit */
	unsigned int probe;
	bool has_uid;
	uid_t uid;
	const char *user;
	const char *what, *old_value, *new_value;
	bool has_reading;
	int64_t reading;
	const char *detail;
	const uint8_t *hash;		/* read back: its chain hash (32 bytes), or NULL */
};

#endif
