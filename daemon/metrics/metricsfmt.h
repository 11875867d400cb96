/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * metricsfmt.h - coldroom-metrics' page in the Prometheus text exposition
 * format (version 0.0.4), built from what the service holds: the units'
 * rarely changing properties (struct unit_info, from GetManagedObjects and
 * PropertiesChanged), one GetReadings reply and the service's counters.
 * No I/O: the tests feed it directly. METRICS.md lists the metrics; their
 * names and labels are a contract.
 */
#ifndef COLDROOM_METRICSFMT_H
#define COLDROOM_METRICSFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readings_msg.h"
#include "unit_client.h"
#include "unit_index.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A growing output buffer, kept and reused from one scrape to the next. */
struct mbuf {
	char *data;
	size_t len, size;
};

void mbuf_free(struct mbuf *b);
/* Room for @more bytes after len. -ENOMEM. */
int mbuf_reserve(struct mbuf *b, size_t more);
int mbuf_append(struct mbuf *b, const char *s, size_t n);

/*
 * @value / 10^@decimals in decimal, exactly and without trailing zeros:
 * (-18250, 3) -> "-18.25", (8000, 3) -> "8", (1500, 6) -> "0.0015".
 * Writes at most 24 bytes and no NUL; returns the length.
 */
size_t metrics_fixed(char *out, int64_t value, unsigned int decimals);

/*
 * @s as a label value: \, " and newline escaped. @s is UTF-8 already (it
 * came over D-Bus), as Prometheus wants it.
 */
int metrics_escape(struct mbuf *b, const char *s);

/* A probe's mean kinetic temperature over a window, from coldroom-recorder. */
enum { METRICS_MKT_24H, METRICS_MKT_30D, METRICS_MKT_WINDOWS };
struct metrics_mkt {
	bool known;			/* the recorder answered for it */
	bool valid;			/* there was data: mkt_mc is a value */
	int32_t mkt_mc;			/* millidegrees C */
	uint64_t gap_us;		/* time in the window without data */
};

/* A unit as the page names it. */
struct metrics_unit {
	const struct unit_info *info;
	/* serial="...",unit="...",label="..." escaped, made by metrics_unit_labels() */
	const char *labels;
	size_t labels_len;
	struct metrics_mkt mkt[2][METRICS_MKT_WINDOWS];	/* per probe, per window */
};

/* The label set every series of @u carries (malloc()ed into @out). */
int metrics_unit_labels(const struct unit_info *u, char **out, size_t *len);

#define METRICS_ALARM_KINDS_MAX 16

/* The Manager's properties. */
struct metrics_manager {
	const char *version, *reading_source, *event_source;
	uint32_t unit_count, unacknowledged_alarms;
	bool config_error;
	/* OpenAlarms: the kinds coldroomd names, each with its open alarms */
	struct {
		const char *kind;
		uint32_t n;
	} open_alarms[METRICS_ALARM_KINDS_MAX];
	size_t n_kinds;
	/* Calibrations: each probe's days until due (serials point into the reply) */
	struct metrics_calibration {
		const char *serial;
		uint32_t probe;
		uint64_t due_us;	/* when it is due, CLOCK_REALTIME us */
	} *calibrations;		/* malloc()ed */
	size_t n_calibrations;
};

/*
 * coldroom-recorder's and coldroom-uplink's properties, each only when it
 * answered this scrape (it is not on the bus when stopped or, for the
 * uplink, not configured).
 */
struct metrics_peers {
	bool recorder, uplink;		/* answered */
	bool write_failing;		/* Recorder1.WriteFailing */
	uint64_t samples_lost;		/* Recorder1.SamplesLost */
	bool uplink_connected;		/* Uplink1.Connected */
	uint64_t uplink_backlog;	/* Uplink1.Backlog */
};

/* The service's own counters. */
struct metrics_service {
	uint64_t scrapes, scrape_errors, requests_rejected;
	uint64_t readings_call_usec;	/* the last GetReadings round trip */
};

struct metrics_input {
	const struct metrics_unit *units;	/* dense, in any order */
	const struct unit_index *index;		/* each unit's Number to its entry */
	/* NULL when coldroomd did not answer: only the service's metrics */
	const struct readings_msg *readings;
	const struct metrics_manager *manager;
	const struct metrics_peers *peers;	/* NULL: neither answered */
	const struct metrics_service *service;
	uint32_t mkt_dh;			/* J/mol; 0: no MKT from the recorder yet */
};

/* Append the page to @b. -ENOMEM. */
int metrics_format(struct mbuf *b, const struct metrics_input *in);

#endif
