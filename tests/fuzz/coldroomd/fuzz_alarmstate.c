// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: coldroomd's alarm state file (alarm_state_parse), which
 * it reads at every start. Whatever it accepts is within the rules (a valid
 * serial and probe, a state an open alarm can have, a known kind, a
 * calibration SetCalibration would take) and formats back to a line that
 * parses to the same alarm or calibration; whatever it refuses names the
 * line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_assert.h"

#include "alarm_rules.h"

static struct alarm_record reread;
static struct calibration reread_cal;

static int copy_alarm(void *userdata, const struct alarm_record *a)
{
	(void)userdata;
	reread = *a;
	return 0;
}

static int check_delay(void *userdata, const char *serial, unsigned int probe,
		       unsigned int seconds)
{
	(void)userdata, (void)seconds;
	fuzz_assert(alarm_serial_ok(serial) && (probe == 1 || probe == 2));
	return 0;
}

static int copy_calibration(void *userdata, const char *serial, unsigned int probe,
			    const struct calibration *c)
{
	(void)userdata, (void)serial, (void)probe;
	reread_cal = *c;
	return 0;
}

static int check_calibration(void *userdata, const char *serial, unsigned int probe,
			     const struct calibration *c)
{
	struct alarm_state_parser p = { .on_alarm = copy_alarm, .on_delay = check_delay,
					.on_calibration = copy_calibration };
	const char *why;
	char line[512];
	unsigned int bad;
	int n;

	(void)userdata;
	fuzz_assert(alarm_serial_ok(serial) && (probe == 1 || probe == 2));
	fuzz_assert(calibration_check(c, &why) == 0);
	n = calibration_state_format(serial, probe, c, line, sizeof(line));
	fuzz_assert(n > 0);
	memset(&reread_cal, 0, sizeof(reread_cal));
	fuzz_assert(alarm_state_parse(line, (size_t)n, &p, &bad) == 0);
	fuzz_assert(!memcmp(&reread_cal, c, sizeof(*c)));
	return 0;
}

static int check_alarm(void *userdata, const struct alarm_record *a)
{
	struct alarm_state_parser p = { .on_alarm = copy_alarm, .on_delay = check_delay };
	char line[1024];
	unsigned int bad;
	int n;

	(void)userdata;
	fuzz_assert(a->id > 0 && alarm_serial_ok(a->serial));
	fuzz_assert(a->probe == 1 || a->probe == 2);
	fuzz_assert(a->state >= ALARM_STATE_RAISED && a->state <= ALARM_STATE_CLEARED);
	fuzz_assert(a->level <= ALARM_LEVEL_ESCALATED);
	fuzz_assert((unsigned int)a->kind < ALARM_KINDS);
	n = alarm_state_format(a, line, sizeof(line));
	fuzz_assert(n > 0);
	memset(&reread, 0, sizeof(reread));
	fuzz_assert(alarm_state_parse(line, (size_t)n, &p, &bad) == 0);
	fuzz_assert(!memcmp(&reread, a, sizeof(*a)));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alarm_state_parser p = { .on_alarm = check_alarm, .on_delay = check_delay,
					.on_calibration = check_calibration };
	unsigned int line = 0;
	int r;

	r = alarm_state_parse((const char *)data, size, &p, &line);
	if (r == 0)
		fuzz_assert(p.next_id >= 1 && line == 0);
	else
		fuzz_assert(r == -EINVAL || r == -ENOMEM);
	return 0;
}
