// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * samples.c - PublishSamples: coldroomd's Readings, live, unacknowledged;
 * apart from forward.c, as none of it is in the record or kept.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "macro.h"
#include "readings_msg.h"
#include "unit_client.h"
#include "uplink.h"
#include "uplinkmsg.h"

void numbers_free(struct uplink *u)
{
	for (size_t i = 0; i < u->n_serials; i++)
		free(u->serials[i]);
	free(u->serials);
	u->serials = NULL;
	u->n_serials = 0;
	unit_index_free(&u->numbers);
}

/* Each unit's serial, as many entries as units (never as the largest Number). */
void numbers_fetch(struct uplink *u)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct unit_list l = { 0 };

	numbers_free(u);
	if (units_fetch(u->bus, &l, &e) < 0) {
		log_debug("cannot list coldroomd's units: %s", e.message ?: "?");
		return;
	}
	u->serials = l.n ? calloc(l.n, sizeof(char *)) : NULL;
	for (size_t i = 0; i < l.n && u->serials; i++) {
		char *serial;

		if (l.v[i].number > COLDROOM_UNIT_MAX || !l.v[i].serial[0])
			continue;
		serial = strdup(l.v[i].serial);
		if (!serial || unit_index_add(&u->numbers, l.v[i].number, (uint32_t)u->n_serials)) {
			/* Out of memory, or listed twice: that unit's samples are not published. */
			free(serial);
			continue;
		}
		u->serials[u->n_serials++] = serial;
	}
	unit_list_free(&l);
}

int on_refetch(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s, (void)usec;
	numbers_fetch(userdata);
	return 0;
}

/* Units came or went: list them again, once for a whole burst (thousands at boot). */
int on_units_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;

	(void)m, (void)ret_error;
	if (sd_event_source_get_enabled(u->refetch_timer, NULL) > 0)
		return 0;
	(void)sd_event_source_set_time_relative(u->refetch_timer, USEC_PER_SEC / 2);
	(void)sd_event_source_set_enabled(u->refetch_timer, SD_EVENT_ONESHOT);
	return 0;
}

int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct uplink *u = userdata;
	struct readings_msg r;
	uint64_t dropped = 0;
	size_t hint = 0;

	(void)ret_error;
	if (u->conn != CONNECTED)
		return 0;	/* live only: nothing of it is kept */
	if (readings_msg_read(m, &r) < 0) {
		log_warning("ignoring a malformed Readings signal");
		return 0;
	}
	for (size_t i = 0; i < r.n; i++) {
		long at = unit_index_next(&u->numbers, r.unit[i], &hint);
		const char *serial = at < 0 ? NULL : u->serials[at];
		struct uplink_sample s = {
			.serial = serial, .sample_seq = r.sample_seq[i], .time_us = r.last_update[i],
			.temp = { r.temp1[i], r.temp2[i] },
			.status = { r.temp1_status[i], r.temp2_status[i] },
			.alarm = { r.alarms[i] & READINGS_ALARM_TEMP1, r.alarms[i] & READINGS_ALARM_TEMP2 },
		};

		if (!serial)
			continue;
		if (mosquitto_want_write(u->mosq)) {
			/* The socket does not drain: queue a bounded number, then drop. */
			if (u->samples_queued >= SAMPLES_QUEUED_MAX) {
				dropped++;
				continue;
			}
			u->samples_queued++;
		}
		(void)publish(u, uplink_topic(&u->origin, serial, "sample"),
			      uplink_sample_json(&u->origin, &s), 0, false, NULL);
	}
	if (dropped) {
		u->samples_dropped += dropped;
		if (!u->dropping) {
			u->dropping = true;
			set_state(u, LOG_WARNING, "connected; the broker does not read: live samples "
				  "dropped (%" PRIu64 " so far; record rows are resent, never dropped)",
				  u->samples_dropped);
		}
	}
	sync_io(u);
	return 0;
}
