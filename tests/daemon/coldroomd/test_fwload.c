// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The firmware fallback dance against a fake sysfs tree. write() is
 * wrapped (-Wl,--wrap=write) to record what reaches "loading" and to
 * inject what the kernel can do: short writes, EINTR, errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon.h"
#include "faketree.h"

/* ---- write() interposition ---- */

static struct {
	bool active;
	char loading[256];	/* every value written to "loading", comma-separated */
	unsigned int data_calls;
	size_t max_chunk;	/* short writes on "data" */
	unsigned int eintr_left;	/* EINTR on the next N "data" writes */
	const char *fail_file;	/* this file fails ... */
	int fail_errno;		/* ... with this errno ... */
	unsigned int fail_after;	/* ... after this many good writes */
} w;

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	char link[64], target[PATH_MAX];
	const char *base;
	ssize_t k;

	if (!w.active)
		return __real_write(fd, buf, n);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	k = readlink(link, target, sizeof(target) - 1);
	target[k < 0 ? 0 : k] = '\0';
	base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;

	if (w.fail_file && !strcmp(base, w.fail_file)) {
		if (w.fail_after == 0) {
			errno = w.fail_errno;
			return -1;
		}
		w.fail_after--;
	}
	if (!strcmp(base, "loading")) {
		size_t len = strlen(w.loading);

		snprintf(w.loading + len, sizeof(w.loading) - len, "%s%.*s",
			 len ? "," : "", (int)n, (const char *)buf);
	} else if (!strcmp(base, "data")) {
		w.data_calls++;
		if (w.eintr_left) {
			w.eintr_left--;
			errno = EINTR;
			return -1;
		}
		if (w.max_chunk && n > w.max_chunk)
			n = w.max_chunk;
	}
	return __real_write(fd, buf, n);
}

static void w_reset(void)
{
	memset(&w, 0, sizeof(w));
	w.active = true;
}

/* ---- fixtures ---- */

#define FW1 "coldroom/CRS-200-SIM-000001.fw"
#define FW2 "coldroom/CRS-210T-SIM-000002.fw"

struct env {
	struct faketree t;
	struct daemon d;
	sd_event *event;
};

static int setup_with(void **state, const char *conf)
{
	struct env *e = calloc(1, sizeof(*e));
	char from[512], to[512];

	faketree_new(&e->t, conf);
	snprintf(from, sizeof(from), "%s/CRS-200.fw", blob_dir());
	snprintf(to, sizeof(to), "%s/CRS-200.fw", e->t.model_dir);
	copy_file(from, to);
	faketree_add_unit(&e->t, "sensor0", "CRS-200", "SIM-000001");
	/* No CRS-210T firmware is installed: this unit cannot be served. */
	faketree_add_unit(&e->t, "sensor1", "CRS-210T", "SIM-000002");
	assert_int_equal(sd_event_new(&e->event), 0);
	assert_int_equal(daemon_init(&e->d, e->event, e->t.sys, e->t.conf), 0);
	w_reset();
	*state = e;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, "FallbackWaitMs=2000\n");
}

static int setup_short_wait(void **state)
{
	return setup_with(state, "FallbackWaitMs=60\n");
}

static int teardown(void **state)
{
	struct env *e = *state;

	w.active = false;
	daemon_done(&e->d);
	sd_event_unref(e->event);
	faketree_free(&e->t);
	free(e);
	return 0;
}

static int open_fallback(struct env *e, const char *fw)
{
	char *dir = faketree_fallback_path(&e->t, fw, NULL);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	free(dir);
	return fd;
}

static char *fallback_data(struct env *e, const char *fw, size_t *len)
{
	char *path = faketree_fallback_path(&e->t, fw, "data");
	char *data = slurp(path, len);

	free(path);
	return data;
}

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	return p;
}

/* ---- the dance itself ---- */

static void test_dance(void **state)
{
	struct env *e = *state;
	uint8_t *blob = pattern(10000);
	size_t len;
	char *data;
	int fd;

	faketree_add_fallback(&e->t, FW1);
	fd = open_fallback(e, FW1);
	assert_int_equal(fw_dance(fd, blob, 10000), 0);
	assert_string_equal(w.loading, "1,0");
	data = fallback_data(e, FW1, &len);
	assert_int_equal(len, 10000);
	assert_memory_equal(data, blob, len);
	free(data);
	close(fd);
	free(blob);
}

static void test_dance_short_writes_and_eintr(void **state)
{
	struct env *e = *state;
	uint8_t *blob = pattern(10000);
	size_t len;
	char *data;
	int fd;

	faketree_add_fallback(&e->t, FW1);
	fd = open_fallback(e, FW1);
	/* The kernel takes at most a page per write; signals interrupt. */
	w_reset();	/* making the tree wrote "data" too */
	w.max_chunk = 4096;
	w.eintr_left = 2;
	assert_int_equal(fw_dance(fd, blob, 10000), 0);
	assert_string_equal(w.loading, "1,0");
	assert_int_equal(w.data_calls, 2 + 3);
	data = fallback_data(e, FW1, &len);
	assert_int_equal(len, 10000);
	assert_memory_equal(data, blob, len);
	free(data);

	/* Odd sizes that leave a tail. */
	w_reset();
	w.max_chunk = 999;
	assert_int_equal(fw_dance(fd, blob, 7777), 0);
	assert_int_equal(w.data_calls, 8);
	data = fallback_data(e, FW1, &len);
	assert_int_equal(len, 7777);
	assert_memory_equal(data, blob, len);
	free(data);
	close(fd);
	free(blob);
}

static void test_dance_data_fails(void **state)
{
	struct env *e = *state;
	uint8_t *blob = pattern(9000);
	int fd;

	faketree_add_fallback(&e->t, FW1);
	fd = open_fallback(e, FW1);
	w.max_chunk = 4096;
	w.fail_file = "data";
	w.fail_errno = ENOSPC;
	w.fail_after = 1;
	assert_int_equal(fw_dance(fd, blob, 9000), -ENOSPC);
	/* Aborted, never committed. */
	assert_string_equal(w.loading, "1,-1");
	close(fd);
	free(blob);
}

static void test_dance_loading_fails(void **state)
{
	struct env *e = *state;
	uint8_t blob[16] = { 1 };
	int fd;

	faketree_add_fallback(&e->t, FW1);
	fd = open_fallback(e, FW1);
	/* "loading=0" refused: the kernel must still hear -1. */
	w.fail_file = "loading";
	w.fail_errno = EIO;
	w.fail_after = 1;
	assert_int_equal(fw_dance(fd, blob, sizeof(blob)), -EIO);
	assert_string_equal(w.loading, "1");	/* the failing writes are not recorded */

	/* No data file: aborted. */
	w_reset();
	{
		char *path = faketree_fallback_path(&e->t, FW1, "data");

		assert_int_equal(unlink(path), 0);
		free(path);
	}
	assert_int_equal(fw_dance(fd, blob, sizeof(blob)), -ENOENT);
	assert_string_equal(w.loading, "1,-1");
	close(fd);
}

static void test_fallback_dir_name(void **state)
{
	char *p = fw_fallback_dir("/sys", FW1);

	(void)state;
	assert_string_equal(p, "/sys/class/firmware/coldroom!CRS-200-SIM-000001.fw");
	free(p);
}

/* ---- requests, as the daemon serves them ---- */

static void run_until_idle(struct env *e, unsigned int max_ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (e->d.requests) {
		assert_true(sd_event_run(e->event, 10 * 1000) >= 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    (long)max_ms)
			fail_msg("request still pending after %u ms", max_ms);
	}
}

static void test_scan_serves_pending(void **state)
{
	struct env *e = *state;
	struct unit *u0, *u1;
	char path[512], *blob, *data, *loading;
	size_t blob_len, len;

	/* Both requests were made before the daemon started. */
	faketree_add_fallback(&e->t, FW1);
	faketree_add_fallback(&e->t, FW2);
	assert_int_equal(daemon_scan(&e->d), 0);
	assert_null(e->d.requests);
	u0 = daemon_find_unit(&e->d, "sensor0");
	u1 = daemon_find_unit(&e->d, "sensor1");
	assert_non_null(u0);
	assert_non_null(u1);

	snprintf(path, sizeof(path), "%s/CRS-200.fw", e->t.model_dir);
	blob = slurp(path, &blob_len);
	data = fallback_data(e, FW1, &len);
	assert_int_equal(len, blob_len);
	assert_memory_equal(data, blob, len);
	assert_string_equal(u0->info->fw_source, path);
	assert_string_equal(u0->info->fw_error, "");

	/* The unit without firmware is refused, with a reason to read. */
	loading = faketree_fallback_path(&e->t, FW2, "loading");
	free(data);
	data = slurp(loading, NULL);
	assert_string_equal(data, "-1");
	assert_non_null(strstr(u1->info->fw_error, "no firmware for model CRS-210T"));
	assert_string_equal(u1->info->fw_source, "");
	assert_non_null(strstr(w.loading, "-1"));

	/* Once the kernel says ready, the daemon's old complaint goes. */
	faketree_set(&e->t, "sensor1", "firmware_state", "ready\n");
	unit_read_firmware(u1);
	assert_string_equal(u1->info->fw_error, "");

	free(loading);
	free(data);
	free(blob);
}

static int make_fallback_later(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct env *e = userdata;

	(void)s, (void)usec;
	faketree_add_fallback(&e->t, FW1);
	return 0;
}

static void test_request_waits_for_fallback(void **state)
{
	struct env *e = *state;
	size_t len;
	char *data;

	assert_int_equal(daemon_scan_units(&e->d), 0);
	/* The uevent arrives before the kernel has made the directory. */
	assert_int_equal(fw_request_start(&e->d, FW1), 0);
	assert_non_null(e->d.requests);
	assert_int_equal(sd_event_add_time_relative(e->event, NULL, CLOCK_MONOTONIC,
						    40 * 1000, 1000, make_fallback_later, e), 0);
	/* A second uevent for the same request does not double it. */
	assert_int_equal(fw_request_start(&e->d, FW1), 0);
	assert_null(e->d.requests->next);
	run_until_idle(e, 1500);
	assert_true(e->d.requests == NULL);
	assert_string_equal(w.loading, "1,0");
	data = fallback_data(e, FW1, &len);
	assert_true(len > 64);
	assert_memory_equal(data, "CRFW", 4);
	free(data);
}

static void test_request_gives_up(void **state)
{
	struct env *e = *state;
	struct timespec a, b;
	long ms;

	assert_int_equal(daemon_scan_units(&e->d), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(fw_request_start(&e->d, FW1), 0);
	run_until_idle(e, 1000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	/* FallbackWaitMs=60: not before, not much after. */
	assert_true(ms >= 55);
	assert_true(ms < 500);
	assert_string_equal(w.loading, "");
}

static void test_request_names_are_checked(void **state)
{
	struct env *e = *state;

	assert_int_equal(fw_request_start(&e->d, "coldroom/../../etc/passwd"), -EINVAL);
	assert_int_equal(fw_request_start(&e->d, "other/CRS-200.fw"), -EINVAL);
	assert_int_equal(fw_request_start(&e->d, "coldroom/"), -EINVAL);
	assert_int_equal(fw_request_start(&e->d, "coldroom/.."), -EINVAL);
	assert_null(e->d.requests);
}

static void test_request_for_unknown_unit(void **state)
{
	struct env *e = *state;
	char *loading, *data;

	/* Nobody requests this one: refuse rather than guess. */
	faketree_add_fallback(&e->t, "coldroom/CRS-200-SIM-999999.fw");
	assert_int_equal(daemon_scan(&e->d), 0);
	loading = faketree_fallback_path(&e->t, "coldroom/CRS-200-SIM-999999.fw", "loading");
	data = slurp(loading, NULL);
	assert_string_equal(data, "-1");
	free(data);
	free(loading);
}

/* Records and events name units by number: sensorN only, exactly spelt. */
static void test_units_by_number(void **state)
{
	struct env *e = *state;

	faketree_add_unit(&e->t, "sensor12", "CRS-200", "SIM-000012");
	faketree_add_unit(&e->t, "sensor012", "CRS-200", "SIM-000013");
	faketree_add_unit(&e->t, "sensor3x", "CRS-200", "SIM-000014");
	assert_int_equal(daemon_scan_units(&e->d), 0);
	assert_int_equal(e->d.n_units, 5);
	assert_ptr_equal(daemon_find_unit_number(&e->d, 0), daemon_find_unit(&e->d, "sensor0"));
	assert_ptr_equal(daemon_find_unit_number(&e->d, 1), daemon_find_unit(&e->d, "sensor1"));
	assert_ptr_equal(daemon_find_unit_number(&e->d, 12), daemon_find_unit(&e->d, "sensor12"));
	assert_non_null(daemon_find_unit_number(&e->d, 12));
	assert_null(daemon_find_unit_number(&e->d, 3));
	assert_null(daemon_find_unit_number(&e->d, 13));
	assert_null(daemon_find_unit_number(&e->d, UINT32_MAX));
	/* A removed unit is no longer found by its number. */
	unit_remove(&e->d, daemon_find_unit(&e->d, "sensor12"));
	assert_null(daemon_find_unit_number(&e->d, 12));
	assert_non_null(daemon_find_unit_number(&e->d, 0));
}

static void test_temp_status(void **state)
{
	(void)state;
	assert_int_equal(temp_status_from_errno(0), TEMP_STATUS_OK);
	assert_int_equal(temp_status_from_errno(ENODATA), TEMP_STATUS_NO_DATA);
	assert_int_equal(temp_status_from_errno(EIO), TEMP_STATUS_DISCONNECTED);
	assert_int_equal(temp_status_from_errno(ENOENT), TEMP_STATUS_UNKNOWN);
}

/* A reload reads the drop-ins again; a bad one changes nothing and says where. */
static void test_reload_dropins(void **state)
{
	struct env *e = *state;
	char want[600];

	assert_int_equal(e->d.config.fallback_wait_ms, 2000);
	faketree_put(&e->t, "coldroomd.conf.d/50-wait.conf", "FallbackWaitMs=500\n");
	assert_int_equal(daemon_reload(&e->d), 0);
	assert_int_equal(e->d.config.fallback_wait_ms, 500);
	assert_string_equal(e->d.config_error, "");

	faketree_put(&e->t, "coldroomd.conf.d/60-bad.conf", "ReadingsBatchMs=10\nFallbackWaitMs=fast\n");
	assert_int_equal(daemon_reload(&e->d), -EINVAL);
	snprintf(want, sizeof(want), "%s.d/60-bad.conf:2: FallbackWaitMs=fast is out of range",
		 e->t.conf);
	assert_string_equal(e->d.config_error, want);
	assert_int_equal(e->d.config.fallback_wait_ms, 500);
	assert_int_equal(e->d.config.batch_ms, 100);

	/* Masked, the drop-in is as good as gone: the main file's value again. */
	faketree_link(&e->t, "coldroomd.conf.d/60-bad.conf", "/dev/null");
	faketree_link(&e->t, "coldroomd.conf.d/50-wait.conf", "/dev/null");
	assert_int_equal(daemon_reload(&e->d), 0);
	assert_int_equal(e->d.config.fallback_wait_ms, 2000);
	assert_string_equal(e->d.config_error, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dance_short_writes_and_eintr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dance_data_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dance_loading_fails, setup, teardown),
		cmocka_unit_test(test_fallback_dir_name),
		cmocka_unit_test_setup_teardown(test_scan_serves_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_waits_for_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_gives_up, setup_short_wait, teardown),
		cmocka_unit_test_setup_teardown(test_request_names_are_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_for_unknown_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_units_by_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_dropins, setup, teardown),
		cmocka_unit_test(test_temp_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
