// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_time.c - a CLOCK_REALTIME time in microseconds as local
 * wall-clock text.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "coldroomctl.h"

void format_time(char *buf, size_t size, uint64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!usec || !localtime_r(&t, &tm))
		snprintf(buf, size, "never");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

void format_local(uint64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "@%" PRIu64, usec / 1000000);
}

/* "2 d 3 h", "1 h 05 min", "4 min 10 s", "12 s": a span, to the precision it needs. */
void format_duration(uint64_t usec, char *buf, size_t size)
{
	uint64_t s = usec / 1000000;

	if (s >= 86400)
		snprintf(buf, size, "%" PRIu64 " d %" PRIu64 " h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%" PRIu64 " h %02" PRIu64 " min", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, size, "%" PRIu64 " min %02" PRIu64 " s", s / 60, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 " s", s);
}
