// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_uevent - what coldroomd makes of a uevent of class coldroom: the
 * units it follows, the firmware names it believes, and the kind of
 * change; names that could leave a directory are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "uevent.h"

static struct uevent_msg classify(sd_device_action_t action, const char *sysname,
				  const char *event, const char *firmware)
{
	struct uevent_msg msg;

	uevent_classify(action, sysname, event, firmware, &msg);
	return msg;
}

static void test_unit_names(void **state)
{
	char long_name[UNIT_NAME_MAX + 1];

	(void)state;
	assert_int_equal(unit_name_number("sensor0"), 0);
	assert_int_equal(unit_name_number("sensor9999"), 9999);
	assert_int_equal(unit_name_number("sensor007"), -1);
	assert_int_equal(unit_name_number("sensor+1"), -1);
	assert_int_equal(unit_name_number("sensor 1"), -1);
	assert_int_equal(unit_name_number("sensor"), -1);
	assert_int_equal(unit_name_number("sensor99999999999999999999"), -1);
	assert_int_equal(unit_name_number("probe1"), -1);
	assert_true(unit_name_followed("sensor12"));
	assert_true(unit_name_followed("sensor-spare"));
	assert_false(unit_name_followed("sensor/../../etc"));
	assert_false(unit_name_followed("sensor!x"));
	assert_false(unit_name_followed("hwmon3"));
	assert_false(unit_name_followed(""));
	memset(long_name, 'x', sizeof(long_name) - 1);
	memcpy(long_name, "sensor", 6);
	long_name[UNIT_NAME_MAX] = '\0';
	assert_false(unit_name_followed(long_name));
	long_name[UNIT_NAME_MAX - 1] = '\0';
	assert_true(unit_name_followed(long_name));
}

static void test_fw_names(void **state)
{
	(void)state;
	assert_true(fw_name_valid("coldroom/CRS-200-SIM-000001.fw"));
	assert_false(fw_name_valid("coldroom/"));
	assert_false(fw_name_valid("coldroom/.."));
	assert_false(fw_name_valid("coldroom/../../etc/shadow"));
	assert_false(fw_name_valid("other/CRS-200.fw"));
	assert_false(fw_name_valid("/coldroom/CRS-200.fw"));
}

static void test_actions(void **state)
{
	(void)state;
	assert_int_equal(classify(SD_DEVICE_ADD, "sensor1", NULL, NULL).verdict, UEVENT_ADD);
	assert_int_equal(classify(SD_DEVICE_BIND, "sensor1", NULL, NULL).verdict, UEVENT_ADD);
	assert_int_equal(classify(SD_DEVICE_REMOVE, "sensor1", "alarm", NULL).verdict,
			 UEVENT_REMOVE);
	assert_string_equal(classify(SD_DEVICE_REMOVE, "sensor1", NULL, NULL).unit, "sensor1");
	/* Not a unit: whatever it says. */
	assert_int_equal(classify(SD_DEVICE_CHANGE, "hwmon1", "alarm", NULL).verdict,
			 UEVENT_IGNORE);
	assert_int_equal(classify(SD_DEVICE_CHANGE, NULL, "alarm", NULL).verdict,
			 UEVENT_IGNORE);
	assert_null(classify(SD_DEVICE_CHANGE, "x", "alarm", NULL).unit);
}

static void test_changes(void **state)
{
	struct uevent_msg msg;

	(void)state;
	assert_int_equal(classify(SD_DEVICE_CHANGE, "sensor1", "alarm", NULL).verdict,
			 UEVENT_ALARM);
	assert_int_equal(classify(SD_DEVICE_CHANGE, "sensor1", "firmware-state", NULL).verdict,
			 UEVENT_FIRMWARE_STATE);
	assert_int_equal(classify(SD_DEVICE_CHANGE, "sensor1", NULL, NULL).verdict,
			 UEVENT_REREAD);
	assert_int_equal(classify(SD_DEVICE_CHANGE, "sensor1", "Alarm", NULL).verdict,
			 UEVENT_REREAD);
	msg = classify(SD_DEVICE_CHANGE, "sensor1", "firmware-request",
		       "coldroom/CRS-200-SIM-000002.fw");
	assert_int_equal(msg.verdict, UEVENT_FIRMWARE_REQUEST);
	assert_string_equal(msg.fw_name, "coldroom/CRS-200-SIM-000002.fw");
	assert_false(msg.fw_name_rejected);
	/* A request for a file outside coldroom/ is not served, and said so. */
	msg = classify(SD_DEVICE_CHANGE, "sensor1", "firmware-request", "coldroom/../x.fw");
	assert_int_equal(msg.verdict, UEVENT_FIRMWARE_REQUEST);
	assert_null(msg.fw_name);
	assert_true(msg.fw_name_rejected);
	msg = classify(SD_DEVICE_CHANGE, "sensor1", "firmware-request", NULL);
	assert_null(msg.fw_name);
	assert_false(msg.fw_name_rejected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_names),
		cmocka_unit_test(test_fw_names),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
