// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What the services ask the bus driver, against a driver played by the
 * test on the other end of a socket pair:
 * - the signal guard (signal_guard.h): which signals it lets through, and
 *   that a failed GetNameOwner (a timeout on a busy bus) is asked again
 *   instead of leaving every signal of the name dropped for good;
 * - service_request_name() (service.h): a late answer is waited for, not
 *   taken for a failure; a queue or a refusal is said.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "log.h"
#include "service.h"
#include "signal_guard.h"

#define DRIVER "org.freedesktop.DBus"
#define NAME "org.coldroom.Sensors1"
#define OWNER ":1.7"
#define PATH "/org/coldroom/Sensors1"
#define IFACE "org.coldroom.Sensors1.Manager"
#define OWN_NAME "org.coldroom.Recorder1"
#define WITHOUT "what it cannot do without it"
/* The client's method call timeout: the late answer comes after five. */
#define CALL_TIMEOUT_USEC (200 * 1000ULL)
#define LATE_USEC (5 * CALL_TIMEOUT_USEC)

/* How the driver answers RequestName. */
enum request_answer {
	REQUEST_LATE,		/* granted, after LATE_USEC */
	REQUEST_QUEUED,		/* another connection owns it */
	REQUEST_REFUSED,	/* the bus's policy says no */
};

struct fake {
	/* The driver's thread: a dbus-daemon of its own, as on a real bus. */
	pthread_t thread;
	sd_event *driver_event;
	sd_bus *driver;
	unsigned int fail_first;	/* the first this many GetNameOwner fail */
	unsigned int get_name_owner;	/* GetNameOwner calls seen (atomic) */
	int send;			/* atomic: send the three Readings now */
	int stop;			/* atomic */
	enum request_answer request_answer;
	sd_bus_message *request;	/* RequestName held for its late answer */
	uint64_t request_due;
	unsigned int requests_answered;	/* atomic */
	/* The test's thread: the guard's end. */
	sd_event *event;
	sd_bus *client;
	unsigned int delivered;		/* signals the guard let through */
};

static unsigned int load(const unsigned int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* The driver's answer to @call: @types (NULL: nothing) and their values. */
static int reply_from_driver(sd_bus_message *call, const char *types, ...)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_return(call, &m);
	va_list ap;

	if (r >= 0)
		r = sd_bus_message_set_sender(m, DRIVER);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
	return r;
}

static int error_from_driver(sd_bus_message *call, const char *name, const char *text)
{
	sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(name, text);
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_error(call, &m, &e);

	if (r >= 0)
		r = sd_bus_message_set_sender(m, DRIVER);
	if (r >= 0)
		r = sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
	return r;
}

/* A Readings signal as @sender sends it, to @destination (NULL: broadcast). */
static int send_readings(sd_bus *bus, const char *sender, const char *destination)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_signal(bus, &m, PATH, IFACE, "Readings");

	if (r >= 0)
		r = sd_bus_message_set_sender(m, sender);
	if (r >= 0 && destination)
		r = sd_bus_message_set_destination(m, destination);
	if (r >= 0)
		r = sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
	return r;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void request_answered(struct fake *f)
{
	__atomic_fetch_add(&f->requests_answered, 1, __ATOMIC_SEQ_CST);
}

/* RequestName, answered as the test says (the late answer by driver_main). */
static int on_request_name(struct fake *f, sd_bus_message *m)
{
	int r;

	switch (f->request_answer) {
	case REQUEST_LATE:
		f->request = sd_bus_message_ref(m);
		f->request_due = now_usec() + LATE_USEC;
		return 1;
	case REQUEST_QUEUED:
		/* DBUS_REQUEST_NAME_REPLY_IN_QUEUE */
		r = reply_from_driver(m, "u", (uint32_t)2);
		break;
	default:
		r = error_from_driver(m, SD_BUS_ERROR_ACCESS_DENIED,
				      "Connection is not allowed to own the service");
		break;
	}
	request_answered(f);
	return r;
}

/* The bus driver's side of what the guard and the service ask. */
static int on_driver(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake *f = userdata;
	const char *member = sd_bus_message_get_member(m);

	(void)error;
	if (!sd_bus_message_is_method_call(m, NULL, NULL) || !member)
		return 0;
	if (!strcmp(member, "Hello"))
		return reply_from_driver(m, "s", ":1.1");
	if (!strcmp(member, "AddMatch") || !strcmp(member, "RemoveMatch"))
		return reply_from_driver(m, NULL);
	if (!strcmp(member, "RequestName"))
		return on_request_name(f, m);
	if (strcmp(member, "GetNameOwner"))
		return error_from_driver(m, SD_BUS_ERROR_UNKNOWN_METHOD, "not played by this test");
	if (__atomic_fetch_add(&f->get_name_owner, 1, __ATOMIC_SEQ_CST) < f->fail_first)
		return error_from_driver(m, SD_BUS_ERROR_NO_REPLY, "Method call timed out");
	return reply_from_driver(m, "s", OWNER);
}

/*
 * On one socket, after every answer already sent: a plain user's
 * broadcast, the owner's unicast, the owner's broadcast. By the time the
 * last is through, the two before it were judged.
 */
static int send_three(struct fake *f)
{
	int r = send_readings(f->driver, ":1.9", NULL);

	if (r >= 0)
		r = send_readings(f->driver, OWNER, ":1.1");
	if (r >= 0)
		r = send_readings(f->driver, OWNER, NULL);
	return r;
}

static void *driver_main(void *arg)
{
	struct fake *f = arg;

	while (!__atomic_load_n(&f->stop, __ATOMIC_SEQ_CST)) {
		if (__atomic_exchange_n(&f->send, 0, __ATOMIC_SEQ_CST) && send_three(f) < 0)
			break;
		if (f->request && now_usec() >= f->request_due) {
			/* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
			if (reply_from_driver(f->request, "u", (uint32_t)1) < 0)
				break;
			f->request = sd_bus_message_unref(f->request);
			request_answered(f);
		}
		if (sd_event_run(f->driver_event, 10 * 1000) < 0)
			break;
	}
	return NULL;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake *f = userdata;

	(void)m, (void)error;
	f->delivered++;
	return 0;
}

/* Runs the guard's loop until *@counter is @want; the limit only ends a hang. */
static void run_until(struct fake *f, const unsigned int *counter, unsigned int want)
{
	uint64_t end = now_usec() + 20 * 1000000ULL;

	while (load(counter) < want && now_usec() < end)
		assert_true(sd_event_run(f->event, 100 * 1000) >= 0);
	assert_int_equal(load(counter), want);
}

/* Lets what is queued through, with no particular end in view. */
static void settle(struct fake *f)
{
	for (int i = 0; i < 20; i++)
		assert_true(sd_event_run(f->event, 10 * 1000) >= 0);
}

static void fake_start(struct fake *f, unsigned int fail_first, enum request_answer answer)
{
	struct signal_guard *g;
	sd_id128_t id;
	int fds[2];

	*f = (struct fake){ .fail_first = fail_first, .request_answer = answer };
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
	assert_int_equal(sd_id128_randomize(&id), 0);

	assert_int_equal(sd_event_new(&f->driver_event), 0);
	assert_int_equal(sd_bus_new(&f->driver), 0);
	assert_int_equal(sd_bus_set_fd(f->driver, fds[0], fds[0]), 0);
	assert_int_equal(sd_bus_set_server(f->driver, 1, id), 0);
	assert_int_equal(sd_bus_add_filter(f->driver, NULL, on_driver, f), 0);
	assert_true(sd_bus_start(f->driver) >= 0);
	assert_int_equal(sd_bus_attach_event(f->driver, f->driver_event, 0), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, driver_main, f), 0);

	assert_int_equal(sd_event_new(&f->event), 0);
	assert_int_equal(sd_bus_new(&f->client), 0);
	assert_int_equal(sd_bus_set_fd(f->client, fds[1], fds[1]), 0);
	assert_int_equal(sd_bus_set_bus_client(f->client, 1), 0);
	assert_true(sd_bus_start(f->client) >= 0);
	assert_int_equal(sd_bus_attach_event(f->client, f->event, 0), 0);

	assert_true(signal_guard_new(f->client, NAME, NULL, NULL, &g) >= 0);
	assert_true(signal_guard_match(g, PATH, IFACE, "Readings", on_signal, f) >= 0);
}

static void fake_stop(struct fake *f)
{
	sd_bus_flush_close_unref(f->client);
	sd_event_unref(f->event);
	__atomic_store_n(&f->stop, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(f->thread, NULL), 0);
	sd_bus_message_unref(f->request);
	sd_bus_flush_close_unref(f->driver);
	sd_event_unref(f->driver_event);
}

/* Only the owner's broadcast is let through. */
static void test_owner_only(void **state)
{
	struct fake f;

	(void)state;
	fake_start(&f, 0, REQUEST_LATE);
	run_until(&f, &f.get_name_owner, 1);
	__atomic_store_n(&f.send, 1, __ATOMIC_SEQ_CST);
	run_until(&f, &f.delivered, 1);
	settle(&f);
	assert_int_equal(f.delivered, 1);
	assert_int_equal(load(&f.get_name_owner), 1);
	fake_stop(&f);
}

/*
 * GetNameOwner failed twice (as a call times out on a bus too busy to
 * answer): asked again after 1 s, then after 2 s, then answered, and the
 * owner's signals are let through.
 */
static void test_asked_again_after_a_failure(void **state)
{
	struct fake f;

	(void)state;
	fake_start(&f, 2, REQUEST_LATE);
	run_until(&f, &f.get_name_owner, 3);
	__atomic_store_n(&f.send, 1, __ATOMIC_SEQ_CST);
	run_until(&f, &f.delivered, 1);
	/* Known now: not asked any more. */
	settle(&f);
	assert_int_equal(f.delivered, 1);
	assert_int_equal(load(&f.get_name_owner), 3);
	fake_stop(&f);
}

/*
 * The service asks for OWN_NAME and the driver answers as @answer says;
 * returns what the service logged meanwhile (stderr, at debug level).
 */
static char *request_name_logged(enum request_answer answer)
{
	char *logged = calloc(1, 4096);
	int saved = dup(STDERR_FILENO);
	FILE *log = tmpfile();
	struct fake f;

	assert_non_null(logged);
	assert_non_null(log);
	assert_true(saved >= 0);
	fake_start(&f, 0, answer);
	/*
	 * Short, for the calls from here on: the guard's GetNameOwner, sent
	 * already, keeps the default, so a slow host does not make it ask again.
	 */
	assert_int_equal(sd_bus_set_method_call_timeout(f.client, CALL_TIMEOUT_USEC), 0);
	log_set_max_level(LOG_DEBUG);
	assert_int_equal(dup2(fileno(log), STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(service_request_name(f.client, OWN_NAME, WITHOUT), 0);
	run_until(&f, &f.requests_answered, 1);
	settle(&f);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	log_set_max_level(LOG_INFO);
	close(saved);
	rewind(log);
	assert_true(fread(logged, 1, 4095, log) < 4095);
	fclose(log);
	fake_stop(&f);
	fputs(logged, stderr);	/* to read when a check fails */
	return logged;
}

/*
 * Granted after five of the client's call timeouts (a starved bus): the
 * answer is waited for, not taken for a failure.
 */
static void test_name_answered_late(void **state)
{
	char *logged = request_name_logged(REQUEST_LATE);

	(void)state;
	assert_non_null(strstr(logged, "owns " OWN_NAME));
	assert_null(strstr(logged, "cannot own"));
	free(logged);
}

/* Another connection owns it: said, with what goes without. */
static void test_name_queued(void **state)
{
	char *logged = request_name_logged(REQUEST_QUEUED);

	(void)state;
	assert_non_null(strstr(logged, OWN_NAME " is owned by another connection, queued for it "
					    "until it goes: " WITHOUT));
	free(logged);
}

/* The bus refuses: said, with its reason and what goes without. */
static void test_name_refused(void **state)
{
	char *logged = request_name_logged(REQUEST_REFUSED);

	(void)state;
	assert_non_null(strstr(logged, "cannot own " OWN_NAME " (Connection is not allowed to "
					    "own the service): " WITHOUT));
	free(logged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_only),
		cmocka_unit_test(test_asked_again_after_a_failure),
		cmocka_unit_test(test_name_answered_late),
		cmocka_unit_test(test_name_queued),
		cmocka_unit_test(test_name_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
