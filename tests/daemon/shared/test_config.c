// SPDX-License-Identifier: GPL-2.0 OR MIT
/* coldroomd.conf parsing: every key, every way to get one wrong. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "faketree.h"

static void test_defaults(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(config_init(&c), 0);
	assert_string_equal(c.override_dir, "/etc/coldroom/firmware");
	assert_string_equal(c.model_dir, "/usr/lib/firmware/coldroom");
	assert_string_equal(c.calibration_dir, "/etc/coldroom/calibration");
	assert_string_equal(c.admin_group, "coldroom-admin");
	assert_int_equal(c.batch_ms, 100);
	assert_true(c.unit_signals);
	assert_int_equal(c.fallback_wait_ms, 2000);
	assert_int_equal(c.record_interval_s, 60);
	assert_int_equal(c.raw_hours, 48);
	assert_int_equal(c.retention_days, 730);
	config_free(&c);
}

static void test_all_keys(void **state)
{
	static const char text[] =
		"# site settings\n"
		"; also a comment\n"
		"\n"
		"  FirmwareOverrideDir = /srv/fw/ \n"
		"ModelFirmwareDir=/opt/coldroom/fw\r\n"
		"CalibrationDir=/srv/cal\n"
		"AdminGroup=\n"
		"ReadingsBatchMs=0\n"
		"UnitPropertiesChanged=no\n"
		"FallbackWaitMs=60000\n"
		"RecordIntervalSec=900\n"
		"RawSamplesHours=1\n"
		"RecordRetentionDays=365";
	struct config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_parse(text, strlen(text), &c, err, sizeof(err)), 0);
	assert_string_equal(c.override_dir, "/srv/fw");
	assert_string_equal(c.model_dir, "/opt/coldroom/fw");
	assert_string_equal(c.calibration_dir, "/srv/cal");
	assert_string_equal(c.admin_group, "");
	assert_int_equal(c.batch_ms, 0);
	assert_false(c.unit_signals);
	assert_int_equal(c.fallback_wait_ms, 60000);
	assert_int_equal(c.record_interval_s, 900);
	assert_int_equal(c.raw_hours, 1);
	assert_int_equal(c.retention_days, 365);
	config_free(&c);
}

static void test_booleans(void **state)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	char text[64], err[256];
	struct config c;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(config_init(&c), 0);
		snprintf(text, sizeof(text), "UnitPropertiesChanged=%s\n", no[i]);
		assert_int_equal(config_parse(text, strlen(text), &c, err, sizeof(err)), 0);
		assert_false(c.unit_signals);
		snprintf(text, sizeof(text), "UnitPropertiesChanged=%s\n", yes[i]);
		assert_int_equal(config_parse(text, strlen(text), &c, err, sizeof(err)), 0);
		assert_true(c.unit_signals);
		config_free(&c);
	}
}

/* A bad file is rejected with this message and leaves the config alone. */
static void expect_error(const char *text, const char *message)
{
	struct config c;
	char err[256] = "";

	assert_int_equal(config_init(&c), 0);
	free(c.model_dir);
	c.model_dir = strdup("/kept");
	assert_int_equal(config_parse(text, strlen(text), &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, message))
		fail_msg("for '%s': expected '%s' in '%s'", text, message, err);
	assert_string_equal(c.model_dir, "/kept");
	assert_int_equal(c.batch_ms, 100);
	config_free(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("ReadingsBatchMs=5\nBogus=1\n", "line 2: unknown key 'Bogus'");
	expect_error("ModelFirmwareDir=/a\n\nModelFirmwareDir=/b\n",
		     "line 3: 'ModelFirmwareDir' given twice (first on line 1)");
	expect_error("just words\n", "line 1: expected Key=Value");
	expect_error("ModelFirmwareDir=relative/dir\n", "must be an absolute path");
	expect_error("CalibrationDir=\n", "must be an absolute path");
	expect_error("UnitPropertiesChanged=maybe\n", "must be yes or no");
	expect_error("ReadingsBatchMs=10001\n", "out of range");
	expect_error("ReadingsBatchMs=-1\n", "out of range");
	expect_error("ReadingsBatchMs=1e3\n", "out of range");
	expect_error("ReadingsBatchMs= \n", "out of range");
	expect_error("FallbackWaitMs=9\n", "out of range");
	expect_error("RecordIntervalSec=9\n", "out of range");
	expect_error("RecordIntervalSec=901\n", "out of range");
	expect_error("RawSamplesHours=0\n", "out of range");
	/* Less than the year EN 12830 asks for is refused. */
	expect_error("RecordRetentionDays=364\n", "out of range");
	expect_error("FallbackWaitMs=60001\n", "out of range");
	expect_error("FallbackWaitMs=99999999999999999999999\n", "out of range");
	expect_error("AdminGroup=-wheel\n", "not a valid group name");
	expect_error("AdminGroup=a b\n", "not a valid group name");
	expect_error("AdminGroup=abcdefghijklmnopqrstuvwxyz0123456789\n", "longer than 32");
	/* Keys are case-sensitive, as in systemd's own files. */
	expect_error("modelfirmwaredir=/x\n", "unknown key 'modelfirmwaredir'");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "ReadingsBatchMs=5\0\n";
	struct config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_parse(text, sizeof(text) - 1, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "contains a NUL byte");
	config_free(&c);
}

static void test_load(void **state)
{
	struct faketree t;
	struct config c;
	char path[512], err[256] = "";

	(void)state;
	faketree_new(&t, "ReadingsBatchMs=250\n");
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_load(t.conf, &c, err, sizeof(err)), 0);
	assert_int_equal(c.batch_ms, 250);
	assert_string_equal(c.model_dir, t.model_dir);

	/* A bad file keeps what was loaded before, and names itself. */
	write_file(t.conf, "ReadingsBatchMs=abc\n", 20);
	assert_int_equal(config_load(t.conf, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, t.conf));
	assert_non_null(strstr(err, "line 1: ReadingsBatchMs=abc is out of range"));
	assert_int_equal(c.batch_ms, 250);

	/* No file at all: the defaults. */
	snprintf(path, sizeof(path), "%s/absent.conf", t.root);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.batch_ms, 100);
	assert_string_equal(c.model_dir, "/usr/lib/firmware/coldroom");

	/* A directory is not a config file. */
	assert_int_equal(config_load(t.root, &c, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "Is a directory"));
	config_free(&c);
	faketree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
