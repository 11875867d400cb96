// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The text source format: samples round-trip through blobs, every error
 * names its line and problem, and override files keep to their keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwtest.h"

/* A minimal valid source, one setting per line (line numbers matter). */
static const char *const base_lines[] = {
	"model = CRS-200",		/* 1 */
	"serial = *",			/* 2 */
	"version = 1.0.0",		/* 3 */
	"temp1.gain_ppm = 1000000",	/* 4 */
	"temp1.offset_mdeg = 0",	/* 5 */
	"temp2.gain_ppm = 1000000",	/* 6 */
	"temp2.offset_mdeg = 0",	/* 7 */
	"payload = 00",			/* 8 */
};

#define NBASE (sizeof(base_lines) / sizeof(base_lines[0]))

/* The base source with line @n replaced (n >= 1) and @extra appended. */
static char *source(unsigned int n, const char *line, const char *extra)
{
	static char buf[4096];
	size_t i, o = 0;

	for (i = 0; i < NBASE; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\n",
				      i + 1 == n ? line : base_lines[i]);
	snprintf(buf + o, sizeof(buf) - o, "%s", extra ? extra : "");
	return buf;
}

static int parse(const char *text, size_t len, struct coldroom_fw_image *img,
		 u8 **payload, struct coldroom_fw_text_error *err)
{
	return coldroom_fw_text_parse(text, len, img, payload, err);
}

static void expect_error(const char *text, size_t len, unsigned int line,
			 const char *msg, int src_line)
{
	struct coldroom_fw_text_error err = { 0 };
	struct coldroom_fw_image img;
	u8 *payload = NULL;

	if (!parse(text, len, &img, &payload, &err)) {
		free(payload);
		fail_msg("test line %d: text accepted, want line %u: %s",
			 src_line, line, msg);
	}
	if (err.line != line || !strstr(err.msg, msg))
		fail_msg("test line %d: got line %u '%s', want line %u '%s'",
			 src_line, err.line, err.msg, line, msg);
}

#define expect_err(text, line, msg) \
	expect_error(text, strlen(text), line, msg, __LINE__)

static void parse_ok(const char *text, struct coldroom_fw_image *img,
		     u8 **payload)
{
	struct coldroom_fw_text_error err = { 0 };

	if (parse(text, strlen(text), img, payload, &err))
		fail_msg("line %u: %s", err.line, err.msg);
}

static char *sample_path(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", fwt_env("COLDROOM_FW_SAMPLES"),
		 name);
	return path;
}

/* text -> blob -> text -> blob: both blobs and both texts identical. */
static void test_samples_round_trip(void **state)
{
	static const char *const samples[] = {
		"CRS-200.fwsrc", "CRS-210T.fwsrc", "CRS-200-SIM-000001.fwsrc",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct coldroom_fw_image img, img2, img3;
		size_t len, blob_len, blob2_len;
		char *text = fwt_read_file(sample_path(samples[i]), &len);
		char *text2, *text3;
		u8 *payload, *payload2, *blob, *blob2;

		parse_ok(text, &img, &payload);
		blob = fwt_build(&img, &blob_len);
		assert_int_equal(coldroom_fw_parse(blob, blob_len, &img3),
				 COLDROOM_FW_OK);
		text2 = coldroom_fw_text_format(&img3);
		assert_non_null(text2);
		parse_ok(text2, &img2, &payload2);
		blob2 = fwt_build(&img2, &blob2_len);
		assert_int_equal(blob2_len, blob_len);
		assert_memory_equal(blob2, blob, blob_len);
		text3 = coldroom_fw_text_format(&img2);
		assert_string_equal(text3, text2);

		free(text);
		free(text2);
		free(text3);
		free(payload);
		free(payload2);
		free(blob);
		free(blob2);
	}
}

static void test_sample_contents(void **state)
{
	struct coldroom_fw_image img;
	char *text;
	u8 *payload;

	(void)state;
	text = fwt_read_file(sample_path("CRS-210T.fwsrc"), NULL);
	parse_ok(text, &img, &payload);
	assert_string_equal(img.model, "CRS-210T");
	assert_string_equal(img.serial, "*");
	assert_true(img.has_thermal);
	assert_int_equal(img.frame_width, 32);
	assert_int_equal(img.frame_height, 24);
	free(text);
	free(payload);

	text = fwt_read_file(sample_path("CRS-200.fwsrc"), NULL);
	parse_ok(text, &img, &payload);
	assert_string_equal(img.serial, "*");
	assert_false(img.has_thermal);
	assert_int_equal(img.fw_version, 0x010402);
	assert_true(img.has_thresholds[0] && img.has_thresholds[1]);
	free(text);
	free(payload);
}

static void test_syntax_accepted(void **state)
{
	static const char text[] =
		"  # indented comment\r\n"
		"\r\n"
		"model=CRS-210T\r\n"
		"\tserial =\tSIM-7 \r\n"
		"version = 65535.255.0\n"
		"temp1.gain_ppm = 0500000\n"
		"temp1.offset_mdeg = -0\n"
		"temp2.gain_ppm = 2000000\n"
		"temp2.offset_mdeg = -10000\n"
		"payload = DEADbeef\n"
		"label =  Room #1 = main  \n"
		"payload = 00\n"
		"interval_ms = 100";		/* no final newline */
	struct coldroom_fw_image img;
	u8 *payload;

	(void)state;
	parse_ok(text, &img, &payload);
	assert_string_equal(img.model, "CRS-210T");
	assert_string_equal(img.serial, "SIM-7");
	assert_int_equal(img.fw_version, 0xffffff00);
	assert_int_equal(img.cal[0].gain_ppm, 500000);
	assert_int_equal(img.cal[0].offset_mdeg, 0);
	assert_int_equal(img.cal[1].offset_mdeg, -10000);
	assert_string_equal(img.label, "Room #1 = main");
	assert_int_equal(img.payload_len, 5);
	assert_memory_equal(img.payload, "\xde\xad\xbe\xef\x00", 5);
	assert_ptr_equal(img.payload, payload);
	assert_true(img.has_interval);
	assert_int_equal(img.interval_ms, 100);
	assert_false(img.has_thermal || img.has_thresholds[0]);
	free(payload);
}

static void test_errors(void **state)
{
	char long_label[64];

	(void)state;
	expect_err(source(0, NULL, "foo = 1\n"), 9, "unknown key 'foo'");
	expect_err(source(0, NULL, "t\x01mp = 1\n"), 9, "unknown key 't?mp'");
	expect_err(source(0, NULL, "interval_ms 1000\n"), 9,
		   "expected 'key = value'");
	expect_err(source(0, NULL, "model = CRS-210T\n"), 9,
		   "'model' given twice (first on line 1)");
	expect_err(source(0, NULL, "interval_ms =\n"), 9,
		   "'interval_ms' has no value");
	expect_err(source(0, NULL, "interval_ms = abc\n"), 9,
		   "interval_ms: 'abc' is not an unsigned 32-bit integer");
	expect_err(source(0, NULL, "interval_ms = -5\n"), 9,
		   "is not an unsigned");
	expect_err(source(0, NULL, "interval_ms = 1 000\n"), 9,
		   "is not an unsigned");
	expect_err(source(0, NULL, "interval_ms = 4294967296\n"), 9,
		   "is not an unsigned");
	expect_err(source(0, NULL, "interval_ms = 50\n"), 9,
		   "interval_ms must be 100..3600000");
	expect_err(source(0, NULL, "temp1.min_mdeg = 2147483648\n"), 9,
		   "is not a signed 32-bit integer");
	expect_err(source(0, NULL, "temp1.min_mdeg = +5\n"), 9,
		   "is not a signed");
	expect_err(source(0, NULL, "temp1.min_mdeg = -1000\n"), 9,
		   "temp1 thresholds need temp1.min_mdeg, temp1.max_mdeg and temp1.hyst_mdeg");
	expect_err(source(0, NULL, "temp2.hyst_mdeg = 1\n"
				   "temp2.max_mdeg = 1\n"), 10,
		   "temp2 thresholds need");
	expect_err(source(0, NULL, "temp1.min_mdeg = -1000\n"
				   "temp1.max_mdeg = 1000\n"
				   "temp1.hyst_mdeg = 2000\n"), 11,
		   "temp1 thresholds invalid");
	expect_err(source(6, "temp2.gain_ppm = 3000000", NULL), 7,
		   "temp2 calibration out of range: gain_ppm must be 500000..2000000, offset_mdeg -10000..10000");
	expect_err(source(5, "temp1.offset_mdeg = 10001", NULL), 5,
		   "temp1 calibration out of range");
	expect_err(source(1, "model = CRS 200", NULL), 1,
		   "model 'CRS 200': need 1-16 characters");
	expect_err(source(1, "model = *", NULL), 1, "model '*'");
	expect_err(source(1, "model = ABCDEFGHIJKLMNOPQ", NULL), 1,
		   "model 'ABCDEFGHIJKLMNOPQ'");
	expect_err(source(2, "serial = a*", NULL), 2, "serial 'a*'");
	expect_err(source(2, "serial = ..", NULL), 2, "serial '..'");
	expect_err(source(3, "version = 1.2", NULL), 3,
		   "version '1.2': need MAJOR.MINOR.PATCH");
	expect_err(source(3, "version = 1.2.3.4", NULL), 3, "version '1.2.3.4'");
	expect_err(source(3, "version = 65536.0.0", NULL), 3, "version");
	expect_err(source(3, "version = 1.256.0", NULL), 3, "version");
	expect_err(source(3, "version = 1.-1.0", NULL), 3, "version");
	expect_err(source(3, "version = 1..0", NULL), 3, "version");
	expect_err(source(3, "version = v1.0.0", NULL), 3, "version");
	expect_err(source(0, NULL, "label = \x7f\n"), 9, "label '?'");
	memset(long_label, 'x', 33);
	strcpy(long_label + 33, "\n");
	{
		char extra[80];

		snprintf(extra, sizeof(extra), "label = %s", long_label);
		expect_err(source(0, NULL, extra), 9,
			   "need 1-32 printable ASCII characters");
	}
	expect_err(source(0, NULL, "thermal.width = 32\n"), 9,
		   "thermal geometry needs thermal.width and thermal.height");
	expect_err(source(0, NULL, "thermal.width = 200\n"
				   "thermal.height = 24\n"), 10,
		   "thermal geometry out of range: each side 1..128, at most 4800 pixels");
	expect_err(source(0, NULL, "thermal.width = 65568\n"
				   "thermal.height = 1\n"), 10,
		   "thermal geometry out of range");
	expect_err(source(0, NULL, "payload = abc\n"), 9,
		   "payload: odd number of hex digits");
	expect_err(source(0, NULL, "payload = 0g\n"), 9,
		   "payload: '0g' is not hex");
	expect_err(source(0, NULL, "payload = 00  11\n"), 9, "is not hex");
	expect_err(source(1, "# no model", NULL), 0, "missing 'model'");
	expect_err(source(7, "", NULL), 0, "missing 'temp2.offset_mdeg'");
	expect_err(source(8, "# no payload", NULL), 0, "missing 'payload'");
	expect_err("", 0, "missing 'model'");
}

static void test_nul_and_size(void **state)
{
	char *big, *text = source(0, NULL, NULL);
	size_t len = strlen(text), i, o;

	(void)state;
	text[20] = '\0';	/* inside line 2 */
	expect_error(text, len, 2, "NUL byte", __LINE__);

	/* payload one byte over the limit, in 64-digit lines */
	big = malloc(3 * COLDROOM_FW_PAYLOAD_MAX);
	assert_non_null(big);
	o = (size_t)sprintf(big, "%s", source(8, "# payload below", NULL));
	for (i = 0; i <= COLDROOM_FW_PAYLOAD_MAX; i += 32)
		o += (size_t)sprintf(big + o, "payload = %064d\n", 0);
	expect_error(big, o, NBASE + COLDROOM_FW_PAYLOAD_MAX / 32 + 1,
		     "payload larger than 524288 bytes", __LINE__);
	free(big);

	big = calloc(1, COLDROOM_FW_TEXT_MAX + 1);
	assert_non_null(big);
	memset(big, '#', COLDROOM_FW_TEXT_MAX + 1);
	expect_error(big, COLDROOM_FW_TEXT_MAX + 1, 0, "text larger than",
		     __LINE__);
	free(big);
}

static void test_failure_leaves_outputs(void **state)
{
	struct coldroom_fw_text_error err;
	struct coldroom_fw_image img, before;
	const char *text = source(0, NULL, "payload = 0\n");
	u8 *payload = (u8 *)&before;

	(void)state;
	memset(&img, 0x5a, sizeof(img));
	before = img;
	assert_int_equal(coldroom_fw_text_parse(text, strlen(text), &img,
						&payload, &err), -1);
	assert_memory_equal(&img, &before, sizeof(img));
	assert_ptr_equal(payload, (u8 *)&before);
}

static void test_format(void **state)
{
	struct coldroom_fw_image img;
	u8 data[33];
	char *text;

	(void)state;
	fwt_min_image(&img);
	memset(data, 0xab, sizeof(data));
	img.payload = data;
	img.payload_len = sizeof(data);
	img.fw_version = 0xffff01;
	text = coldroom_fw_text_format(&img);
	assert_non_null(text);
	assert_non_null(strstr(text, "\nversion = 255.255.1\n"));
	assert_non_null(strstr(text, "\ntemp2.offset_mdeg = -150\n"));
	assert_non_null(strstr(text, "\npayload = abababababababababababababababababababababababababababababababab\npayload = ab\n"));
	assert_null(strstr(text, "label"));
	assert_null(strstr(text, "thermal"));
	assert_null(strstr(text, "interval"));
	free(text);
}

static void base_image(struct coldroom_fw_image *img, u8 **payload)
{
	char *text = fwt_read_file(sample_path("CRS-200.fwsrc"), NULL);

	parse_ok(text, img, payload);
	free(text);
}

static void test_override_sample(void **state)
{
	struct coldroom_fw_text_error err;
	struct coldroom_fw_image img;
	size_t len, blob_len;
	char *text;
	u8 *payload, *blob;

	(void)state;
	base_image(&img, &payload);
	text = fwt_read_file(sample_path("SIM-000002.override"), &len);
	if (coldroom_fw_text_apply(&img, text, len, &err))
		fail_msg("line %u: %s", err.line, err.msg);
	assert_int_equal(img.cal[1].gain_ppm, 1002000);
	assert_int_equal(img.cal[1].offset_mdeg, 250);
	assert_int_equal(img.cal[0].gain_ppm, 1000000);
	assert_int_equal(img.thr[0].max_mdeg, -18000);
	assert_int_equal(img.thr[0].min_mdeg, -25000);
	assert_int_equal(img.thr[0].hyst_mdeg, 500);
	assert_true(img.has_label);
	assert_string_equal(img.label, "Loading dock freezer");
	assert_string_equal(img.model, "CRS-200");
	blob = fwt_build(&img, &blob_len);
	free(blob);
	free(text);
	free(payload);
}

static void expect_override_error(const char *text, unsigned int line,
				  const char *msg, bool with_thresholds,
				  int src_line)
{
	struct coldroom_fw_text_error err = { 0 };
	struct coldroom_fw_image img, before;
	u8 *payload;

	base_image(&img, &payload);
	img.has_thresholds[1] = with_thresholds;
	before = img;
	if (!coldroom_fw_text_apply(&img, text, strlen(text), &err))
		fail_msg("test line %d: override accepted", src_line);
	if (err.line != line || !strstr(err.msg, msg))
		fail_msg("test line %d: got line %u '%s', want line %u '%s'",
			 src_line, err.line, err.msg, line, msg);
	assert_memory_equal(&img, &before, sizeof(img));
	free(payload);
}

#define expect_override_err(text, line, msg) \
	expect_override_error(text, line, msg, true, __LINE__)

static void test_override_rules(void **state)
{
	static const char *const forbidden[] = {
		"model", "serial", "version", "payload", "thermal.width",
		"thermal.height",
	};
	struct coldroom_fw_text_error err;
	struct coldroom_fw_image img, before;
	char text[128];
	size_t i;
	u8 *payload;

	(void)state;
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		char msg[128];

		snprintf(text, sizeof(text), "label = ok\n%s = 1\n",
			 forbidden[i]);
		snprintf(msg, sizeof(msg),
			 "'%s' cannot be set in an override file (allowed: temp1/temp2 calibration and thresholds, interval_ms, label)",
			 forbidden[i]);
		expect_override_err(text, 2, msg);
	}
	expect_override_err("temp1.gain_ppm = 5\n", 1,
			    "temp1 calibration out of range");
	expect_override_err("interval_ms = 1\n", 1, "interval_ms must be");
	expect_override_err("temp1.min_mdeg = -14000\n", 1,
			    "temp1 thresholds invalid");
	expect_override_err("label = ok\nlabel = again\n", 2, "given twice");
	expect_override_err("nonsense\n", 1, "expected 'key = value'");
	/* a unit without temp2 thresholds needs all three at once */
	expect_override_error("temp2.max_mdeg = 5000\n", 1,
			      "temp2 thresholds need", false, __LINE__);

	/* the same change is fine when all three come together */
	base_image(&img, &payload);
	img.has_thresholds[1] = false;
	strcpy(text, "temp2.min_mdeg = 0\ntemp2.max_mdeg = 5000\n"
		     "temp2.hyst_mdeg = 100\n");
	assert_int_equal(coldroom_fw_text_apply(&img, text, strlen(text), &err),
			 0);
	assert_true(img.has_thresholds[1]);
	assert_int_equal(img.thr[1].max_mdeg, 5000);

	/* an empty override changes nothing */
	before = img;
	assert_int_equal(coldroom_fw_text_apply(&img, "# nothing\n", 10, &err),
			 0);
	assert_memory_equal(&img, &before, sizeof(img));
	free(payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_round_trip),
		cmocka_unit_test(test_sample_contents),
		cmocka_unit_test(test_syntax_accepted),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_failure_leaves_outputs),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_override_sample),
		cmocka_unit_test(test_override_rules),
	};

	return cmocka_run_group_tests_name("coldroom_fw text format", tests,
					   NULL, NULL);
}
