// SPDX-License-Identifier: GPL-2.0 OR MIT
/* unit_index.c - a unit's Number to its place in dense arrays (unit_index.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit_index.h"

void unit_index_free(struct unit_index *x)
{
	free(x->v);
	*x = (struct unit_index){ 0 };
}

/* The first position whose number is not below @number. */
static size_t lower_bound(const struct unit_index *x, uint32_t number)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->v[mid].number < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long unit_index_seek(const struct unit_index *x, uint32_t number, size_t *hint)
{
	size_t pos = lower_bound(x, number);

	if (pos >= x->n || x->v[pos].number != number)
		return -1;
	*hint = pos + 1;
	return x->v[pos].at;
}

int unit_index_add(struct unit_index *x, uint32_t number, uint32_t at)
{
	size_t pos;

	if (number > COLDROOM_UNIT_MAX)
		return -EINVAL;
	pos = lower_bound(x, number);
	if (pos < x->n && x->v[pos].number == number)
		return -EEXIST;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct unit_index_entry *v = realloc(x->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	memmove(&x->v[pos + 1], &x->v[pos], (x->n - pos) * sizeof(*x->v));
	x->v[pos] = (struct unit_index_entry){ .number = number, .at = at };
	x->n++;
	return 0;
}

int unit_index_remove(struct unit_index *x, uint32_t number)
{
	size_t pos = lower_bound(x, number);

	if (pos >= x->n || x->v[pos].number != number)
		return -ENOENT;
	memmove(&x->v[pos], &x->v[pos + 1], (x->n - pos - 1) * sizeof(*x->v));
	x->n--;
	return 0;
}

int unit_index_move(struct unit_index *x, uint32_t number, uint32_t to)
{
	size_t pos = lower_bound(x, number);

	if (pos >= x->n || x->v[pos].number != number)
		return -ENOENT;
	x->v[pos].at = to;
	return 0;
}
