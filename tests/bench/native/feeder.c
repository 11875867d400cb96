// SPDX-License-Identifier: GPL-2.0
/*
 * feeder - stands in for coldroom.ko in the native benchmark of coldroomd.
 *
 *   feeder tree DIR N
 *       makes DIR/class/coldroom/sensor0 .. sensorN-1: the sysfs attributes
 *       coldroomd reads, firmware ready, one sample taken.
 *   feeder feed FIFO N SECONDS
 *       writes, for SECONDS, one struct coldroom_record per unit per
 *       second into FIFO (coldroomd --records-from), each unit at its own
 *       phase of the second as the simulator's units sample, stamped with
 *       CLOCK_MONOTONIC like the kernel's. Prints "FED <records>" at the end.
 *
 * Temperatures follow a slow sawtooth inside the thresholds, so no alarm
 * is raised: the benchmark measures readings, not alarms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/coldroom.h>

#define TICK_NS 1000000ULL	/* the kernel wakes its reader at most this often here */
#define NSEC_PER_SEC 1000000000ULL
#define RECORDS_PER_WRITE (PIPE_BUF / sizeof(struct coldroom_record))

static void die(const char *what)
{
	fprintf(stderr, "feeder: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void put(int dirfd, const char *name, const char *value)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(value);

	if (fd < 0 || write(fd, value, len) != (ssize_t)len || close(fd) < 0)
		die(name);
}

static int make_tree(const char *dir, unsigned int n)
{
	static const char *const attrs[][2] = {
		{ "label", "Bench room\n" },
		{ "temp1", "-18250\n" }, { "temp2", "-17500\n" },
		{ "temp1_alarm", "0\n" }, { "temp2_alarm", "0\n" },
		{ "sample_seq", "1\n" }, { "sample_time_ns", "1000000\n" },
		{ "update_interval_ms", "1000\n" },
		{ "temp1_min", "-25000\n" }, { "temp1_max", "-15000\n" },
		{ "temp1_hyst", "500\n" },
		{ "temp2_min", "-25000\n" }, { "temp2_max", "-15000\n" },
		{ "temp2_hyst", "500\n" },
		{ "firmware_state", "ready\n" }, { "firmware_error", "\n" },
		{ "firmware_version", "1.0\n" },
	};
	char path[4096], value[128];

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(dir);
	snprintf(path, sizeof(path), "%s/class", dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/class/coldroom", dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
	for (unsigned int i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/class/coldroom/sensor%u", dir, i);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die(path);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			die(path);
		snprintf(value, sizeof(value), "BENCH%06u\n", i);
		put(fd, "serial", value);
		put(fd, "model", "CRS-200\n");
		snprintf(value, sizeof(value), "coldroom/CRS-200-BENCH%06u.fw\n", i);
		put(fd, "firmware_name", value);
		for (size_t k = 0; k < sizeof(attrs) / sizeof(attrs[0]); k++)
			put(fd, attrs[k][0], attrs[k][1]);
		close(fd);
	}
	return 0;
}

static int feed(const char *fifo, unsigned int n, unsigned int seconds)
{
	struct coldroom_record *recs;
	uint64_t start, end, fed = 0, pos = 0;
	unsigned int next = 0;	/* the next unit due, in phase order */
	uint64_t round = 0;	/* whole seconds since start */
	int fd;

	/* Read-write: opening never waits for the reader. */
	fd = open(fifo, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(fifo);
	/* Room for a whole second, as the kernel's ring has. */
	(void)fcntl(fd, F_SETPIPE_SZ, 1024 * 1024);
	recs = calloc(n, sizeof(*recs));
	if (!recs)
		die("calloc");
	start = now_ns();
	end = start + (uint64_t)seconds * NSEC_PER_SEC;
	for (;;) {
		uint64_t now = now_ns();
		size_t k = 0;

		if (now >= end)
			break;
		/* Every unit whose phase has passed since the last tick. */
		for (;;) {
			uint64_t due = start + round * NSEC_PER_SEC +
				       (uint64_t)next * NSEC_PER_SEC / n;
			struct coldroom_record *r = &recs[k];

			if (due > now || k == n)
				break;
			*r = (struct coldroom_record){
				.pos = pos++,
				.seq = round + 2,	/* the tree says 1 */
				.timestamp_ns = due,
				.frame_pos = COLDROOM_POS_INVALID,
				.unit = next,
				.flags = COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID,
				.temp1 = -19000 + (int32_t)((round + next) % 100) * 10,
				.temp2 = -18000 + (int32_t)((round + next) % 50) * 10,
			};
			k++;
			if (++next == n) {
				next = 0;
				round++;
			}
		}
		/*
		 * Whole records only, in writes of at most PIPE_BUF bytes, which
		 * a pipe never splits: coldroomd reads whole records, as the
		 * driver returns them.
		 */
		for (size_t i = 0; i < k; i += RECORDS_PER_WRITE) {
			size_t m = k - i < RECORDS_PER_WRITE ? k - i : RECORDS_PER_WRITE;
			ssize_t w;

			do
				w = write(fd, &recs[i], m * sizeof(*recs));
			while (w < 0 && errno == EINTR);
			if (w != (ssize_t)(m * sizeof(*recs)))
				die("write");
		}
		fed += k;
		{
			struct timespec ts = { 0, TICK_NS };

			nanosleep(&ts, NULL);
		}
	}
	printf("FED %" PRIu64 "\n", fed);
	free(recs);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "tree"))
		return make_tree(argv[2], (unsigned int)strtoul(argv[3], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "feed"))
		return feed(argv[2], (unsigned int)strtoul(argv[3], NULL, 10),
			    (unsigned int)strtoul(argv[4], NULL, 10));
	fprintf(stderr, "usage: feeder tree DIR N | feeder feed FIFO N SECONDS\n");
	return 2;
}
