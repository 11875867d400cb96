// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Firmware lookup and composition: search order, overlays, every refusal. */
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

#include "coldroom_fw.h"
#include "faketree.h"
#include "fwsource.h"

struct env {
	struct faketree t;
	struct fw_dirs dirs;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char from[512], to[512];

	faketree_new(&e->t, NULL);
	e->dirs.override_dir = e->t.override_dir;
	e->dirs.model_dir = e->t.model_dir;
	e->dirs.calibration_dir = e->t.calibration_dir;
	snprintf(from, sizeof(from), "%s/CRS-200.fw", blob_dir());
	snprintf(to, sizeof(to), "%s/CRS-200.fw", e->t.model_dir);
	copy_file(from, to);
	snprintf(from, sizeof(from), "%s/CRS-210T.fw", blob_dir());
	snprintf(to, sizeof(to), "%s/CRS-210T.fw", e->t.model_dir);
	copy_file(from, to);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	faketree_free(&e->t);
	free(e);
	return 0;
}

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Composition fails, says @message, and hands back nothing. */
static void expect_refusal(struct env *e, const char *model, const char *serial,
			   const char *message)
{
	struct fw_blob b;
	char reason[FW_REASON_MAX] = "";

	assert_true(fw_compose(&e->dirs, model, serial, &b, reason, sizeof(reason)) < 0);
	if (!strstr(reason, message))
		fail_msg("%s %s: expected '%s' in '%s'", model, serial, message, reason);
	assert_null(b.data);
}

static void test_model_blob_as_is(void **state)
{
	struct env *e = *state;
	struct coldroom_fw_image img;
	struct fw_blob b;
	char reason[FW_REASON_MAX], path[512];
	size_t len;
	char *file;

	assert_int_equal(fw_compose(&e->dirs, "CRS-200", "SIM-000042", &b, reason,
				    sizeof(reason)), 0);
	path_in(path, sizeof(path), e->t.model_dir, "CRS-200.fw");
	assert_string_equal(b.source, path);
	assert_string_equal(b.version, "1.4.2");
	file = slurp(path, &len);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, file, len);
	assert_int_equal(coldroom_fw_parse(b.data, b.len, &img), COLDROOM_FW_OK);
	assert_string_equal(img.serial, "*");
	free(file);
	fw_blob_free(&b);
}

static void test_override_wins(void **state)
{
	struct env *e = *state;
	struct fw_blob b;
	char reason[FW_REASON_MAX], from[512], path[512];
	size_t len;
	char *file;

	snprintf(from, sizeof(from), "%s/CRS-200-SIM-000001.fw", blob_dir());
	path_in(path, sizeof(path), e->t.override_dir, "CRS-200-SIM-000001.fw");
	copy_file(from, path);
	/* A calibration file does not touch a site override. */
	path_in(from, sizeof(from), e->t.calibration_dir, "SIM-000001.conf");
	write_file(from, "label = not used\n", 17);

	assert_int_equal(fw_compose(&e->dirs, "CRS-200", "SIM-000001", &b, reason,
				    sizeof(reason)), 0);
	assert_string_equal(b.source, path);
	file = slurp(path, &len);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, file, len);
	free(file);
	fw_blob_free(&b);
}

static void test_broken_override_is_not_skipped(void **state)
{
	struct env *e = *state;
	char from[512], path[512];
	size_t len;
	char *blob;

	/* A per-unit blob for SIM-000001 posing as SIM-000009's override. */
	snprintf(from, sizeof(from), "%s/CRS-200-SIM-000001.fw", blob_dir());
	path_in(path, sizeof(path), e->t.override_dir, "CRS-200-SIM-000009.fw");
	copy_file(from, path);
	expect_refusal(e, "CRS-200", "SIM-000009", "firmware is for another unit");

	/* A corrupted override. */
	blob = slurp(from, &len);
	blob[len - 1] ^= 0x40;
	write_file(path, blob, len);
	expect_refusal(e, "CRS-200", "SIM-000009", "checksum mismatch");
	expect_refusal(e, "CRS-200", "SIM-000009", path);

	write_file(path, blob, 20);
	expect_refusal(e, "CRS-200", "SIM-000009", "blob is truncated");
	free(blob);
}

static void test_calibration_overlay(void **state)
{
	struct env *e = *state;
	struct coldroom_fw_image img;
	struct fw_blob b;
	char reason[FW_REASON_MAX], from[512], path[512], model[512], src[1100];

	snprintf(from, sizeof(from), "%s/SIM-000002.override", samples_dir());
	path_in(path, sizeof(path), e->t.calibration_dir, "SIM-000002.conf");
	copy_file(from, path);
	assert_int_equal(fw_compose(&e->dirs, "CRS-200", "SIM-000002", &b, reason,
				    sizeof(reason)), 0);
	path_in(model, sizeof(model), e->t.model_dir, "CRS-200.fw");
	snprintf(src, sizeof(src), "%s + %s", model, path);
	assert_string_equal(b.source, src);

	assert_int_equal(coldroom_fw_parse(b.data, b.len, &img), COLDROOM_FW_OK);
	/* Made for this unit alone, with the overlay's values. */
	assert_string_equal(img.serial, "SIM-000002");
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "SIM-000002"), COLDROOM_FW_OK);
	assert_int_equal(coldroom_fw_check_target(&img, "CRS-200", "SIM-000003"),
			 COLDROOM_FW_E_WRONG_SERIAL);
	assert_int_equal(img.cal[1].gain_ppm, 1002000);
	assert_int_equal(img.cal[1].offset_mdeg, 250);
	assert_int_equal(img.cal[0].gain_ppm, 1000000);
	assert_int_equal(img.thr[0].max_mdeg, -18000);
	assert_int_equal(img.thr[0].min_mdeg, -25000);
	assert_true(img.has_label);
	assert_string_equal(img.label, "Loading dock freezer");
	assert_string_equal(b.version, "1.4.2");
	fw_blob_free(&b);
}

static void test_bad_calibration(void **state)
{
	struct env *e = *state;
	char path[512], expect[600];

	path_in(path, sizeof(path), e->t.calibration_dir, "SIM-000003.conf");
	write_file(path, "# site file\nmodel = CRS-210T\n", 29);
	snprintf(expect, sizeof(expect), "%s:2: 'model' cannot be set in an override file", path);
	expect_refusal(e, "CRS-200", "SIM-000003", expect);

	write_file(path, "temp1.gain_ppm = 5\n", 19);
	expect_refusal(e, "CRS-200", "SIM-000003", "calibration out of range");

	write_file(path, "temp1.min_mdeg = -10000\n", 24);
	expect_refusal(e, "CRS-200", "SIM-000003", "threshold");
}

static void test_missing_and_wrong_model(void **state)
{
	struct env *e = *state;
	char from[512], path[512];

	expect_refusal(e, "CRS-999", "SIM-000001", "no firmware for model CRS-999");
	/* A CRS-210T blob installed under a CRS-200 name. */
	path_in(from, sizeof(from), e->t.model_dir, "CRS-210T.fw");
	path_in(path, sizeof(path), e->t.model_dir, "CRS-200.fw");
	copy_file(from, path);
	expect_refusal(e, "CRS-200", "SIM-000001", "firmware is for another model");
}

static void test_too_large(void **state)
{
	struct env *e = *state;
	char path[512];
	size_t len = COLDROOM_FW_MAX_SIZE + 1;
	char *big = calloc(1, len);

	path_in(path, sizeof(path), e->t.model_dir, "CRS-200.fw");
	write_file(path, big, len);
	expect_refusal(e, "CRS-200", "SIM-000001", "file too large");
	free(big);
}

static void test_names_from_sysfs_are_checked(void **state)
{
	struct env *e = *state;

	expect_refusal(e, "../../etc", "SIM-000001", "invalid model name");
	expect_refusal(e, "", "SIM-000001", "invalid model name");
	expect_refusal(e, "CRS-200", "*", "invalid serial");
	expect_refusal(e, "CRS-200", "a/b", "invalid serial");
	expect_refusal(e, "CRS-200", "..", "invalid serial");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_blob_as_is, setup, teardown),
		cmocka_unit_test_setup_teardown(test_override_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_override_is_not_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calibration_overlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_calibration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_wrong_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_from_sysfs_are_checked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
