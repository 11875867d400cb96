/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * record.h - the temperature record: an SQLite database (WAL) with two
 * hash chains, the readings ("record": one row per unit, probe and
 * recording interval) and the audit trail ("audit": events and changes).
 * Each row carries SHA-256(previous row's hash || the row's columns), so a
 * row changed, deleted, inserted or moved behind the product's back breaks
 * the chain where it was touched. RECORD.md describes the schema and the
 * encoding as a contract for other verifiers.
 *
 * The recorder writes (record_open(..., RECORD_WRITE)); coldroomctl
 * record verify only reads.
 */
#ifndef COLDROOM_RECORD_H
#define COLDROOM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record_types.h"

#define RECORD_DEFAULT_PATH	"/var/lib/coldroom/record.db"
#define RECORD_HASH_SIZE	32
#define RECORD_MESSAGE_MAX	512

struct record;

enum record_mode { RECORD_READ, RECORD_WRITE };

/*
 * Open (and with RECORD_WRITE create) the database at @path. On failure
 * @err says why. The writer is the only one: a second writer gets -EBUSY.
 */
int record_open(const char *path, enum record_mode mode, struct record **ret,
		char *err, size_t err_len);
void record_close(struct record *r);
static inline void record_closep(struct record **r)
{
	if (*r)
		record_close(*r);
}

/* One recording interval of one probe of one unit (or of the host). */
struct record_row {
	uint64_t start_us, end_us;	/* CLOCK_REALTIME, [start, end) */
	const char *serial;		/* "" for the whole host */
	unsigned int probe;		/* 1 or 2; 0 for the whole host */
	uint32_t n;			/* good samples */
	int32_t min, mean, max;		/* millidegree C; meaningless when n == 0 */
	unsigned int status;		/* enum record_status */
	const void *samples;		/* raw samples (RECORD.md), or NULL */
	size_t samples_len;
	uint32_t lost;			/* samples the unit took that are not in n */
	unsigned int lost_why;		/* RECORD_LOST_* bits: why, where known */
};


/*
 * The longest a unit's row may be: an interval (RecordIntervalSec is at
 * most 900 s). History reads rely on it; the host's rows have no bound.
 */
#define RECORD_ROW_MAX_US	(900ULL * 1000000)

/*
 * Writes are grouped: record_begin(), any number of record_add_row() and
 * record_add_event(), record_commit() (one fsync'd transaction that also
 * moves the chain heads). record_rollback() forgets the group, heads
 * included. An error leaves the group to be rolled back.
 */
int record_begin(struct record *r);
int record_add_row(struct record *r, const struct record_row *row);
int record_add_event(struct record *r, const struct record_event *ev);
int record_commit(struct record *r);
void record_rollback(struct record *r);

/* The last row of each chain as committed (0 and zeros when empty). */
struct record_head {
	int64_t seq;
	uint8_t hash[RECORD_HASH_SIZE];
};
void record_heads(const struct record *r, struct record_head *record,
		  struct record_head *audit);

/*
 * The value the audit trail last recorded for the site's setting @what
 * (a setting-changed entry about no unit): 1 and @value set, 0 when it
 * never changed, or a negative errno.
 */
int record_last_setting(struct record *r, const char *what, char *value, size_t size);

/* The last interval recorded (its end), 0 when none: where a gap starts. */
int record_last_end(struct record *r, uint64_t *end_us);

/*
 * Retention: drops raw samples of intervals that started before
 * @raw_before_us and whole rows that started before @rows_before_us
 * (never audit rows), in batches of at most @batch rows per call so that
 * readings are never held up; *@more is set when there is more to do.
 * The chain's new base is kept and written to the audit trail.
 */
int record_prune(struct record *r, uint64_t raw_before_us,
		 uint64_t rows_before_us, unsigned int batch, bool *more);

/*
 * One page of a read that an unprivileged caller asks for (Recorder1):
 * the rows after (@after_time, @after_seq) in the read's order (time,
 * then seq; zeros: from the first), at most @max of them, and no more
 * once @budget_us (0: none) has passed after the first, so that no call
 * holds the recorder's loop for long whatever the disk. ->more says that
 * rows remain; the next page starts after (->next_time, ->next_seq), the
 * last row returned.
 */
struct record_page {
	uint64_t after_time, after_seq;
	size_t max;
	uint64_t budget_us;
	bool more;
	uint64_t next_time, next_seq;
};

/*
 * The rows of one unit's probe, and the host's gap rows (not-running,
 * clock-jump, not-written: every unit's), that overlap [@since_us,
 * @until_us), in time order (start, then seq), one page @pg of them.
 * Arrays owned by @h.
 */
struct record_history {
	size_t n, cap;
	uint64_t *start_us, *end_us;
	uint32_t *count;
	int32_t *min, *mean, *max;	/* meaningless where count is 0 */
	uint8_t *status;		/* enum record_status */
	uint32_t *lost;			/* samples lost (0 in rows of schema 1) */
	uint8_t *lost_why;		/* RECORD_LOST_* */
};
int record_history(struct record *r, const char *serial, unsigned int probe, uint64_t since_us,
		   uint64_t until_us, struct record_page *pg, struct record_history *h);
void record_history_free(struct record_history *h);

/*
 * The audit entries about @serial in [@since_us, @until_us), in time order
 * (time, then seq), one page @pg of them; @fn is called with each (its
 * strings live until it returns) and may stop the walk with a negative
 * errno.
 */
int record_events(struct record *r, const char *serial, uint64_t since_us, uint64_t until_us,
		  struct record_page *pg, int (*fn)(void *userdata, const struct record_event *ev),
		  void *userdata);

/*
 * What was written after @after_seq, in seq order, for a follower that
 * forwards the record (coldroom-uplink): at most @max_rows record rows
 * (record_rows_after; the host's rows have serial "" and probe 0), or at
 * most @max_events audit entries (record_events_after; @fn as above).
 */
struct record_rows {
	size_t n;
	struct record_history h;	/* start, end, count, min, mean, max, status */
	uint64_t *seq;
	char **serial;
	uint8_t *probe;
	uint8_t *hash;			/* n x RECORD_HASH_SIZE: each row's chain hash */
	uint8_t *samples_sha256;	/* n x RECORD_HASH_SIZE, where has_samples */
	uint8_t *has_samples;		/* samples_sha256 is not NULL */
	uint8_t *has_lost;		/* lost, lost_why are not NULL (schema 2 on): hashed */
};
int record_rows_after(struct record *r, uint64_t after_seq, size_t max_rows,
		      struct record_rows *b);
void record_rows_free(struct record_rows *b);
int record_events_after(struct record *r, uint64_t after_seq, size_t max_events,
			int (*fn)(void *userdata, const struct record_event *ev), void *userdata);

/*
 * The hash of row @seq of the record (or with @audit, the audit trail)
 * as stored: 1 and @out set, 0 when there is no such row. Row 0 is the
 * zeros every chain starts from; the record's base after pruning has
 * the base hash. A follower sends it as the first row's previous hash.
 */
int record_hash_at(struct record *r, bool audit, int64_t seq, uint8_t out[RECORD_HASH_SIZE]);

struct record_verify {
	bool intact;
	int64_t record_rows, audit_rows;
	char message[RECORD_MESSAGE_MAX];	/* "intact: ..." or the first break */
};

/* Walk both chains whole. Returns 0 when the walk was possible (see ->intact). */
int record_verify(struct record *r, struct record_verify *v);

/*
 * The same walk in slices, for a process that must stay responsive (the
 * recorder): each record_walk_step() is one short read transaction that
 * walks for about @budget_us (0: to the end) and returns 0 when there is
 * more to walk, 1 when the walk is over (@v says intact or the break, and
 * how many rows are known intact), a negative errno when it could not
 * run. Rows appended or pruned between steps are followed. A walk may
 * start at a checkpoint (the last rows a walk found intact, see
 * record_walk_position()); from NULL it starts at the chains' base.
 */
struct record_checkpoint {
	struct record_head record, audit;
	char pruned[96];	/* the audit trail's last record-pruned value up to audit.seq */
	int64_t full_us;	/* CLOCK_REALTIME: when the last walk from the base ended */
};
struct record_walk;
int record_walk_new(const struct record_checkpoint *from, struct record_walk **ret);
int record_walk_step(struct record *r, struct record_walk *w, uint64_t budget_us,
		     struct record_verify *v);
void record_walk_position(const struct record_walk *w, struct record_checkpoint *cp);
void record_walk_free(struct record_walk *w);

/*
 * The recorder's checkpoint, kept in meta (RECORD.md says why that cannot
 * hide an edit from a full walk): loaded (zeros when none), stored now in
 * a transaction of its own (the writer only, outside a write group), or
 * deferred to the next record_commit(), so that storing it costs no
 * commit of its own (a commit's fsync can hold a process for long).
 */
int record_checkpoint_load(struct record *r, struct record_checkpoint *cp);
int record_checkpoint_store(struct record *r, const struct record_checkpoint *cp);
int record_checkpoint_defer(struct record *r, const struct record_checkpoint *cp);

/*
 * Anchors in the journal (RECORD.md): the recorder sends both heads with
 * this MESSAGE_ID after each commit that moved one, with the fields
 * COLDROOM_DATABASE (the file's absolute path), COLDROOM_RECORD_SEQ,
 * COLDROOM_RECORD_HASH, COLDROOM_AUDIT_SEQ, COLDROOM_AUDIT_HASH (hex).
 */
#define RECORD_ANCHOR_MESSAGE_ID	"4e03b7dfd7114b3b95e26ce8dfdda6ad"
#define RECORD_ANCHOR_BAD_MAX		16

struct record_anchor_bad {
	size_t n, total;		/* listed, and in all */
	int64_t last;
	int64_t seq[RECORD_ANCHOR_BAD_MAX];	/* the first anchored rows that disagree */
};
struct record_anchor_report {
	bool agree;
	size_t anchors, malformed;
	uint64_t first_us, last_us;	/* the first and last anchor's time */
	struct record_anchor_bad bad[2];	/* record, audit */
	char message[1024];
};

/*
 * Check the record as record_verify() last loaded it against the anchors
 * of @database in @j that user @writer (the file's owner) sent. Returns 0
 * when the check was possible (see ->agree), or a negative errno.
 */
struct sd_journal;
int record_check_anchors(struct record *r, struct sd_journal *j, const char *database,
			 uid_t writer, struct record_anchor_report *rep);

const char *record_error(const struct record *r);

#endif
