// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * units.c - the units coldroomd follows: discovery (sd-device enumerator
 * and monitor on the real /sys, a directory listing on a test tree), the
 * attributes of each unit, and new samples: records of /dev/coldroom
 * (bulk.c) when the device is there, else poll() on each unit's
 * sample_seq, which the driver notifies for every sample.
 *
 * Layer: the readings. Its callers (bulk.c's records and events, the
 * uevent and sample_seq handlers here, the bus methods, fwload.c) hand it
 * what they read; unit_apply_*() and unit_read_*() only update the unit
 * and note what changed (u->changed). unit_publish() then passes that down
 * once: the alarm lifecycle once per probe whose condition changed, and
 * publish.c once with everything that changed. Nothing below calls back.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "alarm_lifecycle.h"
#include "bulkmsg.h"
#include "bus_names.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "parse_util.h"
#include "polkit.h"

/* Memory a pool hands out again, fenced off while it is free. */
#if defined(__SANITIZE_ADDRESS__)
#define COLDROOM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COLDROOM_ASAN 1
#endif
#endif
#ifdef COLDROOM_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif


const char *const unit_prop_names[PROP_COUNT] = {
	[PROP_LABEL] = "Label",
	[PROP_TEMP1] = "Temp1",
	[PROP_TEMP2] = "Temp2",
	[PROP_TEMP1_CELSIUS] = "Temp1Celsius",
	[PROP_TEMP2_CELSIUS] = "Temp2Celsius",
	[PROP_TEMP1_STATUS] = "Temp1Status",
	[PROP_TEMP2_STATUS] = "Temp2Status",
	[PROP_TEMP1_ALARM] = "Temp1Alarm",
	[PROP_TEMP2_ALARM] = "Temp2Alarm",
	[PROP_TEMP1_MIN] = "Temp1Min",
	[PROP_TEMP1_MAX] = "Temp1Max",
	[PROP_TEMP1_HYST] = "Temp1Hyst",
	[PROP_TEMP2_MIN] = "Temp2Min",
	[PROP_TEMP2_MAX] = "Temp2Max",
	[PROP_TEMP2_HYST] = "Temp2Hyst",
	[PROP_INTERVAL] = "UpdateIntervalMs",
	[PROP_SAMPLE_SEQ] = "SampleSeq",
	[PROP_LAST_UPDATE] = "LastUpdate",
	[PROP_FW_NAME] = "FirmwareName",
	[PROP_FW_STATE] = "FirmwareState",
	[PROP_FW_VERSION] = "FirmwareVersion",
	[PROP_FW_ERROR] = "FirmwareError",
	[PROP_FW_SOURCE] = "FirmwareSource",
};

#define BIT(p) (1U << (p))

uint32_t temp_status_from_errno(int err)
{
	switch (err) {
	case 0:
		return TEMP_STATUS_OK;
	case ENODATA:
		return TEMP_STATUS_NO_DATA;
	case EIO:
		return TEMP_STATUS_DISCONNECTED;
	default:
		return TEMP_STATUS_UNKNOWN;
	}
}

static int unit_key_cmp(const void *key, const void *elem)
{
	const struct unit *const *u = elem;

	return strverscmp(key, (*u)->name);
}

struct unit *daemon_find_unit(struct daemon *d, const char *name)
{
	struct unit **u;

	if (!d->n_units)
		return NULL;
	u = bsearch(name, d->units, d->n_units, sizeof(*d->units), unit_key_cmp);
	return u ? *u : NULL;
}

struct unit *daemon_find_unit_by_fw(struct daemon *d, const char *fw_name)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (!strcmp(d->units[i]->info->fw_name, fw_name))
			return d->units[i];
	return NULL;
}

/* Copy @v into the fixed-size @field, recording @bits when it changed. */
static void set_str(struct unit *u, char *field, size_t size, const char *v,
		    uint32_t bits)
{
	/* Values longer than the field are cut: sysfs bounds them anyway. */
	size_t n = strnlen(v, size - 1);

	if (strncmp(field, v, n) == 0 && field[n] == '\0')
		return;
	memcpy(field, v, n);
	field[n] = '\0';
	u->changed |= bits;
}

static void set_i32(struct unit *u, int32_t *field, int32_t v, uint32_t bits)
{
	if (*field != v) {
		*field = v;
		u->changed |= bits;
	}
}

static void set_u32(struct unit *u, uint32_t *field, uint32_t v, uint32_t bits)
{
	if (*field != v) {
		*field = v;
		u->changed |= bits;
	}
}

static void set_u64(struct unit *u, uint64_t *field, uint64_t v, uint32_t bits)
{
	if (*field != v) {
		*field = v;
		u->changed |= bits;
	}
}

static int read_ll_at(int dirfd, const char *name, long long *v)
{
	char buf[64];
	int r;

	r = read_attr_at(dirfd, name, buf, sizeof(buf));
	if (r < 0)
		return r;
	return parse_ll(buf, v);
}

/*
 * What @u adds to the daemon's counts of ready and alarming units (STATUS=),
 * kept up to date as it changes: counting every unit after each wakeup
 * would cost a pass over thousands of units per handful of records.
 * @present is false when the unit goes.
 */
static void unit_count(struct unit *u, bool present)
{
	struct daemon *d = u->daemon;
	bool ready = present && !strcmp(u->info->fw_state, "ready");
	bool alarm = present && (u->alarm[0] || u->alarm[1]);

	d->n_ready += (unsigned int)ready - (unsigned int)u->counted_ready;
	d->n_alarming += (unsigned int)alarm - (unsigned int)u->counted_alarm;
	u->counted_ready = ready;
	u->counted_alarm = alarm;
}

#define ALARM_PROPS (BIT(PROP_TEMP1_ALARM) | BIT(PROP_TEMP2_ALARM))
#define STATUS_PROPS (BIT(PROP_TEMP1_STATUS) | BIT(PROP_TEMP2_STATUS))

/*
 * What the readings since the last call changed, passed down once: the
 * counts, then publish.c (the Alarm signal of a changed probe, the
 * window's Readings, PropertiesChanged), then the lifecycle once per
 * probe whose condition changed (which may send AlarmChanged after the
 * Alarm signal, as ever), and its probe-health rules once per new sample
 * or changed status.
 */
void unit_publish(struct unit *u)
{
	uint32_t changed = u->changed;

	if (!changed)
		return;
	u->changed = 0;
	if (changed & (BIT(PROP_FW_STATE) | ALARM_PROPS))
		unit_count(u, true);
	publish_unit_changed(u, changed);
	if (changed & ALARM_PROPS)
		for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++)
			if (changed & BIT(PROP_TEMP1_ALARM + ch))
				alarms_condition_changed(u, ch);
	if (changed & (BIT(PROP_SAMPLE_SEQ) | STATUS_PROPS))
		alarms_sample(u, changed & BIT(PROP_SAMPLE_SEQ));
}

static int64_t clock_usec(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * The kernel stamps samples with CLOCK_MONOTONIC, D-Bus speaks
 * CLOCK_REALTIME: the offset between the two, taken once per batch of
 * records rather than twice per record.
 */
void daemon_refresh_clock(struct daemon *d)
{
	int64_t mono = clock_usec(CLOCK_MONOTONIC);

	d->realtime_offset_usec = clock_usec(CLOCK_REALTIME) - mono;
}

/* CLOCK_REALTIME microseconds of a CLOCK_MONOTONIC stamp of the kernel. */
uint64_t daemon_realtime_usec_of(const struct daemon *d, uint64_t mono_ns)
{
	int64_t usec = (int64_t)(mono_ns / 1000) + d->realtime_offset_usec;

	return usec > 0 ? (uint64_t)usec : 0;
}

/*
 * A changed condition is news for unit_publish() (the Alarm signal, the
 * lifecycle). The first reading's is the unit's state, not news:
 * unit_add() forgets what its first reading changed.
 */
static void unit_set_alarm(struct unit *u, unsigned int ch, int alarm)
{
	if (u->alarm[ch] == alarm)
		return;
	u->alarm[ch] = alarm;
	u->changed |= BIT(PROP_TEMP1_ALARM + ch);
}

void unit_read_sample(struct unit *u)
{
	static const char *const temp_attr[UNIT_CHANNELS] = { "temp1", "temp2" };
	static const char *const alarm_attr[UNIT_CHANNELS] = { "temp1_alarm", "temp2_alarm" };
	int alarm_now[UNIT_CHANNELS];
	long long v, seq = 0, ns = 0;
	char buf[64];
	int r;

	/* sample_seq first: reading it from offset 0 re-arms poll(). */
	if (u->seq_fd >= 0) {
		r = pread_attr(u->seq_fd, buf, sizeof(buf));
		if (r < 0 || parse_ll(buf, &seq) < 0 || seq < 0)
			seq = 0;
	} else if (read_ll_at(u->dirfd, "sample_seq", &seq) < 0 || seq < 0) {
		seq = 0;
	}
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++) {
		uint32_t status;

		r = read_ll_at(u->dirfd, temp_attr[ch], &v);
		if (r == 0 && (v < INT32_MIN || v > INT32_MAX))
			r = -ERANGE;
		status = temp_status_from_errno(-r);
		set_u32(u, &u->temp_status[ch], status, BIT(PROP_TEMP1_STATUS + ch));
		/* No stale number next to a status that says there is none. */
		set_i32(u, &u->temp[ch], status == TEMP_STATUS_OK ? (int32_t)v : 0,
			BIT(PROP_TEMP1 + ch) | BIT(PROP_TEMP1_CELSIUS + ch));

		r = read_ll_at(u->dirfd, alarm_attr[ch], &v);
		alarm_now[ch] = r == 0 && v != 0;
	}
	if ((uint64_t)seq != u->sample_seq) {
		uint64_t usec = 0;

		/* The kernel stamps samples with CLOCK_MONOTONIC. */
		if (seq > 0 && read_ll_at(u->dirfd, "sample_time_ns", &ns) == 0 && ns > 0) {
			daemon_refresh_clock(u->daemon);
			usec = daemon_realtime_usec_of(u->daemon, (uint64_t)ns);
		}
		set_u64(u, &u->sample_seq, (uint64_t)seq, BIT(PROP_SAMPLE_SEQ));
		set_u64(u, &u->last_update_usec, usec, BIT(PROP_LAST_UPDATE));
	}
	/* Signalled after the reading is in place: the signal carries it. */
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++)
		unit_set_alarm(u, ch, alarm_now[ch]);
}

/* A reading of the bulk path; the record has passed record_parse(). */
void unit_apply_record(struct unit *u, const struct coldroom_record *rec)
{
	static const uint32_t valid[UNIT_CHANNELS] = {
		COLDROOM_F_TEMP1_VALID, COLDROOM_F_TEMP2_VALID
	};
	static const uint32_t alarm[UNIT_CHANNELS] = {
		COLDROOM_F_TEMP1_ALARM, COLDROOM_F_TEMP2_ALARM
	};
	static const char *const temp_attr[UNIT_CHANNELS] = { "temp1", "temp2" };
	const int32_t temp[UNIT_CHANNELS] = { rec->temp1, rec->temp2 };

	/* The ring may still hold samples older than a resync (batch or sysfs). */
	if (rec->seq <= u->sample_seq)
		return;
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++) {
		uint32_t status = TEMP_STATUS_OK;
		long long v;

		/* Only sysfs says why there is no reading (ENODATA, EIO). */
		if (!(rec->flags & valid[ch]))
			status = temp_status_from_errno(-read_ll_at(u->dirfd, temp_attr[ch], &v));
		if (status == TEMP_STATUS_OK && !(rec->flags & valid[ch]))
			status = TEMP_STATUS_NO_DATA;	/* a newer sample came meanwhile */
		set_u32(u, &u->temp_status[ch], status, BIT(PROP_TEMP1_STATUS + ch));
		set_i32(u, &u->temp[ch], status == TEMP_STATUS_OK ? temp[ch] : 0,
			BIT(PROP_TEMP1 + ch) | BIT(PROP_TEMP1_CELSIUS + ch));
		/* With netlink, its events carry the alarms (unit_apply_alarm). */
		if (u->daemon->nl_fd < 0)
			unit_set_alarm(u, ch, !!(rec->flags & alarm[ch]));
	}
	/* Only where the frame is: copied when a client asks (GetFrame). */
	if (rec->flags & COLDROOM_F_FRAME) {
		u->frame_pos = rec->frame_pos;
		u->has_frame = true;
	}
	set_u64(u, &u->sample_seq, rec->seq, BIT(PROP_SAMPLE_SEQ));
	set_u64(u, &u->last_update_usec,
		rec->timestamp_ns ? daemon_realtime_usec_of(u->daemon, rec->timestamp_ns) : 0,
		BIT(PROP_LAST_UPDATE));
}

/* The alarm bits of a record or batch reading, whoever carries alarms. */
void unit_apply_alarm_flags(struct unit *u, uint32_t flags)
{
	unit_set_alarm(u, 0, !!(flags & COLDROOM_F_TEMP1_ALARM));
	unit_set_alarm(u, 1, !!(flags & COLDROOM_F_TEMP2_ALARM));
}

/* An alarm event of the generic netlink family, @channel 1 or 2. */
void unit_apply_alarm(struct unit *u, unsigned int channel, int alarm, int32_t temp,
		      uint64_t seq)
{
	unsigned int ch = channel - 1;

	/* The reading that changed it, unless a newer one is already here. */
	if (seq >= u->sample_seq) {
		set_u32(u, &u->temp_status[ch], TEMP_STATUS_OK, BIT(PROP_TEMP1_STATUS + ch));
		set_i32(u, &u->temp[ch], temp,
			BIT(PROP_TEMP1 + ch) | BIT(PROP_TEMP1_CELSIUS + ch));
	}
	/* publish.c logs the alarm itself, once. */
	log_fields(LOG_DEBUG, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: netlink event: temp%u alarm %s at %d mC (sample %llu)", u->name,
		   channel, alarm ? "set" : "cleared", temp, (unsigned long long)seq);
	unit_set_alarm(u, ch, alarm);
}

void unit_read_settings(struct unit *u)
{
	static const char *const thr_attr[UNIT_CHANNELS][3] = {
		{ "temp1_min", "temp1_max", "temp1_hyst" },
		{ "temp2_min", "temp2_max", "temp2_hyst" },
	};
	char buf[UNIT_LABEL_MAX];
	long long v;

	if (read_attr_at(u->dirfd, "label", buf, sizeof(buf)) >= 0)
		set_str(u, u->info->label, sizeof(u->info->label), buf, BIT(PROP_LABEL));
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++) {
		int32_t *field[3] = { &u->temp_min[ch], &u->temp_max[ch], &u->temp_hyst[ch] };

		for (unsigned int k = 0; k < 3; k++)
			if (read_ll_at(u->dirfd, thr_attr[ch][k], &v) == 0 &&
			    v >= INT32_MIN && v <= INT32_MAX)
				set_i32(u, field[k], (int32_t)v,
					BIT(PROP_TEMP1_MIN + 3 * ch + k));
	}
	if (read_ll_at(u->dirfd, "update_interval_ms", &v) == 0 && v >= 0 && v <= UINT32_MAX)
		set_u32(u, &u->interval_ms, (uint32_t)v, BIT(PROP_INTERVAL));
}

static void unit_update_fw_error(struct unit *u)
{
	/* The daemon knows why it refused a blob better than the kernel does. */
	set_str(u, u->info->fw_error, sizeof(u->info->fw_error),
		u->info->daemon_fw_error[0] ? u->info->daemon_fw_error : u->info->kernel_fw_error,
		BIT(PROP_FW_ERROR));
}

void unit_read_firmware(struct unit *u)
{
	char buf[UNIT_ERROR_MAX];

	if (read_attr_at(u->dirfd, "firmware_name", buf, sizeof(buf)) >= 0)
		set_str(u, u->info->fw_name, sizeof(u->info->fw_name), buf, BIT(PROP_FW_NAME));
	if (read_attr_at(u->dirfd, "firmware_state", buf, sizeof(buf)) >= 0)
		set_str(u, u->info->fw_state, sizeof(u->info->fw_state), buf, BIT(PROP_FW_STATE));
	if (read_attr_at(u->dirfd, "firmware_version", buf, sizeof(buf)) >= 0)
		set_str(u, u->info->fw_version, sizeof(u->info->fw_version), buf, BIT(PROP_FW_VERSION));
	if (read_attr_at(u->dirfd, "firmware_error", buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	snprintf(u->info->kernel_fw_error, sizeof(u->info->kernel_fw_error), "%s", buf);
	/* A unit that came up, by whatever route, has no daemon-side error. */
	if (!strcmp(u->info->fw_state, "ready"))
		u->info->daemon_fw_error[0] = '\0';
	unit_update_fw_error(u);
}

void unit_read_all(struct unit *u)
{
	unit_read_firmware(u);
	unit_read_settings(u);
	unit_read_sample(u);
	unit_publish(u);
}

void unit_set_daemon_fw_result(struct unit *u, const char *error, const char *source)
{
	snprintf(u->info->daemon_fw_error, sizeof(u->info->daemon_fw_error), "%s", error);
	if (source[0])
		set_str(u, u->info->fw_source, sizeof(u->info->fw_source), source, BIT(PROP_FW_SOURCE));
	unit_read_firmware(u);
	unit_publish(u);
	daemon_update_status(u->daemon);
}

static int on_sample(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct unit *u = userdata;

	(void)s;
	(void)fd;
	(void)revents;
	unit_read_sample(u);
	unit_publish(u);
	return 0;
}

void unit_follow_sample_seq(struct unit *u)
{
	int r;

	if (u->seq_fd >= 0)
		return;
	u->seq_fd = openat(u->dirfd, "sample_seq", O_RDONLY | O_CLOEXEC);
	if (u->seq_fd < 0)
		return;
	r = sd_event_add_io(u->daemon->event, &u->seq_source, u->seq_fd, EPOLLPRI,
			    on_sample, u);
	/* A plain file (a test tree) cannot be polled: EPERM. */
	if (r < 0) {
		log_debug("%s: not following sample_seq: %s", u->name, strerror(-r));
		close(u->seq_fd);
		u->seq_fd = -1;
	}
}

static void unit_unfollow_sample_seq(struct unit *u)
{
	u->seq_source = sd_event_source_disable_unref(u->seq_source);
	if (u->seq_fd >= 0)
		close(u->seq_fd);
	u->seq_fd = -1;
}

/*
 * Units come from pools of UNIT_POOL_SIZE, in the order they are added
 * (unit number order at start), so that the fields every record touches
 * lie side by side: allocated one by one, each beside its 2 KB of strings,
 * 10,000 units put their hot fields on 10,000 pages, and every record
 * cost a TLB and a cache miss. A unit that goes leaves its slot to the
 * next one added; the pools are freed at exit. Under ASan a free slot is
 * poisoned, so a use after free is still caught.
 */
#define UNIT_POOL_SIZE 256

struct unit_pool {
	struct unit_pool *next;
	struct unit units[UNIT_POOL_SIZE];
};

static struct unit *unit_alloc(struct daemon *d)
{
	struct unit *u;

	if (!d->n_spare_units) {
		struct unit_pool *p = malloc(sizeof(*p));
		struct unit **spare = realloc(d->spare_units,
			(d->n_pooled_units + UNIT_POOL_SIZE) * sizeof(*spare));

		if (spare)
			d->spare_units = spare;
		if (!p || !spare) {
			free(p);
			return NULL;
		}
		p->next = d->unit_pools;
		d->unit_pools = p;
		d->n_pooled_units += UNIT_POOL_SIZE;
		/* Taken from the end: the first unit added gets the first slot. */
		for (size_t i = 0; i < UNIT_POOL_SIZE; i++) {
			d->spare_units[i] = &p->units[UNIT_POOL_SIZE - 1 - i];
			ASAN_POISON_MEMORY_REGION(d->spare_units[i], sizeof(struct unit));
		}
		d->n_spare_units = UNIT_POOL_SIZE;
	}
	u = d->spare_units[--d->n_spare_units];
	ASAN_UNPOISON_MEMORY_REGION(u, sizeof(*u));
	memset(u, 0, sizeof(*u));
	return u;
}

static void unit_free(struct unit *u)
{
	struct daemon *d = u->daemon;

	unit_unfollow_sample_seq(u);
	if (u->dirfd >= 0)
		close(u->dirfd);
	free(u->object_path);
	free(u->info);
	/* A slot for each pooled unit: never full when a unit goes. */
	d->spare_units[d->n_spare_units++] = u;
	ASAN_POISON_MEMORY_REGION(u, sizeof(*u));
}

static void unit_pools_free(struct daemon *d)
{
	while (d->unit_pools) {
		struct unit_pool *p = d->unit_pools;

		d->unit_pools = p->next;
		ASAN_UNPOISON_MEMORY_REGION(p, sizeof(*p));
		free(p);
	}
	free(d->spare_units);
	d->spare_units = NULL;
	d->n_spare_units = d->n_pooled_units = 0;
}

static int index_unit(struct daemon *d, struct unit *u)
{
	long n = unit_name_number(u->name);

	if (n < 0)
		return 0;
	if ((size_t)n >= d->n_by_number) {
		size_t size = (size_t)n + 1 > 2 * d->n_by_number ? (size_t)n + 1 : 2 * d->n_by_number;
		struct unit **nb = realloc(d->by_number, size * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		memset(nb + d->n_by_number, 0, (size - d->n_by_number) * sizeof(*nb));
		d->by_number = nb;
		d->n_by_number = size;
	}
	d->by_number[n] = u;
	return 0;
}

static void unindex_unit(struct daemon *d, struct unit *u)
{
	long n = unit_name_number(u->name);

	if (n >= 0 && (size_t)n < d->n_by_number && d->by_number[n] == u)
		d->by_number[n] = NULL;
}

/* Where a unit called @name goes in the sorted array. */
static size_t unit_insert_pos(const struct daemon *d, const char *name)
{
	size_t lo = 0, hi = d->n_units;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strverscmp(d->units[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int unit_add(struct daemon *d, const char *name)
{
	struct unit *u;
	char path[4096];
	size_t pos;
	long n;
	int r;

	u = daemon_find_unit(d, name);
	if (u) {
		unit_read_all(u);
		return 0;
	}
	if (!unit_name_valid(name))
		return -EINVAL;
	if (!d->n_units)
		bulk_attach(d);
	u = unit_alloc(d);
	if (!u)
		return -ENOMEM;
	u->daemon = d;
	u->dirfd = -1;
	u->seq_fd = -1;
	u->info = calloc(1, sizeof(*u->info));
	if (!u->info) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(path, sizeof(path), "%s/class/coldroom/%s", d->sysfs_root, name);
	u->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	r = read_attr_at(u->dirfd, "serial", u->info->serial, sizeof(u->info->serial));
	if (r >= 0)
		r = read_attr_at(u->dirfd, "model", u->info->model, sizeof(u->info->model));
	if (r < 0) {
		log_warning("%s: cannot read its model and serial: %s", path, strerror(-r));
		goto fail;
	}
	r = sd_bus_path_encode(SENSORS_UNIT_PREFIX, name, &u->object_path);
	if (r < 0)
		goto fail;
	/* With /dev/coldroom there is no per-unit file to keep open. */
	if (d->reading_source == READING_SOURCE_SYSFS)
		unit_follow_sample_seq(u);
	/* Not published yet: its first values are no change. */
	unit_read_firmware(u);
	unit_read_settings(u);
	unit_read_sample(u);

	if (d->n_units == d->cap_units) {
		size_t cap = d->cap_units ? 2 * d->cap_units : 16;
		struct unit **nu = realloc(d->units, cap * sizeof(*nu));

		if (!nu) {
			r = -ENOMEM;
			goto fail;
		}
		d->units = nu;
		d->cap_units = cap;
	}
	r = index_unit(d, u);
	if (r < 0)
		goto fail;
	n = unit_name_number(u->name);
	u->number = n >= 0 ? (uint32_t)n : COLDROOM_UNIT_NONE;
	/* Keep the array sorted: a qsort() per unit is quadratic at startup. */
	pos = unit_insert_pos(d, u->name);
	memmove(&d->units[pos + 1], &d->units[pos], (d->n_units - pos) * sizeof(*d->units));
	d->units[pos] = u;
	d->n_units++;
	d->units_gen++;
	u->changed = 0;
	unit_count(u, true);
	/* Thousands of lines at each start say less than the READY summary. */
	log_fields(d->ready ? LOG_INFO : LOG_DEBUG,
		   &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: %s %s, firmware %s", u->name, u->info->model, u->info->serial,
		   u->info->fw_state[0] ? u->info->fw_state : "unknown");
	publish_unit_added(u);
	alarms_unit_added(u);
	daemon_update_status(d);
	return 0;
fail:
	unit_free(u);
	return r;
}

void unit_remove(struct daemon *d, struct unit *u)
{
	size_t i;

	for (i = 0; i < d->n_units && d->units[i] != u; i++)
		;
	if (i == d->n_units)
		return;
	/* InterfacesRemoved needs the object to resolve one last time. */
	publish_unit_removed(u);
	alarms_unit_removed(u);
	unindex_unit(d, u);
	unit_count(u, false);
	memmove(&d->units[i], &d->units[i + 1], (d->n_units - i - 1) * sizeof(*d->units));
	d->n_units--;
	d->units_gen++;
	for (i = 0; i < d->n_dirty; i++)
		if (d->dirty[i] == u) {
			d->dirty[i] = d->dirty[--d->n_dirty];
			break;
		}
	log_fields(LOG_INFO, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: removed", u->name);
	unit_free(u);
	if (!d->n_units)
		bulk_release(d);
	daemon_update_status(d);
}

/*
 * The names of the entries of /sys/class/@subsystem whose name starts with
 * @prefix: one directory read. (An sd-device enumeration makes a device
 * object of each entry: at 10,000 units under emulation it outlasted the
 * 30 s watchdog before the first ping.)
 */
static int list_class(struct daemon *d, const char *subsystem, const char *prefix,
		      char ***out, size_t *n_out)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int r = 0;

	snprintf(path, sizeof(path), "%s/class/%s", d->sysfs_root, subsystem);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*nn));

			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return r;
	}
	*out = names;
	*n_out = n;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Reading thousands of units takes a while on a slow machine: tell systemd
 * it is progress, not a hang (the watchdog, the start timeout), and how far.
 */
static void scan_progress(size_t done, size_t total, uint64_t *last_usec)
{
	uint64_t now = clock_usec(CLOCK_MONOTONIC);

	if (now - *last_usec < 1000000)
		return;
	*last_usec = now;
	sd_notifyf(0, "WATCHDOG=1\nEXTEND_TIMEOUT_USEC=%u\nSTATUS=reading units: %zu of %zu",
		   10 * 1000000, done, total);
}

int daemon_scan_units(struct daemon *d)
{
	uint64_t last_progress = clock_usec(CLOCK_MONOTONIC);
	char **names = NULL;
	size_t n = 0;
	int r;

	r = list_class(d, "coldroom", UNIT_SYSNAME_PREFIX, &names, &n);
	if (r < 0) {
		log_error("cannot list the coldroom units: %s", strerror(-r));
		return r;
	}
	/* Units gone while nobody was listening (or on a test tree). */
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = d->n_units; i-- > 0;) {
		struct unit *u = d->units[i];
		const char *key = u->name;

		if (!bsearch(&key, names, n, sizeof(*names), name_cmp))
			unit_remove(d, u);
	}
	/* Known units are read again, new ones for the first time: once each. */
	for (size_t k = 0; k < n; k++) {
		unit_add(d, names[k]);
		scan_progress(k + 1, n, &last_progress);
	}
	free_names(names, n);
	return 0;
}

int daemon_scan_requests(struct daemon *d)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	r = list_class(d, "firmware", "coldroom!", &names, &n);
	if (r < 0) {
		log_error("cannot list pending firmware requests: %s", strerror(-r));
		return r;
	}
	for (size_t k = 0; k < n; k++) {
		for (char *p = names[k]; *p; p++)
			if (*p == '!')
				*p = '/';
		fw_request_start(d, names[k]);
	}
	free_names(names, n);
	return 0;
}

int daemon_scan(struct daemon *d)
{
	int r = daemon_scan_units(d);
	int r2 = daemon_scan_requests(d);

	return r < 0 ? r : r2;
}

static int on_uevent(sd_device_monitor *m, sd_device *dev, void *userdata)
{
	struct daemon *d = userdata;
	sd_device_action_t action;
	const char *sysname, *event = NULL, *firmware = NULL;
	struct uevent_msg msg;
	struct unit *u;

	(void)m;
	if (sd_device_get_sysname(dev, &sysname) < 0 ||
	    sd_device_get_action(dev, &action) < 0)
		return 0;
	(void)sd_device_get_property_value(dev, "COLDROOM_EVENT", &event);
	(void)sd_device_get_property_value(dev, "COLDROOM_FIRMWARE", &firmware);
	uevent_classify(action, sysname, event, firmware, &msg);
	if (msg.verdict == UEVENT_IGNORE)
		return 0;
	u = daemon_find_unit(d, msg.unit);
	if (msg.verdict == UEVENT_REMOVE) {
		if (u)
			unit_remove(d, u);
		/*
		 * A fallback request outlives its unit and holds coldroom.ko:
		 * end the ones no unit waits for (fw_serve() refuses them).
		 */
		daemon_scan_requests(d);
		return 0;
	}
	if (!u) {
		unit_add(d, msg.unit);
		u = daemon_find_unit(d, msg.unit);
		if (!u)
			return 0;
	}
	switch (msg.verdict) {
	case UEVENT_FIRMWARE_REQUEST:
		unit_read_firmware(u);
		unit_publish(u);
		if (msg.fw_name)
			fw_request_start(d, msg.fw_name);
		else if (msg.fw_name_rejected)
			log_warning("%s: ignoring a firmware request for '%s': not a coldroom blob",
				    u->name, firmware);
		break;
	case UEVENT_ALARM:
	case UEVENT_FIRMWARE_STATE:
		/* The generic netlink event says the same, and says it first. */
		if (d->nl_fd >= 0)
			break;
		if (msg.verdict == UEVENT_ALARM) {
			unit_read_sample(u);
			unit_publish(u);
		} else {
			unit_read_all(u);
		}
		daemon_update_status(d);
		break;
	case UEVENT_REREAD:
		/* A change from "udevadm trigger": read it all. */
		unit_read_all(u);
		daemon_update_status(d);
		break;
	default:
		break;
	}
	return 0;
}

struct unit *daemon_find_unit_number(struct daemon *d, uint32_t number)
{
	return number < d->n_by_number ? d->by_number[number] : NULL;
}

void daemon_resync(struct daemon *d)
{
	for (size_t i = 0; i < d->n_units; i++)
		unit_read_all(d->units[i]);
	daemon_update_status(d);
}

int daemon_start_monitor(struct daemon *d)
{
	int r;

	if (!d->sysfs_is_real)
		return 0;
	r = sd_device_monitor_new(&d->monitor);
	if (r < 0)
		return r;
	/* Thousands of units can change at once: room for a burst. */
	(void)sd_device_monitor_set_receive_buffer_size(d->monitor, 16 * 1024 * 1024);
	r = sd_device_monitor_filter_add_match_subsystem_devtype(d->monitor, "coldroom", NULL);
	if (r >= 0)
		r = sd_device_monitor_attach_event(d->monitor, d->event);
	if (r >= 0)
		r = sd_device_monitor_set_description(d->monitor, "coldroom-units");
	if (r >= 0)
		r = sd_device_monitor_start(d->monitor, on_uevent, d);
	return r;
}

int daemon_init(struct daemon *d, sd_event *event, const char *sysfs_root,
		const char *config_path)
{
	char err[CONFIG_ERROR_MAX];
	int r;

	memset(d, 0, sizeof(*d));
	d->dev_fd = -1;
	d->window_gen = 1;	/* a new unit (window_gen 0) is in no window */
	d->nl_fd = -1;
	d->event = sd_event_ref(event);
	d->sysfs_root = strdup(sysfs_root);
	d->config_path = strdup(config_path);
	if (!d->sysfs_root || !d->config_path)
		return -ENOMEM;
	/* Trailing slashes would break the prefix arithmetic of fallback paths. */
	for (size_t n = strlen(d->sysfs_root); n > 1 && d->sysfs_root[n - 1] == '/'; n--)
		d->sysfs_root[n - 1] = '\0';
	d->sysfs_is_real = !strcmp(d->sysfs_root, "/sys");
	daemon_refresh_clock(d);
	bulk_release(d);	/* no units yet */
	r = publish_init(d);
	if (r < 0)
		return r;
	r = config_init(&d->config);
	if (r < 0)
		return r;
	r = config_load(d->config_path, &d->config, err, sizeof(err));
	if (r < 0) {
		log_error("bad configuration: %s", err);
		return r;
	}
	return 0;
}

void daemon_done(struct daemon *d)
{
	fw_requests_free(d);
	bulk_stop(d);
	while (d->n_units)
		unit_free(d->units[--d->n_units]);
	unit_pools_free(d);
	free(d->units);
	free(d->by_number);
	free(d->dirty);
	replies_free(d);
	publish_free(d);
	alarms_done(d);
	polkit_registry_free(d->polkit);
	sd_event_source_disable_unref(d->flush_timer);
	sd_event_source_disable_unref(d->status_source);
	sd_device_monitor_unref(d->monitor);
	sd_bus_flush_close_unref(d->bus);
	sd_event_unref(d->event);
	config_free(&d->config);
	free(d->sysfs_root);
	free(d->config_path);
	free(d->records_path);
	memset(d, 0, sizeof(*d));
}

int daemon_reload(struct daemon *d)
{
	char err[CONFIG_ERROR_MAX];
	int r;

	r = config_load(d->config_path, &d->config, err, sizeof(err));
	if (r < 0) {
		snprintf(d->config_error, sizeof(d->config_error), "%s", err);
		log_error("reload: keeping the old configuration: %s", err);
	} else {
		d->config_error[0] = '\0';
		log_info("reload: configuration read from %s", d->config_path);
	}
	/*
	 * Catch up with sysfs as well: anything a lost event would have said.
	 * The scan reads every unit once (unit_add() of a known unit).
	 */
	daemon_scan_units(d);
	daemon_scan_requests(d);
	daemon_update_status(d);
	return r;
}
