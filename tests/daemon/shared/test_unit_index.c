// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The clients' per-unit tables are bounded by the units that exist: the
 * Number index (unit_index.h) and the Number a unit's properties may
 * carry (unit_client.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "unit_client.h"
#include "unit_index.h"

static void test_add_find(void **state)
{
	struct unit_index x = { 0 };

	(void)state;
	assert_int_equal(unit_index_find(&x, 0), -1);
	/* Out of order, the largest Number there is among them. */
	assert_int_equal(unit_index_add(&x, 7, 0), 0);
	assert_int_equal(unit_index_add(&x, COLDROOM_UNIT_MAX, 1), 0);
	assert_int_equal(unit_index_add(&x, 2, 2), 0);
	assert_int_equal(unit_index_add(&x, 7, 3), -EEXIST);
	assert_int_equal(unit_index_add(&x, COLDROOM_UNIT_MAX + 1, 3), -EINVAL);
	assert_int_equal(unit_index_add(&x, UINT32_MAX, 3), -EINVAL);
	assert_int_equal(x.n, 3);
	/* 8 bytes a unit, whatever the Numbers. */
	assert_true(x.cap <= 64);
	assert_int_equal(unit_index_find(&x, 7), 0);
	assert_int_equal(unit_index_find(&x, COLDROOM_UNIT_MAX), 1);
	assert_int_equal(unit_index_find(&x, 2), 2);
	assert_int_equal(unit_index_find(&x, 3), -1);
	assert_int_equal(unit_index_find(&x, COLDROOM_UNIT_MAX + 1), -1);
	/* Walking v[] is Number order. */
	assert_int_equal(x.v[0].number, 2);
	assert_int_equal(x.v[1].number, 7);
	assert_int_equal(x.v[2].number, COLDROOM_UNIT_MAX);
	unit_index_free(&x);
	assert_null(x.v);
	assert_int_equal(x.n, 0);
}

static void test_next(void **state)
{
	struct unit_index x = { 0 };
	static const uint32_t pass[] = { 0, 1, 2, 9, 3, 100, 4, 999 };
	static const long want[] = { 10, 11, 12, -1, 13, -1, 14, -1 };
	size_t hint = 0;

	(void)state;
	for (uint32_t n = 0; n < 5; n++)
		assert_int_equal(unit_index_add(&x, n, 10 + n), 0);
	/* In order, out of order, unknown: each the same as a search. */
	for (size_t i = 0; i < sizeof(pass) / sizeof(*pass); i++) {
		assert_int_equal(unit_index_next(&x, pass[i], &hint), want[i]);
		assert_int_equal(unit_index_find(&x, pass[i]), want[i]);
	}
	hint = 99;
	assert_int_equal(unit_index_next(&x, 4, &hint), 14);
	assert_int_equal(hint, 5);
	unit_index_free(&x);
}

static void test_remove_move(void **state)
{
	struct unit_index x = { 0 };

	(void)state;
	for (uint32_t n = 0; n < 1000; n++)
		assert_int_equal(unit_index_add(&x, 1000 - n, n), 0);
	assert_int_equal(unit_index_remove(&x, 500), 0);
	assert_int_equal(unit_index_remove(&x, 500), -ENOENT);
	assert_int_equal(unit_index_find(&x, 500), -1);
	assert_int_equal(unit_index_find(&x, 501), 499);
	/* The last entry moved into the hole. */
	assert_int_equal(unit_index_move(&x, 1, 500), 0);
	assert_int_equal(unit_index_find(&x, 1), 500);
	assert_int_equal(unit_index_move(&x, 500, 1), -ENOENT);
	assert_int_equal(x.n, 999);
	for (size_t i = 1; i < x.n; i++)
		assert_true(x.v[i - 1].number < x.v[i].number);
	unit_index_clear(&x);
	assert_int_equal(unit_index_find(&x, 1), -1);
	unit_index_free(&x);
}

/* A unit's properties as coldroomd sends them, with Number @number. */
static int props_with_number(uint32_t number, struct unit_info *u)
{
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL;
	int fds[2], r;

	/* A bus started on a socket pair makes messages; none is sent. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(sd_bus_new(&bus), 0);
	assert_int_equal(sd_bus_set_fd(bus, fds[0], fds[0]), 0);
	assert_true(sd_bus_start(bus) >= 0);
	assert_int_equal(sd_bus_message_new_signal(bus, &m, "/org/coldroom/Sensors1/unit/sensor1",
						   "org.freedesktop.DBus.Properties",
						   "PropertiesChanged"), 0);
	assert_int_equal(sd_bus_message_append(m, "a{sv}", 2, "Serial", "s", "SIM-000009",
					       "Number", "u", number), 1);
	assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
	assert_true(sd_bus_message_rewind(m, true) >= 0);
	r = unit_props_read(m, u);
	sd_bus_message_unref(m);
	/* Closed, not flushed: nobody answers the authentication. */
	close(fds[1]);
	sd_bus_close(bus);
	sd_bus_unref(bus);
	return r;
}

static void test_number_bound(void **state)
{
	struct unit_info u = { .number = 3 };

	(void)state;
	assert_int_equal(props_with_number(COLDROOM_UNIT_MAX, &u), 1);
	assert_int_equal(u.number, COLDROOM_UNIT_MAX);
	assert_string_equal(u.serial, "SIM-000009");
	assert_true(props_with_number(NO_NUMBER, &u) >= 0);
	assert_int_equal(u.number, NO_NUMBER);
	u.number = 3;
	assert_int_equal(props_with_number(COLDROOM_UNIT_MAX + 1, &u), -EBADMSG);
	assert_int_equal(u.number, 3);
	assert_int_equal(props_with_number(UINT32_MAX - 1, &u), -EBADMSG);
	assert_int_equal(u.number, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_remove_move),
		cmocka_unit_test(test_number_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
