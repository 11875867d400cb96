/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * uplinkmsg.h - coldroom-uplink's MQTT contract, version 1 (MQTT.md): the
 * topic tree and the JSON payloads, built with json-c, and the retained
 * state of a unit folded from the record it forwards. Pure functions, no
 * I/O: unit-tested on their own.
 */
#ifndef COLDROOM_UPLINKMSG_H
#define COLDROOM_UPLINKMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record_types.h"

#define UPLINK_TOPIC_ROOT	"coldroom/v1"
#define UPLINK_CONTRACT_VERSION	1
/* A Site= or Host= name: one topic level of these characters. */
#define UPLINK_NAME_MAX		64

/* Where a host publishes: coldroom/v1/<site>/<host>/... */
struct uplink_origin {
	const char *site, *host;
};

/* 1..UPLINK_NAME_MAX characters of A-Z a-z 0-9 . _ - */
bool uplink_name_valid(const char *name);

/*
 * The topic of a message (malloc()ed, NULL when out of memory):
 * <root>/<site>/<host>/<leaf> when @serial is NULL, else
 * <root>/<site>/<host>/unit/<serial>/<leaf>. A serial's characters other
 * than A-Z a-z 0-9 . _ - are written %XX, so that no serial can add a
 * level or a wildcard.
 */
char *uplink_topic(const struct uplink_origin *o, const char *serial, const char *leaf);

#define UPLINK_HASH_SIZE	32

/* One row of the record, as GetRecordsAfter3 returns it. */
struct uplink_row {
	uint64_t seq, start_us, end_us;
	const char *serial;		/* "" for the host's gap rows */
	unsigned int probe;		/* 1, 2; 0 for the host */
	uint32_t n;
	int32_t min, mean, max;		/* millidegrees; meaningless when n is 0 */
	unsigned int status;		/* enum record_status */
	uint32_t lost;			/* samples lost (RECORD.md, "Every sample") */
	unsigned int lost_why;		/* RECORD_LOST_* */
	bool has_lost;			/* the row has them (schema 2 on): hashed */
	/* The chain (MQTT.md, "Holding the chain"); any NULL: not sent. */
	const uint8_t *samples_sha256;	/* NULL: the row has no raw samples */
	const uint8_t *hash, *prev_hash;
};

/*
 * The payloads, malloc()ed JSON text, NULL when out of memory. Every one
 * carries "v" (the contract version), "site", "host", the record's "seq"
 * and "historical" (MQTT.md says when it is true); an interval, gap or
 * event also its chain position: "hash" and "prev_hash".
 */
char *uplink_interval_json(const struct uplink_origin *o, const struct uplink_row *row,
			   bool historical);
/* @prev_hash: the hash of the entry before (NULL: not sent); @ev->hash its own. */
char *uplink_event_json(const struct uplink_origin *o, const struct record_event *ev,
			const uint8_t *prev_hash, bool historical);
/* The host's birth (@online) and last will: retained on <base>/status. */
char *uplink_status_json(const struct uplink_origin *o, bool online, const char *version,
			 uint64_t time_us);
/* A live sample of coldroomd's Readings (PublishSamples=yes). */
struct uplink_sample {
	const char *serial;
	uint64_t sample_seq, time_us;
	int32_t temp[2];		/* millidegrees */
	uint8_t status[2];		/* TempNStatus: 1 ok */
	bool alarm[2];
};
char *uplink_sample_json(const struct uplink_origin *o, const struct uplink_sample *s);

/* The retained state of one unit: the latest of everything forwarded. */
enum uplink_alarm { UPLINK_ALARM_NONE, UPLINK_ALARM_RAISED, UPLINK_ALARM_ACKNOWLEDGED,
		    UPLINK_ALARM_CLEARED };
struct uplink_unit_state {
	char serial[64];
	bool present;			/* false after unit-removed */
	uint64_t seq;			/* the newest record seq folded in */
	uint64_t event_seq;		/* the newest audit seq folded in */
	struct uplink_row probe[2];	/* the latest interval of each probe (seq 0: none) */
	enum uplink_alarm alarm[2];
	char firmware[16];		/* "ready", "failed" or "" (not known) */
};
/* Fold a row or an audit entry of this unit in; true when the state changed. */
bool uplink_state_row(struct uplink_unit_state *st, const struct uplink_row *row);
bool uplink_state_event(struct uplink_unit_state *st, const struct record_event *ev);
char *uplink_state_json(const struct uplink_origin *o, const struct uplink_unit_state *st);

/*
 * Home Assistant's MQTT discovery of one probe: the topic
 * homeassistant/sensor/<object id>/config in *@topic and the config
 * payload (the mean of the latest interval, from the unit's state topic;
 * available while the host's status is online).
 */
char *uplink_discovery_json(const struct uplink_origin *o, const char *serial,
			    unsigned int probe, char **topic);

#endif
