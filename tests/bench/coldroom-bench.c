// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom-bench - cost per reading of each way to read N units.
 *
 *   coldroom-bench N [TRIALS [RING_TRIALS]]
 *
 * Units 0..N-1 must exist and sample. A reading is one unit's temp1 and
 * temp2. Each trial reads all N units once through one mechanism, timed
 * with rdtsc and CLOCK_MONOTONIC; the result is the best (minimum) trial
 * divided by N, as "min of N trials" measurements of a system call do:
 * the minimum is the cost without interference (interrupts, the sampler,
 * the other vCPU). Prints one line per mechanism:
 *
 *   RESULT <units> <mechanism> <ns per reading> <cycles per reading> <trials>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "ring_reader.h"

static unsigned int units;
static unsigned int trials;
static unsigned int ring_trials;	/* each waits for N fresh records */
static volatile long long sink;	/* keeps the compiler from dropping reads */

struct timing {
	unsigned long long cycles;
	unsigned long long ns;
};

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static unsigned long long tsc(void)
{
	unsigned int aux;

	return __rdtscp(&aux);
}

static void die(const char *what)
{
	fprintf(stderr, "coldroom-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Runs @trial @n times (after @prepare each time); keeps the best. */
static void measure(const char *name, unsigned int n, void (*prepare)(void),
		    void (*trial)(void))
{
	struct timing best = { ~0ULL, ~0ULL };
	unsigned int t;

	for (t = 0; t < n; t++) {
		unsigned long long c0, c1, n0, n1;

		if (prepare)
			prepare();
		n0 = now_ns();
		c0 = tsc();
		trial();
		c1 = tsc();
		n1 = now_ns();
		if (c1 - c0 < best.cycles)
			best.cycles = c1 - c0;
		if (n1 - n0 < best.ns)
			best.ns = n1 - n0;
	}
	printf("RESULT %u %s %.1f %.0f %u\n", units, name,
	       (double)best.ns / units, (double)best.cycles / units, n);
	fflush(stdout);
}

/* ---- sysfs ---- */

static char (*paths)[2][64];
static int (*fds)[2];

static int parse_int(const char *buf)
{
	return (int)strtol(buf, NULL, 10);
}

static void sysfs_open_read_close(void)
{
	char buf[32];
	unsigned int u, ch;

	for (u = 0; u < units; u++)
		for (ch = 0; ch < 2; ch++) {
			int fd = open(paths[u][ch], O_RDONLY);
			ssize_t n;

			if (fd < 0)
				die(paths[u][ch]);
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[n > 0 ? n : 0] = 0;
			sink += parse_int(buf);
		}
}

static void sysfs_pread(void)
{
	char buf[32];
	unsigned int u, ch;

	for (u = 0; u < units; u++)
		for (ch = 0; ch < 2; ch++) {
			ssize_t n = pread(fds[u][ch], buf, sizeof(buf) - 1, 0);

			buf[n > 0 ? n : 0] = 0;
			sink += parse_int(buf);
		}
}

/* ---- ioctl ---- */

static int dev;

static void ioctl_per_unit(void)
{
	struct coldroom_temp t;
	unsigned int u;

	for (u = 0; u < units; u++) {
		t.unit = u;
		if (ioctl(dev, COLDROOM_IOC_READ_TEMP1, &t))
			die("READ_TEMP1");
		sink += t.mdeg;
		if (ioctl(dev, COLDROOM_IOC_READ_TEMP2, &t))
			die("READ_TEMP2");
		sink += t.mdeg;
	}
}

static struct coldroom_reading *readings;

static void ioctl_batch(void)
{
	struct coldroom_batch b = { .first_unit = 0, .max_readings = units,
				    .readings = (uintptr_t)readings };
	unsigned int i;

	if (ioctl(dev, COLDROOM_IOC_READ_BATCH, &b))
		die("READ_BATCH");
	if (b.nr_readings != units) {
		fprintf(stderr, "coldroom-bench: batch returned %u of %u\n",
			b.nr_readings, units);
		exit(1);
	}
	for (i = 0; i < units; i++)
		sink += readings[i].temp1 + readings[i].temp2;
}

/* ---- read() of records ---- */

static int reader;
static struct coldroom_record *records;

/*
 * Waits for N + 1 fresh records and consumes one untimed, so that the
 * trial runs as warm as the back-to-back sysfs and ioctl loops do (the
 * wake-up after the wait is not part of a reading's cost).
 */
static void wait_records(void)
{
	struct coldroom_file_stats st;
	struct coldroom_record drain[256];

	while (read(reader, drain, sizeof(drain)) > 0)
		;
	do {
		usleep(20000);
		if (ioctl(reader, COLDROOM_IOC_GET_STATS, &st))
			die("GET_STATS");
	} while (st.head - st.position < units + 1);
	if (read(reader, drain, sizeof(drain[0])) != sizeof(drain[0]))
		die("read");
}

static void read_records(void)
{
	size_t want = units, got = 0;

	while (got < want) {
		ssize_t n = read(reader, records + got,
				 (want - got) * sizeof(*records));

		if (n <= 0)
			die("read");
		got += n / sizeof(*records);
	}
	for (got = 0; got < want; got++)
		sink += records[got].temp1 + records[got].temp2;
}

/* ---- mmap ring ---- */

static struct ring_reader ring;
static int16_t *pixels;

/* As wait_records(): N + 1 fresh records, one consumed untimed. */
static void wait_ring(void)
{
	struct coldroom_record r;

	while (ring_reader_next(&ring, &r))
		;
	ring_reader_commit(&ring);
	while (__atomic_load_n(&ring.ctrl->head, __ATOMIC_ACQUIRE) - ring.tail < units + 1)
		usleep(20000);
	if (!ring_reader_next(&ring, &r))
		die("ring ran dry");
	ring_reader_commit(&ring);
}

static void mmap_records(void)
{
	struct coldroom_record r;
	unsigned int i;

	for (i = 0; i < units; i++) {
		if (!ring_reader_next(&ring, &r))
			die("ring ran dry");
		sink += r.temp1 + r.temp2;
	}
	ring_reader_commit(&ring);
}

static void mmap_records_frames(void)
{
	struct coldroom_frame fh;
	struct coldroom_record r;
	unsigned int i;

	for (i = 0; i < units; i++) {
		if (!ring_reader_next(&ring, &r))
			die("ring ran dry");
		sink += r.temp1 + r.temp2;
		if ((r.flags & COLDROOM_F_FRAME) &&
		    !ring_reader_frame(&ring, r.frame_pos, &fh, pixels))
			sink += pixels[0];
	}
	ring_reader_commit(&ring);
}

/* ---- reference: the floor of any syscall ---- */

static void empty_syscall(void)
{
	unsigned int i;

	for (i = 0; i < units; i++)
		sink += syscall(SYS_getppid);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	unsigned int u;

	if (argc < 2) {
		fprintf(stderr, "usage: coldroom-bench UNITS [TRIALS]\n");
		return 2;
	}
	units = strtoul(argv[1], NULL, 0);
	trials = argc > 2 ? strtoul(argv[2], NULL, 0) : 20;
	ring_trials = argc > 3 ? strtoul(argv[3], NULL, 0) : 10;
	if (!units || !trials || !ring_trials)
		return 2;

	rl.rlim_cur = rl.rlim_max = 2 * units + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	paths = calloc(units, sizeof(*paths));
	fds = calloc(units, sizeof(*fds));
	readings = calloc(units, sizeof(*readings));
	records = calloc(units, sizeof(*records));
	pixels = calloc(COLDROOM_FRAME_MAX_PIXELS, sizeof(*pixels));
	for (u = 0; u < units; u++) {
		snprintf(paths[u][0], sizeof(paths[u][0]),
			 "/sys/class/coldroom/sensor%u/temp1", u);
		snprintf(paths[u][1], sizeof(paths[u][1]),
			 "/sys/class/coldroom/sensor%u/temp2", u);
		fds[u][0] = open(paths[u][0], O_RDONLY);
		fds[u][1] = open(paths[u][1], O_RDONLY);
		if (fds[u][0] < 0 || fds[u][1] < 0)
			die(paths[u][0]);
	}
	dev = open(COLDROOM_DEVICE, O_RDONLY);
	reader = open(COLDROOM_DEVICE, O_RDONLY | O_NONBLOCK);
	if (dev < 0 || reader < 0)
		die(COLDROOM_DEVICE);
	{
		int mapfd = open(COLDROOM_DEVICE, O_RDWR);

		if (mapfd < 0 || ring_reader_open(&ring, mapfd))
			die("mapping the ring");
	}

	measure("empty_syscall", trials, NULL, empty_syscall);
	measure("sysfs_open_read_close", trials, NULL, sysfs_open_read_close);
	measure("sysfs_pread", trials, NULL, sysfs_pread);
	measure("ioctl_per_unit", trials, NULL, ioctl_per_unit);
	measure("ioctl_batch", trials, NULL, ioctl_batch);
	measure("read_records", ring_trials, wait_records, read_records);
	measure("mmap_ring", ring_trials, wait_ring, mmap_records);
	measure("mmap_ring_frames", ring_trials, wait_ring, mmap_records_frames);
	if (ring.lost)
		printf("NOTE %u mmap reader lost %llu records\n", units,
		       (unsigned long long)ring.lost);
	return 0;
}
