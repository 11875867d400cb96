/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * unit_index.h - a unit's Number to its place in a client's dense arrays.
 *
 * Numbers go up to COLDROOM_UNIT_MAX (2^20 - 1), so a table indexed by
 * Number is as large as the largest Number a message names, not as the
 * units that exist: one unit called sensor1048575 would cost a client a
 * million entries. The clients keep their per-unit state in dense arrays
 * of the units that exist instead, and this index maps a Number to its
 * entry: the (Number, entry) pairs sorted by Number, 8 bytes a unit.
 *
 * A lookup is a binary search, unless the entry after the previous
 * lookup's is the one (unit_index_next()): the units of a Readings signal
 * or a GetReadings reply come mostly in Number order, so a pass over them
 * costs a comparison a unit. Walking v[] visits the units in Number order.
 */
#ifndef COLDROOM_UNIT_INDEX_H
#define COLDROOM_UNIT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <linux/coldroom.h>

struct unit_index_entry {
	uint32_t number;
	uint32_t at;		/* the entry in the client's dense arrays */
};

struct unit_index {
	struct unit_index_entry *v;	/* sorted by number */
	size_t n, cap;
};

void unit_index_free(struct unit_index *x);
static inline void unit_index_clear(struct unit_index *x)
{
	x->n = 0;
}

/*
 * The entry of unit @number, or -1. *@hint: where a lookup found its unit
 * (the position after it), for the next.
 */
long unit_index_seek(const struct unit_index *x, uint32_t number, size_t *hint);

static inline long unit_index_find(const struct unit_index *x, uint32_t number)
{
	size_t hint;

	return unit_index_seek(x, number, &hint);
}

/*
 * The same for a pass over many units: *@hint is where the previous
 * lookup of the pass ended (0 to start one).
 */
static inline long unit_index_next(const struct unit_index *x, uint32_t number, size_t *hint)
{
	size_t h = *hint;

	if (h < x->n && x->v[h].number == number) {
		*hint = h + 1;
		return x->v[h].at;
	}
	return unit_index_seek(x, number, hint);
}

/*
 * Unit @number is at entry @at: -EINVAL when @number is above
 * COLDROOM_UNIT_MAX, -EEXIST when it is indexed already, -ENOMEM.
 */
int unit_index_add(struct unit_index *x, uint32_t number, uint32_t at);

/* Forget unit @number; -ENOENT if it was not indexed. */
int unit_index_remove(struct unit_index *x, uint32_t number);

/* Unit @number is now at entry @to (a dense array's last entry moved into a hole). */
int unit_index_move(struct unit_index *x, uint32_t number, uint32_t to);

#endif
