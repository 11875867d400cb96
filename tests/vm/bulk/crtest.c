// SPDX-License-Identifier: GPL-2.0
/*
 * crtest - the guest-side checker of /dev/coldroom and the "coldroom"
 * generic netlink family, one subcommand per property (see usage()).
 * Prints "ok: ..." lines and exits 0 when the property holds, prints
 * "not ok: ..." and exits 1 otherwise. Built static on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/userfaultfd.h>

#include "ring_reader.h"

#define REC_SIZE sizeof(struct coldroom_record)

static int failures;

static void ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("ok: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static void bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("not ok: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

#define expect(cond, ...) ((cond) ? ok(__VA_ARGS__) : bad(__VA_ARGS__))

static int open_dev(int flags)
{
	int fd = open(COLDROOM_DEVICE, O_RDONLY | flags);

	if (fd < 0) {
		perror(COLDROOM_DEVICE);
		exit(2);
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads exactly @n records (blocking), or fewer at the deadline. */
static size_t read_records(int fd, struct coldroom_record *buf, size_t n,
			   double timeout_s)
{
	double deadline = now_s() + timeout_s;
	size_t got = 0;

	while (got < n && now_s() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 500) <= 0)
			continue;
		r = read(fd, buf + got, (n - got) * REC_SIZE);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			bad("read: %s", strerror(errno));
			return got;
		}
		if (r % REC_SIZE)
			bad("read returned %zd bytes, not whole records", r);
		got += r / REC_SIZE;
	}
	return got;
}

static void get_stats(int fd, struct coldroom_file_stats *st)
{
	if (ioctl(fd, COLDROOM_IOC_GET_STATS, st)) {
		perror("GET_STATS");
		exit(2);
	}
}

/* ---- records: format, ordering ---- */

#define MAX_UNITS 4096

static int check_sequence(const struct coldroom_record *r, size_t n,
			  const char *what)
{
	static __u64 last_seq[MAX_UNITS];
	int errors = 0;
	size_t i;

	memset(last_seq, 0, sizeof(last_seq));
	for (i = 0; i < n; i++) {
		if (i && r[i].pos != r[i - 1].pos + 1 &&
		    !(r[i].flags & COLDROOM_F_OVERFLOW) &&
		    !(r[i - 1].flags & COLDROOM_F_OVERFLOW)) {
			if (errors++ < 5)
				printf("  %s: pos %llu after %llu\n",
				       what, r[i].pos, r[i - 1].pos);
		}
		if (r[i].unit >= MAX_UNITS)
			continue;
		if (last_seq[r[i].unit] && r[i].seq != last_seq[r[i].unit] + 1) {
			if (errors++ < 5)
				printf("  %s: unit %u seq %llu after %llu\n",
				       what, r[i].unit, r[i].seq, last_seq[r[i].unit]);
		}
		last_seq[r[i].unit] = r[i].seq;
	}
	return errors;
}

static int cmd_records(int argc, char **argv)
{
	size_t n = argc > 0 ? strtoul(argv[0], NULL, 0) : 200;
	unsigned int nunits = argc > 1 ? strtoul(argv[1], NULL, 0) : 2;
	struct coldroom_record *r = calloc(n, REC_SIZE);
	__u64 prev_ts = 0, units_seen = 0;
	int fd = open_dev(0);
	size_t got, i;
	int bad_fields = 0, ts_back = 0;

	got = read_records(fd, r, n, 60);
	expect(got == n, "read %zu of %zu records", got, n);
	for (i = 0; i < got; i++) {
		uint32_t want = COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID;

		if (r[i].unit >= nunits || (r[i].flags & want) != want ||
		    r[i].temp1 < -60000 || r[i].temp1 > 60000 ||
		    r[i].temp2 < -60000 || r[i].temp2 > 60000 || r[i].seq == 0 ||
		    r[i].timestamp_ns == 0 ||
		    (r[i].flags & ~(want | COLDROOM_F_TEMP1_ALARM |
				    COLDROOM_F_TEMP2_ALARM | COLDROOM_F_FRAME))) {
			if (bad_fields++ < 5)
				printf("  odd record: unit %u flags %#x seq %llu temps %d %d\n",
				       r[i].unit, r[i].flags, r[i].seq, r[i].temp1, r[i].temp2);
		}
		if (r[i].timestamp_ns < prev_ts)
			ts_back++;
		prev_ts = r[i].timestamp_ns;
		if (r[i].unit < 64)
			units_seen |= 1ULL << r[i].unit;
	}
	expect(!bad_fields, "every record has a unit < %u, both temperatures valid and in range, seq and timestamp set, known flags only", nunits);
	expect(!ts_back, "timestamps never go backwards");
	expect(!check_sequence(r, got, "read"),
	       "ring positions consecutive, each unit's seq counts up by one");
	expect(nunits > 64 || units_seen == (nunits == 64 ? ~0ULL : (1ULL << nunits) - 1),
	       "records from all %u units", nunits);
	printf("first record: unit %u seq %llu temp1 %d temp2 %d flags %#x\n",
	       r[0].unit, r[0].seq, r[0].temp1, r[0].temp2, r[0].flags);
	free(r);
	close(fd);
	return 0;
}

/* ---- never a partial record ---- */

static int cmd_partial(int argc, char **argv)
{
	static const size_t sizes[] = { 1, REC_SIZE - 1, REC_SIZE + 1,
					2 * REC_SIZE + 47, 3 * REC_SIZE - 1 };
	char buf[4 * REC_SIZE];
	int fd = open_dev(0);
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < 2; i++) {
		ssize_t r = read(fd, buf, sizes[i]);

		expect(r < 0 && errno == EINVAL, "read(%zu bytes) fails with EINVAL (%s)",
		       sizes[i], r < 0 ? strerror(errno) : "returned data");
	}
	for (; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ssize_t r = read(fd, buf, sizes[i]);

		expect(r > 0 && r % REC_SIZE == 0 && (size_t)r <= sizes[i],
		       "read(%zu bytes) returns %zd: whole records only", sizes[i], r);
	}
	close(fd);
	return 0;
}

/* ---- overflow: counted, reported in-band, never silent ---- */

static int cmd_overflow(int argc, char **argv)
{
	int fd = open_dev(O_NONBLOCK);
	struct coldroom_file_stats st;
	struct coldroom_record r[16];
	struct coldroom_ring_info info;
	__u64 start;
	ssize_t n;

	(void)argc;
	(void)argv;
	ioctl(fd, COLDROOM_IOC_RING_INFO, &info);
	get_stats(fd, &st);
	start = st.position;
	/* Do not read until the ring lapped this reader twice. */
	while (st.head - start < 2ULL * info.nr_records + 10) {
		usleep(100000);
		get_stats(fd, &st);
	}
	n = read(fd, r, sizeof(r));
	expect(n >= (ssize_t)REC_SIZE, "read after falling behind returns records");
	expect(r[0].flags == COLDROOM_F_OVERFLOW && r[0].unit == COLDROOM_UNIT_NONE,
	       "the first record is the overflow report (flags %#x unit %#x)",
	       r[0].flags, r[0].unit);
	get_stats(fd, &st);
	printf("lost %llu in report, stats: lost %llu overflows %llu"
	       " read %llu position %llu\n", r[0].seq,
	       st.records_lost, st.overflows, st.records_read, st.position);
	expect(r[0].seq >= info.nr_records && r[0].seq == st.records_lost,
	       "the report's count (%llu) is the lost records of the stats", r[0].seq);
	expect(st.overflows == 1, "one overflow counted");
	expect(n >= 2 * (ssize_t)REC_SIZE && r[1].pos == r[0].pos &&
	       r[0].pos - start == st.records_lost,
	       "reading resumes right after the loss: first position + lost = the report's pos = the next record's");
	expect(n / REC_SIZE < 2 || !(r[1].flags & COLDROOM_F_OVERFLOW),
	       "the report comes once");
	close(fd);
	return 0;
}

/* ---- several readers, each with its own position ---- */

static int cmd_readers(int argc, char **argv)
{
	int k = argc > 0 ? atoi(argv[0]) : 4, i, fds[16];
	size_t n = 100;
	struct coldroom_record *r[16];
	__u64 common = 0;

	if (k > 16)
		k = 16;
	for (i = 0; i < k; i++) {
		fds[i] = open_dev(0);
		r[i] = calloc(n, REC_SIZE);
		usleep(200000);	/* each starts later */
	}
	/* The last reader (opened last) drains; the others then catch up. */
	for (i = k - 1; i >= 0; i--) {
		size_t got = read_records(fds[i], r[i], n, 60);

		expect(got == n, "reader %d read %zu records", i, got);
	}
	common = r[k - 1][0].pos;
	for (i = 0; i < k - 1; i++) {
		size_t off = common - r[i][0].pos;

		expect(r[i][0].pos <= common && off < n &&
		       !memcmp(&r[i][off], &r[k - 1][0], (n - off) * REC_SIZE),
		       "reader %d started at %llu, its records from %llu equal the last reader's",
		       i, r[i][0].pos, common);
	}
	for (i = 0; i < k; i++) {
		close(fds[i]);
		free(r[i]);
	}
	return 0;
}

/* ---- SIGIO ---- */

static int cmd_sigio(int argc, char **argv)
{
	int fd = open_dev(O_NONBLOCK);
	struct timespec ts = { .tv_sec = 10 };
	struct coldroom_record rec;
	siginfo_t si;
	sigset_t set;
	int sig;

	(void)argc;
	(void)argv;
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC)) {
		bad("fcntl O_ASYNC: %s", strerror(errno));
		return 1;
	}
	while (read(fd, &rec, sizeof(rec)) > 0)
		;
	sig = sigtimedwait(&set, &si, &ts);
	expect(sig == SIGIO, "SIGIO delivered for new records (%s)",
	       sig < 0 ? strerror(errno) : "signal");
	expect(read(fd, &rec, sizeof(rec)) == sizeof(rec), "and a record is there to read");
	/* Switched off: no more SIGIO. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_ASYNC);
	while (sigtimedwait(&set, &si, &(struct timespec){ 0 }) == SIGIO)
		;
	ts.tv_sec = 3;
	sig = sigtimedwait(&set, &si, &ts);
	expect(sig < 0 && errno == EAGAIN, "no SIGIO once O_ASYNC is cleared");
	close(fd);
	return 0;
}

/* ---- poll() and SIGIO follow the subscription ---- */

/* quiet BUSY QUIET: unit BUSY samples, unit number QUIET never does. */
static int cmd_quiet(int argc, char **argv)
{
	uint32_t unit;
	struct coldroom_subscription sub = { .units = (uintptr_t)&unit, .nr_units = 1 };
	struct pollfd p = { .events = POLLIN };
	struct timespec ts = { .tv_sec = 3 };
	struct coldroom_record rec;
	uint32_t busy, quiet;
	siginfo_t si;
	sigset_t set;
	int sig, r;

	if (argc != 2)
		return 1;
	busy = strtoul(argv[0], NULL, 0);
	quiet = strtoul(argv[1], NULL, 0);
	p.fd = open_dev(O_NONBLOCK);
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigprocmask(SIG_BLOCK, &set, NULL);
	unit = quiet;
	if (ioctl(p.fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub) ||
	    fcntl(p.fd, F_SETOWN, getpid()) ||
	    fcntl(p.fd, F_SETFL, fcntl(p.fd, F_GETFL) | O_ASYNC)) {
		bad("subscribe and O_ASYNC: %s", strerror(errno));
		return 1;
	}
	/* Other units keep sampling all the while. */
	r = poll(&p, 1, 3000);
	expect(r == 0, "poll() of a file subscribed to a quiet unit sleeps while others sample (%s)",
	       r == 0 ? "timed out" : r > 0 ? "readable" : strerror(errno));
	errno = 0;
	expect(read(p.fd, &rec, sizeof(rec)) < 0 && errno == EAGAIN,
	       "and read() agrees: nothing to return (%s)", strerror(errno));
	while (sigtimedwait(&set, &si, &(struct timespec){ 0 }) == SIGIO)
		;
	sig = sigtimedwait(&set, &si, &ts);
	expect(sig < 0 && errno == EAGAIN, "no SIGIO for other units' records");

	unit = busy;
	if (ioctl(p.fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub)) {
		bad("SET_SUBSCRIPTION: %s", strerror(errno));
		return 1;
	}
	ts.tv_sec = 10;
	sig = sigtimedwait(&set, &si, &ts);
	expect(sig == SIGIO, "SIGIO once the subscribed unit samples (%s)",
	       sig < 0 ? strerror(errno) : "signal");
	r = poll(&p, 1, 10000);
	expect(r == 1 && (p.revents & POLLIN), "and poll() reports it");
	r = read(p.fd, &rec, sizeof(rec));
	expect(r == sizeof(rec) && rec.unit == busy,
	       "read() returns a record of unit %u at once (unit %u)", busy, rec.unit);
	close(p.fd);
	return 0;
}

/* ---- mmap reader agrees with read() ---- */

static int cmd_mmap(int argc, char **argv)
{
	size_t n = argc > 0 ? strtoul(argv[0], NULL, 0) : 300, got, i = 0;
	struct coldroom_record *a = calloc(n, REC_SIZE), *b = calloc(n, REC_SIZE);
	int16_t *pixels = malloc(COLDROOM_FRAME_MAX_PIXELS * sizeof(int16_t));
	int fd_read = open_dev(0), fd_map = open_dev(O_RDWR);
	struct coldroom_file_stats st;
	struct coldroom_frame fh;
	struct ring_reader rr;
	size_t frames = 0, frames_ok = 0, frames_bad = 0;
	double deadline;
	int ret;

	ret = ring_reader_open(&rr, fd_map);
	if (ret) {
		bad("mapping the ring: %s", strerror(-ret));
		return 1;
	}
	expect(rr.ctrl->abi_version == COLDROOM_ABI_VERSION &&
	       rr.ctrl->record_size == REC_SIZE, "control page: ABI %u, record size %u",
	       rr.ctrl->abi_version, rr.ctrl->record_size);
	get_stats(fd_read, &st);
	rr.tail = st.position;	/* both readers start at the same record */
	got = read_records(fd_read, a, n, 60);
	expect(got == n, "read() returned %zu records", got);
	deadline = now_s() + 30;
	while (i < n && now_s() < deadline) {
		if (ring_reader_next(&rr, &b[i])) {
			ret = (b[i].flags & COLDROOM_F_FRAME) ?
			      ring_reader_frame(&rr, b[i].frame_pos, &fh, pixels) : -ENOENT;
			if (b[i].flags & COLDROOM_F_FRAME) {
				frames++;
				if (!ret && fh.unit == b[i].unit && fh.seq == b[i].seq &&
				    fh.width == 32 && fh.height == 24) {
					int p, sane = 1;

					for (p = 0; p < 32 * 24; p++)
						sane &= pixels[p] > -4500 && pixels[p] < 3000;
					frames_ok += sane;
					frames_bad += !sane;
				} else if (ret != -ESTALE) {
					frames_bad++;
				}
			}
			i++;
			continue;
		}
		ring_reader_commit(&rr);
		usleep(10000);
	}
	expect(i == n && rr.lost == 0, "the mmap reader consumed %zu records, lost %llu",
	       i, rr.lost);
	expect(!memcmp(a, b, n * REC_SIZE),
	       "mmap records are byte for byte the records read() returned");
	expect(frames > 0 && frames_bad == 0 && frames_ok > 0,
	       "thermal frames: %zu named, %zu read back (32x24, plausible, same unit and seq), %zu bad",
	       frames, frames_ok, frames_bad);
	printf("a frame's first row (0.01 C):");
	for (i = 0; i < 8; i++)
		printf(" %d", pixels[i]);
	printf(" ...\n");

	/* poll() on the mapped file sleeps until the head passes the tail. */
	while (ring_reader_next(&rr, &b[0]))
		;
	ring_reader_commit(&rr);
	{
		struct pollfd p = { .fd = fd_map, .events = POLLIN };
		double t0 = now_s();
		int pr = poll(&p, 1, 20000);

		expect(pr == 1 && (p.revents & POLLIN) && ring_reader_next(&rr, &b[0]),
		       "poll() on the mapped file woke after %.2f s with a new record",
		       now_s() - t0);
	}
	ring_reader_close(&rr);
	close(fd_map);
	close(fd_read);
	free(a);
	free(b);
	free(pixels);
	return 0;
}

/* ---- mmap misuse: the kernel keeps its own view ---- */

static int cmd_mmap_abuse(int argc, char **argv)
{
	int fd = open_dev(O_RDWR), fd_ro = open_dev(0);
	struct coldroom_ring_info info;
	struct ring_reader rr;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	void *m;

	(void)argc;
	(void)argv;
	ioctl(fd, COLDROOM_IOC_RING_INFO, &info);
	/* PROT_READ: the VFS lets it through, the driver must refuse it. */
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd_ro,
		 (off_t)info.consumer_offset);
	expect(m == MAP_FAILED && errno == EACCES,
	       "the driver refuses the consumer page to a read-only file (%s)",
	       m == MAP_FAILED ? strerror(errno) : "mapped");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd_ro, 0);
	expect(m != MAP_FAILED, "a read-only file maps the ring");
	munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(m == MAP_FAILED && errno == EPERM, "the ring cannot be mapped writable (%s)",
	       strerror(errno));
	m = mmap(NULL, info.ring_size + 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect(m == MAP_FAILED && errno == EINVAL, "nor beyond its size");
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 8192);
	expect(m == MAP_FAILED && errno == EINVAL, "nor at an unknown offset");
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 (off_t)info.consumer_offset);
	expect(m == MAP_FAILED && errno == EINVAL, "the consumer page must be shared");
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)info.consumer_offset);
	expect(m == MAP_FAILED && errno == EINVAL, "and one page");
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect(m != MAP_FAILED && mprotect(m, 4096, PROT_READ | PROT_WRITE) < 0,
	       "a read-only ring mapping cannot be made writable");
	munmap(m, 4096);

	if (ring_reader_open(&rr, fd)) {
		bad("ring_reader_open");
		return 1;
	}
	/* A tail far ahead of the head is clamped: nothing to read. */
	rr.consumer->tail = rr.ctrl->head + (1ULL << 40);
	expect(poll(&p, 1, 0) == 0,
	       "poll with a tail ahead of the head: clamped to the head, nothing to read");
	rr.consumer->tail = ~0ULL;
	expect(poll(&p, 1, 0) == 0, "and so is a tail of 2^64 - 1");
	rr.consumer->tail = 0x8000000000000000ULL;
	expect(poll(&p, 1, 0) == 0, "and one of 2^63");
	/* A tail far behind: readable, and nothing breaks. */
	rr.consumer->tail = 0;
	expect(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN),
	       "poll with a tail far behind reports data");
	/*
	 * Unmapped early, the page stays the kernel's (the file holds it):
	 * poll goes on judging by the tail last written.
	 */
	munmap(rr.consumer, 4096);
	p.revents = 0;
	expect(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN),
	       "after unmapping the consumer page, poll still follows its tail");
	munmap(rr.map, rr.map_size);
	close(fd);
	close(fd_ro);
	return 0;
}

/* ---- ioctl: good and bad calls ---- */

static void expect_errno(int fd, unsigned long cmd, void *arg, int err,
			 const char *what)
{
	int r = ioctl(fd, cmd, arg);

	expect(r < 0 && errno == err, "%s: %s (got %s)", what, strerror(err),
	       r < 0 ? strerror(errno) : "success");
}

static int cmd_ioctl(int argc, char **argv)
{
	unsigned int unit = argc > 0 ? strtoul(argv[0], NULL, 0) : 0;
	int fd = open_dev(0);
	struct coldroom_version v;
	struct coldroom_temp t = { .unit = unit };
	struct coldroom_reading readings[8];
	struct coldroom_batch b = { .max_readings = 8,
				    .readings = (uintptr_t)readings };
	struct coldroom_subscription sub = { 0 };
	uint32_t units[4] = { unit, 3, 9 }, back[4];
	char buf[64];

	expect(!ioctl(fd, COLDROOM_IOC_GET_VERSION, &v) &&
	       v.abi_version == COLDROOM_ABI_VERSION && v.record_size == REC_SIZE &&
	       v.reading_size == sizeof(struct coldroom_reading) &&
	       v.max_batch == COLDROOM_BATCH_MAX,
	       "GET_VERSION: ABI %u, record %u B, reading %u B, batch %u",
	       v.abi_version, v.record_size, v.reading_size, v.max_batch);
	expect(!ioctl(fd, COLDROOM_IOC_READ_TEMP1, &t), "READ_TEMP1 unit %u: %d", unit, t.mdeg);
	expect(!ioctl(fd, COLDROOM_IOC_READ_TEMP2, &t), "READ_TEMP2 unit %u: %d", unit, t.mdeg);
	expect(!ioctl(fd, COLDROOM_IOC_READ_BATCH, &b) && b.nr_readings >= 1 &&
	       readings[0].flags & COLDROOM_F_READY,
	       "READ_BATCH: %u readings, next unit %#x", b.nr_readings, b.next_unit);

	/* Unknown numbers, other sizes, other magics: ENOTTY. */
	expect_errno(fd, _IO(COLDROOM_IOC_MAGIC, 0x55), NULL, ENOTTY, "unknown number");
	expect_errno(fd, _IOWR(COLDROOM_IOC_MAGIC, 0x01, char[12]), buf, ENOTTY,
		     "READ_TEMP1's number with a 12-byte size");
	expect_errno(fd, _IOR(COLDROOM_IOC_MAGIC, 0x00, char[16]), buf, ENOTTY,
		     "GET_VERSION's number with a 16-byte size");
	expect_errno(fd, _IOWR('T', 0x01, struct coldroom_temp), buf, ENOTTY,
		     "another driver's magic");
	expect_errno(fd, _IO(COLDROOM_IOC_MAGIC, 0x01), NULL, ENOTTY,
		     "READ_TEMP1's number without direction");
	/* Bad pointers: EFAULT. */
	expect_errno(fd, COLDROOM_IOC_GET_VERSION, NULL, EFAULT, "GET_VERSION to NULL");
	expect_errno(fd, COLDROOM_IOC_READ_TEMP1, (void *)16, EFAULT, "READ_TEMP1 at address 16");
	expect_errno(fd, COLDROOM_IOC_READ_BATCH, NULL, EFAULT, "READ_BATCH from NULL");
	expect_errno(fd, COLDROOM_IOC_RING_INFO, (void *)-4096L, EFAULT, "RING_INFO to a kernel address");
	expect_errno(fd, COLDROOM_IOC_GET_STATS, NULL, EFAULT, "GET_STATS to NULL");
	b.readings = 8;
	expect_errno(fd, COLDROOM_IOC_READ_BATCH, &b, EFAULT, "READ_BATCH into address 8");
	b.readings = (uintptr_t)readings;
	sub.nr_units = 2;
	sub.units = 24;
	expect_errno(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub, EFAULT,
		     "SET_SUBSCRIPTION from address 24");
	/* Bad values: EINVAL (ENODEV for a unit that does not exist). */
	t.unit = COLDROOM_UNIT_MAX + 1;
	expect_errno(fd, COLDROOM_IOC_READ_TEMP1, &t, EINVAL, "READ_TEMP1 unit beyond the maximum");
	t.unit = 77777;
	expect_errno(fd, COLDROOM_IOC_READ_TEMP2, &t, ENODEV, "READ_TEMP2 of a unit that does not exist");
	b.max_readings = 0;
	expect_errno(fd, COLDROOM_IOC_READ_BATCH, &b, EINVAL, "READ_BATCH of 0 readings");
	b.max_readings = COLDROOM_BATCH_MAX + 1;
	expect_errno(fd, COLDROOM_IOC_READ_BATCH, &b, EINVAL, "READ_BATCH over the maximum");
	b.max_readings = 8;
	b.flags = 1;
	expect_errno(fd, COLDROOM_IOC_READ_BATCH, &b, EINVAL, "READ_BATCH with unknown flags");
	b.flags = 0;
	b.reserved = 1;
	expect_errno(fd, COLDROOM_IOC_READ_BATCH, &b, EINVAL, "READ_BATCH with reserved set");
	b.reserved = 0;
	sub = (struct coldroom_subscription){ .flags = 2 };
	expect_errno(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub, EINVAL, "unknown subscription flag");
	sub = (struct coldroom_subscription){ .flags = COLDROOM_SUB_ALL, .nr_units = 1,
					      .units = (uintptr_t)units };
	expect_errno(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub, EINVAL, "SUB_ALL with a list");
	units[3] = COLDROOM_UNIT_MAX + 1;
	sub = (struct coldroom_subscription){ .nr_units = 4, .units = (uintptr_t)units };
	expect_errno(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub, EINVAL, "a unit number beyond the maximum");
	sub = (struct coldroom_subscription){ .nr_units = COLDROOM_SUB_MAX_UNITS + 1,
					      .units = (uintptr_t)units };
	expect_errno(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub, EINVAL, "too many units");
	/* None of that changed the subscription. */
	sub = (struct coldroom_subscription){ .nr_units = 4, .units = (uintptr_t)back };
	expect(!ioctl(fd, COLDROOM_IOC_GET_SUBSCRIPTION, &sub) &&
	       sub.flags == COLDROOM_SUB_ALL && sub.nr_units == 0,
	       "after the bad calls the file still subscribes to all units");
	/* A good subscription reads back sorted. */
	sub = (struct coldroom_subscription){ .nr_units = 3, .units = (uintptr_t)units };
	expect(!ioctl(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub), "SET_SUBSCRIPTION of 3 units");
	sub = (struct coldroom_subscription){ .nr_units = 4, .units = (uintptr_t)back };
	expect(!ioctl(fd, COLDROOM_IOC_GET_SUBSCRIPTION, &sub) && sub.flags == 0 &&
	       sub.nr_units == 3 && back[0] == (unit < 3 ? unit : 3),
	       "GET_SUBSCRIPTION: %u units, first %u", sub.nr_units, back[0]);
	sub = (struct coldroom_subscription){ .nr_units = 4, .units = 40 };
	expect_errno(fd, COLDROOM_IOC_GET_SUBSCRIPTION, &sub, EFAULT, "GET_SUBSCRIPTION into address 40");
	sub = (struct coldroom_subscription){ .flags = 1 };
	expect_errno(fd, COLDROOM_IOC_GET_SUBSCRIPTION, &sub, EINVAL, "GET_SUBSCRIPTION with flags set on input");
	/* read() into a bad buffer: EFAULT, nothing consumed. */
	{
		struct coldroom_file_stats st0, st1;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		sub = (struct coldroom_subscription){ .flags = COLDROOM_SUB_ALL };
		ioctl(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub);
		poll(&p, 1, 10000);
		get_stats(fd, &st0);
		void *volatile nowhere = NULL;

		r = read(fd, nowhere, 4 * REC_SIZE);
		get_stats(fd, &st1);
		expect(r < 0 && errno == EFAULT && st1.position == st0.position &&
		       st1.records_read == st0.records_read,
		       "read() into NULL: EFAULT, nothing consumed");
	}
	close(fd);
	return 0;
}

/* ---- subscription filters read() ---- */

static int cmd_subscribe(int argc, char **argv)
{
	uint32_t units[64];
	struct coldroom_subscription sub = { .units = (uintptr_t)units };
	struct coldroom_record r[100];
	int fd = open_dev(0), i, others = 0;
	size_t got;

	for (i = 0; i < argc && i < 64; i++)
		units[i] = strtoul(argv[i], NULL, 0);
	sub.nr_units = i;
	if (ioctl(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub)) {
		bad("SET_SUBSCRIPTION: %s", strerror(errno));
		return 1;
	}
	got = read_records(fd, r, 100, 60);
	for (size_t k = 0; k < got; k++) {
		int hit = 0;

		for (i = 0; i < (int)sub.nr_units; i++)
			hit |= r[k].unit == units[i];
		others += !hit;
	}
	expect(got == 100 && others == 0,
	       "100 records, all of the %u subscribed units (%d others)", sub.nr_units, others);
	close(fd);
	return 0;
}

/* ---- print latest readings (the shell compares with sysfs) ---- */

static int cmd_temps(int argc, char **argv)
{
	int fd = open_dev(0), i;

	for (i = 0; i < argc; i++) {
		struct coldroom_temp t1 = { .unit = strtoul(argv[i], NULL, 0) };
		struct coldroom_temp t2 = t1;

		if (ioctl(fd, COLDROOM_IOC_READ_TEMP1, &t1) ||
		    ioctl(fd, COLDROOM_IOC_READ_TEMP2, &t2))
			printf("%u error %s\n", t1.unit, strerror(errno));
		else
			printf("%u %d %d\n", t1.unit, t1.mdeg, t2.mdeg);
	}
	close(fd);
	return 0;
}

static int cmd_batch(int argc, char **argv)
{
	uint32_t first = argc > 0 ? strtoul(argv[0], NULL, 0) : 0;
	uint32_t max = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	struct coldroom_reading *rd = calloc(max, sizeof(*rd));
	struct coldroom_batch b = { .first_unit = first, .max_readings = max,
				    .readings = (uintptr_t)rd };
	int fd = open_dev(0);
	uint32_t i;

	if (ioctl(fd, COLDROOM_IOC_READ_BATCH, &b)) {
		bad("READ_BATCH: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < b.nr_readings; i++)
		printf("%u %#x %d %d %llu\n", rd[i].unit, rd[i].flags,
		       rd[i].temp1, rd[i].temp2, rd[i].seq);
	printf("next %d\n", b.next_unit == COLDROOM_UNIT_NONE ? -1 : (int)b.next_unit);
	close(fd);
	free(rd);
	return 0;
}

/* ---- blocking and mapping, for the removal tests ---- */

static int cmd_block(int argc, char **argv)
{
	const char *how = argc > 0 ? argv[0] : "read";
	int fd = open_dev(strcmp(how, "read") ? O_RDWR : 0);
	struct coldroom_record r;
	struct ring_reader rr;

	printf("blocking in %s, pid %d\n", how, getpid());
	fflush(stdout);
	if (!strcmp(how, "read")) {
		/* Subscribe to nothing: read() blocks however busy the ring. */
		struct coldroom_subscription sub = { 0 };

		ioctl(fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub);
		ssize_t n = read(fd, &r, sizeof(r));

		printf("read returned %zd (%s)\n", n, n < 0 ? strerror(errno) : "data");
	} else if (!strcmp(how, "poll")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (ring_reader_open(&rr, fd))
			return 1;
		/* The tail chases the head: poll() sleeps between samples. */
		for (;;) {
			while (ring_reader_next(&rr, &r))
				;
			ring_reader_commit(&rr);
			if (poll(&p, 1, -1) < 0)
				break;
		}
	} else if (!strcmp(how, "map")) {
		/* Keep only the mapping: the file is closed. */
		if (ring_reader_open(&rr, fd))
			return 1;
		close(fd);
		for (;;) {
			while (ring_reader_next(&rr, &r))
				;
			sleep(1);
		}
	}
	return 0;
}

/* ---- many short-lived readers (the script watches memory) ---- */

/*
 * Threads sharing one file, each touching memory that is not faulted in
 * yet: two blocking read()s, GET_SUBSCRIPTION and READ_BATCH into fresh
 * anonymous pages and SET_SUBSCRIPTION from them (a fault there takes
 * mmap_lock inside the driver), poll(), and threads mapping and unmapping
 * the consumer page and the ring (->mmap runs under mmap_lock). If the
 * driver held one lock across both, they would deadlock: every thread must
 * go on making progress for the whole run.
 */
enum {
	LO_READ1, LO_READ2, LO_MAP, LO_SUBSCRIPTION, LO_SET_SUBSCRIPTION,
	LO_BATCH, LO_POLL, LO_RING, LO_THREADS
};
#define LO_STALL_S	5
static const char *const lo_names[LO_THREADS] = {
	"read() #1 into fresh pages", "read() #2 into fresh pages",
	"mmap/munmap of the consumer page", "GET_SUBSCRIPTION into fresh pages",
	"SET_SUBSCRIPTION from fresh pages", "READ_BATCH into fresh pages",
	"poll()", "mmap/munmap of the ring",
};

struct lockorder {
	int fd;
	unsigned int units;		/* subscribed: units 0..units-1 */
	struct coldroom_ring_info info;
	volatile int stop;
	unsigned long count[LO_THREADS];	/* progress, read by main */
	int error[LO_THREADS];
};

static void *fresh_pages(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void lo_step(struct lockorder *lo, int who)
{
	size_t size = 16 * REC_SIZE;
	struct coldroom_subscription sub = { 0 };
	struct coldroom_batch batch = { 0 };
	struct pollfd pfd = { .fd = lo->fd, .events = POLLIN };
	void *p = NULL;
	__u32 *list;
	unsigned int i;
	int err = 0;

	if (who != LO_MAP && who != LO_RING && who != LO_POLL &&
	    !(p = fresh_pages(size))) {
		lo->error[who] = errno;
		return;
	}
	switch (who) {
	case LO_READ1:
	case LO_READ2:
		if (read(lo->fd, p, size) < (ssize_t)REC_SIZE)
			err = errno ? errno : EIO;
		break;
	case LO_MAP:
		p = mmap(NULL, lo->info.consumer_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 lo->fd, (off_t)lo->info.consumer_offset);
		if (p == MAP_FAILED)
			err = errno;
		else
			munmap(p, lo->info.consumer_size);
		p = NULL;
		break;
	case LO_SUBSCRIPTION:
		sub.nr_units = size / sizeof(__u32);
		sub.units = (uintptr_t)p;
		if (ioctl(lo->fd, COLDROOM_IOC_GET_SUBSCRIPTION, &sub))
			err = errno;
		break;
	case LO_SET_SUBSCRIPTION:
		/* The same units again, so that the readers keep reading. */
		list = p;
		for (i = 0; i < lo->units; i++)
			list[i] = i;
		sub.nr_units = lo->units;
		sub.units = (uintptr_t)p;
		if (ioctl(lo->fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub))
			err = errno;
		break;
	case LO_BATCH:
		batch.max_readings = size / sizeof(struct coldroom_reading);
		batch.readings = (uintptr_t)p;
		if (ioctl(lo->fd, COLDROOM_IOC_READ_BATCH, &batch))
			err = errno;
		break;
	case LO_POLL:
		if (poll(&pfd, 1, 100) < 0)
			err = errno;
		break;
	case LO_RING:
		p = mmap(NULL, lo->info.ring_size, PROT_READ, MAP_SHARED, lo->fd,
			 (off_t)lo->info.ring_offset);
		if (p == MAP_FAILED)
			err = errno;
		else
			munmap(p, lo->info.ring_size);
		p = NULL;
		break;
	}
	if (p)
		munmap(p, size);
	if (err)
		lo->error[who] = err;
	else
		__atomic_add_fetch(&lo->count[who], 1, __ATOMIC_RELAXED);
}

struct lo_thread {
	struct lockorder *lo;
	int who;
};

static void *lo_thread(void *arg)
{
	struct lo_thread *t = arg;

	while (!t->lo->stop && !t->lo->error[t->who])
		lo_step(t->lo, t->who);
	return NULL;
}

/*
 * The monitor: a process of its own, since a thread of a process whose
 * threads are stuck with its mmap_lock stops at its next page fault. It
 * stops the run when it is over, or reports a stall and kills the stuck
 * process, so that the test ends either way.
 */
static int lo_monitor(struct lockorder *lo, unsigned int seconds, pid_t workers)
{
	unsigned long last[LO_THREADS] = { 0 };
	unsigned int idle[LO_THREADS] = { 0 };
	unsigned int s, i;

	for (s = 0; s < seconds; s++) {
		sleep(1);
		for (i = 0; i < LO_THREADS; i++) {
			unsigned long c = __atomic_load_n(&lo->count[i], __ATOMIC_RELAXED);

			idle[i] = c == last[i] && !lo->error[i] ? idle[i] + 1 : 0;
			last[i] = c;
			/*
			 * Records come every 100 ms or so: seconds without one
			 * are a hang, not a slow machine.
			 */
			if (idle[i] == LO_STALL_S) {
				bad("%s made no progress for %u s: the threads are stuck in the driver",
				    lo_names[i], LO_STALL_S);
				kill(workers, SIGKILL);
				return 1;
			}
		}
	}
	lo->stop = 1;
	return 0;
}

static int cmd_lockorder(int argc, char **argv)
{
	unsigned int seconds = argc > 0 ? strtoul(argv[0], NULL, 0) : 20, units, i;
	struct coldroom_subscription sub = { 0 };
	struct lo_thread threads[LO_THREADS];
	pthread_t tid[LO_THREADS];
	__u32 list[COLDROOM_UNIT_MAX < 64 ? COLDROOM_UNIT_MAX + 1 : 64];
	struct lockorder *lo;
	pid_t monitor;
	int status;

	lo = mmap(NULL, sizeof(*lo), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lo == MAP_FAILED) {
		bad("mmap: %s", strerror(errno));
		return 0;
	}
	memset(lo, 0, sizeof(*lo));
	lo->fd = open_dev(O_RDWR);
	if (ioctl(lo->fd, COLDROOM_IOC_RING_INFO, &lo->info)) {
		bad("RING_INFO: %s", strerror(errno));
		return 0;
	}
	/* A list, not "all", so that GET_SUBSCRIPTION writes the units out. */
	units = sizeof(list) / sizeof(list[0]);
	lo->units = units;
	for (i = 0; i < units; i++)
		list[i] = i;
	sub.nr_units = units;
	sub.units = (uintptr_t)list;
	if (ioctl(lo->fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub)) {
		bad("SET_SUBSCRIPTION of units 0..%u: %s", units - 1, strerror(errno));
		return 0;
	}
	printf("lockorder: %d threads on one file for %u s, %u units subscribed\n",
	       LO_THREADS, seconds, units);
	fflush(stdout);
	monitor = fork();
	if (monitor == 0)
		_exit(lo_monitor(lo, seconds, getppid()));
	for (i = 0; i < LO_THREADS; i++) {
		threads[i] = (struct lo_thread){ .lo = lo, .who = i };
		pthread_create(&tid[i], NULL, lo_thread, &threads[i]);
	}
	if (waitpid(monitor, &status, 0) != monitor || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		bad("the monitor of the threads failed");
		return 0;
	}
	/* The blocking readers wake up with the next record. */
	for (i = 0; i < LO_THREADS; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < LO_THREADS; i++)
		expect(!lo->error[i] && lo->count[i] > 0,
		       "%s went on for %u s (%lu calls%s%s)", lo_names[i],
		       seconds, lo->count[i], lo->error[i] ? ", " : "",
		       lo->error[i] ? strerror(lo->error[i]) : "");
	close(lo->fd);
	return 0;
}

/* ---- poll() never waits for a copy to user memory ---- */

struct uffd_stall {
	int fd;			/* /dev/coldroom */
	int epfd;		/* epoll set holding fd */
	bool getsub;		/* stall GET_SUBSCRIPTION, not read() */
	void *page;		/* userfaultfd-registered, never populated */
	ssize_t result;		/* of the stalled call */
	int error;
	int done[2];		/* pipe: the poller writes once it returned */
	int polled, epolled;	/* what poll() and epoll_wait() returned */
};

static void *uffd_staller(void *arg)
{
	struct uffd_stall *st = arg;

	if (st->getsub) {
		struct coldroom_subscription sub = {
			.nr_units = 2, .units = (uintptr_t)st->page,
		};

		st->result = ioctl(st->fd, COLDROOM_IOC_GET_SUBSCRIPTION, &sub);
	} else {
		st->result = read(st->fd, st->page, 16 * REC_SIZE);
	}
	st->error = st->result < 0 ? errno : 0;
	return NULL;
}

static void *uffd_poller(void *arg)
{
	struct uffd_stall *st = arg;
	struct pollfd p = { .fd = st->fd, .events = POLLIN };
	struct epoll_event ev;

	st->polled = poll(&p, 1, 0);
	st->epolled = epoll_wait(st->epfd, &ev, 1, 0);
	if (write(st->done[1], "x", 1) != 1)
		perror("write");
	return NULL;
}

/*
 * A read() (or GET_SUBSCRIPTION) whose copy to user memory faults on a
 * userfaultfd page stalls until the fault is served; poll() and
 * epoll_wait() on the same file must return meanwhile.
 */
static int cmd_uffd(int argc, char **argv)
{
	unsigned int seconds = argc > 1 ? strtoul(argv[1], NULL, 0) : 20;
	struct uffd_stall st = { .getsub = argc > 0 && !strcmp(argv[0], "getsub") };
	const char *what = st.getsub ? "GET_SUBSCRIPTION" : "read()";
	long pagesz = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd p;
	struct uffd_msg msg;
	pthread_t staller, poller;
	uint32_t units[2] = { 0, 1 };
	struct coldroom_subscription sub = { .nr_units = 2, .units = (uintptr_t)units };
	int uffd, r;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		bad("userfaultfd: %s", strerror(errno));
		return 0;
	}
	st.page = mmap(NULL, pagesz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st.page == MAP_FAILED || pipe(st.done)) {
		bad("mmap/pipe: %s", strerror(errno));
		return 0;
	}
	reg.range.start = (uintptr_t)st.page;
	reg.range.len = pagesz;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		bad("UFFDIO_REGISTER: %s", strerror(errno));
		return 0;
	}
	st.fd = open_dev(0);
	/* Units 0 and 1 sample: records to read, a list to write out. */
	if (ioctl(st.fd, COLDROOM_IOC_SET_SUBSCRIPTION, &sub)) {
		bad("SET_SUBSCRIPTION: %s", strerror(errno));
		return 0;
	}
	st.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st.epfd < 0 || epoll_ctl(st.epfd, EPOLL_CTL_ADD, st.fd, &ev)) {
		bad("epoll: %s", strerror(errno));
		return 0;
	}
	/* Something to read, so that read() copies and poll() locks. */
	p = (struct pollfd){ .fd = st.fd, .events = POLLIN };
	if (poll(&p, 1, seconds * 1000) != 1) {
		bad("no record of units 0 and 1 in %u s", seconds);
		return 0;
	}
	pthread_create(&staller, NULL, uffd_staller, &st);
	p = (struct pollfd){ .fd = uffd, .events = POLLIN };
	if (poll(&p, 1, seconds * 1000) != 1 || read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT) {
		bad("%s did not fault on the userfaultfd page in %u s", what, seconds);
		return 0;
	}
	ok("%s stalls in its copy to user memory", what);

	pthread_create(&poller, NULL, uffd_poller, &st);
	p = (struct pollfd){ .fd = st.done[0], .events = POLLIN };
	r = poll(&p, 1, seconds * 1000);
	expect(r == 1, "poll() and epoll_wait() on the file return while %s stalls (%d, %d)",
	       what, r == 1 ? st.polled : -1, r == 1 ? st.epolled : -1);

	/* Serve the fault: the stalled call, and a stuck poller, go on. */
	zero.range = reg.range;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zero))
		bad("UFFDIO_ZEROPAGE: %s", strerror(errno));
	pthread_join(staller, NULL);
	pthread_join(poller, NULL);
	if (st.getsub)
		expect(st.result == 0 && ((uint32_t *)st.page)[0] == 0 &&
		       ((uint32_t *)st.page)[1] == 1,
		       "GET_SUBSCRIPTION then completes with units 0 and 1 (%s)",
		       strerror(st.error));
	else
		expect(st.result > 0 && st.result % REC_SIZE == 0,
		       "read() then completes with whole records (%zd, %s)",
		       st.result, strerror(st.error));
	close(st.epfd);
	close(st.fd);
	close(uffd);
	return 0;
}

/* ---- SET_SUBSCRIPTION's memory is charged to the caller's cgroup ---- */

static long long read_ll(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f || fscanf(f, "%lld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/*
 * K files each subscribed to unit COLDROOM_UNIT_MAX (a bitmap of every
 * unit number, 128 KiB): their release must lower MEMORY_CURRENT, the
 * memory.current of the cgroup crtest runs in, by at least half of that
 * (the charge batches of each CPU blur the rest).
 */
static int cmd_memcg(int argc, char **argv)
{
	unsigned int k = argc > 1 ? strtoul(argv[1], NULL, 0) : 64, i;
	uint32_t top = COLDROOM_UNIT_MAX;
	struct coldroom_subscription sub = { .nr_units = 1, .units = (uintptr_t)&top };
	struct coldroom_subscription all = { .flags = COLDROOM_SUB_ALL };
	long long map = (COLDROOM_UNIT_MAX + 1) / 8, held, released;
	int *fd;

	if (argc < 1) {
		bad("usage: memcg MEMORY_CURRENT [K]");
		return 1;
	}
	fd = calloc(k, sizeof(*fd));
	for (i = 0; i < k; i++)
		fd[i] = open_dev(O_NONBLOCK);
	for (i = 0; i < k; i++)
		if (ioctl(fd[i], COLDROOM_IOC_SET_SUBSCRIPTION, &sub)) {
			bad("SET_SUBSCRIPTION of unit %u: %s", top, strerror(errno));
			return 0;
		}
	held = read_ll(argv[0]);
	for (i = 0; i < k; i++)
		if (ioctl(fd[i], COLDROOM_IOC_SET_SUBSCRIPTION, &all)) {
			bad("SET_SUBSCRIPTION all: %s", strerror(errno));
			return 0;
		}
	released = read_ll(argv[0]);
	printf("memcg: %u subscriptions of %lld bytes: memory.current %lld held, %lld released\n",
	       k, map, held, released);
	expect(held >= 0 && released >= 0 && held - released >= k * map / 2,
	       "releasing %u subscription maps (%lld KiB) gives back %lld KiB of the cgroup's charge",
	       k, k * map / 1024, (held - released) / 1024);
	for (i = 0; i < k; i++)
		close(fd[i]);
	free(fd);
	return 0;
}

static int cmd_cycles(int argc, char **argv)
{
	unsigned int n = argc > 0 ? strtoul(argv[0], NULL, 0) : 100, i;
	unsigned int mapped = 0, exited = 0;
	struct coldroom_record rec;
	struct ring_reader rr;

	for (i = 0; i < n; i++) {
		int fd = open_dev(O_RDWR | O_NONBLOCK);
		pid_t pid;

		if (ring_reader_open(&rr, fd) == 0) {
			mapped++;
			while (read(fd, &rec, sizeof(rec)) > 0)
				;
			if (i % 10 == 0) {
				/* A child that exits with the ring mapped, fd open. */
				pid = fork();
				if (pid == 0)
					_exit(0);
				exited += waitpid(pid, NULL, 0) == pid;
			}
			ring_reader_close(&rr);
		}
		close(fd);
	}
	expect(mapped == n && exited == (n + 9) / 10,
	       "%u open/mmap/read/munmap/close cycles, %u children exited holding the mapping",
	       mapped, exited);
	return 0;
}

/* ---- generic netlink events ---- */

struct nlreq {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char buf[256];
};

static struct nlattr *nla_next_attr(struct nlattr *a, int *rem)
{
	*rem -= NLA_ALIGN(a->nla_len);
	return (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
}

#define nla_for_each(a, head, len, rem) \
	for (a = (head), rem = (len); rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && \
	     a->nla_len <= rem; a = nla_next_attr(a, &rem))

/* The family id and the "events" group id, from the controller. */
static int resolve_family(int sk, uint16_t *family, uint32_t *group)
{
	struct nlreq req = { 0 };
	struct nlattr *a, *grps, *g, *ga;
	char buf[8192];
	int len, rem, rem2, rem3;
	struct nlmsghdr *h;

	req.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.n.nlmsg_type = GENL_ID_CTRL;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	a = (struct nlattr *)((char *)&req + req.n.nlmsg_len);
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + sizeof(COLDROOM_GENL_NAME);
	memcpy((char *)a + NLA_HDRLEN, COLDROOM_GENL_NAME, sizeof(COLDROOM_GENL_NAME));
	req.n.nlmsg_len += NLA_ALIGN(a->nla_len);
	if (send(sk, &req, req.n.nlmsg_len, 0) < 0)
		return -errno;
	len = recv(sk, buf, sizeof(buf), 0);
	if (len < 0)
		return -errno;
	h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (unsigned int)len) || h->nlmsg_type == NLMSG_ERROR)
		return -ENOENT;
	*family = 0;
	*group = 0;
	nla_for_each(a, (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN),
		     (int)(h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)), rem) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			*family = *(uint16_t *)((char *)a + NLA_HDRLEN);
		if (a->nla_type != CTRL_ATTR_MCAST_GROUPS)
			continue;
		grps = (struct nlattr *)((char *)a + NLA_HDRLEN);
		nla_for_each(g, grps, a->nla_len - NLA_HDRLEN, rem2) {
			uint32_t id = 0;
			const char *name = NULL;

			nla_for_each(ga, (struct nlattr *)((char *)g + NLA_HDRLEN),
				     g->nla_len - NLA_HDRLEN, rem3) {
				if (ga->nla_type == CTRL_ATTR_MCAST_GRP_ID)
					id = *(uint32_t *)((char *)ga + NLA_HDRLEN);
				if (ga->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
					name = (char *)ga + NLA_HDRLEN;
			}
			if (name && !strcmp(name, COLDROOM_GENL_MCGRP_EVENTS))
				*group = id;
		}
	}
	return *family && *group ? 0 : -ENOENT;
}

static int cmd_events(int argc, char **argv)
{
	static const char *const cmds[] = {
		[COLDROOM_CMD_UNIT_ADDED] = "unit-added",
		[COLDROOM_CMD_UNIT_REMOVED] = "unit-removed",
		[COLDROOM_CMD_ALARM] = "alarm",
		[COLDROOM_CMD_FIRMWARE_STATE] = "firmware",
	};
	double seconds = argc > 0 ? atof(argv[0]) : 10, deadline;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint16_t family = 0;
	uint32_t group = 0;
	char buf[8192];
	int sk, ret;

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sk < 0 || bind(sk, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("netlink socket");
		return 2;
	}
	ret = resolve_family(sk, &family, &group);
	if (ret) {
		printf("family %s not found: %s\n", COLDROOM_GENL_NAME, strerror(-ret));
		return 2;
	}
	if (setsockopt(sk, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group))) {
		perror("NETLINK_ADD_MEMBERSHIP");
		return 2;
	}
	printf("listening: family %u group %u\n", family, group);
	fflush(stdout);
	deadline = now_s() + seconds;
	while (now_s() < deadline) {
		struct pollfd p = { .fd = sk, .events = POLLIN };
		struct nlmsghdr *h;
		int len;

		if (poll(&p, 1, 200) <= 0)
			continue;
		len = recv(sk, buf, sizeof(buf), 0);
		if (len < 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)len);
		     h = NLMSG_NEXT(h, len)) {
			struct genlmsghdr *g = NLMSG_DATA(h);
			struct nlattr *a;
			int rem;

			if (h->nlmsg_type != family || g->cmd < 1 || g->cmd > COLDROOM_CMD_MAX)
				continue;
			printf("event %s", cmds[g->cmd]);
			nla_for_each(a, (struct nlattr *)((char *)g + GENL_HDRLEN),
				     (int)(h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)), rem) {
				void *d = (char *)a + NLA_HDRLEN;

				switch (a->nla_type) {
				case COLDROOM_ATTR_UNIT:
					printf(" unit=%u", *(uint32_t *)d);
					break;
				case COLDROOM_ATTR_MODEL:
					printf(" model=%s", (char *)d);
					break;
				case COLDROOM_ATTR_SERIAL:
					printf(" serial=%s", (char *)d);
					break;
				case COLDROOM_ATTR_CHANNEL:
					printf(" channel=%u", *(uint32_t *)d);
					break;
				case COLDROOM_ATTR_ALARM:
					printf(" alarm=%u", *(uint8_t *)d);
					break;
				case COLDROOM_ATTR_TEMP:
					printf(" temp=%d", *(int32_t *)d);
					break;
				case COLDROOM_ATTR_SEQ:
					printf(" seq=%llu", *(__u64 *)d);
					break;
				case COLDROOM_ATTR_FW_STATE:
					printf(" state_id=%u", *(uint32_t *)d);
					break;
				case COLDROOM_ATTR_FW_STATE_NAME:
					printf(" state=%s", (char *)d);
					break;
				case COLDROOM_ATTR_FW_ERROR:
					printf(" error=%s", *(char *)d ? (char *)d : "-");
					break;
				}
			}
			printf("\n");
			fflush(stdout);
		}
	}
	close(sk);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "records", cmd_records, "[N [UNITS]]  format and ordering of N records" },
	{ "partial", cmd_partial, "            short reads: EINVAL or whole records" },
	{ "overflow", cmd_overflow, "           a reader lapped by the ring is told" },
	{ "readers", cmd_readers, "[K]         K readers, each with its own position" },
	{ "sigio", cmd_sigio, "              SIGIO with O_ASYNC" },
	{ "quiet", cmd_quiet, "BUSY QUIET     poll() and SIGIO follow the subscription" },
	{ "mmap", cmd_mmap, "[N]            the mmap reader agrees with read(); frames; poll" },
	{ "mmap-abuse", cmd_mmap_abuse, "         bad mappings and lying tails" },
	{ "ioctl", cmd_ioctl, "[UNIT]        good and bad ioctls" },
	{ "subscribe", cmd_subscribe, "UNIT...   read() returns only these units" },
	{ "temps", cmd_temps, "UNIT...       print temp1 temp2 by ioctl" },
	{ "batch", cmd_batch, "[FIRST [MAX]] print a batch read" },
	{ "block", cmd_block, "read|poll|map  block (or hold a mapping) until killed" },
	{ "events", cmd_events, "[SECONDS]    print netlink events" },
	{ "cycles", cmd_cycles, "[N]          N short-lived mapped readers" },
	{ "lockorder", cmd_lockorder, "[SECONDS] read, GET_SUBSCRIPTION and mmap on one file, at once" },
	{ "uffd", cmd_uffd, "read|getsub [S]  poll returns while a copy to user memory stalls" },
	{ "memcg", cmd_memcg, "CURRENT [K]    subscriptions are charged to the caller's cgroup" },
};

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (cmds[i].fn(argc - 2, argv + 2))
			return 2;
		return failures ? 1 : 0;
	}
	fprintf(stderr, "usage: crtest COMMAND [ARGS]\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	return 2;
}
