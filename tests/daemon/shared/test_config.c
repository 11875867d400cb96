// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomd.conf parsing: every key, every way to get one wrong; the
 * shared parser under it (conf_parser.h) and its drop-ins.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf_parser.h"
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
	assert_int_equal(c.mkt_dh, 83144);
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
		"RecordRetentionDays=365\n"
		"MKTActivationEnergy=1000000";
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
	assert_int_equal(c.mkt_dh, 1000000);
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
		     "line 3: ModelFirmwareDir= given twice (first on line 1)");
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
	expect_error("MKTActivationEnergy=999\n", "out of range");
	expect_error("MKTActivationEnergy=1000001\n", "out of range");
	expect_error("MKTActivationEnergy=83.144\n", "out of range");
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

	/* A bad file keeps what was loaded before, and names itself and the line. */
	write_file(t.conf, "ReadingsBatchMs=abc\n", 20);
	assert_int_equal(config_load(t.conf, &c, err, sizeof(err)), -EINVAL);
	snprintf(path, sizeof(path), "%s:1: ReadingsBatchMs=abc is out of range", t.conf);
	assert_string_equal(err, path);
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

/* A table of every kind of key, to test the parser apart from any program. */
struct sample {
	unsigned int n;
	bool flag;
	char *path, *dir, *token;
	int checks;	/* times the table's check ran */
};

static int sample_init(void *settings)
{
	struct sample *s = settings;

	memset(s, 0, sizeof(*s));
	s->n = 7;
	s->flag = true;
	s->path = strdup("/default");
	return s->path ? 0 : -ENOMEM;
}

static void sample_done(void *settings)
{
	struct sample *s = settings;

	free(s->path);
	free(s->dir);
	free(s->token);
	memset(s, 0, sizeof(*s));
}

static int sample_check(void *settings, char *err, size_t err_len)
{
	struct sample *s = settings;

	s->checks++;
	if (s->dir && !s->token) {
		snprintf(err, err_len, "Dir= needs Token=");
		return -EINVAL;
	}
	return 0;
}

static const struct conf_key sample_keys[] = {
	{ .name = "Number", .parse = conf_parse_uint, .offset = offsetof(struct sample, n),
	  .min = 5, .max = 10 },
	{ .name = "Flag", .parse = conf_parse_bool, .offset = offsetof(struct sample, flag) },
	{ .name = "Path", .parse = conf_parse_path, .offset = offsetof(struct sample, path) },
	{ .name = "Dir", .parse = conf_parse_dir, .offset = offsetof(struct sample, dir) },
	{ .name = "Token", .parse = conf_parse_token, .offset = offsetof(struct sample, token),
	  .max = 4, .rule = "must be 1 to 4 characters" },
};

static const struct conf_table sample_table = {
	.path = "/etc/coldroom/sample.conf",
	.keys = sample_keys,
	.n_keys = sizeof(sample_keys) / sizeof(sample_keys[0]),
	.size = sizeof(struct sample),
	.init = sample_init,
	.done = sample_done,
	.check = sample_check,
};

static void test_parser_booleans(void **state)
{
	(void)state;
	assert_int_equal(conf_parse_boolean("1"), 1);
	assert_int_equal(conf_parse_boolean("yes"), 1);
	assert_int_equal(conf_parse_boolean("true"), 1);
	assert_int_equal(conf_parse_boolean("on"), 1);
	assert_int_equal(conf_parse_boolean("0"), 0);
	assert_int_equal(conf_parse_boolean("no"), 0);
	assert_int_equal(conf_parse_boolean("false"), 0);
	assert_int_equal(conf_parse_boolean("off"), 0);
	/* Exactly systemd's words, as written. */
	assert_int_equal(conf_parse_boolean("Yes"), -EINVAL);
	assert_int_equal(conf_parse_boolean("2"), -EINVAL);
	assert_int_equal(conf_parse_boolean(""), -EINVAL);
}

static void test_parser_kinds(void **state)
{
	static const char text[] =
		"; every kind\n"
		"\tNumber =  10\t\r\n"
		"Flag=off\n"
		"Path=/a/b/\n"
		"Dir=/x/y//\n"
		"Token=ab-c\n";
	struct sample s;
	char err[256] = "";

	(void)state;
	assert_int_equal(sample_init(&s), 0);
	assert_int_equal(conf_parse(&sample_table, text, strlen(text), &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 10);
	assert_false(s.flag);
	assert_string_equal(s.path, "/a/b/");	/* a path is kept as written */
	assert_string_equal(s.dir, "/x/y");	/* a directory loses its trailing slashes */
	assert_string_equal(s.token, "ab-c");
	assert_int_equal(s.checks, 1);
	/* The whole text replaces the settings: what it does not say is the default. */
	assert_int_equal(conf_parse(&sample_table, "", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 7);
	assert_null(s.dir);
	sample_done(&s);
}

/* @text fails with exactly @message and leaves the settings as they were. */
static void expect_sample_error(const char *text, const char *message)
{
	struct sample s;
	char err[256] = "";

	assert_int_equal(sample_init(&s), 0);
	s.n = 9;
	assert_int_equal(conf_parse(&sample_table, text, strlen(text), &s, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, message);
	assert_int_equal(s.n, 9);
	assert_string_equal(s.path, "/default");
	sample_done(&s);
}

static void test_parser_errors(void **state)
{
	(void)state;
	expect_sample_error("Number=8\nNumber=9\n", "line 2: Number= given twice (first on line 1)");
	expect_sample_error("Number=4\n", "line 1: Number=4 is out of range");
	expect_sample_error("Number=11\n", "line 1: Number=11 is out of range");
	expect_sample_error("Number=+6\n", "line 1: Number=+6 is out of range");
	expect_sample_error("\n\nFlag=maybe\n", "line 3: Flag=maybe must be yes or no");
	expect_sample_error("Path=rel\n", "line 1: Path=rel must be an absolute path");
	expect_sample_error("Dir=\n", "line 1: Dir= must be an absolute path");
	expect_sample_error("Token=abcde\n", "line 1: Token=abcde must be 1 to 4 characters");
	expect_sample_error("Token=\n", "line 1: Token= must be 1 to 4 characters");
	expect_sample_error("Token=a\tb\n", "line 1: Token=a\tb must not contain spaces or control characters");
	expect_sample_error("Nope=1\n", "line 1: unknown key 'Nope'");
	expect_sample_error("# c\nNumber\n", "line 2: expected Key=Value");
	/* The table's check runs after the last line. */
	expect_sample_error("Dir=/d\n", "Dir= needs Token=");
}

static void test_parser_file_errors(void **state)
{
	struct sample s;
	char err[256] = "";

	(void)state;
	assert_int_equal(sample_init(&s), 0);
	assert_int_equal(conf_parse_text(&sample_table, "/f.conf", "Flag=yes\nNumber=x", 17,
					 &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/f.conf:2: Number=x is out of range");
	assert_int_equal(conf_parse_text(&sample_table, "/f.conf", "A\0", 2, &s, err,
					 sizeof(err)), -EINVAL);
	assert_string_equal(err, "/f.conf: contains a NUL byte");
	/* A message longer than the buffer is cut, never overrun. */
	assert_int_equal(conf_parse_text(&sample_table, "/a/rather/long/file/name.conf",
					 "Number=12345", 12, &s, err, 16), -EINVAL);
	assert_string_equal(err, "/a/rather/long/");
	sample_done(&s);
}

/* The system's three directories of coldroomd.conf's drop-ins, under @t. */
#define ETC_D "etc/coldroom/coldroomd.conf.d/"
#define RUN_D "run/coldroom/coldroomd.conf.d/"
#define LIB_D "usr/lib/coldroom/coldroomd.conf.d/"

static int load_root(struct faketree *t, struct config *c, char *err, size_t err_len)
{
	return conf_load(&config_table, t->root, NULL, c, err, err_len);
}

static void test_dropins_order(void **state)
{
	struct faketree t;
	struct config c;
	char err[512] = "";

	(void)state;
	faketree_new(&t, NULL);
	assert_int_equal(config_init(&c), 0);
	/* Nothing at all: the defaults, no file read. */
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), 0);
	assert_int_equal(c.batch_ms, 100);

	faketree_put(&t, "etc/coldroom/coldroomd.conf",
		     "ReadingsBatchMs=1\nFallbackWaitMs=100\nRawSamplesHours=2\n");
	faketree_put(&t, LIB_D "10-a.conf", "ReadingsBatchMs=2\nRawSamplesHours=5\n");
	faketree_put(&t, RUN_D "20-b.conf", "ReadingsBatchMs=3\n");
	faketree_put(&t, ETC_D "05-c.conf", "ReadingsBatchMs=4\nFallbackWaitMs=200\n");
	/* Not drop-ins: another suffix, a hidden file, a directory, a dangling link. */
	faketree_put(&t, ETC_D "99-z.conf.bak", "ReadingsBatchMs=9\n");
	faketree_put(&t, ETC_D ".99-z.conf", "ReadingsBatchMs=9\n");
	faketree_put(&t, RUN_D "99-dir.conf/x", "");
	faketree_link(&t, ETC_D "99-gone.conf", "/nonexistent/99-gone.conf");
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), 4);
	/*
	 * By file name whatever the directory: 05-c (/etc), 10-a (/usr/lib),
	 * 20-b (/run), each over the main file and the ones before it.
	 */
	assert_int_equal(c.batch_ms, 3);
	assert_int_equal(c.fallback_wait_ms, 200);
	assert_int_equal(c.raw_hours, 5);
	assert_int_equal(c.retention_days, 730);	/* said nowhere: the default */
	config_free(&c);
	faketree_free(&t);
}

/* The tree's configuration is @files files that end with these values. */
static void expect_root(struct faketree *t, int files, unsigned int batch_ms,
			unsigned int raw_hours)
{
	struct config c;
	char err[512] = "";

	assert_int_equal(config_init(&c), 0);
	assert_int_equal(load_root(t, &c, err, sizeof(err)), files);
	assert_int_equal(c.batch_ms, batch_ms);
	assert_int_equal(c.raw_hours, raw_hours);
	config_free(&c);
}

static void test_dropins_hiding(void **state)
{
	struct faketree t;
	char path[512];

	(void)state;
	faketree_new(&t, NULL);
	faketree_put(&t, "etc/coldroom/coldroomd.conf", "ReadingsBatchMs=1\n");
	faketree_put(&t, LIB_D "50-x.conf", "ReadingsBatchMs=2\nRawSamplesHours=3\n");
	expect_root(&t, 2, 2, 3);
	/* /run hides /usr/lib: only its file of that name is read. */
	faketree_put(&t, RUN_D "50-x.conf", "ReadingsBatchMs=4\n");
	expect_root(&t, 2, 4, 48);
	/* /etc hides both. */
	faketree_put(&t, ETC_D "50-x.conf", "ReadingsBatchMs=5\n");
	expect_root(&t, 2, 5, 48);
	/* A symlink to /dev/null in /etc masks the name everywhere. */
	faketree_link(&t, ETC_D "50-x.conf", "/dev/null");
	expect_root(&t, 1, 1, 48);
	/* So does an empty file, here in /run over /usr/lib. */
	snprintf(path, sizeof(path), "%s/" ETC_D "50-x.conf", t.root);
	assert_int_equal(unlink(path), 0);
	expect_root(&t, 2, 4, 48);
	faketree_put(&t, RUN_D "50-x.conf", "");
	expect_root(&t, 1, 1, 48);
	faketree_free(&t);
}

static void test_dropins_invalid(void **state)
{
	struct faketree t;
	struct config c;
	char err[512] = "", want[512];

	(void)state;
	faketree_new(&t, NULL);
	assert_int_equal(config_init(&c), 0);
	faketree_put(&t, "etc/coldroom/coldroomd.conf", "ReadingsBatchMs=1\n");
	faketree_put(&t, LIB_D "10-good.conf", "RawSamplesHours=7\n");
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), 2);

	/* A bad drop-in says where, and nothing of any file is applied. */
	faketree_put(&t, RUN_D "20-bad.conf", "ReadingsBatchMs=2\nFallbackWaitMs=fast\n");
	faketree_put(&t, LIB_D "10-good.conf", "RawSamplesHours=8\n");
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s/" RUN_D "20-bad.conf:2: FallbackWaitMs=fast is out of range",
		 t.root);
	assert_string_equal(err, want);
	assert_int_equal(c.batch_ms, 1);
	assert_int_equal(c.raw_hours, 7);

	/* A key twice in one drop-in is an error there; across files the last wins. */
	faketree_put(&t, RUN_D "20-bad.conf", "ReadingsBatchMs=2\n\nReadingsBatchMs=3\n");
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/" RUN_D "20-bad.conf:3: ReadingsBatchMs= given twice (first on line 1)", t.root);
	assert_string_equal(err, want);
	faketree_put(&t, RUN_D "20-bad.conf", "ReadingsBatchMs=2\n");
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), 3);
	assert_int_equal(c.batch_ms, 2);
	assert_int_equal(c.raw_hours, 8);
	config_free(&c);
	faketree_free(&t);
}

static void test_dropins_bounds(void **state)
{
	struct faketree t;
	struct config c;
	char err[512] = "", name[64], want[512], *big;

	(void)state;
	faketree_new(&t, NULL);
	assert_int_equal(config_init(&c), 0);
	/* As many drop-ins as allowed, masks included, spread over the directories. */
	for (int i = 0; i < CONF_DROPINS_MAX; i++) {
		snprintf(name, sizeof(name), "%s%02d.conf", i % 2 ? RUN_D : LIB_D, i);
		if (i % 3)
			faketree_put(&t, name, "ReadingsBatchMs=5\n");
		else
			faketree_link(&t, name, "/dev/null");
	}
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), CONF_DROPINS_MAX * 2 / 3);
	assert_int_equal(c.batch_ms, 5);
	faketree_put(&t, ETC_D "zz.conf", "ReadingsBatchMs=6\n");
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "more than 64 drop-ins"));
	assert_int_equal(c.batch_ms, 5);
	faketree_free(&t);

	/* Each file at most CONF_FILE_MAX bytes. */
	faketree_new(&t, NULL);
	big = malloc(CONF_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', CONF_FILE_MAX + 1);
	big[CONF_FILE_MAX + 1] = '\0';
	faketree_put(&t, ETC_D "big.conf", big);
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "%s/" ETC_D "big.conf: file too large", t.root);
	assert_string_equal(err, want);
	big[CONF_FILE_MAX] = '\0';
	faketree_put(&t, ETC_D "big.conf", big);
	assert_int_equal(load_root(&t, &c, err, sizeof(err)), 1);
	free(big);
	config_free(&c);
	faketree_free(&t);
}

/* A --config FILE of its own takes drop-ins from FILE.d/ only. */
static void test_dropins_own_file(void **state)
{
	struct faketree t;
	struct config c;
	char err[512] = "", want[512];

	(void)state;
	faketree_new(&t, "ReadingsBatchMs=1\n");
	assert_int_equal(config_init(&c), 0);
	faketree_put(&t, ETC_D "10-sys.conf", "RawSamplesHours=9\n");
	faketree_put(&t, "coldroomd.conf.d/10-own.conf", "ReadingsBatchMs=2\n");
	assert_int_equal(conf_load(&config_table, t.root, t.conf, &c, err, sizeof(err)), 2);
	assert_int_equal(c.batch_ms, 2);
	assert_int_equal(c.raw_hours, 48);
	assert_string_equal(c.model_dir, t.model_dir);

	/* config_load(), as coldroomd and the recorder call it. */
	faketree_put(&t, "coldroomd.conf.d/20-own.conf", "ReadingsBatchMs=3\n");
	assert_int_equal(config_load(t.conf, &c, err, sizeof(err)), 0);
	assert_int_equal(c.batch_ms, 3);
	faketree_put(&t, "coldroomd.conf.d/20-own.conf", "ReadingsBatchMs=fast\n");
	assert_int_equal(config_load(t.conf, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s.d/20-own.conf:1: ReadingsBatchMs=fast is out of range",
		 t.conf);
	assert_string_equal(err, want);
	assert_int_equal(c.batch_ms, 3);
	/* The drop-ins alone, without the file. */
	faketree_put(&t, "coldroomd.conf.d/20-own.conf", "ReadingsBatchMs=4\n");
	unlink(t.conf);
	assert_int_equal(config_load(t.conf, &c, err, sizeof(err)), 0);
	assert_int_equal(c.batch_ms, 4);
	assert_string_equal(c.model_dir, "/usr/lib/firmware/coldroom");
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
		cmocka_unit_test(test_parser_booleans),
		cmocka_unit_test(test_parser_kinds),
		cmocka_unit_test(test_parser_errors),
		cmocka_unit_test(test_parser_file_errors),
		cmocka_unit_test(test_dropins_order),
		cmocka_unit_test(test_dropins_hiding),
		cmocka_unit_test(test_dropins_invalid),
		cmocka_unit_test(test_dropins_bounds),
		cmocka_unit_test(test_dropins_own_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
