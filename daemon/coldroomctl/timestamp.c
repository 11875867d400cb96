// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * timestamp.c - systemd.time(7) timestamps for --since and --until.
 *
 * Users type these forms to journalctl, but libsystemd exports no parser:
 * parse_timestamp() is internal to systemd. So this follows
 * systemd.time(7) (and systemd's own units and rounding):
 *
 *   now, today, yesterday, tomorrow      midnight of the day for the last three
 *   @EPOCH[.FRACTION]                    seconds since 1970-01-01 UTC
 *   YYYY-MM-DD [HH:MM[:SS[.FRACTION]]]   also with a T between date and time,
 *                                        as coldroomctl has always taken
 *   HH:MM[:SS[.FRACTION]]                today
 *   any of the above + " UTC"            in UTC rather than local time
 *   -TIMESPAN, TIMESPAN ago              before now
 *   +TIMESPAN, TIMESPAN left             after now
 *
 * A TIMESPAN is numbers with units, summed: "1h 30min", "2d", "1.5h",
 * "90s"; a number without a unit is seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "timestamp.h"

#define USEC_PER_SEC 1000000ULL
#define USEC_PER_DAY (86400ULL * USEC_PER_SEC)
#define TIMESTAMP_MAX (253402300799ULL * USEC_PER_SEC + 999999)	/* 9999-12-31 23:59:59 UTC */

/* systemd's table, in its order: a longer name before its prefixes. */
static const struct {
	const char *name;
	uint64_t usec;
} units[] = {
	{ "seconds", USEC_PER_SEC },
	{ "second", USEC_PER_SEC },
	{ "sec", USEC_PER_SEC },
	{ "s", USEC_PER_SEC },
	{ "minutes", 60 * USEC_PER_SEC },
	{ "minute", 60 * USEC_PER_SEC },
	{ "min", 60 * USEC_PER_SEC },
	{ "months", 2629800 * USEC_PER_SEC },	/* 30.44 days */
	{ "month", 2629800 * USEC_PER_SEC },
	{ "M", 2629800 * USEC_PER_SEC },
	{ "msec", 1000 },
	{ "ms", 1000 },
	{ "m", 60 * USEC_PER_SEC },
	{ "hours", 3600 * USEC_PER_SEC },
	{ "hour", 3600 * USEC_PER_SEC },
	{ "hr", 3600 * USEC_PER_SEC },
	{ "h", 3600 * USEC_PER_SEC },
	{ "days", USEC_PER_DAY },
	{ "day", USEC_PER_DAY },
	{ "d", USEC_PER_DAY },
	{ "weeks", 7 * USEC_PER_DAY },
	{ "week", 7 * USEC_PER_DAY },
	{ "w", 7 * USEC_PER_DAY },
	{ "years", 31557600 * USEC_PER_SEC },	/* 365.25 days */
	{ "year", 31557600 * USEC_PER_SEC },
	{ "y", 31557600 * USEC_PER_SEC },
	{ "usec", 1 },
	{ "us", 1 },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int add(uint64_t *sum, uint64_t v)
{
	if (v > UINT64_MAX - *sum)
		return -ERANGE;
	*sum += v;
	return 0;
}

/* NUMBER[.FRACTION] times @unit, at @*p, which it moves past the number. */
static int scaled(const char **p, uint64_t unit, uint64_t *ret)
{
	const char *s = *p;
	uint64_t whole = 0, v;
	int r;

	if (!is_digit(*s) && !(*s == '.' && is_digit(s[1])))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (whole > UINT64_MAX / unit)
		return -ERANGE;
	v = whole * unit;
	if (*s == '.') {
		/* As systemd rounds: each digit a tenth of the one before, truncated. */
		uint64_t k = unit / 10;

		if (!is_digit(*++s))
			return -EINVAL;
		for (; is_digit(*s); s++, k /= 10) {
			r = add(&v, (uint64_t)(*s - '0') * k);
			if (r)
				return r;
		}
	}
	*p = s;
	*ret = v;
	return 0;
}

/* A TIMESPAN, the whole of @s[0, @len). */
static int parse_timespan(const char *s, size_t len, uint64_t *ret)
{
	const size_t n_units = sizeof(units) / sizeof(units[0]);
	const char *end = s + len;
	uint64_t sum = 0;
	bool any = false;

	for (;;) {
		const char *num, *num_end;
		uint64_t unit = USEC_PER_SEC, v;
		int r;

		while (s < end && is_space(*s))
			s++;
		if (s == end)
			break;
		num = s;
		while (s < end && (is_digit(*s) || *s == '.'))
			s++;
		num_end = s;
		while (s < end && is_space(*s))
			s++;
		for (size_t i = 0; i < n_units; i++) {
			size_t n = strlen(units[i].name);

			if ((size_t)(end - s) >= n && !strncmp(s, units[i].name, n)) {
				unit = units[i].usec;
				s += n;
				break;
			}
		}
		/* After a unit: the end, a space or the next number ("1h30min"). */
		if (s < end && !is_space(*s) && !is_digit(*s))
			return -EINVAL;
		r = scaled(&num, unit, &v);
		if (!r && num != num_end)
			r = -EINVAL;
		if (!r)
			r = add(&sum, v);
		if (r)
			return r;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*ret = sum;
	return 0;
}

static bool strip_suffix(const char *s, size_t *len, const char *suffix)
{
	size_t n = strlen(suffix);

	if (*len <= n || strncmp(s + *len - n, suffix, n))
		return false;
	*len -= n;
	return true;
}

/* @tm (its date and time set) and @frac microseconds, local or UTC. */
static int from_tm(struct tm *tm, bool utc, uint64_t frac, uint64_t *ret)
{
	int year = tm->tm_year, mon = tm->tm_mon, mday = tm->tm_mday;
	time_t t;

	tm->tm_isdst = -1;
	t = utc ? timegm(tm) : mktime(tm);
	/* A day that does not exist (02-30) is refused, not moved on. */
	if (t == (time_t)-1 || tm->tm_year != year || tm->tm_mon != mon || tm->tm_mday != mday)
		return -EINVAL;
	if (t < 0)
		return -ERANGE;
	*ret = (uint64_t)t * USEC_PER_SEC + frac;
	return 0;
}

/* Nothing, or .FRACTION of a second, at @s. */
static int fraction(const char *s, uint64_t *ret)
{
	int r;

	*ret = 0;
	if (!*s)
		return 0;
	if (*s != '.' || !is_digit(s[1]))
		return -EINVAL;
	r = scaled(&s, USEC_PER_SEC, ret);
	return r ? r : *s ? -EINVAL : 0;
}

/* Midnight of the day of @now, @days later, as a date that exists. */
static int day_of(uint64_t now, bool utc, int days, struct tm *tm)
{
	time_t t = (time_t)(now / USEC_PER_SEC);

	if (!(utc ? gmtime_r(&t, tm) : localtime_r(&t, tm)))
		return -ERANGE;
	tm->tm_mday += days;
	tm->tm_hour = tm->tm_min = tm->tm_sec = 0;
	tm->tm_isdst = -1;
	return (utc ? timegm(tm) : mktime(tm)) == (time_t)-1 ? -ERANGE : 0;
}

static int parse_absolute(const char *s, uint64_t now, bool utc, uint64_t *ret)
{
	static const char *const with_date[] = {
		"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
		"%Y-%m-%d",
	};
	static const char *const time_only[] = { "%H:%M:%S", "%H:%M" };
	struct tm tm;
	uint64_t frac;
	const char *end;
	int r;

	/* strptime() would also take a leading space or a sign. */
	if (!is_digit(s[0]))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(with_date) / sizeof(with_date[0]); i++) {
		tm = (struct tm){ 0 };
		end = strptime(s, with_date[i], &tm);
		if (!end || (*end && (*end != '.' || i > 1)))
			continue;
		if (s[4] != '-' || fraction(end, &frac))
			return -EINVAL;
		return from_tm(&tm, utc, frac, ret);
	}
	for (size_t i = 0; i < sizeof(time_only) / sizeof(time_only[0]); i++) {
		struct tm today;

		tm = (struct tm){ 0 };
		end = strptime(s, time_only[i], &tm);
		if (!end || (*end && (*end != '.' || i > 0)))
			continue;
		r = fraction(end, &frac);
		if (!r)
			r = day_of(now, utc, 0, &today);
		if (r)
			return r;
		tm.tm_year = today.tm_year;
		tm.tm_mon = today.tm_mon;
		tm.tm_mday = today.tm_mday;
		return from_tm(&tm, utc, frac, ret);
	}
	return -EINVAL;
}

int timestamp_parse(const char *s, uint64_t now, uint64_t *ret)
{
	static const char *const days[] = { "yesterday", "today", "tomorrow" };
	size_t len = strlen(s), skip = 0;
	uint64_t t = 0, span;
	int sign = 0, r = -EINVAL;
	bool utc;
	char buf[64];

	utc = strip_suffix(s, &len, " UTC");
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';

	if (buf[0] == '-' || buf[0] == '+')
		sign = buf[0] == '-' ? -1 : 1, skip = 1;
	else if (strip_suffix(buf, &len, " ago"))
		sign = -1;
	else if (strip_suffix(buf, &len, " left"))
		sign = 1;

	if (sign) {
		r = parse_timespan(buf + skip, len - skip, &span);
		if (!r && (sign < 0 ? span > now : span > UINT64_MAX - now))
			r = -ERANGE;
		if (!r)
			t = sign < 0 ? now - span : now + span;
	} else if (!strcmp(buf, "now")) {
		t = now;
		r = 0;
	} else if (buf[0] == '@') {
		const char *p = buf + 1;

		r = scaled(&p, USEC_PER_SEC, &t);
		if (!r && *p)
			r = -EINVAL;
	} else {
		int i = 0;

		while (i < 3 && strcmp(buf, days[i]))
			i++;
		if (i < 3) {
			struct tm tm;

			r = day_of(now, utc, i - 1, &tm);
			if (!r)
				r = from_tm(&tm, utc, 0, &t);
		} else {
			r = parse_absolute(buf, now, utc, &t);
		}
	}
	if (r)
		return r;
	/* systemd's bound too: what a four-digit year can say. */
	if (t > TIMESTAMP_MAX)
		return -ERANGE;
	*ret = t;
	return 0;
}
