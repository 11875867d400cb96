// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * units.c - the units followed: coldroomd's objects, dense, found by Number
 * (unit_index.h), their labels, kept from its signals; apart, as a scrape
 * only reads them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "bus_names.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "metricsfmt.h"
#include "service.h"
#include "unit_client.h"
#include "unit_name.h"

void publish_status(struct metricsd *m)
{
	if (m->coldroomd_up)
		sd_notifyf(0, "STATUS=serving %zu units", m->n_present);
	else
		sd_notify(0, "STATUS=coldroomd is not on the bus: scrapes get 503");
}

/* Room for one more unit. */
static int units_grow(struct metricsd *m)
{
	size_t n = m->cap_units ? 2 * m->cap_units : 64;
	struct unit_info *infos;
	struct metrics_unit *units;

	if (m->n_present < m->cap_units)
		return 0;
	infos = realloc(m->infos, n * sizeof(*infos));
	if (!infos)
		return -ENOMEM;
	m->infos = infos;
	/* The infos moved: point the units at their new place. */
	for (size_t i = 0; i < m->n_present; i++)
		m->units[i].info = &infos[i];
	units = realloc(m->units, n * sizeof(*units));
	if (!units)
		return -ENOMEM;
	m->units = units;
	m->cap_units = n;
	return 0;
}

static void unit_free(struct metricsd *m, size_t at)
{
	free(m->infos[at].path);
	free((char *)m->units[at].labels);
}

/* Unit @at goes: the last unit takes its entry. */
static void unit_clear(struct metricsd *m, size_t at)
{
	size_t last = m->n_present - 1;

	unit_free(m, at);
	(void)unit_index_remove(&m->index, m->infos[at].number);
	if (at != last) {
		m->infos[at] = m->infos[last];
		m->units[at] = m->units[last];
		m->units[at].info = &m->infos[at];
		(void)unit_index_move(&m->index, m->infos[at].number, (uint32_t)at);
	}
	m->n_present--;
}

void units_clear(struct metricsd *m)
{
	for (size_t i = 0; i < m->n_present; i++)
		unit_free(m, i);
	m->n_present = 0;
	unit_index_clear(&m->index);
}

/* The labels of unit @at, after its properties changed. */
static int unit_relabel(struct metricsd *m, size_t at)
{
	struct metrics_unit *u = &m->units[at];
	char *labels;
	size_t len;
	int r;

	r = metrics_unit_labels(&m->infos[at], &labels, &len);
	if (r)
		return r;
	free((char *)u->labels);
	u->labels = labels;
	u->labels_len = len;
	return 0;
}

/* Take @info (its path moves) as present. */
static int unit_seen(struct metricsd *m, struct unit_info *info)
{
	uint32_t number = info->number;
	long at;
	int r;

	if (number > COLDROOM_UNIT_MAX) {
		log_warning("unit %s is not served: it has no sensorN number",
			    info->path ? info->path : "?");
		return 0;
	}
	at = unit_index_find(&m->index, number);
	if (at >= 0)
		unit_clear(m, (size_t)at);
	r = units_grow(m);
	if (!r)
		r = unit_index_add(&m->index, number, (uint32_t)m->n_present);
	if (r)
		return r;
	at = (long)m->n_present++;
	m->infos[at] = *info;
	m->units[at] = (struct metrics_unit){ .info = &m->infos[at] };
	info->path = NULL;
	r = unit_relabel(m, (size_t)at);
	if (r)
		unit_clear(m, (size_t)at);
	return r;
}

/* The entry of the present unit with object path @path, or -1. */
static long unit_by_path(struct metricsd *m, const char *path)
{
	static const char prefix[] = SENSORS_PATH "/unit/";
	long n, at;

	if (!path || strncmp(path, prefix, sizeof(prefix) - 1))
		return -1;
	n = unit_name_number(path + sizeof(prefix) - 1);
	at = n < 0 ? -1 : unit_index_find(&m->index, (uint32_t)n);
	if (at < 0 || !m->infos[at].path || strcmp(m->infos[at].path, path))
		return -1;
	return at;
}

/* Every unit coldroomd has, replacing what was known. */
int fetch_units(struct metricsd *m)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct unit_list l = { 0 };
	int r;

	r = units_fetch(m->bus, &l, &e);
	if (r < 0) {
		/* Not running: it announces itself with NameOwnerChanged. */
		if (sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
			m->coldroomd_up = false;
			units_clear(m);
			return 0;
		}
		log_error("cannot list the units: %s", e.message ? e.message : strerror(-r));
		return r;
	}
	units_clear(m);
	for (size_t i = 0; i < l.n && !r; i++)
		r = unit_seen(m, &l.v[i]);
	unit_list_free(&l);
	m->coldroomd_up = true;
	return r;
}

static int on_interfaces_added(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	struct unit_info u = { .number = NO_NUMBER };
	const char *path;
	int r;

	(void)error;
	r = unit_interfaces_added_read(msg, &path, &u);
	if (r < 0) {
		log_warning("ignoring a malformed InterfacesAdded");
		return 0;
	}
	if (r == 0)
		return 0;
	u.path = strdup(path);
	if (!u.path)
		return -ENOMEM;
	r = unit_seen(m, &u);
	free(u.path);
	if (r < 0)
		log_error("cannot serve unit %s: %s", path, strerror(-r));
	publish_status(m);
	return 0;
}

static int on_interfaces_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	const char *path;
	long n;

	(void)error;
	if (sd_bus_message_read(msg, "o", &path) < 0)
		return 0;
	n = unit_by_path(m, path);
	if (n >= 0) {
		unit_clear(m, (size_t)n);
		publish_status(m);
	}
	return 0;
}

static int on_properties_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	struct unit_info was;
	const char *iface;
	long n;
	int r;

	(void)error;
	n = unit_by_path(m, sd_bus_message_get_path(msg));
	if (n < 0)
		return 0;
	r = sd_bus_message_read(msg, "s", &iface);
	if (r < 0 || strcmp(iface, SENSORS_UNIT_IFACE))
		return 0;
	/* A malformed message leaves the unit as it was. */
	was = m->infos[n];
	r = unit_props_read(msg, &m->infos[n]);
	/* A unit's Number is its name's: the index holds it. */
	if (r >= 0 && m->infos[n].number != was.number)
		r = -EBADMSG;
	if (r < 0) {
		m->infos[n] = was;
		log_warning("ignoring a malformed PropertiesChanged of %s", was.path);
		return 0;
	}
	r = unit_relabel(m, (size_t)n);
	if (r < 0)
		log_error("cannot relabel %s: %s", was.path, strerror(-r));
	return 0;
}

static int on_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	const char *name, *old_owner, *new_owner;

	(void)error;
	if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, SENSORS_BUS_NAME))
		return 0;
	if (!*new_owner) {
		log_notice("coldroomd left the bus");
		m->coldroomd_up = false;
		units_clear(m);
	} else if (fetch_units(m) < 0) {
		log_warning("coldroomd is back but its units could not be listed");
	} else {
		log_notice("coldroomd is on the bus with %zu units", m->n_present);
	}
	publish_status(m);
	return 0;
}

int bus_connect(struct metricsd *m, const struct service *service, const char *spec)
{
	int r;

	r = service_bus_open(service, m->event, spec, &m->bus);
	if (r >= 0)
		r = units_follow(m->bus, &(const struct units_follow){
					 .interfaces_added = on_interfaces_added,
					 .interfaces_removed = on_interfaces_removed,
					 .properties_changed = on_properties_changed,
					 .owner_changed = on_owner_changed,
				 }, m, NULL);
	if (r < 0)
		log_error("cannot follow coldroomd on the bus: %s", strerror(-r));
	return r;
}
