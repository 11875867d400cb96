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
 *            following bytes; bit 1: the next byte says which of the
 *            call's opens for writing fail (bit N: the Nth, from 0), with
 *            EINVAL (a value the kernel refuses) if bit 2, else EIO
 *   rest     the arguments' values
 *
 * Every call is answered, the daemon survives it, and the units' settings
 * properties are what the tree holds. A call that fails on its own opens
 * no file of the tree for writing (the daemon's openat() is wrapped to see
 * it and to fail the chosen opens); one that fails because a write failed
 * leaves the tree as it was, unless undoing it failed too.
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
/* Of those, which to fail (bit N: the Nth), with what; how many failed. */
static uint8_t fail_mask;
static int fail_errno;
static unsigned int write_fails;

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
	if (tracking && (flags & O_ACCMODE) != O_RDONLY) {
		unsigned int n = write_opens++;

		if (n < 8 && fail_mask & 1u << n) {
			write_fails++;
			errno = fail_errno;
			return -1;
		}
	}
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

static const char *const setting_attrs[] = {
	"label", "update_interval_ms", "temp1_min", "temp1_max", "temp1_hyst",
	"temp2_min", "temp2_max", "temp2_hyst",
};
/* The properties of those, in the same order. */
static const char *const setting_props[] = {
	"Label", "UpdateIntervalMs", "Temp1Min", "Temp1Max", "Temp1Hyst",
	"Temp2Min", "Temp2Max", "Temp2Hyst",
};
#define N_SETTINGS (sizeof(setting_attrs) / sizeof(setting_attrs[0]))

/* What the tree holds of unit @u's settings, one line each. */
static void tree_settings(int u, char out[N_SETTINGS][80])
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		char path[700];
		char *s;

		snprintf(path, sizeof(path), "%s/class/coldroom/sensor%d/%s", tree.sys, u,
			 setting_attrs[i]);
		s = slurp(path, NULL);
		fuzz_assert(s);
		s[strcspn(s, "\n")] = '\0';
		snprintf(out[i], sizeof(out[i]), "%s", s);
		free(s);
	}
}

static char props[N_SETTINGS][80];
static int props_got;

static int on_get_all(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *name, *contents;

	(void)userdata, (void)e;
	fuzz_assert(!sd_bus_message_is_method_error(m, NULL));
	fuzz_assert(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		size_t i;

		fuzz_assert(sd_bus_message_read(m, "s", &name) > 0);
		for (i = 0; i < N_SETTINGS && strcmp(name, setting_props[i]); i++)
			;
		fuzz_assert(sd_bus_message_peek_type(m, NULL, &contents) > 0);
		if (i == N_SETTINGS) {
			fuzz_assert(sd_bus_message_skip(m, "v") >= 0);
		} else {
			const char *str;
			int32_t i32;
			uint32_t u32;

			fuzz_assert(sd_bus_message_enter_container(m, 'v', contents) > 0);
			if (contents[0] == 's') {
				fuzz_assert(sd_bus_message_read(m, "s", &str) > 0);
				snprintf(props[i], sizeof(props[i]), "%s", str);
			} else if (contents[0] == 'u') {
				fuzz_assert(sd_bus_message_read(m, "u", &u32) > 0);
				snprintf(props[i], sizeof(props[i]), "%u", u32);
			} else {
				fuzz_assert(sd_bus_message_read(m, "i", &i32) > 0);
				snprintf(props[i], sizeof(props[i]), "%d", i32);
			}
			fuzz_assert(sd_bus_message_exit_container(m) >= 0);
			props_got++;
		}
		fuzz_assert(sd_bus_message_exit_container(m) >= 0);
	}
	return 0;
}

static void pump(void);

/* Both units' settings properties, as a client reads them, are the tree. */
static void check_props_are_tree(void)
{
	char t[N_SETTINGS][80];

	for (int u = 0; u < 2; u++) {
		props_got = 0;
		fuzz_assert(sd_bus_call_method_async(client, NULL, NULL,
						     u ? ROOT "/unit/sensor1" : ROOT "/unit/sensor0",
						     PROPS, "GetAll", on_get_all, NULL, "s",
						     UNIT) >= 0);
		pump();
		fuzz_assert(props_got == (int)N_SETTINGS);
		tree_settings(u, t);
		for (size_t i = 0; i < N_SETTINGS; i++) {
			if (strcmp(props[i], t[i])) {
				fprintf(stderr, "sensor%d: %s is '%s' but %s holds '%s'\n", u,
					setting_props[i], props[i], setting_attrs[i], t[i]);
				fuzz_assert(!"the properties are the tree");
			}
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

/*
 * Both ends do what they can until neither has anything left; the
 * daemon's loop too, which answers GetManagedObjects in slices.
 */
static void pump(void)
{
	int a, b, c;

	do {
		a = sd_bus_process(server, NULL);
		fuzz_assert(a >= 0);
		b = sd_bus_process(client, NULL);
		fuzz_assert(b >= 0);
		c = sd_event_run(daemon_.event, 0);
		fuzz_assert(c >= 0);
	} while (a > 0 || b > 0 || c > 0);
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
	char signature[8], before[2][N_SETTINGS][80], after[2][N_SETTINGS][80];
	uint8_t which, object, mode;
	bool ok = true;

	which = take_byte(&in);
	object = take_byte(&in);
	mode = take_byte(&in);
	fail_mask = mode & 2 ? take_byte(&in) : 0;
	fail_errno = mode & 4 ? EINVAL : EIO;
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

		memset(before, 0, sizeof(before));
		memset(after, 0, sizeof(after));
		tree_settings(0, before[0]);
		tree_settings(1, before[1]);
		errors = 0;
		write_opens = 0;
		write_fails = 0;
		tracking = true;
		fuzz_assert(sd_bus_call_async(client, NULL, m, on_reply, NULL, 0) >= 0);
		pump();
		/* GetReadings and GetManagedObjects answer after the batch window. */
		for (int i = 0; i < 50 && replies != sent + 1; i++) {
			fuzz_assert(sd_event_run(daemon_.event, 100000) >= 0);
			pump();
		}
		tracking = false;
		fuzz_assert(replies == sent + 1);
		if (errors && !write_fails && write_opens) {
			fprintf(stderr, "%s.%s on %s failed but wrote %u file(s) of the tree\n",
				c->iface, c->member, path, write_opens);
			fuzz_assert(!"a failed call changes nothing");
		}
		/* A write failed: the call fails, and undoes what it wrote before. */
		if (write_fails)
			fuzz_assert(errors);
		tree_settings(0, after[0]);
		tree_settings(1, after[1]);
		if (write_fails == 1 && memcmp(before, after, sizeof(before))) {
			fprintf(stderr, "%s.%s on %s: a write failed, the rest stayed written\n",
				c->iface, c->member, path);
			fuzz_assert(!"a failed call changes nothing");
		}
		/* Whatever happened, what the daemon publishes is what the units hold. */
		check_props_are_tree();
		/* A call that changed the units: back to the defaults for the next. */
		if (write_opens)
			settings_defaults();
	}
	/* The daemon still holds both units and answers. */
	fuzz_assert(daemon_.n_units == 2);
	return 0;
}
