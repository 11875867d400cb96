// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * units.c - the units recorded, dense, found by Number (unit_index.h):
 * present or not, and what the audit trail compares a change against;
 * apart, as every signal looks them up.
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

/* Room for one more unit in the dense arrays. */
static int units_grow(struct recorder *rc)
{
	uint32_t n = rc->cap_units ? 2 * rc->cap_units : 64;
	struct unit_state *units;
	uint8_t *alarms;

	if (rc->n_units < rc->cap_units)
		return 0;
	units = realloc(rc->units, n * sizeof(*units));
	if (!units)
		return -ENOMEM;
	rc->units = units;
	alarms = realloc(rc->alarms, n * sizeof(*alarms));
	if (!alarms)
		return -ENOMEM;
	rc->alarms = alarms;
	rc->cap_units = n;
	return 0;
}

/* The entry of unit @number, a new one if it has none; -ENOMEM. */
static long unit_entry(struct recorder *rc, uint32_t number, const char *serial)
{
	long at = unit_index_find(&rc->index, number);
	uint32_t n = rc->n_units;
	int k;

	if (at >= 0) {
		k = intervals_unit_add(rc->iv, (uint32_t)at, serial);
		return k ? k : at;
	}
	k = units_grow(rc);
	if (!k)
		k = unit_index_add(&rc->index, number, n);
	if (k)
		return k;
	k = intervals_unit_add(rc->iv, n, serial);
	if (k) {
		unit_index_remove(&rc->index, number);
		return k;
	}
	rc->units[n] = (struct unit_state){ 0 };
	rc->alarms[n] = 0;
	rc->n_units++;
	return n;
}

/* The unit recorded with object path @path (.../unit/sensorN) and its entry, or NULL. */
struct unit_state *unit_by_path(struct recorder *rc, const char *path, uint32_t *at)
{
	const char *name = strrchr(path, '/');
	long n, i;

	if (!name || strncmp(path, SENSORS_PATH "/unit/", strlen(SENSORS_PATH "/unit/")))
		return NULL;
	n = unit_name_number(name + 1);
	i = n < 0 ? -1 : unit_index_find(&rc->index, (uint32_t)n);
	if (i < 0 || !rc->units[i].info.path || strcmp(rc->units[i].info.path, path))
		return NULL;
	*at = (uint32_t)i;
	return &rc->units[i];
}

/* Take @u (its path moves into the state) as unit @u->number, present. */
int unit_seen(struct recorder *rc, struct unit_info *u, bool announce)
{
	struct unit_state *st;
	char detail[400];
	bool known;
	long at;

	if (u->number > COLDROOM_UNIT_MAX || !u->serial[0]) {
		log_warning("unit %s is not recorded: it has no sensorN number or serial",
			    u->path ? u->path : "?");
		return 0;
	}
	known = unit_index_find(&rc->index, u->number) >= 0;
	at = unit_entry(rc, u->number, u->serial);
	if (at < 0)
		return (int)at;
	st = &rc->units[at];
	if (announce || (known && strcmp(st->info.serial, u->serial))) {
		snprintf(detail, sizeof(detail), "%s %s, model %s, label '%s', firmware %s",
			 u->name, u->serial, u->model, u->label, u->fw_state);
		audit(rc, "unit-added", u->serial, 0, NULL, NULL, NULL, NULL, detail);
	}
	free(st->info.path);
	st->info = *u;
	u->path = NULL;
	st->present = true;
	rc->alarms[at] = (uint8_t)((u->alarm[0] ? READINGS_ALARM_TEMP1 : 0) |
				   (u->alarm[1] ? READINGS_ALARM_TEMP2 : 0));
	return 0;
}

void unit_gone(struct recorder *rc, uint32_t at, const char *why)
{
	struct unit_state *st = &rc->units[at];

	if (!st->present)
		return;
	st->present = false;
	intervals_unit_gone(rc->iv, at);
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
		long at = unit_index_find(&rc->index, l.v[i].number);
		bool was = at >= 0 && rc->units[at].present;

		k = unit_seen(rc, &l.v[i], announce && !was);
	}
	listed = k ? NULL : calloc(rc->n_units ? rc->n_units : 1, sizeof(*listed));
	if (!k && !listed)
		k = -ENOMEM;
	for (size_t i = 0; i < l.n && !k; i++) {
		long at = unit_index_find(&rc->index, l.v[i].number);

		if (at >= 0)
			listed[at] = true;
	}
	for (uint32_t n = 0; n < rc->n_units && !k; n++)
		if (rc->units[n].present && !listed[n])
			unit_gone(rc, n, "no longer published by coldroomd");
	free(listed);
	unit_list_free(&l);
	return k;
}
