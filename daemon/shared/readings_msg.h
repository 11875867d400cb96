/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * readings_msg.h - the client side of the Readings signal and of
 * GetReadings' reply (DBUS-API.md): eight parallel arrays, entry i of each
 * belonging to unit units[i]. Header-only: one reader for coldroomctl,
 * the tests and the benchmarks.
 */
#ifndef COLDROOM_READINGS_MSG_H
#define COLDROOM_READINGS_MSG_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define READINGS_SIGNATURE "auaiaiayayayatat"
#define READINGS_ALARM_TEMP1 0x1	/* bits of alarms[] */
#define READINGS_ALARM_TEMP2 0x2

struct readings_msg {
	size_t n;			/* entries in each array */
	const uint32_t *unit;		/* the units' Number */
	const int32_t *temp1, *temp2;	/* millidegrees C */
	const uint8_t *temp1_status, *temp2_status;
	const uint8_t *alarms;		/* READINGS_ALARM_* */
	const uint64_t *sample_seq;
	const uint64_t *last_update;	/* CLOCK_REALTIME, us */
};

/*
 * Point @r into @m's arrays (valid while @m is). -EBADMSG unless @m has
 * the signature and every array the same number of entries.
 */
static inline int readings_msg_read(sd_bus_message *m, struct readings_msg *r)
{
	size_t n_unit, n_t1, n_t2, n_s1, n_s2, n_alarms, n_seq, n_when, n;
	const char *sig = sd_bus_message_get_signature(m, 1);
	int k;

	if (!sig || strcmp(sig, READINGS_SIGNATURE))
		return -EBADMSG;
	k = sd_bus_message_read_array(m, 'u', (const void **)&r->unit, &n_unit);
	if (k >= 0)
		k = sd_bus_message_read_array(m, 'i', (const void **)&r->temp1, &n_t1);
	if (k >= 0)
		k = sd_bus_message_read_array(m, 'i', (const void **)&r->temp2, &n_t2);
	if (k >= 0)
		k = sd_bus_message_read_array(m, 'y', (const void **)&r->temp1_status, &n_s1);
	if (k >= 0)
		k = sd_bus_message_read_array(m, 'y', (const void **)&r->temp2_status, &n_s2);
	if (k >= 0)
		k = sd_bus_message_read_array(m, 'y', (const void **)&r->alarms, &n_alarms);
	if (k >= 0)
		k = sd_bus_message_read_array(m, 't', (const void **)&r->sample_seq, &n_seq);
	if (k >= 0)
		k = sd_bus_message_read_array(m, 't', (const void **)&r->last_update, &n_when);
	if (k < 0)
		return k;
	n = n_unit / sizeof(uint32_t);
	if (n_unit % sizeof(uint32_t) || n_t1 != n * sizeof(int32_t) ||
	    n_t2 != n * sizeof(int32_t) || n_s1 != n || n_s2 != n || n_alarms != n ||
	    n_seq != n * sizeof(uint64_t) || n_when != n * sizeof(uint64_t))
		return -EBADMSG;
	r->n = n;
	return 0;
}

#endif
