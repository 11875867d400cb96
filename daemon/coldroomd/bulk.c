// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bulk.c - the driver's bulk path in coldroomd: readings as records read()
 * from /dev/coldroom, and alarm, firmware and unit events from the generic
 * netlink family's "events" group. Either one missing leaves its job to
 * sysfs and uevents, as before. Everything read is checked by bulkmsg.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "bulkmsg.h"
#include "bus_names.h"
#include "daemon.h"
#include "log.h"
#include "ring_reader.h"

/* A batch window of 10,000 units at 1 Hz in one read(). */
#define RECORDS_PER_READ 1024
/* Records per wakeup before other sources get their turn. */
#define RECORDS_PER_DISPATCH (16 * RECORDS_PER_READ)
#define NETLINK_RCVBUF (4 * 1024 * 1024)
#define BATCH_READINGS 1024

static void ring_unmap(struct daemon *d)
{
	if (!d->ring)
		return;
	ring_reader_close(d->ring);
	free(d->ring);
	d->ring = NULL;
}

/* The ring, read-only, for the frames records name; readings need none. */
static void ring_map(struct daemon *d, int fd)
{
	int r;

	d->ring = calloc(1, sizeof(*d->ring));
	r = d->ring ? ring_reader_map(d->ring, fd) : -ENOMEM;
	if (r < 0) {
		log_warning("%s: cannot map its ring (%s): no thermal frames on D-Bus",
			    COLDROOM_DEVICE, strerror(-r));
		free(d->ring);
		d->ring = NULL;
	}
}

int bulk_copy_frame(struct daemon *d, const struct unit *u, struct coldroom_frame *hdr,
		    int16_t *pixels)
{
	int r;

	if (!u->has_frame)
		return -ENOENT;
	if (!d->ring)
		return -ENODEV;
	r = ring_reader_frame(d->ring, u->frame_pos, hdr, pixels);
	if (r == 0 && hdr->unit != u->number)
		r = -ESTALE;
	return r;
}

static void device_close(struct daemon *d)
{
	ring_unmap(d);
	d->dev_paused = false;
	d->dev_source = sd_event_source_disable_unref(d->dev_source);
	if (d->dev_fd >= 0)
		close(d->dev_fd);
	d->dev_fd = -1;
}

/* Publishes where readings and events come from, when that changed. */
static void set_sources(struct daemon *d, enum reading_source reading, const char *events)
{
	static const char *const reading_names[] = {
		[READING_SOURCE_NONE] = "none",
		[READING_SOURCE_SYSFS] = "sysfs",
		[READING_SOURCE_DEVICE] = "device",
	};
	char *changed[3] = { NULL };
	size_t n = 0;

	d->reading_source = reading;
	if (strcmp(d->reading_source_name, reading_names[reading])) {
		snprintf(d->reading_source_name, sizeof(d->reading_source_name), "%s",
			 reading_names[reading]);
		changed[n++] = (char *)"ReadingSource";
	}
	if (strcmp(d->event_source_name, events)) {
		snprintf(d->event_source_name, sizeof(d->event_source_name), "%s", events);
		changed[n++] = (char *)"EventSource";
	}
	if (n && d->bus)
		(void)sd_bus_emit_properties_changed_strv(d->bus, SENSORS_PATH,
							  SENSORS_MANAGER_IFACE,
							  changed);
}

static const char *event_source(const struct daemon *d)
{
	return d->nl_fd >= 0 ? "netlink" : "uevent";
}

static void netlink_close(struct daemon *d)
{
	d->nl_source = sd_event_source_disable_unref(d->nl_source);
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	d->nl_fd = -1;
}

/* The device failed under us: follow sample_seq from now on. */
static void device_lost(struct daemon *d, int err)
{
	log_warning("%s: %s; reading samples from sysfs from now on", COLDROOM_DEVICE,
		    strerror(err));
	device_close(d);
	set_sources(d, READING_SOURCE_SYSFS, event_source(d));
	for (size_t i = 0; i < d->n_units; i++)
		unit_follow_sample_seq(d->units[i]);
	daemon_resync(d);
}

/*
 * Every unit's latest reading, BATCH_READINGS units per ioctl: a
 * few system calls where sysfs would take several files per unit, so that
 * a daemon that fell behind thousands of units catches up instead of
 * falling further behind.
 */
static void resync_readings(struct daemon *d, bool events_lost)
{
	static struct coldroom_reading buf[BATCH_READINGS];
	struct coldroom_batch b = {
		.max_readings = BATCH_READINGS,
		.readings = (uintptr_t)buf,
	};

	for (;;) {
		if (ioctl(d->dev_fd, COLDROOM_IOC_READ_BATCH, &b) < 0) {
			log_warning("%s: batch read failed (%s); re-reading all units from sysfs",
				    COLDROOM_DEVICE, strerror(errno));
			daemon_resync(d);
			return;
		}
		for (uint32_t i = 0; i < b.nr_readings && i < BATCH_READINGS; i++) {
			struct coldroom_record rec;
			struct unit *u;

			if (reading_to_record(&buf[i], &rec) < 0)
				continue;
			u = daemon_find_unit_number(d, rec.unit);
			if (!u)
				continue;
			unit_apply_record(u, &rec);
			if (events_lost) {
				/* What the lost alarm and firmware events would have said. */
				unit_apply_alarm_flags(u, rec.flags);
				if (!(buf[i].flags & COLDROOM_F_READY) != !!strcmp(u->info->fw_state, "ready"))
					unit_read_firmware(u);
			}
			unit_publish(u);
		}
		if (!b.nr_readings || b.next_unit == COLDROOM_UNIT_NONE)
			return;
		b.first_unit = b.next_unit;
	}
}

/* One whole record of a read() buffer. */
static void handle_record(struct daemon *d, const struct coldroom_record *rec)
{
	enum record_kind kind;
	struct unit *u;

	if (record_check(rec, &kind) < 0) {
		log_warning("%s: malformed record skipped", COLDROOM_DEVICE);
		return;
	}
	if (kind == RECORD_OVERFLOW) {
		/* The lost samples are gone; the batch has the latest of each unit. */
		log_warning("%s: %llu records lost (fell behind); re-reading all units",
			    COLDROOM_DEVICE, (unsigned long long)rec->seq);
		resync_readings(d, false);
		return;
	}
	u = daemon_find_unit_number(d, rec->unit);
	if (!u) {
		/* Not added yet (its uevent comes) or removed: sysfs decides. */
		log_debug("%s: record of unknown unit %u skipped", COLDROOM_DEVICE, rec->unit);
		return;
	}
	unit_apply_record(u, rec);
	unit_publish(u);
}

/* Every record waiting, up to RECORDS_PER_DISPATCH; returns how many. */
static size_t device_drain(struct daemon *d)
{
	static struct coldroom_record buf[RECORDS_PER_READ];
	size_t done = 0;

	daemon_refresh_clock(d);
	while (d->dev_fd >= 0 && done < RECORDS_PER_DISPATCH) {
		ssize_t n = read(d->dev_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			device_lost(d, n < 0 ? errno : ENODEV);
			break;
		}
		/* The driver never splits a record; a remainder is a broken read. */
		if ((size_t)n % sizeof(buf[0]))
			log_warning("%s: read returned %zd bytes, not whole records; "
				    "the remainder is skipped", COLDROOM_DEVICE, n);
		for (size_t i = 0; i < (size_t)n / sizeof(buf[0]); i++)
			handle_record(d, &buf[i]);
		done += (size_t)n / sizeof(buf[0]);
		/*
		 * A short read took all there was: what comes later wakes the
		 * (level-triggered) source or waits for the next window, and
		 * asking again now would only return EAGAIN.
		 */
		if ((size_t)n < sizeof(buf))
			break;
	}
	return done;
}

/*
 * Records wake the daemon only when it is idle. The first ones open a
 * batch window; the rest are read in one go when it ends
 * (bulk_window_end(), from the flush), and while records keep coming the
 * next window follows at once without a wakeup of its own: the kernel
 * wakes a waiting reader for every record, and thousands of wakeups a
 * second would cost more than the readings.
 */
static int on_device(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	(void)s, (void)fd;
	if (revents & (EPOLLERR | EPOLLHUP)) {
		device_lost(d, ENODEV);
		return 0;
	}
	device_drain(d);
	/* Only while a flush is due that will read again (no bus: no flush). */
	if (d->dev_source && d->flush_due && d->config.batch_ms &&
	    sd_event_source_set_enabled(d->dev_source, SD_EVENT_OFF) >= 0)
		d->dev_paused = true;
	daemon_update_status(d);
	return 0;
}

/*
 * Returns true when records came in the window that ends: the device
 * stays paused and the caller opens the next window. Else the device
 * wakes the daemon again.
 */
bool bulk_window_end(struct daemon *d)
{
	if (!d->dev_paused)
		return false;
	if (device_drain(d) && d->dev_fd >= 0)
		return true;
	d->dev_paused = false;
	if (d->dev_source && sd_event_source_set_enabled(d->dev_source, SD_EVENT_ON) < 0) {
		log_error("%s: cannot follow it any more; reading samples from sysfs",
			  COLDROOM_DEVICE);
		device_lost(d, EIO);
	}
	return false;
}

/* Records of @fd wake on_device() from now on; closes @fd on failure. */
static int device_follow(struct daemon *d, int fd, const char *description)
{
	int r = sd_event_add_io(d->event, &d->dev_source, fd, EPOLLIN, on_device, d);

	/* The records before callers, as the window's end (publish.c). */
	if (r >= 0)
		r = sd_event_source_set_priority(d->dev_source, SD_EVENT_PRIORITY_IMPORTANT);
	if (r < 0) {
		d->dev_source = sd_event_source_unref(d->dev_source);
		close(fd);
		return r;
	}
	(void)sd_event_source_set_description(d->dev_source, description);
	d->dev_fd = fd;
	return 0;
}

static int device_open(struct daemon *d)
{
	struct coldroom_version v;
	int fd, r;

	fd = open(COLDROOM_DEVICE, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, COLDROOM_IOC_GET_VERSION, &v) < 0) {
		r = -errno;
		goto fail;
	}
	if (v.abi_version != COLDROOM_ABI_VERSION || v.record_size != sizeof(struct coldroom_record)) {
		log_warning("%s: ABI %u with %u-byte records, this daemon knows ABI %u",
			    COLDROOM_DEVICE, v.abi_version, v.record_size, COLDROOM_ABI_VERSION);
		r = -EPROTO;
		goto fail;
	}
	r = device_follow(d, fd, "coldroom-device");
	if (r == 0)
		ring_map(d, fd);
	return r;
fail:
	close(fd);
	return r;
}

/*
 * --records-from: records written to a FIFO in the device's format, for
 * benchmarks and tests on a test tree. Opened read-write, so that the
 * writer coming and going is no end of file; no ioctls (a resync reads
 * sysfs).
 */
static int records_fifo_open(struct daemon *d)
{
	struct stat st;
	int fd, r;

	fd = open(d->records_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		r = -EINVAL;
		goto fail;
	}
	return device_follow(d, fd, "coldroom-records-fifo");
fail:
	close(fd);
	return r;
}

static void handle_event(struct daemon *d, const struct genl_event *ev)
{
	struct unit *u = daemon_find_unit_number(d, ev->unit);
	char name[UNIT_NAME_MAX];

	switch (ev->cmd) {
	case COLDROOM_CMD_UNIT_ADDED:
		snprintf(name, sizeof(name), "sensor%u", ev->unit);
		(void)unit_add(d, name);
		return;
	case COLDROOM_CMD_UNIT_REMOVED:
		/* The uevent of the removal does it, with its device gone. */
		return;
	default:
		break;
	}
	if (!u) {
		log_debug("netlink: event %u of unknown unit %u skipped", ev->cmd, ev->unit);
		return;
	}
	if (ev->cmd == COLDROOM_CMD_ALARM)
		unit_apply_alarm(u, ev->channel, ev->alarm, ev->temp, ev->seq);
	else
		unit_read_firmware(u);	/* version and error come with the state */
	unit_publish(u);
	daemon_update_status(d);
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	static uint8_t buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct daemon *d = userdata;

	(void)s, (void)revents;
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from),
				      .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
		const struct nlmsghdr *nh;
		int left;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			log_warning("netlink: events were lost; re-reading all units");
			if (d->dev_fd >= 0 && !d->records_path)
				resync_readings(d, true);
			else
				daemon_resync(d);
			continue;
		}
		if (n < 0) {
			log_error("netlink: %s; following uevents only", strerror(errno));
			netlink_close(d);
			set_sources(d, d->reading_source, event_source(d));
			return 0;
		}
		/* Only the kernel speaks on this group; a truncated datagram is skipped. */
		if (from.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC))
			continue;
		/*
		 * A datagram may hold several messages, each checked on its own.
		 * mnl_nlmsg_ok() takes a length of 2 GiB or more for a negative
		 * one: compared as unsigned too, before mnl_nlmsg_next() steps.
		 */
		left = (int)n;
		for (nh = (const void *)buf;
		     mnl_nlmsg_ok(nh, left) && nh->nlmsg_len <= (unsigned int)left;
		     nh = mnl_nlmsg_next(nh, &left)) {
			struct genl_event ev;
			int r = genl_event_parse(nh, nh->nlmsg_len, d->nl_family, &ev);

			if (r == 0)
				handle_event(d, &ev);
			else if (r == -EBADMSG)
				log_warning("netlink: malformed event skipped");
		}
	}
}

/* Ask the controller for the family: answered at once, or within a second. */
static int resolve_family(int fd, uint16_t *family_id, uint32_t *group_id)
{
	static uint8_t buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	const uint32_t seq = 1;
	int len, r;

	len = genl_family_request(buf, sizeof(buf), seq);
	if (len < 0)
		return len;
	if (sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_nl from;
		socklen_t from_len = sizeof(from);
		const struct nlmsghdr *nh = (const void *)buf;
		ssize_t n;

		r = poll(&pfd, 1, 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &from_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		if (from.nl_pid != 0 || (size_t)n < NLMSG_HDRLEN || nh->nlmsg_seq != seq)
			continue;
		return genl_family_parse(buf, (size_t)n, family_id, group_id);
	}
}

static int netlink_open(struct daemon *d)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd, r, rcvbuf = NETLINK_RCVBUF;
	uint32_t group;
	uint16_t family;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		r = -errno;
		goto fail;
	}
	r = resolve_family(fd, &family, &group);
	if (r < 0)
		goto fail;
	/* A burst of alarms from thousands of units needs room. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(d->event, &d->nl_source, fd, EPOLLIN, on_netlink, d);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(d->nl_source, "coldroom-netlink");
	d->nl_fd = fd;
	d->nl_family = family;
	log_info("netlink: subscribed to %s/%s (family %u, group %u)", COLDROOM_GENL_NAME,
		 COLDROOM_GENL_MCGRP_EVENTS, family, group);
	return 0;
fail:
	close(fd);
	return r;
}

/*
 * Called before the first unit is added: with the modules loaded (again),
 * the device and the family are there (again; the family's id may differ).
 */
void bulk_attach(struct daemon *d)
{
	int r;

	if (d->records_path && d->dev_fd < 0) {
		r = records_fifo_open(d);
		if (r < 0)
			log_error("reading source: sysfs (%s: %s)", d->records_path,
				  r == -EINVAL ? "not a FIFO" : strerror(-r));
		else
			log_info("reading source: records from %s", d->records_path);
	}
	/* A test tree has neither the device nor the kernel's events. */
	if (!d->sysfs_is_real) {
		set_sources(d, d->dev_fd >= 0 ? READING_SOURCE_DEVICE : READING_SOURCE_SYSFS,
			    event_source(d));
		return;
	}
	if (d->nl_fd < 0) {
		r = netlink_open(d);
		if (r < 0)
			log_info("netlink: %s family not available (%s); alarms and firmware "
				 "states from uevents", COLDROOM_GENL_NAME, strerror(-r));
	}
	if (d->dev_fd < 0) {
		r = device_open(d);
		if (r == -EPERM)
			/* The device cgroup, not the file mode (EACCES), said no. */
			log_warning("reading source: sysfs (%s: %s): the service's DeviceAllow= "
				    "does not let it in; a %s made after coldroomd started is "
				    "not in it until \"systemctl restart coldroomd\"",
				    COLDROOM_DEVICE, strerror(-r), COLDROOM_DEVICE);
		else if (r < 0)
			log_info("reading source: sysfs (%s: %s)", COLDROOM_DEVICE, strerror(-r));
		else
			log_info("reading source: %s", COLDROOM_DEVICE);
	}
	set_sources(d, d->dev_fd >= 0 ? READING_SOURCE_DEVICE : READING_SOURCE_SYSFS,
		    event_source(d));
}

void bulk_stop(struct daemon *d)
{
	device_close(d);
	netlink_close(d);
}

/*
 * Called when the last unit has gone: an open /dev/coldroom would keep the
 * module from being unloaded, and a reloaded module has a new family.
 */
void bulk_release(struct daemon *d)
{
	if (d->dev_fd >= 0 || d->nl_fd >= 0)
		log_info("no units: %s and the netlink family released", COLDROOM_DEVICE);
	bulk_stop(d);
	set_sources(d, d->sysfs_is_real ? READING_SOURCE_NONE : READING_SOURCE_SYSFS,
		    event_source(d));
}
