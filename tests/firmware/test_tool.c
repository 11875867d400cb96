// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-fwtool as a program: exit codes, exact messages, and that
 * inspect output builds back into the identical blob.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fwtest.h"

static char workdir[4096];

struct result {
	int status;	/* exit code, or 128 + signal */
	char *out;
	char *err;
};

static char *capture_file(const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	return fwt_read_file(path, NULL);
}

/* Runs the tool with the given arguments (NULL-terminated). */
static struct result run(const char *arg, ...)
{
	const char *argv[16] = { fwt_env("COLDROOM_FWTOOL") };
	char out_path[4200], err_path[4200];
	struct result r;
	va_list ap;
	int n = 1, status;
	pid_t pid;

	va_start(ap, arg);
	for (; arg && n < 15; arg = va_arg(ap, const char *))
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;

	snprintf(out_path, sizeof(out_path), "%s/stdout", workdir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", workdir);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) :
				       128 + WTERMSIG(status);
	r.out = capture_file("stdout");
	r.err = capture_file("stderr");
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

static void expect(struct result r, int status, const char *out,
		   const char *err, int line)
{
	if (r.status != status ||
	    (out && strcmp(r.out, out)) || (err && !strstr(r.err, err)))
		fail_msg("line %d: exit %d, stdout '%s', stderr '%s'; want exit %d, stdout '%s', stderr containing '%s'",
			 line, r.status, r.out, r.err, status,
			 out ? out : "(any)", err ? err : "(any)");
	result_free(&r);
}

#define EXPECT(r, status, out, err) expect(r, status, out, err, __LINE__)

static char *work(const char *name)
{
	static char paths[8][4200];
	static unsigned int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", workdir, name);
	return p;
}

static const char *sample(const char *name)
{
	static char paths[4][4200];
	static unsigned int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", fwt_env("COLDROOM_FW_SAMPLES"),
		 name);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(workdir, sizeof(workdir), "%s/fwtool.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(workdir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(workdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_usage(void **state)
{
	(void)state;
	EXPECT(run("--help", NULL), 0, NULL, NULL);
	{
		struct result r = run("--help", NULL);

		assert_non_null(strstr(r.out, "Usage: coldroom-fwtool build SOURCE -o BLOB\n"));
		assert_non_null(strstr(r.out, "verify BLOB [--model MODEL] [--serial SERIAL]"));
		assert_string_equal(r.err, "");
		result_free(&r);
	}
	EXPECT(run("--version", NULL), 0,
	       "coldroom-fwtool test (firmware format 1)\n", NULL);
	EXPECT(run(NULL), 2, "", "missing command");
	EXPECT(run("frobnicate", NULL), 2, "", "unknown command 'frobnicate'");
	EXPECT(run("build", "x.fwsrc", NULL), 2, "", "build: need -o BLOB");
	EXPECT(run("build", "-o", "x.fw", NULL), 2, "",
	       "build: need exactly one SOURCE");
	EXPECT(run("build", "a", "b", "-o", "x.fw", NULL), 2, "",
	       "need exactly one SOURCE");
	EXPECT(run("build", "--bogus", "a", NULL), 2, "", "bad option");
	EXPECT(run("build", "a", "-o", NULL), 2, "", NULL);
	EXPECT(run("inspect", NULL), 2, "", "inspect: need exactly one BLOB");
	EXPECT(run("inspect", "a", "b", NULL), 2, "", "need exactly one BLOB");
	EXPECT(run("inspect", "--x", NULL), 2, "", "unknown option '--x'");
	EXPECT(run("verify", NULL), 2, "", "verify: need exactly one BLOB");
	EXPECT(run("verify", "--bogus", "a", NULL), 2, "", "bad option");
	EXPECT(run("verify", "a", "--model", NULL), 2, "", NULL);
}

static void test_build_inspect_round_trip(void **state)
{
	static const char *const sources[] = {
		"CRS-200.fwsrc", "CRS-210T.fwsrc", "CRS-200-SIM-000001.fwsrc",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		size_t len1, len2;
		char *blob1, *blob2;
		struct result r;

		EXPECT(run("build", sample(sources[i]), "-o", work("a.fw"),
			   NULL), 0, "", NULL);
		r = run("inspect", work("a.fw"), NULL);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		write_file(work("a.fwsrc"), r.out, strlen(r.out));
		result_free(&r);
		/* options may come first too */
		EXPECT(run("build", "-o", work("b.fw"), work("a.fwsrc"), NULL),
		       0, "", "");
		blob1 = fwt_read_file(work("a.fw"), &len1);
		blob2 = fwt_read_file(work("b.fw"), &len2);
		assert_int_equal(len1, len2);
		assert_memory_equal(blob1, blob2, len1);
		free(blob1);
		free(blob2);
	}
}

static void test_verify(void **state)
{
	char want[4400];
	const char *blob = work("v.fw");
	const char *unit = work("unit.fw");

	(void)state;
	EXPECT(run("build", sample("CRS-200.fwsrc"), "-o", blob, NULL), 0,
	       "", "");
	snprintf(want, sizeof(want),
		 "%s: valid (model CRS-200, version 1.4.2)\n", blob);
	EXPECT(run("verify", blob, NULL), 0, want, "");
	EXPECT(run("verify", blob, "--model", "CRS-200", "--serial",
		   "SIM-123456", NULL), 0, want, "");
	EXPECT(run("verify", "--model=CRS-200", blob, NULL), 0, want, "");
	snprintf(want, sizeof(want),
		 "%s: invalid: firmware is for another model (blob is for CRS-200, not CRS-210T)\n",
		 blob);
	EXPECT(run("verify", blob, "--model", "CRS-210T", NULL), 1, "", want);

	EXPECT(run("build", sample("CRS-200-SIM-000001.fwsrc"), "-o", unit,
		   NULL), 0, "", "");
	EXPECT(run("verify", unit, "--serial", "SIM-000001", NULL), 0, NULL,
	       "");
	snprintf(want, sizeof(want),
		 "%s: invalid: firmware is for another unit (blob is for serial SIM-000001, not SIM-000002)\n",
		 unit);
	EXPECT(run("verify", unit, "--model", "CRS-200", "--serial",
		   "SIM-000002", NULL), 1, "", want);
}

static void test_corrupt_blobs(void **state)
{
	const char *path = work("c.fw");
	char want[4400];
	size_t len;
	char *blob;

	(void)state;
	EXPECT(run("build", sample("CRS-210T.fwsrc"), "-o", path, NULL), 0,
	       "", "");
	blob = fwt_read_file(path, &len);
	blob[len - 8] ^= 0x40;		/* inside the payload */
	write_file(path, blob, len);
	snprintf(want, sizeof(want), "%s: invalid: checksum mismatch\n", path);
	EXPECT(run("verify", path, NULL), 1, "", want);
	EXPECT(run("inspect", path, NULL), 1, "", want);
	blob[len - 8] ^= 0x40;

	write_file(path, blob, len - 1);
	snprintf(want, sizeof(want), "%s: invalid: blob is truncated\n", path);
	EXPECT(run("verify", path, NULL), 1, "", want);
	write_file(path, "", 0);
	EXPECT(run("verify", path, NULL), 1, "", want);
	write_file(path, "CRFX", 4);
	EXPECT(run("verify", path, NULL), 1, "", want);
	free(blob);

	blob = calloc(1, COLDROOM_FW_MAX_SIZE + 1);
	write_file(path, blob, COLDROOM_FW_MAX_SIZE + 1);
	free(blob);
	snprintf(want, sizeof(want),
		 "%s: blob is larger than the 1048576-byte limit\n", path);
	EXPECT(run("verify", path, NULL), 1, "", want);
	EXPECT(run("inspect", path, NULL), 1, "", want);

	snprintf(want, sizeof(want), "%s: No such file or directory\n",
		 work("missing.fw"));
	EXPECT(run("verify", work("missing.fw"), NULL), 1, "", want);
}

static void test_build_errors(void **state)
{
	static const char bad[] = "model = CRS-200\nfoo = 1\n";
	static const char incomplete[] = "model = CRS-200\nserial = *\n";
	const char *src = work("bad.fwsrc");
	const char *out = work("bad.fw");
	char want[4400];

	(void)state;
	write_file(src, bad, strlen(bad));
	snprintf(want, sizeof(want), "%s:2: unknown key 'foo'\n", src);
	EXPECT(run("build", src, "-o", out, NULL), 1, "", want);
	assert_int_equal(access(out, F_OK), -1);

	write_file(src, incomplete, strlen(incomplete));
	snprintf(want, sizeof(want), "%s: missing 'version'\n", src);
	EXPECT(run("build", src, "-o", out, NULL), 1, "", want);
	assert_int_equal(access(out, F_OK), -1);

	EXPECT(run("build", sample("CRS-200.fwsrc"), "-o",
		   work("no/such/dir/x.fw"), NULL), 1, "", "no/such/dir/x.fw");
	EXPECT(run("build", work("missing.fwsrc"), "-o", out, NULL), 1, "",
	       "missing.fwsrc: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_build_inspect_round_trip),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_corrupt_blobs),
		cmocka_unit_test(test_build_errors),
	};

	return cmocka_run_group_tests_name("coldroom-fwtool", tests, setup,
					   teardown);
}
