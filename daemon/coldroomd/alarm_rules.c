// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * alarm_rules.c - the alarm lifecycle's rules and its state file, without
 * timers or the bus: what alarm_lifecycle.c and the tests share.
 *
 * Layer: the pure bottom of the alarms (alarm_rules.h); calls only libc
 * and the shared helpers (config.h's limits, parse_util.h's parsers, hexstr.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm_rules.h"
#include "config.h"
#include "hexstr.h"
#include "macro.h"
#include "parse_util.h"

enum alarm_state alarm_rule_raise(enum alarm_state s)
{
	switch (s) {
	case ALARM_STATE_NONE:
	case ALARM_STATE_CLOSED:
	case ALARM_STATE_CLEARED:	/* back before anyone answered: the same alarm */
		return ALARM_STATE_RAISED;
	default:
		return s;
	}
}

enum alarm_state alarm_rule_clear(enum alarm_state s)
{
	switch (s) {
	case ALARM_STATE_RAISED:
		return ALARM_STATE_CLEARED;	/* stays listed until acknowledged */
	case ALARM_STATE_ACKNOWLEDGED:
		return ALARM_STATE_CLOSED;
	default:
		return s;
	}
}

int alarm_rule_ack(enum alarm_state s, enum alarm_state *out)
{
	switch (s) {
	case ALARM_STATE_RAISED:
		*out = ALARM_STATE_ACKNOWLEDGED;
		return 0;
	case ALARM_STATE_CLEARED:
		*out = ALARM_STATE_CLOSED;
		return 0;
	default:
		*out = s;
		return -EALREADY;
	}
}

const char *alarm_state_name(enum alarm_state s)
{
	switch (s) {
	case ALARM_STATE_RAISED:
		return "raised";
	case ALARM_STATE_ACKNOWLEDGED:
		return "acknowledged";
	case ALARM_STATE_CLEARED:
		return "cleared";
	case ALARM_STATE_CLOSED:
		return "closed";
	default:
		return "unknown";
	}
}

static const char *const kind_names[ALARM_KINDS] = {
	[ALARM_KIND_TEMPERATURE] = "temperature",
	[ALARM_KIND_SILENT] = "silent",
	[ALARM_KIND_STUCK] = "stuck",
	[ALARM_KIND_FAULT] = "fault",
	[ALARM_KIND_OUTAGE] = "outage",
	[ALARM_KIND_RATE] = "rate",
	[ALARM_KIND_CAL_90] = "calibration-90d",
	[ALARM_KIND_CAL_30] = "calibration-30d",
	[ALARM_KIND_CAL_DUE] = "calibration-due",
};

const char *alarm_kind_name(enum alarm_kind k)
{
	return (unsigned int)k < ALARM_KINDS ? kind_names[k] : "unknown";
}

int alarm_kind_from_name(const char *name)
{
	for (unsigned int k = 0; k < ALARM_KINDS; k++)
		if (!strcmp(name, kind_names[k]))
			return (int)k;
	return -EINVAL;
}

#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MIN (60 * USEC_PER_SEC)

bool health_silent(const struct config *c, uint64_t seen_usec, uint32_t interval_ms,
		   uint64_t now_usec)
{
	uint64_t after = (uint64_t)c->silent_intervals * interval_ms * 1000ULL;

	if (!c->silent_intervals || !seen_usec)
		return false;
	/* A stopped unit (interval 0) or a fast one: never sooner than SilentMinSec. */
	if (after < c->silent_min_s * USEC_PER_SEC)
		after = c->silent_min_s * USEC_PER_SEC;
	return now_usec > seen_usec && now_usec - seen_usec >= after;
}

static uint32_t distance(int32_t a, int32_t b)
{
	return a > b ? (uint32_t)((int64_t)a - b) : (uint32_t)((int64_t)b - a);
}

bool health_stuck(const struct config *c, struct probe_health *h, int32_t temp,
		  uint64_t now_usec)
{
	/* Moved beyond the noise: it is alive, and stays near this reading from now. */
	if (!h->stuck_since || distance(temp, h->stuck_ref) > c->stuck_band_mdeg ||
	    now_usec < h->stuck_since) {
		h->stuck_ref = temp;
		h->stuck_since = now_usec;
	}
	return c->stuck_s && now_usec - h->stuck_since >= c->stuck_s * USEC_PER_SEC;
}

bool health_rate(const struct config *c, struct probe_health *h, int32_t temp,
		 uint64_t now_usec)
{
	uint64_t dt;

	if (!h->rate_since || now_usec < h->rate_since) {
		h->rate_ref = temp;
		h->rate_since = now_usec;
		h->rate_high = false;
		return false;
	}
	dt = now_usec - h->rate_since;
	/* Over a minute at least: one sample's noise is no rate. */
	if (dt < USEC_PER_MIN)
		return c->rate_mdeg_per_min && h->rate_high;
	/* mdeg/min = change * 60e6 / dt; compared without dividing. */
	h->rate_high = (uint64_t)distance(temp, h->rate_ref) * USEC_PER_MIN >
		       (uint64_t)c->rate_mdeg_per_min * dt;
	h->rate_ref = temp;
	h->rate_since = now_usec;
	return c->rate_mdeg_per_min && h->rate_high;
}

void health_no_reading(struct probe_health *h)
{
	h->stuck_since = 0;
	h->rate_since = 0;
	h->rate_high = false;
}

bool health_fault(const struct config *c, uint32_t status)
{
	/* daemon.h's TEMP_STATUS_NO_DATA and TEMP_STATUS_DISCONNECTED. */
	return c->fault_alarms && (status == 2 || status == 3);
}

bool health_outage(const struct config *c, uint64_t alive_usec, uint64_t start_usec)
{
	return c->outage_s && alive_usec && start_usec > alive_usec &&
	       start_usec - alive_usec > c->outage_s * USEC_PER_SEC;
}

bool health_out_of_band(bool kernel_alarm, bool valid, int32_t temp, int32_t min, int32_t max)
{
	return kernel_alarm || (valid && (temp < min || temp > max));
}

#define USEC_PER_DAY (86400 * USEC_PER_SEC)

static bool text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int calibration_check(const struct calibration *c, const char **why)
{
	if (!c->calibrated_usec || c->due_usec <= c->calibrated_usec)
		*why = "the due date must come after the calibration date";
	else if (c->as_found_mdeg < -CALIBRATION_OFFSET_MAX ||
		 c->as_found_mdeg > CALIBRATION_OFFSET_MAX ||
		 c->as_left_mdeg < -CALIBRATION_OFFSET_MAX ||
		 c->as_left_mdeg > CALIBRATION_OFFSET_MAX)
		*why = "an offset is at most 100 degrees either way (in mC)";
	else if (!c->certificate[0] || strnlen(c->certificate, CALIBRATION_CERT_MAX) ==
		 CALIBRATION_CERT_MAX || !text_ok(c->certificate))
		*why = "the certificate reference is one line of 1 to 63 characters";
	else
		return 0;
	return -EINVAL;
}

int64_t calibration_days_left(const struct calibration *c, uint64_t now_usec)
{
	int64_t left = (int64_t)(c->due_usec / USEC_PER_SEC) - (int64_t)(now_usec / USEC_PER_SEC);

	/* Counted down: 0 on the due day's last 24 hours, -1 the day after. */
	return left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
}

bool calibration_reminder(const struct calibration *c, enum alarm_kind kind, uint64_t now_usec)
{
	int64_t left;

	if (!c->due_usec)
		return false;
	left = calibration_days_left(c, now_usec);
	switch (kind) {
	case ALARM_KIND_CAL_90:
		return left <= 90;
	case ALARM_KIND_CAL_30:
		return left <= 30;
	case ALARM_KIND_CAL_DUE:
		return now_usec >= c->due_usec;
	default:
		return false;
	}
}

bool alarm_serial_ok(const char *serial)
{
	size_t n = strlen(serial);

	if (n == 0 || n >= ALARM_SERIAL_MAX)
		return false;
	for (const char *p = serial; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');

		/* A name systemd takes as it is: no escapes, no leading '-' or '.'. */
		if (!alnum && (p == serial || (*p != '-' && *p != '_' && *p != '.')))
			return false;
	}
	return true;
}

int alarm_instance_name(const char *serial, unsigned int probe, enum alarm_kind kind,
			char *buf, size_t size)
{
	int n;

	if (!alarm_serial_ok(serial) || (unsigned int)kind >= ALARM_KINDS)
		return -EINVAL;
	if (kind == ALARM_KIND_TEMPERATURE)
		n = snprintf(buf, size, "%s-%u", serial, probe);
	else
		n = snprintf(buf, size, "%s-%u-%s", serial, probe, alarm_kind_name(kind));
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

/* Free text in the state file: lowercase hex, "-" when empty. */
static int hex_put(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (!n)
		return snprintf(buf, size, "-");
	if (HEXSTR_SIZE(n) > size)
		return -ENOSPC;
	hexstr_encode(s, n, buf);
	return (int)(2 * n);
}

static int hex_get(const char *hex, char *out, size_t size)
{
	ssize_t n;

	if (!strcmp(hex, "-")) {
		out[0] = '\0';
		return 0;
	}
	n = size ? hexstr_decode(hex, out, size - 1) : -ENOSPC;
	if (n < 0)
		return -EINVAL;
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return -EINVAL;	/* printable text only, as the bus gave it */
	out[n] = '\0';
	return 0;
}

int alarm_state_format(const struct alarm_record *a, char *buf, size_t size)
{
	char user[2 * ALARM_USER_MAX + 1], comment[2 * ALARM_COMMENT_MAX + 1];
	int n;

	if (hex_put(a->acked_user, user, sizeof(user)) < 0 ||
	    hex_put(a->comment, comment, sizeof(comment)) < 0)
		return -ENOSPC;
	n = snprintf(buf, size, "alarm %" PRIu64 " %s %u %u %u %" PRId32 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 " %" PRIu32 " %s %s%s%s\n", a->id, a->serial, a->probe,
		     (unsigned int)a->state, a->level, a->temp, a->raised_usec, a->cleared_usec,
		     a->acked_usec, a->acked_uid, user, comment,
		     /* A temperature alarm's line is as it was: an older coldroomd reads it. */
		     a->kind == ALARM_KIND_TEMPERATURE ? "" : " ",
		     a->kind == ALARM_KIND_TEMPERATURE ? "" : alarm_kind_name(a->kind));
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

int calibration_state_format(const char *serial, unsigned int probe,
			     const struct calibration *c, char *buf, size_t size)
{
	char cert[2 * CALIBRATION_CERT_MAX + 1];
	int n;

	if (hex_put(c->certificate, cert, sizeof(cert)) < 0)
		return -ENOSPC;
	n = snprintf(buf, size, "calibration %s %u %" PRIu64 " %" PRIu64 " %" PRId32 " %" PRId32
		     " %s\n", serial, probe, c->calibrated_usec, c->due_usec, c->as_found_mdeg,
		     c->as_left_mdeg, cert);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

static int word_u64(const char *w, uint64_t max, uint64_t *out)
{
	unsigned long long v;

	if (parse_ull(w, &v) < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_alarm(char **w, size_t n, struct alarm_record *a)
{
	uint64_t v[10];
	long long temp;
	int kind = ALARM_KIND_TEMPERATURE;

	memset(a, 0, sizeof(*a));
	if ((n != 13 && n != 14) || !alarm_serial_ok(w[2]))
		return -EINVAL;
	/* "temperature" is never written: one line, one spelling. */
	if (n == 14 && ((kind = alarm_kind_from_name(w[13])) < 0 ||
			kind == ALARM_KIND_TEMPERATURE))
		return -EINVAL;
	a->kind = (enum alarm_kind)kind;
	snprintf(a->serial, sizeof(a->serial), "%s", w[2]);
	if (word_u64(w[1], UINT64_MAX, &v[0]) < 0 || v[0] == 0 ||
	    word_u64(w[3], 2, &v[1]) < 0 || v[1] < 1 ||
	    word_u64(w[4], ALARM_STATE_CLEARED, &v[2]) < 0 || v[2] < ALARM_STATE_RAISED ||
	    word_u64(w[5], ALARM_LEVEL_ESCALATED, &v[3]) < 0 ||
	    parse_ll(w[6], &temp) < 0 || temp < INT32_MIN || temp > INT32_MAX ||
	    word_u64(w[7], UINT64_MAX, &v[4]) < 0 ||
	    word_u64(w[8], UINT64_MAX, &v[5]) < 0 ||
	    word_u64(w[9], UINT64_MAX, &v[6]) < 0 ||
	    word_u64(w[10], UINT32_MAX, &v[7]) < 0 ||
	    hex_get(w[11], a->acked_user, sizeof(a->acked_user)) < 0 ||
	    hex_get(w[12], a->comment, sizeof(a->comment)) < 0)
		return -EINVAL;
	a->id = v[0];
	a->probe = (unsigned int)v[1];
	a->state = (enum alarm_state)v[2];
	a->level = (unsigned int)v[3];
	a->temp = (int32_t)temp;
	a->raised_usec = v[4];
	a->cleared_usec = v[5];
	a->acked_usec = v[6];
	a->acked_uid = (uint32_t)v[7];
	/* What the states mean must hold: an acknowledged alarm has a time. */
	if ((a->state == ALARM_STATE_ACKNOWLEDGED) != (a->acked_usec != 0) ||
	    (a->state == ALARM_STATE_CLEARED) != (a->cleared_usec != 0))
		return -EINVAL;
	return 0;
}

#define STATE_WORDS_MAX 16

int alarm_state_parse(const char *text, size_t len, struct alarm_state_parser *p,
		      unsigned int *line)
{
	_cleanup_(freep) char *buf = NULL;
	char *l, *next;
	int r = 0;

	*line = 0;
	p->next_id = 1;
	if (memchr(text, '\0', len))
		return -EINVAL;
	buf = strndup(text, len);
	if (!buf)
		return -ENOMEM;
	for (l = buf; l && *l; l = next) {
		char *w[STATE_WORDS_MAX], *save = NULL;
		size_t n = 0;

		(*line)++;
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		if (*l == '#' || !*l)
			continue;
		for (char *t = strtok_r(l, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			if (n == STATE_WORDS_MAX)
				return -EINVAL;
			w[n++] = t;
		}
		if (!n)
			return -EINVAL;
		if (!strcmp(w[0], "next-id")) {
			uint64_t id;

			if (n != 2 || word_u64(w[1], UINT64_MAX, &id) < 0 || !id)
				return -EINVAL;
			p->next_id = id;
		} else if (!strcmp(w[0], "delay")) {
			uint64_t probe, sec;

			if (n != 4 || !alarm_serial_ok(w[1]) || word_u64(w[2], 2, &probe) < 0 ||
			    probe < 1 || word_u64(w[3], CONFIG_MAX_ALARM_DELAY_S, &sec) < 0)
				return -EINVAL;
			r = p->on_delay(p->userdata, w[1], (unsigned int)probe, (unsigned int)sec);
		} else if (!strcmp(w[0], "calibration")) {
			struct calibration c = { 0 };
			uint64_t probe;
			long long found, left;
			const char *why;

			if (n != 8 || !alarm_serial_ok(w[1]) || word_u64(w[2], 2, &probe) < 0 ||
			    probe < 1 || word_u64(w[3], UINT64_MAX, &c.calibrated_usec) < 0 ||
			    word_u64(w[4], UINT64_MAX, &c.due_usec) < 0 ||
			    parse_ll(w[5], &found) < 0 || parse_ll(w[6], &left) < 0 ||
			    found < INT32_MIN || found > INT32_MAX ||
			    left < INT32_MIN || left > INT32_MAX ||
			    hex_get(w[7], c.certificate, sizeof(c.certificate)) < 0)
				return -EINVAL;
			c.as_found_mdeg = (int32_t)found;
			c.as_left_mdeg = (int32_t)left;
			if (calibration_check(&c, &why) < 0)
				return -EINVAL;
			r = p->on_calibration ? p->on_calibration(p->userdata, w[1],
								  (unsigned int)probe, &c) : 0;
		} else if (!strcmp(w[0], "alarm")) {
			struct alarm_record a;

			if (parse_alarm(w, n, &a) < 0)
				return -EINVAL;
			if (a.id >= p->next_id)
				p->next_id = a.id + 1;
			r = p->on_alarm(p->userdata, &a);
		} else {
			return -EINVAL;
		}
		if (r < 0)
			return r;
	}
	*line = 0;
	return 0;
}
