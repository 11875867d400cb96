// SPDX-License-Identifier: GPL-2.0 OR MIT
/* intervals.c - readings into recording intervals (intervals.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "intervals.h"

/* TempNStatus values (DBUS-API.md). */
#define STATUS_OK		1
#define STATUS_NO_DATA		2
#define STATUS_DISCONNECTED	3

struct acc {			/* one probe in one open interval */
	int32_t min, max;
	int64_t sum;
	uint32_t n;
	uint8_t worst;		/* worst bad TempNStatus seen, 0 if none */
	uint32_t raw_len, raw_cap;	/* in samples */
	uint8_t *raw;
};

struct slot {			/* per unit: what changes with every sample */
	struct acc acc[2][2];	/* [parity of the interval][probe - 1] */
	uint64_t last_seq;	/* the last sample counted, 0: none yet */
	uint32_t epoch;		/* coldroomd's run it came from */
	uint32_t lost[2];	/* [parity]: samples lost, both probes alike */
	uint8_t lost_why[2];	/* RECORD_LOST_* */
	bool present;
};

struct intervals {
	uint64_t len;
	uint64_t oldest;	/* start of the older open interval */
	uint64_t begin;		/* when recording (re)started */
	uint32_t raw_max;	/* raw samples kept per probe and interval */
	struct slot *slots;	/* dense: the caller's entries */
	char **serials;		/* cold, alike */
	uint32_t n_slots, cap_slots;
	uint64_t refused;
	uint64_t lost_total;
};

int intervals_new(uint64_t interval_us, struct intervals **ret)
{
	struct intervals *iv;

	if (interval_us < 1000000)
		return -EINVAL;
	iv = calloc(1, sizeof(*iv));
	if (!iv)
		return -ENOMEM;
	iv->len = interval_us;
	/* Units sample at most every 0.5 s in practice; more is aggregated only. */
	iv->raw_max = (uint32_t)(interval_us / 500000) + 4;
	*ret = iv;
	return 0;
}

void intervals_free(struct intervals *iv)
{
	if (!iv)
		return;
	for (uint32_t i = 0; i < iv->n_slots; i++) {
		for (int g = 0; g < 2; g++)
			for (int p = 0; p < 2; p++)
				free(iv->slots[i].acc[g][p].raw);
		free(iv->serials[i]);
	}
	free(iv->slots);
	free(iv->serials);
	free(iv);
}

uint64_t intervals_length(const struct intervals *iv)
{
	return iv->len;
}

uint64_t intervals_oldest(const struct intervals *iv)
{
	return iv->oldest;
}

size_t intervals_units(const struct intervals *iv)
{
	return iv->n_slots;
}

uint64_t intervals_refused(const struct intervals *iv)
{
	return iv->refused;
}

uint64_t intervals_lost_total(const struct intervals *iv)
{
	return iv->lost_total;
}

static void acc_clear(struct acc *a)
{
	a->min = INT32_MAX;
	a->max = INT32_MIN;
	a->sum = 0;
	a->n = 0;
	a->worst = 0;
	a->raw_len = 0;
}

/* What @s holds of the open interval of @parity. */
static void slot_clear(struct slot *s, int parity)
{
	for (int p = 0; p < 2; p++)
		acc_clear(&s->acc[parity][p]);
	s->lost[parity] = 0;
	s->lost_why[parity] = 0;
}

/* Room for one more unit. */
static int grow(struct intervals *iv)
{
	uint32_t n = iv->cap_slots ? 2 * iv->cap_slots : 64;
	struct slot *slots;
	char **serials;

	if (iv->n_slots < iv->cap_slots)
		return 0;
	slots = realloc(iv->slots, n * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	iv->slots = slots;
	serials = realloc(iv->serials, n * sizeof(*serials));
	if (!serials)
		return -ENOMEM;
	iv->serials = serials;
	iv->cap_slots = n;
	return 0;
}

int intervals_unit_add(struct intervals *iv, uint32_t unit, const char *serial)
{
	struct slot *s;
	char *copy;
	int k;

	if (unit > iv->n_slots || !serial || !*serial)
		return -EINVAL;
	if (unit == iv->n_slots) {
		copy = strdup(serial);
		k = copy ? grow(iv) : -ENOMEM;
		if (k) {
			free(copy);
			return k;
		}
		s = &iv->slots[unit];
		memset(s, 0, sizeof(*s));
		for (int g = 0; g < 2; g++)
			slot_clear(s, g);
		iv->serials[unit] = copy;
		iv->n_slots++;
	}
	s = &iv->slots[unit];
	if (strcmp(iv->serials[unit], serial)) {
		copy = strdup(serial);
		if (!copy)
			return -ENOMEM;
		free(iv->serials[unit]);
		iv->serials[unit] = copy;
		/* Another unit under this Number: nothing of the old one carries over. */
		for (int g = 0; g < 2; g++)
			slot_clear(s, g);
		s->last_seq = 0;
	}
	s->present = true;
	return 0;
}

void intervals_unit_gone(struct intervals *iv, uint32_t unit)
{
	if (unit < iv->n_slots)
		iv->slots[unit].present = false;
}

static int raw_append(struct intervals *iv, struct acc *a, uint32_t ms, int32_t mdeg)
{
	uint8_t *p;

	if (a->raw_len == a->raw_cap) {
		uint32_t cap = a->raw_cap ? a->raw_cap * 2 : 16;

		if (cap > iv->raw_max)
			cap = iv->raw_max;
		if (cap <= a->raw_len)
			return -ENOSPC;
		p = realloc(a->raw, (size_t)cap * INTERVALS_SAMPLE_SIZE);
		if (!p)
			return -ENOMEM;
		a->raw = p;
		a->raw_cap = cap;
	}
	p = a->raw + (size_t)a->raw_len * INTERVALS_SAMPLE_SIZE;
	for (int k = 0; k < 4; k++) {
		p[k] = (uint8_t)(ms >> (8 * k));
		p[4 + k] = (uint8_t)((uint32_t)mdeg >> (8 * k));
	}
	a->raw_len++;
	return 0;
}

bool intervals_sample(struct intervals *iv, uint32_t unit, unsigned int probe,
		      int32_t mdeg, unsigned int status, uint64_t stamp_us)
{
	uint64_t start = stamp_us - stamp_us % iv->len;
	struct slot *s;
	struct acc *a;

	if (unit >= iv->n_slots || probe < 1 || probe > 2)
		return false;
	if (start != iv->oldest && start != iv->oldest + iv->len) {
		iv->refused++;
		return false;
	}
	s = &iv->slots[unit];
	a = &s->acc[(start / iv->len) & 1][probe - 1];
	if (status != STATUS_OK) {
		if (status > a->worst && status <= STATUS_DISCONNECTED)
			a->worst = (uint8_t)status;
		return true;
	}
	if (mdeg < a->min)
		a->min = mdeg;
	if (mdeg > a->max)
		a->max = mdeg;
	a->sum += mdeg;
	a->n++;
	/* Past the raw cap the sample still counts in the aggregate. */
	(void)raw_append(iv, a, (uint32_t)((stamp_us - start) / 1000), mdeg);
	return true;
}

/* @n more samples lost in the interval of @parity, for @why. */
static void add_lost(struct intervals *iv, struct slot *s, int parity, uint64_t n,
		     unsigned int why)
{
	uint64_t sum = s->lost[parity] + n;

	/* A row holds 32 bits; a jump that large says all there is to say. */
	s->lost[parity] = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
	s->lost_why[parity] |= (uint8_t)why;
	iv->lost_total += n;
}

enum intervals_taken intervals_reading(struct intervals *iv, uint32_t unit,
				       const struct intervals_reading *rd)
{
	uint64_t start = rd->stamp_us - rd->stamp_us % iv->len;
	uint64_t skipped = 0;
	unsigned int why = 0;
	struct slot *s;
	int parity;

	if (unit >= iv->n_slots)
		return INTERVALS_NO_UNIT;
	s = &iv->slots[unit];
	/* sample_seq 0: the unit has not sampled yet (no reading to count). */
	if (!rd->seq || rd->seq == s->last_seq)
		return INTERVALS_SEEN;
	if (s->last_seq && rd->seq > s->last_seq + 1) {
		skipped = rd->seq - s->last_seq - 1;
		why = rd->epoch != s->epoch ? RECORD_LOST_COLDROOMD : RECORD_LOST_UPSTREAM;
	}
	s->last_seq = rd->seq;
	s->epoch = rd->epoch;
	if (start != iv->oldest && start != iv->oldest + iv->len) {
		/* Its interval is written (or not open yet): lost, and said so. */
		iv->refused++;
		add_lost(iv, s, (int)((iv->oldest / iv->len) & 1), skipped + 1,
			 why | RECORD_LOST_LATE);
		return INTERVALS_LATE;
	}
	parity = (int)((start / iv->len) & 1);
	if (skipped)
		add_lost(iv, s, parity, skipped, why);
	for (unsigned int p = 1; p <= 2; p++)
		intervals_sample(iv, unit, p, rd->mdeg[p - 1], rd->status[p - 1], rd->stamp_us);
	return INTERVALS_TAKEN;
}

uint32_t intervals_lost(const struct intervals *iv, uint32_t unit, uint64_t start_us,
			unsigned int *why)
{
	int parity = (int)((start_us / iv->len) & 1);

	if (unit >= iv->n_slots || (start_us != iv->oldest && start_us != iv->oldest + iv->len)) {
		*why = 0;
		return 0;
	}
	*why = iv->slots[unit].lost_why[parity];
	return iv->slots[unit].lost[parity];
}

static int32_t mean_of(int64_t sum, uint32_t n)
{
	/* Rounded to the nearest millidegree, halves away from zero. */
	return (int32_t)(sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n));
}

/* Rows of the open interval that starts at @start, up to @end_us. */
static int write_one(struct intervals *iv, uint64_t start, uint64_t end_us,
		     bool clock_jumped, struct record *r)
{
	int parity = (int)((start / iv->len) & 1);
	uint64_t from = start > iv->begin ? start : iv->begin;
	uint64_t to = end_us < start + iv->len ? end_us : start + iv->len;
	int k = 0;

	if (to <= from)
		return 0;
	for (uint32_t i = 0; i < iv->n_slots && !k; i++) {
		struct slot *s = &iv->slots[i];

		for (unsigned int p = 0; p < 2 && !k; p++) {
			struct acc *a = &s->acc[parity][p];
			struct record_row row = {
				.start_us = from, .end_us = to,
				.serial = iv->serials[i], .probe = p + 1, .n = a->n,
				.lost = s->lost[parity], .lost_why = s->lost_why[parity],
			};

			if (a->n) {
				row.min = a->min;
				row.max = a->max;
				row.mean = mean_of(a->sum, a->n);
				row.status = a->worst == STATUS_DISCONNECTED ? RECORD_PROBE_FAULT :
					     a->worst ? RECORD_NO_DATA : RECORD_OK;
				row.samples = a->raw;
				row.samples_len = (size_t)a->raw_len * INTERVALS_SAMPLE_SIZE;
			} else {
				row.status = !s->present ? RECORD_UNIT_GONE :
					     a->worst == STATUS_DISCONNECTED ? RECORD_PROBE_FAULT :
					     clock_jumped ? RECORD_CLOCK_JUMP : RECORD_NO_DATA;
			}
			k = record_add_row(r, &row);
		}
	}
	return k;
}

int intervals_write(struct intervals *iv, uint64_t end_us, bool clock_jumped,
		    struct record *r)
{
	int k = 0;

	for (int g = 0; g < 2 && !k; g++) {
		uint64_t start = iv->oldest + (uint64_t)g * iv->len;

		if (start < end_us)
			k = write_one(iv, start, end_us, clock_jumped, r);
	}
	return k;
}

void intervals_advance(struct intervals *iv, uint64_t end_us)
{
	for (int g = 0; g < 2 && iv->oldest + iv->len <= end_us; g++) {
		int parity = (int)((iv->oldest / iv->len) & 1);

		for (uint32_t i = 0; i < iv->n_slots; i++)
			slot_clear(&iv->slots[i], parity);
		iv->oldest += iv->len;
	}
}

void intervals_reset(struct intervals *iv, uint64_t now_us)
{
	iv->oldest = now_us - now_us % iv->len;
	iv->begin = now_us;
	for (uint32_t i = 0; i < iv->n_slots; i++)
		for (int g = 0; g < 2; g++)
			slot_clear(&iv->slots[i], g);
}
