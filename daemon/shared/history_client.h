/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * history_client.h - the record read back from coldroom-recorder over the
 * bus (org.coldroom.Recorder1), for coldroomctl history and report.
 */
#ifndef COLDROOM_HISTORY_CLIENT_H
#define COLDROOM_HISTORY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* One probe's rows (and the host's gap rows) in time order. */
struct history_series {
	size_t n;
	uint64_t *start, *end;
	uint32_t *count;
	int32_t *min, *mean, *max;
	uint8_t *status;		/* enum record_status */
	uint32_t *lost;			/* samples lost (RECORD.md, "Every sample") */
	uint8_t *lost_why;		/* RECORD_LOST_* */
};

struct history_event {
	uint64_t time;
	char event[40];
	unsigned int probe;
	bool has_reading;
	int64_t reading;
	char user[64];
	char what[64];
	char old_value[64], new_value[64];
	char detail[512];
};

/* The whole range, page after page (GetHistoryPage2); negative errno, @e says why. */
int history_fetch(sd_bus *bus, const char *serial, unsigned int probe, uint64_t since,
		  uint64_t until, struct history_series *out, sd_bus_error *e);
void history_series_free(struct history_series *s);

/* The whole range (GetEventsPage) into a malloc()ed array. */
int history_events_fetch(sd_bus *bus, const char *serial, uint64_t since, uint64_t until,
			 struct history_event **out, size_t *n, sd_bus_error *e);

/*
 * The mean kinetic temperature of a probe over [@since, @until)
 * (GetMeanKineticTemperaturePage, page after page, merged), with the
 * site's activation energy (MKTActivationEnergy): the sum in @out, for
 * mkt_result().
 */
struct mkt_sum;
int history_mkt(sd_bus *bus, const char *serial, unsigned int probe, uint64_t since,
		uint64_t until, struct mkt_sum *out, sd_bus_error *e);

/* Verify: @intact and the verdict in @message. */
int history_verify(sd_bus *bus, bool *intact, char *message, size_t size, sd_bus_error *e);

#endif
