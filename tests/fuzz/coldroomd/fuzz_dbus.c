// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: coldroomd's D-Bus methods with any arguments. The
 * daemon's own objects (bus.c, on a fake sysfs tree of two units) serve a
 * client over a private peer-to-peer connection in this process, so every
 * call goes through sd-bus's marshalling and coldroomd's handlers as on
 * the system bus, with the caller root (the checks past the admin check
 * are reached). Each input is one call:
 *
 *   byte 0   the method (calls[] below, or an unknown one)
 *   byte 1   the object: the manager, sensor0, sensor1 or a unit that is not
 *   byte 2   bit 0: the method's own signature, else one made of the
 *            following bytes
 *   rest     the arguments' values
 *
 * Every call is answered, the daemon survives it, and a call that fails
 * opens no file of the tree for writing (the daemon's openat() is wrapped
 * to see it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "alarm_lifecycle.h"
#include "daemon.h"
#include "faketree.h"
#include "fuzz_assert.h"
#include "log.h"
#include "macro.h"


#define ROOT "/org/coldroom/Sensors1"
#define MANAGER "org.coldroom.Sensors1.Manager"
#define UNIT "org.coldroom.Sensors1.Unit"
#define PROPS "org.freedesktop.DBus.Properties"

static const struct call {
	bool on_unit;
	const char *iface, *member, *signature;
} calls[] = {
	{ false, MANAGER, "GetReadings", "" },
	{ false, MANAGER, "GetUnit", "s" },
	{ false, MANAGER, "Reload", "" },
	{ true, UNIT, "SetLabel", "s" },
	{ true, UNIT, "SetThresholds", "uiii" },
	{ true, UNIT, "SetInterval", "u" },
	{ true, UNIT, "ReloadFirmware", "" },
	{ true, UNIT, "GetFrame", "" },
	{ true, PROPS, "Get", "ss" },
	{ true, PROPS, "GetAll", "s" },
	{ true, PROPS, "Set", "ssv" },
	{ false, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "" },
	{ true, "org.freedesktop.DBus.Introspectable", "Introspect", "" },
	{ true, UNIT, "NoSuchMethod", "s" },
	{ false, MANAGER, "ListAlarms", "" },
	{ false, MANAGER, "Acknowledge", "sus" },
	{ true, UNIT, "SetAlarmDelay", "uu" },
};

static const char *const unit_paths[] = {
	ROOT "/unit/sensor0", ROOT "/unit/sensor1", ROOT "/unit/sensor9",
};

static struct faketree tree;
static struct daemon daemon_;
static sd_bus *server, *client;
/* Files the daemon opened for writing while a call was handled. */
static bool tracking;
static unsigned int write_opens;

int __real_openat(int dirfd, const char *path, int flags, ...);

/* Linked with --wrap=openat: every open of the daemon passes here. */
int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (tracking && (flags & O_ACCMODE) != O_RDONLY)
		write_opens++;
	return __real_openat(dirfd, path, flags, mode);
}

struct input {
	const uint8_t *p, *end;
};

static uint8_t take_byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint32_t take_u32(struct input *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | take_byte(in);
	return v;
}

/* A string of the input's next bytes up to a NUL (or its end). */
static void take_string(struct input *in, char *buf, size_t size)
{
	size_t n = 0;

	while (in->p < in->end && *in->p && n + 1 < size)
		buf[n++] = (char)*in->p++;
	if (in->p < in->end)
		in->p++;
	buf[n] = '\0';
}

/* One value of basic type @type; false if sd-bus refused it (bad UTF-8...). */
static bool append_value(sd_bus_message *m, char type, struct input *in)
{
	char s[256];
	uint32_t u;

	switch (type) {
	case 's':
	case 'o':
	case 'g':
		take_string(in, s, sizeof(s));
		return sd_bus_message_append_basic(m, type, s) >= 0;
	case 'y':
		u = take_byte(in);
		return sd_bus_message_append_basic(m, type, &(uint8_t){ (uint8_t)u }) >= 0;
	case 'b':
		return sd_bus_message_append_basic(m, type, &(int){ take_byte(in) & 1 }) >= 0;
	case 'v': {
		static const char inner[] = "suiyb";
		char t = inner[take_byte(in) % (sizeof(inner) - 1)];
		char sig[2] = { t, '\0' };

		return sd_bus_message_open_container(m, 'v', sig) >= 0 &&
		       append_value(m, t, in) &&
		       sd_bus_message_close_container(m) >= 0;
	}
	case 't':
	case 'x': {
		uint64_t v = (uint64_t)take_u32(in) << 32 | take_u32(in);

		return sd_bus_message_append_basic(m, type, &v) >= 0;
	}
	default: /* u, i */
		u = take_u32(in);
		return sd_bus_message_append_basic(m, type, &u) >= 0;
	}
}

static void settings_reset(void)
{
	for (int u = 0; u < 2; u++) {
		const char *name = u ? "sensor1" : "sensor0";

		faketree_set(&tree, name, "label", "Unit\n");
		faketree_set(&tree, name, "update_interval_ms", "1000\n");
		for (int ch = 1; ch <= 2; ch++) {
			char attr[32];

			snprintf(attr, sizeof(attr), "temp%d_min", ch);
			faketree_set(&tree, name, attr, "-25000\n");
			snprintf(attr, sizeof(attr), "temp%d_max", ch);
			faketree_set(&tree, name, attr, "-15000\n");
			snprintf(attr, sizeof(attr), "temp%d_hyst", ch);
			faketree_set(&tree, name, attr, "500\n");
		}
	}
}

/* The tree and what the daemon knows of it back at the defaults. */
static void settings_defaults(void)
{
	settings_reset();
	for (size_t i = 0; i < daemon_.n_units; i++)
		unit_read_settings(daemon_.units[i]);
}

/* Both ends do what they can until neither has anything left. */
static void pump(void)
{
	int a, b;

	do {
		a = sd_bus_process(server, NULL);
		fuzz_assert(a >= 0);
		b = sd_bus_process(client, NULL);
		fuzz_assert(b >= 0);
	} while (a > 0 || b > 0);
}

static void cleanup(void)
{
	sd_bus_flush_close_unref(client);
	daemon_done(&daemon_);
	sd_bus_flush_close_unref(server);
	faketree_free(&tree);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	sd_event *event = NULL;
	sd_id128_t id;
	int fds[2];

	(void)argc, (void)argv;
	log_set_max_level(LOG_CRIT);
	/*
	 * Every input rewrites the tree's settings: in memory, since ext4
	 * writes a file truncated and rewritten back at its close.
	 */
	if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	faketree_new(&tree, "");
	faketree_add_unit(&tree, "sensor0", "CRS-200", "SIM-000001");
	faketree_add_unit(&tree, "sensor1", "CRS-210T", "SIM-000002");
	fuzz_assert(sd_event_new(&event) >= 0);
	fuzz_assert(daemon_init(&daemon_, event, tree.sys, tree.conf) >= 0);
	/* Alarms kept in memory only: a call must write no file. */
	fuzz_assert(alarms_init(&daemon_, NULL) >= 0);
	sd_event_unref(event);
	fuzz_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0);
	fuzz_assert(sd_id128_randomize(&id) >= 0);
	fuzz_assert(sd_bus_new(&server) >= 0);
	fuzz_assert(sd_bus_set_fd(server, fds[0], fds[0]) >= 0);
	fuzz_assert(sd_bus_set_server(server, 1, id) >= 0);
	fuzz_assert(sd_bus_start(server) >= 0);
	fuzz_assert(sd_bus_new(&client) >= 0);
	fuzz_assert(sd_bus_set_fd(client, fds[1], fds[1]) >= 0);
	fuzz_assert(sd_bus_start(client) >= 0);
	fuzz_assert(sd_bus_attach_event(server, daemon_.event, 0) >= 0);
	fuzz_assert(bus_attach(&daemon_, server) >= 0);
	daemon_scan(&daemon_);
	fuzz_assert(daemon_.n_units == 2);
	daemon_.ready = true;
	for (int i = 0; i < 100 && sd_bus_is_ready(client) <= 0; i++)
		pump();
	fuzz_assert(sd_bus_is_ready(client) > 0);
	settings_defaults();
	atexit(cleanup);
	return 0;
}

static int replies, errors;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)userdata, (void)e;
	replies++;
	if (sd_bus_message_is_method_error(m, NULL))
		errors++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	struct input in = { data, data + size };
	const struct call *c;
	const char *path;
	char signature[8];
	uint8_t which, object, mode;
	bool ok = true;

	which = take_byte(&in);
	object = take_byte(&in);
	mode = take_byte(&in);
	c = &calls[which % (sizeof(calls) / sizeof(calls[0]))];
	path = c->on_unit || object % 4 ? unit_paths[object % 3] : ROOT;
	if (mode & 1) {
		snprintf(signature, sizeof(signature), "%s", c->signature);
	} else {
		static const char types[] = "suiybtxov";
		size_t n = take_byte(&in) % 5;

		for (size_t i = 0; i < n; i++)
			signature[i] = types[take_byte(&in) % (sizeof(types) - 1)];
		signature[n] = '\0';
	}

	fuzz_assert(sd_bus_message_new_method_call(client, &m, NULL, path, c->iface,
						   c->member) >= 0);
	for (const char *t = signature; *t && ok; t++)
		ok = append_value(m, *t, &in);
	if (ok) {
		int sent = replies;

		errors = 0;
		write_opens = 0;
		tracking = true;
		fuzz_assert(sd_bus_call_async(client, NULL, m, on_reply, NULL, 0) >= 0);
		pump();
		tracking = false;
		fuzz_assert(replies == sent + 1);
		if (errors && write_opens) {
			fprintf(stderr, "%s.%s on %s failed but wrote %u file(s) of the tree\n",
				c->iface, c->member, path, write_opens);
			fuzz_assert(!"a failed call changes nothing");
		}
		/* A call that changed the units: back to the defaults for the next. */
		if (write_opens)
			settings_defaults();
	}
	/* The daemon still holds both units and answers. */
	fuzz_assert(daemon_.n_units == 2);
	return 0;
}
