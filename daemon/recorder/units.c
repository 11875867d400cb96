// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * units.c - the units recorded, by Number: present or not, and what the
 * audit trail compares a change against; apart, as every signal looks them up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "intervals.h"
#include "log.h"
#include "macro.h"
#include "readings_msg.h"
#include "recorder.h"
#include "unit_client.h"
#include "unit_name.h"

static int units_grow(struct recorder *rc, uint32_t number)
{
	uint32_t n = rc->n_units ? rc->n_units : 64;
	struct unit_state *units;
	uint64_t *seq;
	uint8_t *alarms;

	while (n <= number)
		n *= 2;
	if (n > INTERVALS_MAX_UNITS)
		n = INTERVALS_MAX_UNITS;
	units = realloc(rc->units, n * sizeof(*units));
	if (!units)
		return -ENOMEM;
	rc->units = units;
	seq = realloc(rc->last_seq, n * sizeof(*seq));
	if (!seq)
		return -ENOMEM;
	rc->last_seq = seq;
	alarms = realloc(rc->alarms, n * sizeof(*alarms));
	if (!alarms)
		return -ENOMEM;
	rc->alarms = alarms;
	memset(units + rc->n_units, 0, (n - rc->n_units) * sizeof(*units));
	memset(seq + rc->n_units, 0, (n - rc->n_units) * sizeof(*seq));
	memset(alarms + rc->n_units, 0, (n - rc->n_units) * sizeof(*alarms));
	rc->n_units = n;
	return 0;
}

/* The unit state of a unit object path (.../unit/sensorN), or NULL. */
struct unit_state *unit_by_path(struct recorder *rc, const char *path, uint32_t *number)
{
	const char *name = strrchr(path, '/');
	long n;

	if (!name || strncmp(path, SENSORS_PATH "/unit/", strlen(SENSORS_PATH "/unit/")))
		return NULL;
	n = unit_name_number(name + 1);
	if (n < 0 || (unsigned long)n >= rc->n_units || !rc->units[n].known ||
	    !rc->units[n].info.path || strcmp(rc->units[n].info.path, path))
		return NULL;
	*number = (uint32_t)n;
	return &rc->units[n];
}

/* Take @u (its path moves into the state) as unit @u->number, present. */
int unit_seen(struct recorder *rc, struct unit_info *u, bool announce)
{
	struct unit_state *st;
	char detail[400];
	int k;

	if (u->number == NO_NUMBER || u->number >= INTERVALS_MAX_UNITS || !u->serial[0]) {
		log_warning("unit %s is not recorded: it has no sensorN number or serial",
			    u->path ? u->path : "?");
		return 0;
	}
	if (u->number >= rc->n_units) {
		k = units_grow(rc, u->number);
		if (k)
			return k;
	}
	k = intervals_unit_add(rc->iv, u->number, u->serial);
	if (k)
		return k;
	st = &rc->units[u->number];
	if (announce || (st->known && strcmp(st->info.serial, u->serial))) {
		snprintf(detail, sizeof(detail), "%s %s, model %s, label '%s', firmware %s",
			 u->name, u->serial, u->model, u->label, u->fw_state);
		audit(rc, "unit-added", u->serial, 0, NULL, NULL, NULL, NULL, detail);
	}
	free(st->info.path);
	st->info = *u;
	u->path = NULL;
	st->known = true;
	st->present = true;
	rc->alarms[u->number] = (uint8_t)((u->alarm[0] ? READINGS_ALARM_TEMP1 : 0) |
					  (u->alarm[1] ? READINGS_ALARM_TEMP2 : 0));
	return 0;
}

void unit_gone(struct recorder *rc, uint32_t number, const char *why)
{
	struct unit_state *st = &rc->units[number];

	if (!st->present)
		return;
	st->present = false;
	intervals_unit_gone(rc->iv, number);
	audit(rc, "unit-removed", st->info.serial, 0, NULL, NULL, NULL, NULL, why);
}

/* Every unit coldroomd has now; units it no longer has are gone. */
int fetch_all(struct recorder *rc, bool announce)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct unit_list l = { 0 };
	bool *listed;
	int k;

	k = units_fetch(rc->bus, &l, &e);
	if (k < 0) {
		/* Not running yet: it announces itself with NameOwnerChanged. */
		if (sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			return 0;
		log_error("cannot list the units: %s", e.message ? e.message : strerror(-k));
		return k;
	}
	for (size_t i = 0; i < l.n && !k; i++) {
		uint32_t number = l.v[i].number;
		bool was = number < rc->n_units && rc->units[number].present;

		k = unit_seen(rc, &l.v[i], announce && !was);
	}
	listed = k ? NULL : calloc(rc->n_units ? rc->n_units : 1, sizeof(*listed));
	if (!k && !listed)
		k = -ENOMEM;
	for (size_t i = 0; i < l.n && !k; i++)
		if (l.v[i].number < rc->n_units)
			listed[l.v[i].number] = true;
	for (uint32_t n = 0; n < rc->n_units && !k; n++)
		if (rc->units[n].present && !listed[n])
			unit_gone(rc, n, "no longer published by coldroomd");
	free(listed);
	unit_list_free(&l);
	return k;
}
