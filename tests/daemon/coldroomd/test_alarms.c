// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The alarm lifecycle's rules and its state file (daemon/coldroomd/alarm_rules.c):
 * raised -> acknowledged -> closed, raised -> cleared -> closed by the
 * acknowledgement, a cleared alarm that comes back is the same alarm; the
 * state file keeps every field and refuses what it did not write.
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
	assert_int_equal(alarm_instance_name("SIM000001", 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "SIM000001-2");
	/* Taken as it is: a '-' of the serial stays, no \x2d for systemd to misread. */
	assert_int_equal(alarm_instance_name("CRS-200.A", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "CRS-200.A-1");
	assert_int_equal(alarm_instance_name(".x", 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(alarm_instance_name("-x", 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(alarm_instance_name("SIM000001", 1, buf, 8), -ENOSPC);

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

static int parse(const char *text, struct seen *s, uint64_t *next_id, unsigned int *line)
{
	struct alarm_state_parser p = { .userdata = s, .on_alarm = on_alarm,
					.on_delay = on_delay };
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_instance_name),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
