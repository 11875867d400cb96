// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The alarm lifecycle's rules and its state file (daemon/coldroomd/alarm_rules.c):
 * raised -> acknowledged -> closed, raised -> cleared -> closed by the
 * acknowledgement, a cleared alarm that comes back is the same alarm; the
 * state file keeps every field and refuses what it did not write; the
 * probe-health rules on a clock the test turns (silent, stuck, rate,
 * fault, after an outage).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "alarm_rules.h"
#include "config.h"

static void test_rules(void **state)
{
	enum alarm_state s;

	(void)state;
	assert_int_equal(alarm_rule_raise(ALARM_STATE_NONE), ALARM_STATE_RAISED);
	assert_int_equal(alarm_rule_raise(ALARM_STATE_CLOSED), ALARM_STATE_RAISED);
	assert_int_equal(alarm_rule_raise(ALARM_STATE_CLEARED), ALARM_STATE_RAISED);
	assert_int_equal(alarm_rule_raise(ALARM_STATE_RAISED), ALARM_STATE_RAISED);
	assert_int_equal(alarm_rule_raise(ALARM_STATE_ACKNOWLEDGED), ALARM_STATE_ACKNOWLEDGED);

	assert_int_equal(alarm_rule_clear(ALARM_STATE_RAISED), ALARM_STATE_CLEARED);
	assert_int_equal(alarm_rule_clear(ALARM_STATE_ACKNOWLEDGED), ALARM_STATE_CLOSED);
	assert_int_equal(alarm_rule_clear(ALARM_STATE_NONE), ALARM_STATE_NONE);
	assert_int_equal(alarm_rule_clear(ALARM_STATE_CLEARED), ALARM_STATE_CLEARED);

	assert_int_equal(alarm_rule_ack(ALARM_STATE_RAISED, &s), 0);
	assert_int_equal(s, ALARM_STATE_ACKNOWLEDGED);
	assert_int_equal(alarm_rule_ack(ALARM_STATE_CLEARED, &s), 0);
	assert_int_equal(s, ALARM_STATE_CLOSED);
	assert_int_equal(alarm_rule_ack(ALARM_STATE_ACKNOWLEDGED, &s), -EALREADY);
	assert_int_equal(s, ALARM_STATE_ACKNOWLEDGED);
	assert_int_equal(alarm_rule_ack(ALARM_STATE_NONE, &s), -EALREADY);
}

static void test_instance_name(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(alarm_instance_name("SIM000001", 2, ALARM_KIND_TEMPERATURE, buf,
					     sizeof(buf)), 0);
	assert_string_equal(buf, "SIM000001-2");
	/* Taken as it is: a '-' of the serial stays, no \x2d for systemd to misread. */
	assert_int_equal(alarm_instance_name("CRS-200.A", 1, ALARM_KIND_TEMPERATURE, buf,
					     sizeof(buf)), 0);
	assert_string_equal(buf, "CRS-200.A-1");
	/* Another kind of the same probe runs beside it under its own name. */
	assert_int_equal(alarm_instance_name("CRS-200.A", 1, ALARM_KIND_STUCK, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "CRS-200.A-1-stuck");
	assert_int_equal(alarm_instance_name("SIM1", 1, ALARM_KINDS, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(alarm_instance_name(".x", 1, ALARM_KIND_TEMPERATURE, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(alarm_instance_name("-x", 1, ALARM_KIND_TEMPERATURE, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(alarm_instance_name("SIM000001", 1, ALARM_KIND_TEMPERATURE, buf, 8),
			 -ENOSPC);

	assert_true(alarm_serial_ok("SIM-000001"));
	assert_false(alarm_serial_ok(""));
	assert_false(alarm_serial_ok("a b"));
	assert_false(alarm_serial_ok("../x"));
	assert_false(alarm_serial_ok("0123456789012345678901234567890123456789012345678901234567890123"));
}

struct seen {
	struct alarm_record alarms[4];
	unsigned int n_alarms;
	char delay_serial[ALARM_SERIAL_MAX];
	unsigned int delay_probe, delay_s, n_delays;
	char cal_serial[ALARM_SERIAL_MAX];
	unsigned int cal_probe;
	struct calibration cal;
};

static int on_alarm(void *userdata, const struct alarm_record *a)
{
	struct seen *s = userdata;

	assert_true(s->n_alarms < 4);
	s->alarms[s->n_alarms++] = *a;
	return 0;
}

static int on_delay(void *userdata, const char *serial, unsigned int probe, unsigned int sec)
{
	struct seen *s = userdata;

	snprintf(s->delay_serial, sizeof(s->delay_serial), "%s", serial);
	s->delay_probe = probe;
	s->delay_s = sec;
	s->n_delays++;
	return 0;
}

static int on_calibration(void *userdata, const char *serial, unsigned int probe,
			  const struct calibration *c)
{
	struct seen *s = userdata;

	snprintf(s->cal_serial, sizeof(s->cal_serial), "%s", serial);
	s->cal_probe = probe;
	s->cal = *c;
	return 0;
}

static int parse(const char *text, struct seen *s, uint64_t *next_id, unsigned int *line)
{
	struct alarm_state_parser p = { .userdata = s, .on_alarm = on_alarm,
					.on_delay = on_delay, .on_calibration = on_calibration };
	int r;

	memset(s, 0, sizeof(*s));
	r = alarm_state_parse(text, strlen(text), &p, line);
	*next_id = p.next_id;
	return r;
}

static void test_state_round_trip(void **state)
{
	struct alarm_record a = {
		.id = 41, .serial = "SIM-000001", .probe = 2, .state = ALARM_STATE_ACKNOWLEDGED,
		.level = ALARM_LEVEL_ESCALATED, .temp = -12345, .raised_usec = 1796314513682496ULL,
		.acked_usec = 1796314600000000ULL, .acked_uid = 1000, .acked_user = "operator",
		.comment = "door left open by \"night shift\"; closed, 50% of stock moved",
	};
	char text[2048];
	struct seen s;
	uint64_t next;
	unsigned int line;
	int n, k;

	(void)state;
	n = snprintf(text, sizeof(text), "# header\nnext-id 3\ndelay SIM-000001 2 900\n");
	/* The line of the files written so far, byte for byte: they must load. */
	k = alarm_state_format(&a, text + n, sizeof(text) - (size_t)n);
	assert_true(k > 0);
	assert_string_equal(text + n,
			    "alarm 41 SIM-000001 2 2 2 -12345 1796314513682496 0 1796314600000000 1000 "
			    "6f70657261746f72 646f6f72206c656674206f70656e20627920226e69676874207368"
			    "696674223b20636c6f7365642c20353025206f662073746f636b206d6f766564\n");
	n += k;
	assert_int_equal(parse(text, &s, &next, &line), 0);
	assert_int_equal(s.n_alarms, 1);
	assert_memory_equal(&s.alarms[0], &a, offsetof(struct alarm_record, acked_user));
	assert_string_equal(s.alarms[0].acked_user, "operator");
	assert_string_equal(s.alarms[0].comment, a.comment);
	/* next-id never hands out an id that is already taken. */
	assert_int_equal(next, 42);
	assert_int_equal(s.n_delays, 1);
	assert_string_equal(s.delay_serial, "SIM-000001");
	assert_int_equal(s.delay_probe, 2);
	assert_int_equal(s.delay_s, 900);

	/* Another kind: its name last, and back. */
	a.kind = ALARM_KIND_SILENT;
	a.comment[0] = '\0';
	k = alarm_state_format(&a, text, sizeof(text));
	assert_true(k > 0);
	assert_string_equal(text, "alarm 41 SIM-000001 2 2 2 -12345 1796314513682496 0 "
			    "1796314600000000 1000 6f70657261746f72 - silent\n");
	assert_int_equal(parse(text, &s, &next, &line), 0);
	assert_int_equal(s.n_alarms, 1);
	assert_int_equal(s.alarms[0].kind, ALARM_KIND_SILENT);
	for (unsigned int i = 0; i < ALARM_KINDS; i++)
		assert_int_equal(alarm_kind_from_name(alarm_kind_name(i)), (int)i);
	assert_int_equal(alarm_kind_from_name("Silent"), -EINVAL);
}

static void test_state_refused(void **state)
{
	static const char *const bad[] = {
		"bogus 1\n",
		"next-id 0\n",
		"delay SIM-1 3 10\n",				/* no probe 3 */
		"delay SIM-1 1 86401\n",			/* longer than a day */
		"delay ../x 1 10\n",
		"alarm 0 SIM-1 1 1 1 0 1 0 0 0 - -\n",		/* id 0 */
		"alarm 1 SIM-1 1 4 1 0 1 0 0 0 - -\n",		/* closed is not kept */
		"alarm 1 SIM-1 1 2 1 0 1 0 0 0 - -\n",		/* acknowledged, but no time */
		"alarm 1 SIM-1 1 3 1 0 1 0 0 0 - -\n",		/* cleared, but no time */
		"alarm 1 SIM-1 1 1 3 0 1 0 0 0 - -\n",		/* no level 3 */
		"alarm 1 SIM-1 1 1 1 99999999999 1 0 0 0 - -\n",
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - 0a\n",		/* a newline in a comment */
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - 4\n",		/* half a byte */
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - 4F\n",		/* uppercase is not ours */
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - 7f\n",		/* DEL is not text */
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - +4f\n",
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - -  extra\n",
		"alarm 1 SIM-1 1 1 1 0 1 0 0\n",
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - - bogus\n",	/* no such kind */
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - - temperature\n",	/* never written */
		"alarm 1 SIM-1 1 1 1 0 1 0 0 0 - - stuck x\n",
	};
	struct seen s;
	uint64_t next;
	unsigned int line;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "next-id 5\n%s", bad[i]);
		assert_int_equal(parse(text, &s, &next, &line), -EINVAL);
		assert_int_equal(line, 2);
	}
	assert_int_equal(alarm_state_parse("a\0b", 3, &(struct alarm_state_parser){
		.on_alarm = on_alarm, .on_delay = on_delay, .userdata = &s }, &line), -EINVAL);
}

#define SEC 1000000ULL
#define T0 (1796314513ULL * SEC)	/* a day in 2026, CLOCK_REALTIME */

static struct config defaults(void)
{
	struct config c;

	assert_int_equal(config_init(&c), 0);
	return c;
}

/* Silent after SilentIntervals of the unit's interval, never sooner than SilentMinSec. */
static void test_health_silent(void **state)
{
	struct config c = defaults();

	(void)state;
	assert_int_equal(c.silent_intervals, 10);
	assert_int_equal(c.silent_min_s, 120);
	/* 1 Hz: 10 s would page for a hiccup; SilentMinSec holds it to 120 s. */
	assert_false(health_silent(&c, T0, 1000, T0 + 119 * SEC));
	assert_true(health_silent(&c, T0, 1000, T0 + 120 * SEC));
	/* One sample a minute: ten of them. */
	assert_false(health_silent(&c, T0, 60000, T0 + 599 * SEC));
	assert_true(health_silent(&c, T0, 60000, T0 + 600 * SEC));
	/* A stopped unit (interval 0) still goes silent. */
	assert_true(health_silent(&c, T0, 0, T0 + 120 * SEC));
	/* The clock stepped back, never seen, or switched off: not silent. */
	assert_false(health_silent(&c, T0, 1000, T0 - 1000 * SEC));
	assert_false(health_silent(&c, 0, 1000, T0));
	c.silent_intervals = 0;
	assert_false(health_silent(&c, T0, 1000, T0 + 86400 * SEC));
	config_free(&c);
}

/* Stuck: within the band for StuckSec; a move beyond it starts again. */
static void test_health_stuck(void **state)
{
	struct config c = defaults();
	struct probe_health h = { 0 };
	uint64_t t = T0;

	(void)state;
	c.stuck_s = 600;
	c.stuck_band_mdeg = 20;
	/* Wandering within +-20 mC of the first reading for 10 minutes: frozen. */
	for (int i = 0; i < 600; i++, t += SEC)
		assert_false(health_stuck(&c, &h, 4000 + (i % 3) * 10 - 10, t));
	assert_true(health_stuck(&c, &h, 4010, t));
	/* 21 mC from the first reading (3990): alive, and the 10 minutes start again. */
	assert_false(health_stuck(&c, &h, 4011, t + SEC));
	assert_false(health_stuck(&c, &h, 4011, t + 600 * SEC));
	assert_true(health_stuck(&c, &h, 4001, t + 601 * SEC));
	/* No reading in between forgets the reference. */
	health_no_reading(&h);
	assert_false(health_stuck(&c, &h, 4001, t + 602 * SEC));
	/* Off. */
	c.stuck_s = 0;
	assert_false(health_stuck(&c, &h, 4001, t + 86400 * SEC));
	/* Near the ends of the range, no overflow makes a move out of nothing. */
	c.stuck_s = 1;
	memset(&h, 0, sizeof(h));
	assert_false(health_stuck(&c, &h, INT32_MIN, T0));
	assert_false(health_stuck(&c, &h, INT32_MAX, T0 + SEC));
	assert_false(health_stuck(&c, &h, INT32_MAX, T0 + SEC + SEC / 2));
	assert_true(health_stuck(&c, &h, INT32_MAX, T0 + 2 * SEC));
	config_free(&c);
}

/* Rate: measured over a minute or more, kept in between; off by default. */
static void test_health_rate(void **state)
{
	struct config c = defaults();
	struct probe_health h = { 0 };

	(void)state;
	assert_int_equal(c.rate_mdeg_per_min, 0);
	assert_false(health_rate(&c, &h, 4000, T0));
	assert_false(health_rate(&c, &h, 9000, T0 + 60 * SEC));
	c.rate_mdeg_per_min = 2000;		/* 2 degrees a minute */
	memset(&h, 0, sizeof(h));
	assert_false(health_rate(&c, &h, 4000, T0));
	/* A jump within the minute is not measured yet. */
	assert_false(health_rate(&c, &h, 9000, T0 + 10 * SEC));
	/* +3 degrees in 60 s: too fast; the verdict holds until the next minute. */
	assert_true(health_rate(&c, &h, 7000, T0 + 60 * SEC));
	assert_true(health_rate(&c, &h, 7100, T0 + 90 * SEC));
	/* +2 degrees in 60 s is the limit, not above it. */
	assert_false(health_rate(&c, &h, 9000, T0 + 120 * SEC));
	/* -4 degrees in two minutes: 2 a minute, not above; -4.1: above. */
	assert_false(health_rate(&c, &h, 5000, T0 + 240 * SEC));
	assert_true(health_rate(&c, &h, 900, T0 + 360 * SEC));
	health_no_reading(&h);
	assert_false(health_rate(&c, &h, 900, T0 + 361 * SEC));
	config_free(&c);
}

static void test_health_fault_outage_band(void **state)
{
	struct config c = defaults();

	(void)state;
	/* TempNStatus: 1 ok, 2 no data, 3 disconnected, 0 unknown. */
	assert_false(health_fault(&c, 0));
	assert_false(health_fault(&c, 1));
	assert_true(health_fault(&c, 2));
	assert_true(health_fault(&c, 3));
	c.fault_alarms = false;
	assert_false(health_fault(&c, 3));

	assert_int_equal(c.outage_s, 900);
	assert_false(health_outage(&c, T0, T0 + 900 * SEC));
	assert_true(health_outage(&c, T0, T0 + 901 * SEC));
	/* No stamp (a first start), or a clock that went back: nothing to judge. */
	assert_false(health_outage(&c, 0, T0));
	assert_false(health_outage(&c, T0 + 3600 * SEC, T0));
	c.outage_s = 0;
	assert_false(health_outage(&c, T0, T0 + 86400 * SEC));

	assert_true(health_out_of_band(true, true, 4000, 2000, 8000));
	assert_false(health_out_of_band(false, true, 4000, 2000, 8000));
	assert_true(health_out_of_band(false, true, 8001, 2000, 8000));
	assert_true(health_out_of_band(false, true, 1999, 2000, 8000));
	/* No valid reading is not out of band (the fault rule has it). */
	assert_false(health_out_of_band(false, false, 0, 2000, 8000));
	config_free(&c);
}

#define DAY (86400 * SEC)

/* The reminders 90 and 30 days before and on the due date; days counted down. */
static void test_calibration_rules(void **state)
{
	struct calibration c = { .calibrated_usec = T0 - 300 * DAY, .due_usec = T0 + 65 * DAY,
				 .as_found_mdeg = -150, .as_left_mdeg = 20,
				 .certificate = "DAkkS D-K-15070 #4711" };
	struct calibration none = { 0 };
	const char *why;
	char line[512];
	struct seen s;
	uint64_t next;
	unsigned int lineno;

	(void)state;
	assert_int_equal(calibration_check(&c, &why), 0);
	assert_int_equal(calibration_days_left(&c, T0), 65);
	assert_int_equal(calibration_days_left(&c, T0 + 65 * DAY - 1), 0);
	assert_int_equal(calibration_days_left(&c, T0 + 65 * DAY), 0);
	assert_int_equal(calibration_days_left(&c, T0 + 65 * DAY + SEC), -1);
	assert_int_equal(calibration_days_left(&c, T0 + 75 * DAY), -10);

	/* 91 days before: nothing; 90: the first; 30: the second; the day: the third. */
	assert_false(calibration_reminder(&c, ALARM_KIND_CAL_90, c.due_usec - 91 * DAY));
	assert_true(calibration_reminder(&c, ALARM_KIND_CAL_90, c.due_usec - 90 * DAY));
	assert_false(calibration_reminder(&c, ALARM_KIND_CAL_30, c.due_usec - 31 * DAY));
	assert_true(calibration_reminder(&c, ALARM_KIND_CAL_30, c.due_usec - 30 * DAY));
	assert_false(calibration_reminder(&c, ALARM_KIND_CAL_DUE, c.due_usec - 1));
	assert_true(calibration_reminder(&c, ALARM_KIND_CAL_DUE, c.due_usec));
	assert_true(calibration_reminder(&c, ALARM_KIND_CAL_90, c.due_usec + 400 * DAY));
	assert_false(calibration_reminder(&c, ALARM_KIND_STUCK, c.due_usec));
	/* No calibration known: no reminder. */
	assert_false(calibration_reminder(&none, ALARM_KIND_CAL_DUE, T0));

	/* Kept in the state file, the certificate as hex, and read back the same. */
	assert_true(calibration_state_format("SIM-000002", 1, &c, line, sizeof(line)) > 0);
	assert_string_equal(line, "calibration SIM-000002 1 1770394513000000 1801930513000000 "
			    "-150 20 44416b6b5320442d4b2d3135303730202334373131\n");
	assert_int_equal(parse(line, &s, &next, &lineno), 0);
	assert_string_equal(s.cal_serial, "SIM-000002");
	assert_int_equal(s.cal_probe, 1);
	assert_memory_equal(&s.cal, &c, sizeof(c));

	/* What a calibration cannot be. */
	none = c;
	none.due_usec = none.calibrated_usec;
	assert_int_equal(calibration_check(&none, &why), -EINVAL);
	assert_non_null(strstr(why, "due date"));
	none = c;
	none.as_found_mdeg = -100001;
	assert_int_equal(calibration_check(&none, &why), -EINVAL);
	none = c;
	none.certificate[0] = '\0';
	assert_int_equal(calibration_check(&none, &why), -EINVAL);
	snprintf(none.certificate, sizeof(none.certificate), "a\tb");
	assert_int_equal(calibration_check(&none, &why), -EINVAL);
	assert_int_equal(parse("calibration SIM-1 1 20 10 0 0 41\n", &s, &next, &lineno), -EINVAL);
	assert_int_equal(parse("calibration SIM-1 1 10 20 0 0 -\n", &s, &next, &lineno), -EINVAL);
	assert_int_equal(parse("calibration SIM-1 3 10 20 0 0 41\n", &s, &next, &lineno), -EINVAL);
	assert_int_equal(parse("calibration SIM-1 1 10 20 0 0\n", &s, &next, &lineno), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_instance_name),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_refused),
		cmocka_unit_test(test_health_silent),
		cmocka_unit_test(test_health_stuck),
		cmocka_unit_test(test_health_rate),
		cmocka_unit_test(test_health_fault_outage_band),
		cmocka_unit_test(test_calibration_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
