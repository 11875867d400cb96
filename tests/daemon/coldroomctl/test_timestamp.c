// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * timestamp_parse(): each form of systemd.time(7) that --since and --until
 * take, at a fixed "now" in a fixed time zone; bad input refused; and, where
 * systemd-analyze is installed, the same answer as systemd's own parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "timestamp.h"

#define S 1000000ULL
/* Berlin without tzdata: CET, CEST from the last Sunday of March. */
#define TZ_BERLIN "CET-1CEST,M3.5.0,M10.5.0/3"
/* Thursday 2026-01-15 11:34:56.789 UTC, 12:34:56.789 in Berlin. */
#define NOW (1768476896ULL * S + 789000)
#define MIDNIGHT (1768431600ULL * S)	/* 2026-01-15 00:00 in Berlin */

static uint64_t parsed(const char *s)
{
	uint64_t t = 0;
	int r = timestamp_parse(s, NOW, &t);

	if (r)
		fail_msg("'%s': %s", s, strerror(-r));
	return t;
}

static void test_keywords(void **state)
{
	(void)state;
	assert_int_equal(parsed("now"), NOW);
	assert_int_equal(parsed("today"), MIDNIGHT);
	assert_int_equal(parsed("yesterday"), MIDNIGHT - 86400 * S);
	assert_int_equal(parsed("tomorrow"), MIDNIGHT + 86400 * S);
	assert_int_equal(parsed("today UTC"), MIDNIGHT + 3600 * S);
	assert_int_equal(parsed("now UTC"), NOW);
}

static void test_epoch(void **state)
{
	(void)state;
	assert_int_equal(parsed("@1700000000"), 1700000000 * S);
	assert_int_equal(parsed("@1700000000.25"), 1700000000 * S + 250000);
	assert_int_equal(parsed("@0"), 0);
}

static void test_dates(void **state)
{
	(void)state;
	assert_int_equal(parsed("2026-01-15"), MIDNIGHT);
	assert_int_equal(parsed("2026-01-15 10:00"), MIDNIGHT + 10 * 3600 * S);
	assert_int_equal(parsed("2026-01-15 10:00:05"), MIDNIGHT + (10 * 3600 + 5) * S);
	assert_int_equal(parsed("2026-01-15 10:00:05.5"), MIDNIGHT + (10 * 3600 + 5) * S + 500000);
	/* coldroomctl's form before systemd's: a T between date and time. */
	assert_int_equal(parsed("2026-01-15T10:00"), MIDNIGHT + 10 * 3600 * S);
	assert_int_equal(parsed("2026-01-15T10:00:05"), MIDNIGHT + (10 * 3600 + 5) * S);
	assert_int_equal(parsed("2026-01-15 10:00 UTC"), MIDNIGHT + 11 * 3600 * S);
	assert_int_equal(parsed("2026-07-01 12:00"), 1782900000 * S);	/* summer time */
	assert_int_equal(parsed("2026-07-01 UTC"), 1782864000 * S);
	assert_int_equal(parsed("1970-01-01 UTC"), 0);
}

static void test_time_of_day(void **state)
{
	(void)state;
	assert_int_equal(parsed("10:00"), MIDNIGHT + 10 * 3600 * S);
	assert_int_equal(parsed("9:05"), MIDNIGHT + (9 * 3600 + 5 * 60) * S);
	assert_int_equal(parsed("10:00:30"), MIDNIGHT + (10 * 3600 + 30) * S);
	assert_int_equal(parsed("10:00:30.125"), MIDNIGHT + (10 * 3600 + 30) * S + 125000);
	assert_int_equal(parsed("23:59 UTC"), MIDNIGHT + 3600 * S + (23 * 3600 + 59 * 60) * S);
}

static void test_relative(void **state)
{
	static const struct {
		const char *span;
		uint64_t usec;
	} spans[] = {
		{ "1us", 1 }, { "1usec", 1 }, { "1ms", 1000 }, { "1msec", 1000 },
		{ "1s", S }, { "1sec", S }, { "1second", S }, { "2seconds", 2 * S }, { "5", 5 * S },
		{ "1m", 60 * S }, { "1min", 60 * S }, { "1minute", 60 * S }, { "2minutes", 120 * S },
		{ "1h", 3600 * S }, { "1hr", 3600 * S }, { "1hour", 3600 * S }, { "2hours", 7200 * S },
		{ "1d", 86400 * S }, { "1day", 86400 * S }, { "2days", 2 * 86400 * S },
		{ "1w", 604800 * S }, { "1week", 604800 * S }, { "2weeks", 2 * 604800 * S },
		{ "1M", 2629800 * S }, { "1month", 2629800 * S }, { "2months", 2 * 2629800 * S },
		{ "1y", 31557600 * S }, { "1year", 31557600 * S }, { "2years", 2 * 31557600 * S },
		{ "90s", 90 * S }, { "1.5h", 5400 * S }, { "1h 30min", 5400 * S },
		{ "1h30min", 5400 * S }, { "2 d", 2 * 86400 * S }, { "0.25s", 250000 },
		{ "1w 2d 3h 4min 5s 6ms 7us", ((9 * 24 + 3) * 3600 + 4 * 60 + 5) * S + 6007 },
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		snprintf(text, sizeof(text), "-%s", spans[i].span);
		assert_int_equal(parsed(text), NOW - spans[i].usec);
		snprintf(text, sizeof(text), "%s ago", spans[i].span);
		assert_int_equal(parsed(text), NOW - spans[i].usec);
		snprintf(text, sizeof(text), "+%s", spans[i].span);
		assert_int_equal(parsed(text), NOW + spans[i].usec);
		snprintf(text, sizeof(text), "%s left", spans[i].span);
		assert_int_equal(parsed(text), NOW + spans[i].usec);
	}
	/* The forms the tests and README have used all along. */
	assert_int_equal(parsed("-30m"), NOW - 1800 * S);
	assert_int_equal(parsed("-2h"), NOW - 7200 * S);
	assert_int_equal(parsed("-7d"), NOW - 7 * 86400 * S);
	assert_int_equal(parsed("-1h UTC"), NOW - 3600 * S);
}

/* Each of @texts refused with @err, and the result left alone. */
static void check_refused(const char *const *texts, size_t n, int err)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t = 42;
		int r = timestamp_parse(texts[i], NOW, &t);

		if (r != err || t != 42)
			fail_msg("'%s': %d, not %d", texts[i], r, err);
	}
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "soon", "Now", " now", "now ", "-", "+", "@", "@-1", "@1x", "@1.", " ago", "ago",
		"left", "2h", "-2h-", "-2h ago", "--2h", "-5 secs", "-1.2.3h", "-1.h", "-h",
		"-1 fortnight", "2026-02-30", "2026-13-01", "2026-01-15 25:00", "2026-01-15 10:60",
		"2026-01-15 10:00 utc", "2026-01-15 10:00 UTC UTC", "2026-01-15 10", "2026-01-15x",
		"15.01.2026", "10:00 tomorrow", "tomorrow 10:00", " 10:00", "+10:00", "10:00:30.",
		"2026-01-15 10:00.5", "today+1d",
		"this text is longer than any timestamp could be, by some margin, really",
	};

	(void)state;
	check_refused(bad, sizeof(bad) / sizeof(bad[0]), -EINVAL);
}

static void test_out_of_range(void **state)
{
	static const char *const far[] = {
		"-100y", "1969-12-31", "+10000y", "10000 years left", "@253402300800",
		"@99999999999999999999", "-99999999999999999999us", "+600000y",
	};

	(void)state;
	check_refused(far, sizeof(far) / sizeof(far[0]), -ERANGE);
	assert_int_equal(parsed("9999-12-31 23:59:59 UTC"), 253402300799ULL * S);
}

/* systemd's answer for @s: its "UNIX seconds: @SECS[.FRACTION]" line. */
static int systemd_analyze(const char *s, uint64_t *usec)
{
	char cmd[256], line[256];
	int found = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "systemd-analyze timestamp -- '%s' 2>/dev/null", s);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		const char *at = strstr(line, "UNIX seconds: @");
		unsigned long long sec, frac = 0;
		int n = 0;

		if (!at || sscanf(at, "UNIX seconds: @%llu%n", &sec, &n) != 1)
			continue;
		if (at[n] == '.')
			frac = strtoull(at + n + 1, NULL, 10);
		*usec = sec * S + frac;
		found = 0;
	}
	return pclose(p) == 0 ? found : -1;
}

static void test_against_systemd(void **state)
{
	/* Absolute forms: the same microsecond. */
	static const char *const fixed[] = {
		"2026-01-15 10:00", "2026-07-01 12:00:30", "2026-01-15 10:00 UTC",
		"2026-03-29 03:30", "@1700000000.5", "2026-01-15 10:00:05.25",
	};
	/* Forms of now: within two seconds, the two nows apart. */
	static const char *const moving[] = {
		"today", "yesterday", "tomorrow UTC", "10:00", "-2h", "1h 30min ago", "1.5h left",
		"+2d 3h", "-1M", "-1y", "-3w 2d 1h 5m 30s 500ms",
	};
	struct timespec ts;
	uint64_t ours, theirs, now;

	(void)state;
	if (systemd_analyze("now", &theirs) < 0)
		skip();		/* no systemd-analyze here */
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		assert_int_equal(systemd_analyze(fixed[i], &theirs), 0);
		assert_int_equal(timestamp_parse(fixed[i], NOW, &ours), 0);
		if (ours != theirs)
			fail_msg("'%s': %llu, systemd %llu", fixed[i], (unsigned long long)ours,
				 (unsigned long long)theirs);
	}
	for (size_t i = 0; i < sizeof(moving) / sizeof(moving[0]); i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (uint64_t)ts.tv_sec * S + (uint64_t)ts.tv_nsec / 1000;
		assert_int_equal(timestamp_parse(moving[i], now, &ours), 0);
		assert_int_equal(systemd_analyze(moving[i], &theirs), 0);
		if (ours > theirs + 2 * S || theirs > ours + 2 * S)
			fail_msg("'%s': %llu, systemd %llu", moving[i], (unsigned long long)ours,
				 (unsigned long long)theirs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_time_of_day),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_against_systemd),
	};

	setenv("TZ", TZ_BERLIN, 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
