/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * intervals.h - the recorder's accumulation of readings into recording
 * intervals: per unit and probe, min, mean, max, count and the raw samples
 * of each interval, aligned to the wall clock (12:00:00, 12:01:00, ...).
 *
 * Every sample counts (RECORD.md, "Every sample"): a unit's samples are
 * numbered (coldroomd's sample_seq), and a number skipped is a sample
 * lost, counted in the row of the interval the next sample falls in with
 * why, where known; a sample that comes after its interval was written is
 * counted lost (late) in the oldest open interval.
 *
 * A sample belongs to the interval its own time stamp falls in. Two
 * intervals are open at once, so that samples taken just before a
 * boundary and delivered just after it still count where they were taken;
 * an interval is written (intervals_write()) a grace period after its end.
 * Hot state is one dense array of the units known, in the order they came
 * (the caller's own entries: the recorder's unit i is unit i here), two
 * accumulators per probe, one per open interval.
 */
#ifndef COLDROOM_INTERVALS_H
#define COLDROOM_INTERVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define INTERVALS_SAMPLE_SIZE	8		/* le32 ms since start, le32 mdeg */

struct intervals;

/* @interval_us: the recording interval. */
int intervals_new(uint64_t interval_us, struct intervals **ret);
void intervals_free(struct intervals *iv);

uint64_t intervals_length(const struct intervals *iv);

/*
 * A unit is recorded from the first interval it is known in. @unit is an
 * entry known already or the next one (intervals_units()): units are
 * never dropped, so rows say a unit that went is gone. @serial is copied.
 * Known again after intervals_unit_gone(): present again.
 */
int intervals_unit_add(struct intervals *iv, uint32_t unit, const char *serial);
void intervals_unit_gone(struct intervals *iv, uint32_t unit);

/*
 * One reading. @status is TempNStatus (1 ok, 2 no data, 3 probe
 * disconnected). Returns false when the sample was not taken in an open
 * interval (too late or too early) and so is not recorded.
 */
bool intervals_sample(struct intervals *iv, uint32_t unit, unsigned int probe,
		      int32_t mdeg, unsigned int status, uint64_t stamp_us);

/* One sample of a unit, both probes, as the Readings signal carries it. */
struct intervals_reading {
	uint64_t seq;			/* the unit's sample_seq */
	uint32_t epoch;			/* coldroomd's run it came from */
	int32_t mdeg[2];
	uint8_t status[2];		/* TempNStatus */
	uint64_t stamp_us;		/* when it was taken, CLOCK_REALTIME */
};

enum intervals_taken {
	INTERVALS_TAKEN,		/* in its interval */
	INTERVALS_SEEN,			/* counted already, or no sample (seq 0): nothing changes */
	INTERVALS_LATE,			/* outside the open intervals: counted lost */
	INTERVALS_NO_UNIT,
};

/*
 * One reading of @unit, with its continuity: the samples between the
 * unit's last sample_seq and @rd's were lost (RECORD_LOST_UPSTREAM, or
 * RECORD_LOST_COLDROOMD when @rd->epoch differs from the last sample's:
 * coldroomd was restarted between them) and are counted in the interval
 * @rd falls in. The first sample of a unit (since the start, or since
 * intervals_unit_add() gave the Number to another serial) and a sample_seq
 * that went back (the unit was made anew) count nothing lost.
 */
enum intervals_taken intervals_reading(struct intervals *iv, uint32_t unit,
				       const struct intervals_reading *rd);

/* The lost count of @unit in the open interval that starts at @start_us (tests, status). */
uint32_t intervals_lost(const struct intervals *iv, uint32_t unit, uint64_t start_us,
			unsigned int *why);

/*
 * Write the open intervals that start before @end_us, each up to its end
 * or @end_us, with record_add_row() into the open group of @r: two rows
 * per known unit, the aggregate or a gap row saying why samples are
 * missing. An interval with a clock jump in it says so on its gap rows.
 * Nothing is forgotten until intervals_advance(): a write that is not
 * committed can be made again.
 */
int intervals_write(struct intervals *iv, uint64_t end_us, bool clock_jumped,
		    struct record *r);
/* Forget the open intervals that end by @end_us; the next ones open. */
void intervals_advance(struct intervals *iv, uint64_t end_us);

/* The oldest open interval's start: the next to write. */
uint64_t intervals_oldest(const struct intervals *iv);

/*
 * (Re)start at @now_us: the open intervals become the one @now_us is in
 * and the next; the first row of each unit starts at @now_us.
 */
void intervals_reset(struct intervals *iv, uint64_t now_us);

/*
 * Units known, samples refused as outside the open intervals, and samples
 * counted lost since the start (those included).
 */
size_t intervals_units(const struct intervals *iv);
uint64_t intervals_refused(const struct intervals *iv);
uint64_t intervals_lost_total(const struct intervals *iv);

#endif
