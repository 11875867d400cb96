/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * daemon.h - coldroomd's state: the units it follows, the firmware
 * requests it serves, the bus it publishes on. One sd-event loop drives it.
 *
 * The layers, from where events come in to where they go out; each calls
 * only those below it:
 *   bulk.c, fwload.c, bus.c's methods,   event sources: records, netlink,
 *   units.c's uevent/sample_seq handlers  uevents, callers, timers
 *   (replies.c: calls answered after a window)
 *   units.c                               the readings: unit state, what changed
 *   alarm_lifecycle.c                     delays, raise/ack/clear, escalation
 *     alarm_notify.c, alarm_rules.c       systemd's transient units; the pure rules
 *   publish.c                             Readings, PropertiesChanged, Alarm,
 *                                         AlarmChanged, STATUS=
 */
#ifndef COLDROOMD_DAEMON_H
#define COLDROOMD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "alarm_rules.h"
#include "config.h"
#include "polkit.h"
#include "fwsource.h"
#include "uevent.h"

#define UNIT_CHANNELS 2
#define UNIT_LABEL_MAX 64
#define UNIT_STR_MAX 64
#define UNIT_ERROR_MAX 256

/* TempNStatus on D-Bus; 0 is "unknown" as the D-Bus API guide asks. */
enum temp_status {
	TEMP_STATUS_UNKNOWN = 0,	/* never read, or an unexpected error */
	TEMP_STATUS_OK = 1,
	TEMP_STATUS_NO_DATA = 2,	/* ENODATA: no firmware or no sample yet */
	TEMP_STATUS_DISCONNECTED = 3,	/* EIO: the probe is not connected */
};

/* Properties that change; bit numbers index unit_prop_names[]. */
enum unit_prop {
	PROP_LABEL,
	PROP_TEMP1, PROP_TEMP2,
	PROP_TEMP1_CELSIUS, PROP_TEMP2_CELSIUS,
	PROP_TEMP1_STATUS, PROP_TEMP2_STATUS,
	PROP_TEMP1_ALARM, PROP_TEMP2_ALARM,
	PROP_TEMP1_MIN, PROP_TEMP1_MAX, PROP_TEMP1_HYST,
	PROP_TEMP2_MIN, PROP_TEMP2_MAX, PROP_TEMP2_HYST,
	PROP_INTERVAL,
	PROP_SAMPLE_SEQ,
	PROP_LAST_UPDATE,
	PROP_FW_NAME, PROP_FW_STATE, PROP_FW_VERSION, PROP_FW_ERROR, PROP_FW_SOURCE,
	PROP_COUNT
};

extern const char *const unit_prop_names[PROP_COUNT];

/*
 * What a reading carries: these changes put the unit into the window's
 * Readings signal. The first six change with (nearly) every sample and
 * emit no PropertiesChanged (DBUS-API.md: the Readings signal carries them).
 */
#define PROP_BIT(p) (1U << (p))
#define HIGH_RATE_PROPS (PROP_BIT(PROP_TEMP1) | PROP_BIT(PROP_TEMP2) | \
			 PROP_BIT(PROP_TEMP1_CELSIUS) | PROP_BIT(PROP_TEMP2_CELSIUS) | \
			 PROP_BIT(PROP_SAMPLE_SEQ) | PROP_BIT(PROP_LAST_UPDATE))
#define READING_PROPS (HIGH_RATE_PROPS | \
		       PROP_BIT(PROP_TEMP1_STATUS) | PROP_BIT(PROP_TEMP2_STATUS) | \
		       PROP_BIT(PROP_TEMP1_ALARM) | PROP_BIT(PROP_TEMP2_ALARM))

struct daemon;
struct alarm_track;
struct alarm_record;

/* What a unit says of itself in words: read rarely, kept out of the hot path. */
struct unit_info {
	char serial[UNIT_STR_MAX];
	char model[UNIT_STR_MAX];
	char label[UNIT_LABEL_MAX];
	char fw_name[128];
	char fw_state[16];
	char fw_version[16];
	char fw_error[UNIT_ERROR_MAX];	/* the kernel's, else the daemon's */
	char fw_source[1024];		/* the file(s) the daemon uploaded */
	char kernel_fw_error[UNIT_ERROR_MAX];
	char daemon_fw_error[UNIT_ERROR_MAX];
};

/*
 * One unit. What every sample changes comes first, in the first two cache
 * lines, and the unit's strings live elsewhere (info): at 10,000 units a
 * second the records touch 1.3 MB of units, not 23 MB.
 */
struct unit {
	/* Every sample: unit_apply_record(), publish_unit_changed(), window_put(). */
	struct daemon *daemon;
	uint32_t number;		/* the N of sensorN */
	uint32_t changed;		/* PROP_* bits read but not yet published */
	uint32_t unsignalled;		/* low-rate PROP_* bits waiting for the next batch */
	int32_t temp[UNIT_CHANNELS];
	uint32_t temp_status[UNIT_CHANNELS];
	int alarm[UNIT_CHANNELS];	/* int: sd-bus reads "b" as int */
	uint64_t sample_seq;
	uint64_t last_update_usec;	/* CLOCK_REALTIME of the sample */
	uint64_t frame_pos;		/* the latest frame's ring position */
	uint64_t window_gen;		/* the batch window its entries are in (publish.c) */
	uint32_t window_slot;		/* its last entry there */
	uint32_t window_count;		/* its entries there, at most WINDOW_SAMPLES_MAX */
	bool has_frame;			/* a record named a thermal frame */
	bool dirty;			/* queued for the next batch */
	bool removed;
	bool counted_ready;		/* what this unit adds to the daemon's counts */
	bool counted_alarm;

	/* Settings: read at start, on reload and after a write. */
	int32_t temp_min[UNIT_CHANNELS];
	int32_t temp_max[UNIT_CHANNELS];
	int32_t temp_hyst[UNIT_CHANNELS];
	uint32_t interval_ms;

	/* alarm_lifecycle.c: each probe's alarm of each kind, or NULL; its health. */
	struct alarm_track *track[UNIT_CHANNELS][ALARM_KINDS];
	struct probe_health health[UNIT_CHANNELS];
	uint64_t seen_usec;		/* CLOCK_REALTIME of its last new sample, or its start */
	int dirfd;			/* the unit's sysfs directory */
	int seq_fd;			/* sample_seq, kept open for poll() */
	sd_event_source *seq_source;
	char *object_path;
	struct unit_info *info;
	char name[UNIT_NAME_MAX];	/* sysname, sensorN */
};

struct fw_request {
	struct daemon *daemon;
	struct fw_request *next;
	char fw_name[128];		/* as the unit requests it: coldroom/X.fw */
	uint64_t deadline_usec;		/* CLOCK_MONOTONIC */
	unsigned int attempts;
	sd_event_source *timer;
};

/* Where readings come from: the switch units.c follows (see bulk.c). */
enum reading_source {
	READING_SOURCE_NONE,		/* no units: nothing to read */
	READING_SOURCE_SYSFS,		/* poll() on each unit's sample_seq */
	READING_SOURCE_DEVICE,		/* read() of records from /dev/coldroom */
};

/* What the STATUS= line says: it changes only when one of these does. */
struct status_counts {
	size_t units;
	unsigned int ready, alarms, unacknowledged;
};

struct daemon {
	sd_event *event;
	sd_bus *bus;
	sd_device_monitor *monitor;
	char *sysfs_root;
	bool sysfs_is_real;		/* "/sys": udev's events can be followed */
	char *config_path;
	struct config config;
	char config_error[CONFIG_ERROR_MAX];	/* last rejected reload */

	struct unit **units;		/* sorted by name, version order */
	struct unit_pool *unit_pools;	/* where units live (units.c) */
	struct unit **spare_units;	/* free slots of the pools */
	size_t n_spare_units, n_pooled_units;
	/*
	 * sensorN at [N]: records name units by number. Only the kernel's
	 * sysfs names drive it (never a bus message), and they stop at
	 * COLDROOM_UNIT_MAX: 8 MB at most.
	 */
	struct unit **by_number;
	size_t n_by_number;
	size_t n_units, cap_units;
	uint64_t units_gen;		/* one more each time a unit comes or goes */

	struct fw_request *requests;
	sd_event_source *flush_timer;	/* kept from window to window */
	bool flush_due;			/* it is armed: a window is open */
	bool flush_is_timer;		/* a timer (batch_ms > 0), else a defer */
	sd_event_source *status_source;	/* deferred STATUS= */
	struct unit **dirty;		/* units with low-rate changes to signal */
	size_t n_dirty, cap_dirty;
	struct readings_window *window;	/* publish.c: the Readings signal's arrays */
	uint64_t window_gen;		/* the current batch window, from 1 */
	bool window_touched;		/* a reading went into it */
	uint64_t samples_coalesced;	/* samples past a unit's cap in a window, ever */
	bool samples_coalesced_logged;	/* said once in the journal */
	struct readings_window *snapshot; /* publish.c: GetReadings' arrays */
	struct replies *replies;	/* replies.c: GetManagedObjects, GetReadings waiting */
	bool snapshot_valid;		/* no window ended, no unit came or went since */
	unsigned int n_ready;		/* units whose firmware is ready */
	unsigned int n_alarming;	/* units with a channel in alarm */
	int64_t realtime_offset_usec;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */

	enum reading_source reading_source;
	char *records_path;		/* --records-from: a FIFO instead of the device */
	int dev_fd;			/* /dev/coldroom, or -1 */
	sd_event_source *dev_source;
	bool dev_paused;		/* read at the end of the batch window */
	struct ring_reader *ring;	/* the device's ring, mapped for frames */
	int nl_fd;			/* generic netlink, subscribed to "events", or -1 */
	sd_event_source *nl_source;
	uint16_t nl_family;
	char reading_source_name[16];	/* ReadingSource on D-Bus */
	char event_source_name[16];	/* EventSource on D-Bus */

	struct alarms *alarms;		/* alarm_lifecycle.c: the alarm lifecycle */
	unsigned int n_unacked;		/* open alarms nobody acknowledged (it counts) */
	unsigned int n_open[ALARM_KINDS];	/* open alarms of each kind (OpenAlarms) */

	struct polkit_registry *polkit;	/* bus.c: authorization checks in flight */
	struct polkit_refusals refusals;	/* bus.c: refused attempts itemized */

	bool ready;			/* READY=1 sent */
	char last_status[128];
	struct status_counts shown;	/* what last_status says */
};

/* units.c: the registry, discovery, readings. */
int daemon_init(struct daemon *d, sd_event *event, const char *sysfs_root,
		const char *config_path);
void daemon_done(struct daemon *d);
struct unit *daemon_find_unit(struct daemon *d, const char *name);
struct unit *daemon_find_unit_by_fw(struct daemon *d, const char *fw_name);
int daemon_scan(struct daemon *d);	/* units, then pending requests */
int daemon_scan_units(struct daemon *d);
int daemon_scan_requests(struct daemon *d);
int daemon_start_monitor(struct daemon *d);
int daemon_reload(struct daemon *d);	/* config, then scan, then re-read all */
int unit_add(struct daemon *d, const char *name);
void unit_remove(struct daemon *d, struct unit *u);
void unit_read_sample(struct unit *u);
void unit_read_settings(struct unit *u);
void unit_read_firmware(struct unit *u);
void unit_read_all(struct unit *u);
void unit_publish(struct unit *u);
void unit_follow_sample_seq(struct unit *u);	/* the sysfs reading source */
struct unit *daemon_find_unit_number(struct daemon *d, uint32_t number);
struct coldroom_record;
void unit_apply_record(struct unit *u, const struct coldroom_record *rec);
void unit_apply_alarm_flags(struct unit *u, uint32_t flags);
void unit_apply_alarm(struct unit *u, unsigned int channel, int alarm, int32_t temp,
		      uint64_t seq);
void daemon_resync(struct daemon *d);	/* re-read every unit from sysfs */
void unit_set_daemon_fw_result(struct unit *u, const char *error, const char *source);
uint32_t temp_status_from_errno(int err);
void daemon_refresh_clock(struct daemon *d);
uint64_t daemon_realtime_usec_of(const struct daemon *d, uint64_t mono_ns);

/* bulk.c: /dev/coldroom and the generic netlink events, when present. */
void bulk_attach(struct daemon *d);
void bulk_release(struct daemon *d);
void bulk_stop(struct daemon *d);
struct coldroom_frame;
int bulk_copy_frame(struct daemon *d, const struct unit *u, struct coldroom_frame *hdr,
		    int16_t *pixels);
bool bulk_window_end(struct daemon *d);	/* the window's records; true: more come */

/* fwload.c: the sysfs fallback. */
int fw_dance(int fallback_dirfd, const void *blob, size_t len);
int fw_abort(int fallback_dirfd);
char *fw_fallback_dir(const char *sysfs_root, const char *fw_name);
int fw_request_start(struct daemon *d, const char *fw_name);
void fw_requests_free(struct daemon *d);

/* bus.c: the D-Bus objects, their properties and methods. */
struct service;
int bus_setup(struct daemon *d, const struct service *service, const char *bus_spec);
/*
 * The objects on a connection already open and attached to the loop
 * (bus_setup(); the D-Bus fuzzer).
 */
int bus_attach(struct daemon *d, sd_bus *bus);
int bus_request_name(struct daemon *d);
/* The unit objects' vtable (replies.c says a unit's properties by it). */
extern const sd_bus_vtable bus_unit_vtable[];

/*
 * replies.c: GetManagedObjects and GetReadings answered after the batch
 * window's Readings signal; GetManagedObjects built in slices of at most
 * REPLIES_SLICE_US of the loop and paced at REPLIES_UNITS_PER_SEC; one
 * pending call of each a sender, REPLIES_MAX_PER_USER a user and
 * REPLIES_MAX_PENDING in all; refusals told at the window's end too, up
 * to REPLIES_MAX_REFUSED of them.
 */
#define REPLIES_SLICE_US 5000
#define REPLIES_UNITS_PER_SEC 2000
#define REPLIES_MAX_PER_USER 4
#define REPLIES_MAX_PENDING 16
#define REPLIES_MAX_REFUSED 64
int replies_attach(struct daemon *d, sd_bus *bus);
/* GetReadings: answered now, or queued (1) for the window's end. */
int replies_get_readings(struct daemon *d, sd_bus_message *m, sd_bus_error *error);
void replies_window_ended(struct daemon *d);	/* the window's Readings are out */
void replies_free(struct daemon *d);

/* publish.c: signals and STATUS=; every signal is a no-op without a bus. */
int publish_init(struct daemon *d);
void publish_free(struct daemon *d);
void publish_unit_added(struct unit *u);
void publish_unit_removed(struct unit *u);
void publish_unit_changed(struct unit *u, uint32_t props);
void publish_alarm_changed(struct daemon *d, const struct alarm_record *a, const char *event,
			   const char *unit_name, uint32_t uid, const char *user,
			   const char *comment, uint64_t when_usec, int32_t temp);
void publish_unacked_changed(struct daemon *d);
void publish_open_alarms_changed(struct daemon *d);
int publish_append_readings(struct daemon *d, sd_bus_message *m);
void daemon_update_status(struct daemon *d);	/* STATUS=, once the loop is done */
void daemon_publish_status(struct daemon *d);	/* STATUS=, now */

#endif
