// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomd on a fake sysfs tree behind private dbus-daemons:
 *  - an open bus (everyone may send anything), where only the daemon's own
 *    caller check stands between a user and the setters;
 *  - a system-like bus with the shipped policy file, to test the policy.
 * Readings are changed in the tree and picked up with Reload (plain files
 * cannot be poll()ed the way the kernel's sample_seq can).
 * Callers other than root are forked children that drop to nobody.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>
#include <linux/coldroom.h>

#include "coldroom_fw.h"
#include "faketree.h"
#include "readings_msg.h"

#define NAME	"org.coldroom.Sensors1"
#define ROOT	"/org/coldroom/Sensors1"
#define MGR	"org.coldroom.Sensors1.Manager"
#define UNIT	"org.coldroom.Sensors1.Unit"
#define U0	ROOT "/unit/sensor0"
#define U1	ROOT "/unit/sensor1"
#define U2	ROOT "/unit/sensor2"
#define FW0	"coldroom/CRS-200-SIM-000001.fw"
#define FW1	"coldroom/CRS-200-SIM-000002.fw"
#define FW2	"coldroom/CRS-210T-SIM-000003.fw"
#define NOBODY	65534

static struct {
	struct faketree t;
	char open_addr[400], policy_addr[400];
	pid_t open_bus, policy_bus, daemon, policy_daemon, alarm_daemon, mock_polkit;
	int notify_fd;
	char notify_path[400];
	sd_bus *bus;
} g;

/* ---- processes ---- */

static pid_t spawn_bus(const char *config, char *addr, size_t size)
{
	int pipefd[2];
	pid_t pid;
	ssize_t n;
	char fdarg[64];

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Helpers die with the test, whatever way it ends. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pipefd[1], 3);
		snprintf(fdarg, sizeof(fdarg), "--config-file=%s", config);
		execlp("dbus-daemon", "dbus-daemon", fdarg, "--nofork", "--print-address=3",
		       (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	n = read(pipefd[0], addr, size - 1);
	close(pipefd[0]);
	assert_true(n > 0);
	addr[n] = '\0';
	addr[strcspn(addr, "\n")] = '\0';
	return pid;
}

static void write_bus_config(const char *path, const char *sock, const char *policy)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
		   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		   "<busconfig>\n  <listen>unix:path=%s</listen>\n  <auth>EXTERNAL</auth>\n", sock);
	if (policy)
		/* The default policy of Debian's system.conf, then the file under test. */
		fprintf(f, "  <policy context=\"default\">\n"
			   "    <allow user=\"*\"/>\n    <deny own=\"*\"/>\n"
			   "    <deny send_type=\"method_call\"/>\n"
			   "    <allow send_type=\"signal\"/>\n"
			   "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
			   "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
			   "    <allow receive_type=\"method_call\"/>\n"
			   "    <allow receive_type=\"method_return\"/>\n"
			   "    <allow receive_type=\"error\"/>\n"
			   "    <allow receive_type=\"signal\"/>\n"
			   "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
			   "  </policy>\n  <include>%s</include>\n", policy);
	else
		fprintf(f, "  <policy context=\"default\">\n    <allow user=\"*\"/>\n"
			   "    <allow own=\"*\"/>\n    <allow send_destination=\"*\"/>\n"
			   "    <allow receive_sender=\"*\"/>\n"
			   "  </policy>\n");
	fprintf(f, "</busconfig>\n");
	fclose(f);
}

static pid_t spawn_daemon(const char *addr, bool with_notify)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (with_notify)
			setenv("NOTIFY_SOCKET", g.notify_path, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		execl(getenv("COLDROOMD"), "coldroomd", "--bus", addr, "--sysfs-root", g.t.sys,
		      "--config", g.t.conf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static sd_bus *connect_to(const char *addr)
{
	sd_bus *bus = NULL;

	assert_true(sd_bus_new(&bus) >= 0);
	assert_true(sd_bus_set_address(bus, addr) >= 0);
	assert_true(sd_bus_set_bus_client(bus, 1) >= 0);
	assert_true(sd_bus_start(bus) >= 0);
	return bus;
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void wait_for_name(sd_bus *bus)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		sd_bus_message *reply = NULL;
		int has = 0;

		if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				       "org.freedesktop.DBus", "NameHasOwner", NULL, &reply,
				       "s", NAME) >= 0)
			sd_bus_message_read(reply, "b", &has);
		sd_bus_message_unref(reply);
		if (has)
			return;
		if (ms_since(&start) > 20000)
			fail_msg("coldroomd did not take %s", NAME);
		usleep(20000);
	}
}

/* Process incoming messages for @ms milliseconds. */
static void pump(sd_bus *bus, long ms)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (ms_since(&start) < ms) {
		int r = sd_bus_process(bus, NULL);

		assert_true(r >= 0);
		if (r == 0)
			sd_bus_wait(bus, 10000);
	}
}

/*
 * Process messages until *@counter reaches @want (up to 20 s: a loaded
 * machine is slow, never wrong), then @settle_ms more for anything that
 * should not come.
 */
static void pump_until(sd_bus *bus, const int *counter, int want, long settle_ms)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (*counter < want && ms_since(&start) < 20000)
		pump(bus, 10);
	pump(bus, settle_ms);
}

/* ---- calls ---- */

static int call(sd_bus *bus, const char *path, const char *iface, const char *method,
		sd_bus_error *e, sd_bus_message **reply, const char *sig, ...)
{
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, NAME, path, iface, method);
	if (r >= 0 && sig) {
		va_start(ap, sig);
		r = sd_bus_message_appendv(m, sig, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(bus, m, 5 * 1000000, e, reply);
	sd_bus_message_unref(m);
	return r;
}

static char *get_string(const char *path, const char *prop)
{
	char *s = NULL;

	assert_int_equal(sd_bus_get_property_string(g.bus, NAME, path, UNIT, prop, NULL, &s), 0);
	return s;
}

static void prop_is(const char *path, const char *prop, const char *want)
{
	char *s = get_string(path, prop);

	if (strcmp(s, want))
		fail_msg("%s %s: '%s', expected '%s'", path, prop, s, want);
	free(s);
}

static void prop_contains(const char *path, const char *prop, const char *want)
{
	char *s = get_string(path, prop);

	if (!strstr(s, want))
		fail_msg("%s %s: '%s' does not contain '%s'", path, prop, s, want);
	free(s);
}

static int64_t get_num(const char *path, const char *prop, char type)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char sig[2] = { type, 0 };
	int32_t i32 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;
	int b = 0;
	void *p = type == 'i' ? (void *)&i32 : type == 'u' ? (void *)&u32 :
		  type == 't' ? (void *)&u64 : (void *)&b;

	if (sd_bus_get_property_trivial(g.bus, NAME, path, UNIT, prop, &e, type, p) < 0)
		fail_msg("Get %s %s (%s): %s", path, prop, sig, e.message);
	return type == 'i' ? i32 : type == 'u' ? u32 : type == 't' ? (int64_t)u64 : b;
}

static void reload(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;

	if (call(g.bus, ROOT, MGR, "Reload", &e, NULL, NULL) < 0)
		fail_msg("Reload: %s: %s", e.name, e.message);
}

/* The call fails with this D-Bus error, whose message mentions @text. */
static void expect_error(sd_bus_error *e, int r, const char *name, const char *text)
{
	if (r >= 0)
		fail_msg("call succeeded, expected %s", name);
	if (strcmp(e->name, name))
		fail_msg("got %s (%s), expected %s", e->name, e->message, name);
	if (text && !strstr(e->message, text))
		fail_msg("'%s' does not mention '%s'", e->message, text);
	sd_bus_error_free(e);
}

static char *tree_attr(const char *unit, const char *attr)
{
	char path[600];
	char *s;

	snprintf(path, sizeof(path), "%s/class/coldroom/%s/%s", g.t.sys, unit, attr);
	s = slurp(path, NULL);
	assert_non_null(s);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static void expect_attr(const char *unit, const char *attr, const char *want)
{
	char *s = tree_attr(unit, attr);

	if (strcmp(s, want))
		fail_msg("%s/%s = '%s', expected '%s'", unit, attr, s, want);
	free(s);
}

/* ---- notify socket ---- */

static void notify_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(g.notify_path, sizeof(g.notify_path), "%s/notify", g.t.root);
	assert_true(strlen(g.notify_path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, g.notify_path, strlen(g.notify_path) + 1);
	g.notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(g.notify_fd >= 0);
	assert_int_equal(bind(g.notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

/* Everything the daemon told "systemd" so far, newline-joined. */
static void notify_read(char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while (len + 1 < size &&
	       (n = recv(g.notify_fd, buf + len, size - len - 2, 0)) > 0) {
		len += (size_t)n;
		buf[len++] = '\n';
		buf[len] = '\0';
	}
}

/*
 * Everything told so far, waiting up to 20 s for @want: the bus name can
 * be ours before the daemon has sent READY=1 (it asks for the name first).
 */
static void notify_wait_for(char *buf, size_t size, const char *want)
{
	struct timespec start;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	buf[0] = '\0';
	while (!strstr(buf, want)) {
		if (ms_since(&start) > 20000)
			fail_msg("no %s from the daemon; it said: %s", want, buf);
		notify_read(buf + len, size - len);
		len = strlen(buf);
		if (!strstr(buf, want))
			usleep(10000);
	}
}

/* ---- group setup ---- */

static int group_setup(void **state)
{
	char path[600], from[600];

	(void)state;
	/* The tree's units sample only when a test says so: silence is no news here. */
	faketree_new(&g.t, "ReadingsBatchMs=50\nFallbackWaitMs=200\nSilentIntervals=0\n");
	faketree_add_unit(&g.t, "sensor0", "CRS-200", "SIM-000001");
	faketree_add_unit(&g.t, "sensor1", "CRS-200", "SIM-000002");
	faketree_add_unit(&g.t, "sensor2", "CRS-210T", "SIM-000003");
	faketree_add_fallback(&g.t, FW0);
	faketree_add_fallback(&g.t, FW1);
	faketree_add_fallback(&g.t, FW2);
	snprintf(from, sizeof(from), "%s/CRS-200.fw", blob_dir());
	snprintf(path, sizeof(path), "%s/CRS-200.fw", g.t.model_dir);
	copy_file(from, path);
	snprintf(from, sizeof(from), "%s/SIM-000002.override", samples_dir());
	snprintf(path, sizeof(path), "%s/SIM-000002.conf", g.t.calibration_dir);
	copy_file(from, path);
	/* nobody must reach the sockets. */
	chmod(g.t.root, 0755);

	notify_open();
	snprintf(path, sizeof(path), "%s/open-bus.conf", g.t.root);
	snprintf(from, sizeof(from), "%s/open.sock", g.t.root);
	write_bus_config(path, from, NULL);
	g.open_bus = spawn_bus(path, g.open_addr, sizeof(g.open_addr));
	g.daemon = spawn_daemon(g.open_addr, true);
	g.bus = connect_to(g.open_addr);
	wait_for_name(g.bus);
	return 0;
}

static int stop(pid_t pid)
{
	struct timespec start;
	int status;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (ms_since(&start) > 10000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	sd_bus_flush_close_unref(g.bus);
	stop(g.policy_daemon);
	stop(g.alarm_daemon);
	stop(g.mock_polkit);
	stop(g.daemon);
	stop(g.open_bus);
	stop(g.policy_bus);
	close(g.notify_fd);
	faketree_free(&g.t);
	return 0;
}

/* ---- tests ---- */

static void test_ready_and_status(void **state)
{
	char buf[4096];

	(void)state;
	notify_wait_for(buf, sizeof(buf), "READY=1");
	assert_non_null(strstr(buf, "STATUS=3 units, 0 ready, 0 alarms"));
}

static void test_object_tree(void **state)
{
	sd_bus_message *reply = NULL;
	const char *path;
	int r, n = 0, seen = 0;

	(void)state;
	assert_true(call(g.bus, ROOT, "org.freedesktop.DBus.ObjectManager",
			 "GetManagedObjects", NULL, &reply, NULL) >= 0);
	assert_int_equal(sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}"), 1);
	while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		assert_int_equal(sd_bus_message_read(reply, "o", &path), 1);
		seen |= !strcmp(path, U0) << 0 | !strcmp(path, U1) << 1 | !strcmp(path, U2) << 2;
		assert_true(sd_bus_message_skip(reply, "a{sa{sv}}") >= 0);
		assert_true(sd_bus_message_exit_container(reply) >= 0);
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(seen, 7);
	sd_bus_message_unref(reply);
	/* No objects at "/". */
	{
		sd_bus_error e = SD_BUS_ERROR_NULL;

		r = call(g.bus, "/", UNIT, "SetLabel", &e, NULL, "s", "x");
		expect_error(&e, r, SD_BUS_ERROR_UNKNOWN_OBJECT, NULL);
	}
}

static void test_properties(void **state)
{
	double c = 0;

	(void)state;
	prop_is(U0, "Name", "sensor0");
	prop_is(U0, "Serial", "SIM-000001");
	prop_is(U0, "Model", "CRS-200");
	prop_is(U0, "Label", "Unit");
	prop_is(U0, "FirmwareName", FW0);
	prop_is(U0, "FirmwareState", "pending");
	assert_int_equal(get_num(U0, "Temp1", 'i'), -18250);
	assert_int_equal(get_num(U0, "Temp2", 'i'), -17500);
	assert_int_equal(get_num(U0, "Temp1Status", 'u'), 1);
	assert_int_equal(get_num(U0, "Temp1Alarm", 'b'), 0);
	assert_int_equal(get_num(U0, "Temp1Min", 'i'), -25000);
	assert_int_equal(get_num(U0, "Temp2Max", 'i'), -15000);
	assert_int_equal(get_num(U0, "Temp2Hyst", 'i'), 500);
	assert_int_equal(get_num(U0, "UpdateIntervalMs", 'u'), 1000);
	assert_int_equal(get_num(U0, "SampleSeq", 't'), 1);
	assert_true(get_num(U0, "LastUpdate", 't') > 0);
	assert_int_equal(sd_bus_get_property_trivial(g.bus, NAME, U0, UNIT, "Temp1Celsius",
						     NULL, 'd', &c), 0);
	assert_true(fabs(c - -18.25) < 1e-9);
	/* Nothing is writable through Properties.Set: the setters are methods. */
	{
		sd_bus_error e = SD_BUS_ERROR_NULL;
		int r = sd_bus_set_property(g.bus, NAME, U0, UNIT, "Label", &e, "s", "x");

		assert_true(r < 0);
		sd_bus_error_free(&e);
		prop_is(U0, "Label", "Unit");
	}
}

static void test_firmware_served(void **state)
{
	struct coldroom_fw_image img;
	char path[600], *blob, *data, *src;
	size_t blob_len, len;

	(void)state;
	/* sensor0: the packaged model blob as it is. */
	snprintf(path, sizeof(path), "%s/CRS-200.fw", g.t.model_dir);
	prop_is(U0, "FirmwareSource", path);
	prop_is(U0, "FirmwareError", "");
	blob = slurp(path, &blob_len);
	src = faketree_fallback_path(&g.t, FW0, "data");
	data = slurp(src, &len);
	assert_int_equal(len, blob_len);
	assert_memory_equal(data, blob, len);
	free(src);
	free(data);
	src = faketree_fallback_path(&g.t, FW0, "loading");
	data = slurp(src, NULL);
	assert_string_equal(data, "0");
	free(src);
	free(data);
	free(blob);

	/* sensor1: model blob + calibration, rebuilt for its serial. */
	prop_contains(U1, "FirmwareSource", "SIM-000002.conf");
	src = faketree_fallback_path(&g.t, FW1, "data");
	data = slurp(src, &len);
	assert_int_equal(coldroom_fw_parse(data, len, &img), COLDROOM_FW_OK);
	assert_string_equal(img.serial, "SIM-000002");
	assert_string_equal(img.label, "Loading dock freezer");
	free(src);
	free(data);

	/* sensor2: no CRS-210T firmware anywhere: refused, with the reason. */
	prop_contains(U2, "FirmwareError", "no firmware for model CRS-210T");
	prop_is(U2, "FirmwareSource", "");
	src = faketree_fallback_path(&g.t, FW2, "loading");
	data = slurp(src, NULL);
	assert_string_equal(data, "-1");
	free(src);
	free(data);
}

struct reading {
	char name[32];
	int32_t t1, t2;
	uint32_t s1, s2;
	int a1, a2;
	uint64_t seq, when;
};

/*
 * The arrays of Readings and GetReadings (readings_msg.h), one entry per
 * index, into @out (at most @max); returns the entry count.
 */
static int read_readings(sd_bus_message *m, struct reading *out, int max)
{
	struct readings_msg r;
	int n = 0;

	assert_int_equal(readings_msg_read(m, &r), 0);
	for (size_t i = 0; i < r.n && n < max; i++, n++) {
		out[n] = (struct reading){
			.t1 = r.temp1[i], .t2 = r.temp2[i],
			.s1 = r.temp1_status[i], .s2 = r.temp2_status[i],
			.a1 = !!(r.alarms[i] & READINGS_ALARM_TEMP1),
			.a2 = !!(r.alarms[i] & READINGS_ALARM_TEMP2),
			.seq = r.sample_seq[i], .when = r.last_update[i],
		};
		snprintf(out[n].name, sizeof(out[n].name), "sensor%u", r.unit[i]);
	}
	return n;
}

static void test_get_readings(void **state)
{
	sd_bus_message *reply = NULL;
	struct reading r[8];

	(void)state;
	assert_true(call(g.bus, ROOT, MGR, "GetReadings", NULL, &reply, NULL) >= 0);
	assert_int_equal(read_readings(reply, r, 8), 3);
	assert_string_equal(r[0].name, "sensor0");
	assert_string_equal(r[1].name, "sensor1");
	assert_string_equal(r[2].name, "sensor2");
	assert_int_equal(r[0].t1, -18250);
	assert_int_equal(r[0].t2, -17500);
	assert_int_equal(r[0].s1, 1);
	assert_int_equal(r[0].a1, 0);
	assert_int_equal(r[0].seq, 1);
	sd_bus_message_unref(reply);
}

static void test_get_unit(void **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	int r;

	(void)state;
	assert_true(call(g.bus, ROOT, MGR, "GetUnit", NULL, &reply, "s", "sensor1") >= 0);
	assert_int_equal(sd_bus_message_read(reply, "o", &path), 1);
	assert_string_equal(path, U1);
	sd_bus_message_unref(reply);
	assert_true(call(g.bus, ROOT, MGR, "GetUnit", NULL, &reply, "s", "SIM-000003") >= 0);
	assert_int_equal(sd_bus_message_read(reply, "o", &path), 1);
	assert_string_equal(path, U2);
	sd_bus_message_unref(reply);
	r = call(g.bus, ROOT, MGR, "GetUnit", &e, NULL, "s", "sensor9");
	expect_error(&e, r, "org.coldroom.Sensors1.Error.NoSuchUnit", "sensor9");
	r = call(g.bus, ROOT, MGR, "GetUnit", &e, NULL, "i", 1);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, NULL);
}

/* Signals seen by the client. */
static struct {
	int props[3];		/* PropertiesChanged per unit */
	char props0[1024];	/* the names in sensor0's last one */
	int readings;
	struct reading last[64];
	int last_n;
	int alarms;
	char alarm_unit[128];
	uint32_t alarm_channel;
	int alarm_active;
	int32_t alarm_temp;
	int added, removed;
} sig;

static int on_props(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *path = sd_bus_message_get_path(m), *iface;
	int idx = !strcmp(path, U0) ? 0 : !strcmp(path, U1) ? 1 : !strcmp(path, U2) ? 2 : -1;

	(void)userdata, (void)e;
	if (idx < 0)
		return 0;
	sig.props[idx]++;
	if (idx == 0) {
		char **names = NULL;

		sd_bus_message_read(m, "s", &iface);
		sd_bus_message_enter_container(m, 'a', "{sv}");
		while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
			const char *k;

			sd_bus_message_read(m, "s", &k);
			strncat(sig.props0, k, sizeof(sig.props0) - strlen(sig.props0) - 2);
			strcat(sig.props0, ",");
			sd_bus_message_skip(m, "v");
			sd_bus_message_exit_container(m);
		}
		sd_bus_message_exit_container(m);
		sd_bus_message_read_strv(m, &names);
		for (char **n = names; n && *n; n++)
			free(*n);
		free(names);
	}
	return 0;
}

static int on_readings(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)userdata, (void)e;
	sig.readings++;
	sig.last_n = read_readings(m, sig.last, 64);
	return 0;
}

static int on_alarm(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *path, *name;

	(void)userdata, (void)e;
	sig.alarms++;
	assert_int_equal(sd_bus_message_read(m, "osubi", &path, &name, &sig.alarm_channel,
					     &sig.alarm_active, &sig.alarm_temp), 1);
	snprintf(sig.alarm_unit, sizeof(sig.alarm_unit), "%s", path);
	return 0;
}

static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)m, (void)userdata, (void)e;
	sig.added++;
	return 0;
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	(void)m, (void)userdata, (void)e;
	sig.removed++;
	return 0;
}

static void subscribe(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	assert_true(sd_bus_match_signal(g.bus, NULL, NAME, NULL,
					"org.freedesktop.DBus.Properties",
					"PropertiesChanged", on_props, NULL) >= 0);
	assert_true(sd_bus_match_signal(g.bus, NULL, NAME, ROOT, MGR, "Readings",
					on_readings, NULL) >= 0);
	assert_true(sd_bus_match_signal(g.bus, NULL, NAME, ROOT, MGR, "Alarm",
					on_alarm, NULL) >= 0);
	assert_true(sd_bus_match_signal(g.bus, NULL, NAME, ROOT,
					"org.freedesktop.DBus.ObjectManager",
					"InterfacesAdded", on_added, NULL) >= 0);
	assert_true(sd_bus_match_signal(g.bus, NULL, NAME, ROOT,
					"org.freedesktop.DBus.ObjectManager",
					"InterfacesRemoved", on_removed, NULL) >= 0);
}

/* sensor0's entry of GetReadings' reply. */
static struct reading get_reading0(void)
{
	sd_bus_message *reply = NULL;
	struct reading r[8];

	assert_true(call(g.bus, ROOT, MGR, "GetReadings", NULL, &reply, NULL) >= 0);
	assert_int_equal(read_readings(reply, r, 8), 3);
	sd_bus_message_unref(reply);
	assert_string_equal(r[0].name, "sensor0");
	return r[0];
}

static void test_new_sample_signals(void **state)
{
	struct reading r0;
	char buf[4096];

	(void)state;
	subscribe();
	pump(g.bus, 150);
	memset(&sig, 0, sizeof(sig));
	/* GetReadings' snapshot of this window, before the sample. */
	assert_int_equal(get_reading0().seq, 1);
	/* One new sample on sensor0: both readings move, temp1 alarms. */
	faketree_set(&g.t, "sensor0", "temp1", "-14000\n");
	faketree_set(&g.t, "sensor0", "temp2", "-16000\n");
	faketree_set(&g.t, "sensor0", "temp1_alarm", "1\n");
	faketree_set(&g.t, "sensor0", "sample_seq", "2\n");
	faketree_set(&g.t, "sensor0", "firmware_state", "ready\n");
	faketree_set(&g.t, "sensor0", "firmware_version", "1.4.2\n");
	reload();
	pump_until(g.bus, &sig.readings, 1, 200);

	/* Coalesced: one PropertiesChanged for the unit, none for the others. */
	assert_int_equal(sig.props[0], 1);
	assert_int_equal(sig.props[1], 0);
	assert_int_equal(sig.props[2], 0);
	for (const char *p = "Temp1Alarm,FirmwareState,FirmwareVersion,"; *p;) {
		char name[32];
		size_t n = strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s,", (int)n, p);
		if (!strstr(sig.props0, name))
			fail_msg("PropertiesChanged lacks %s: %s", name, sig.props0);
		p += n + 1;
	}
	assert_null(strstr(sig.props0, "Label,"));
	/* What changes with every sample comes with the Readings signal only. */
	for (const char *p = "Temp1,Temp2,Temp1Celsius,Temp2Celsius,SampleSeq,LastUpdate,";
	     *p;) {
		char name[32];
		size_t n = strcspn(p, ",");

		snprintf(name, sizeof(name), ",%.*s,", (int)n, p);
		if (strstr(sig.props0, name + 1) == sig.props0 || strstr(sig.props0, name))
			fail_msg("PropertiesChanged has high-rate %s: %s", name + 1, sig.props0);
		p += n + 1;
	}
	/* One batched Readings signal with only the unit that changed. */
	assert_int_equal(sig.readings, 1);
	assert_int_equal(sig.last_n, 1);
	assert_string_equal(sig.last[0].name, "sensor0");
	assert_int_equal(sig.last[0].t1, -14000);
	assert_int_equal(sig.last[0].t2, -16000);
	assert_int_equal(sig.last[0].s1, 1);
	assert_int_equal(sig.last[0].a1, 1);
	assert_int_equal(sig.last[0].a2, 0);
	assert_int_equal(sig.last[0].seq, 2);
	assert_int_equal(get_num(U0, "Number", 'u'), 0);
	/* The window's end made GetReadings take a new snapshot. */
	r0 = get_reading0();
	assert_int_equal(r0.seq, 2);
	assert_int_equal(r0.t1, -14000);
	assert_int_equal(r0.a1, 1);
	/* One Alarm. */
	assert_int_equal(sig.alarms, 1);
	assert_string_equal(sig.alarm_unit, U0);
	assert_int_equal(sig.alarm_channel, 1);
	assert_int_equal(sig.alarm_active, 1);
	assert_int_equal(sig.alarm_temp, -14000);
	assert_int_equal(get_num(U0, "Temp1Alarm", 'b'), 1);
	/* AlarmDelaySec=0: the alarm is raised at once, and awaits an answer. */
	notify_wait_for(buf, sizeof(buf), "STATUS=3 units, 1 ready, 1 alarm, 1 not acknowledged\n");

	/* Nothing new: nothing sent. */
	memset(&sig, 0, sizeof(sig));
	reload();
	pump(g.bus, 300);
	assert_int_equal(sig.props[0] + sig.props[1] + sig.props[2], 0);
	assert_int_equal(sig.readings, 0);
	assert_int_equal(sig.alarms, 0);

	/* The alarm clears. */
	faketree_set(&g.t, "sensor0", "temp1_alarm", "0\n");
	faketree_set(&g.t, "sensor0", "sample_seq", "3\n");
	reload();
	pump_until(g.bus, &sig.alarms, 1, 100);
	assert_int_equal(sig.alarms, 1);
	assert_int_equal(sig.alarm_active, 0);
}

static void test_temp_status(void **state)
{
	char path[600];
	double c = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/class/coldroom/sensor1/temp2", g.t.sys);
	assert_int_equal(unlink(path), 0);
	reload();
	assert_int_equal(get_num(U1, "Temp2Status", 'u'), 0);
	assert_int_equal(get_num(U1, "Temp2", 'i'), 0);
	assert_int_equal(sd_bus_get_property_trivial(g.bus, NAME, U1, UNIT, "Temp2Celsius",
						     NULL, 'd', &c), 0);
	assert_true(isnan(c));
	faketree_set(&g.t, "sensor1", "temp2", "-17500\n");
	reload();
	assert_int_equal(get_num(U1, "Temp2Status", 'u'), 1);
	assert_int_equal(get_num(U1, "Temp2", 'i'), -17500);
}

static void test_setters(void **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;

	(void)state;
	subscribe();
	pump(g.bus, 100);
	memset(&sig, 0, sizeof(sig));
	assert_true(call(g.bus, U0, UNIT, "SetLabel", &e, NULL, "s", "Cold room B") >= 0);
	expect_attr("sensor0", "label", "Cold room B");
	prop_is(U0, "Label", "Cold room B");
	pump_until(g.bus, &sig.props[0], 1, 150);
	assert_int_equal(sig.props[0], 1);
	assert_non_null(strstr(sig.props0, "Label,"));

	/* New min below the old max: min first. */
	assert_true(call(g.bus, U0, UNIT, "SetThresholds", &e, NULL, "uiii", 1,
			 -30000, -20000, 400) >= 0);
	expect_attr("sensor0", "temp1_min", "-30000");
	expect_attr("sensor0", "temp1_max", "-20000");
	expect_attr("sensor0", "temp1_hyst", "400");
	assert_int_equal(get_num(U0, "Temp1Max", 'i'), -20000);
	/* New min above the old max (-15000): max first. */
	assert_true(call(g.bus, U0, UNIT, "SetThresholds", &e, NULL, "uiii", 2,
			 -10000, 5000, 1000) >= 0);
	expect_attr("sensor0", "temp2_min", "-10000");
	expect_attr("sensor0", "temp2_max", "5000");
	expect_attr("sensor0", "temp2_hyst", "1000");
	assert_true(call(g.bus, U0, UNIT, "SetInterval", &e, NULL, "u", 5000) >= 0);
	expect_attr("sensor0", "update_interval_ms", "5000");
	assert_int_equal(get_num(U0, "UpdateIntervalMs", 'u'), 5000);
	assert_true(call(g.bus, U0, UNIT, "ReloadFirmware", &e, NULL, NULL) >= 0);
	expect_attr("sensor0", "firmware_reload", "1");
}

static void test_bad_arguments(void **state)
{
	static const char *const labels[] = {
		"", " lead", "trail ", "tab\there", "caf\xc3\xa9",
		"123456789012345678901234567890123",
	};
	static const int32_t thresholds[][4] = {
		{ 0, -20000, -10000, 100 },	/* channel 0 */
		{ 3, -20000, -10000, 100 },	/* channel 3 */
		{ 1, -10000, -10000, 100 },	/* min == max */
		{ 1, -10000, -20000, 100 },	/* min > max */
		{ 1, -60001, -10000, 100 },	/* min too low */
		{ 1, -10000, 60001, 100 },	/* max too high */
		{ 1, -20000, -10000, -1 },	/* negative hysteresis */
		{ 1, -20000, 30000, 10001 },	/* hysteresis too wide */
		{ 1, -20000, -19000, 1000 },	/* hysteresis not narrower than the band */
		{ 1, -20000, -18000, 1000 },	/* clear band -19000..-19000: empty */
		{ 1, -20000, -18000, 1500 },	/* clear band -18500..-19500: empty */
	};
	static const uint32_t intervals[] = { 0, 99, 3600001, UINT32_MAX };
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char path[600], saved[620];
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		r = call(g.bus, U1, UNIT, "SetLabel", &e, NULL, "s", labels[i]);
		expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "label");
	}
	expect_attr("sensor1", "label", "Unit");
	for (size_t i = 0; i < sizeof(thresholds) / sizeof(thresholds[0]); i++) {
		r = call(g.bus, U1, UNIT, "SetThresholds", &e, NULL, "uiii",
			 (uint32_t)thresholds[i][0], thresholds[i][1], thresholds[i][2],
			 thresholds[i][3]);
		expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, NULL);
	}
	expect_attr("sensor1", "temp1_min", "-25000");
	expect_attr("sensor1", "temp1_max", "-15000");
	expect_attr("sensor1", "temp1_hyst", "500");

	/*
	 * A write that fails half-way (the last step, narrowing max, after min
	 * and the hysteresis were written): the steps done are undone, the
	 * error names the write that failed, and the properties are the tree.
	 * temp1_max a directory: the write fails, the old value stays known.
	 */
	snprintf(path, sizeof(path), "%s/class/coldroom/sensor1/temp1_max", g.t.sys);
	snprintf(saved, sizeof(saved), "%s.saved", path);
	assert_int_equal(rename(path, saved), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	r = call(g.bus, U1, UNIT, "SetThresholds", &e, NULL, "uiii", 1, -30000, -20000, 100);
	expect_error(&e, r, "org.coldroom.Sensors1.Error.WriteFailed", "temp1_max");
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rename(saved, path), 0);
	expect_attr("sensor1", "temp1_min", "-25000");
	expect_attr("sensor1", "temp1_max", "-15000");
	expect_attr("sensor1", "temp1_hyst", "500");
	assert_int_equal(get_num(U1, "Temp1Min", 'i'), -25000);
	assert_int_equal(get_num(U1, "Temp1Max", 'i'), -15000);
	assert_int_equal(get_num(U1, "Temp1Hyst", 'i'), 500);

	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
		r = call(g.bus, U1, UNIT, "SetInterval", &e, NULL, "u", intervals[i]);
		expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "interval");
	}
	expect_attr("sensor1", "update_interval_ms", "1000");

	/* Wrong types and counts are refused by sd-bus before any code runs. */
	r = call(g.bus, U1, UNIT, "SetLabel", &e, NULL, "i", 5);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, NULL);
	r = call(g.bus, U1, UNIT, "SetThresholds", &e, NULL, "uii", 1, -2, -1);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, NULL);
	r = call(g.bus, U1, UNIT, "SetInterval", &e, NULL, "i", 1000);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, NULL);
	r = call(g.bus, U1, UNIT, "ReloadFirmware", &e, NULL, "u", 1);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, NULL);
	r = call(g.bus, ROOT, MGR, "GetReadings", &e, NULL, "s", "x");
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, NULL);

	/* Objects and methods that do not exist. */
	r = call(g.bus, ROOT "/unit/sensor99", UNIT, "SetLabel", &e, NULL, "s", "x");
	expect_error(&e, r, SD_BUS_ERROR_UNKNOWN_OBJECT, NULL);
	r = call(g.bus, U1, UNIT, "SetColour", &e, NULL, "s", "x");
	expect_error(&e, r, SD_BUS_ERROR_UNKNOWN_METHOD, NULL);

	/* The unit's attribute is gone (unplugged while we were asked). */
	snprintf(path, sizeof(path), "%s/class/coldroom/sensor2/label", g.t.sys);
	assert_int_equal(unlink(path), 0);
	r = call(g.bus, U2, UNIT, "SetLabel", &e, NULL, "s", "Gone");
	expect_error(&e, r, "org.coldroom.Sensors1.Error.NoSuchUnit", "sensor2");
	faketree_set(&g.t, "sensor2", "label", "Unit\n");
}

/*
 * Run @fn as nobody in a child, with the supplementary groups @gids set on
 * its process only; its exit status is the result.
 */
static int as_nobody_with_groups(int (*fn)(const char *addr), const char *addr,
				 const gid_t *gids, size_t n)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(n, gids) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(100);
		_exit(fn(addr));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int as_nobody(int (*fn)(const char *addr), const char *addr)
{
	return as_nobody_with_groups(fn, addr, NULL, 0);
}

/* 0: reads work, every change is refused with AccessDenied saying @why. */
static int nobody_reads_but_cannot_change(const char *addr, const char *why)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	char *label = NULL;
	int r;

	if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, addr) < 0 ||
	    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
		return 10;
	if (call(bus, ROOT, MGR, "GetReadings", NULL, &reply, NULL) < 0)
		return 11;
	sd_bus_message_unref(reply);
	if (sd_bus_get_property_string(bus, NAME, U0, UNIT, "Label", NULL, &label) < 0)
		return 12;
	free(label);
	if (call(bus, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
		 NULL, &reply, NULL) < 0)
		return 13;
	sd_bus_message_unref(reply);
	r = call(bus, U0, UNIT, "SetLabel", &e, NULL, "s", "Hacked");
	if (r >= 0 || strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED) || !strstr(e.message, why))
		return 20;
	sd_bus_error_free(&e);
	r = call(bus, U0, UNIT, "SetThresholds", &e, NULL, "uiii", 1, -20000, -10000, 100);
	if (r >= 0 || strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED))
		return 21;
	sd_bus_error_free(&e);
	r = call(bus, U0, UNIT, "SetInterval", &e, NULL, "u", 2000);
	if (r >= 0 || strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED))
		return 22;
	sd_bus_error_free(&e);
	r = call(bus, U0, UNIT, "ReloadFirmware", &e, NULL, NULL);
	if (r >= 0 || strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED))
		return 23;
	sd_bus_error_free(&e);
	r = call(bus, ROOT, MGR, "Reload", &e, NULL, NULL);
	if (r >= 0 || strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED))
		return 24;
	sd_bus_error_free(&e);
	/* Bad arguments are refused before anyone is asked (no password for nothing). */
	r = call(bus, U0, UNIT, "SetInterval", &e, NULL, "u", 1);
	if (r >= 0 || strcmp(e.name, SD_BUS_ERROR_INVALID_ARGS))
		return 25;
	sd_bus_error_free(&e);
	/* nobody cannot take the daemon's name either (on the policy bus). */
	sd_bus_flush_close_unref(bus);
	return 0;
}

static int daemon_check(const char *addr)
{
	return nobody_reads_but_cannot_change(addr, "nobody is not allowed to org.coldroom.sensors.configure");
}

static int policy_check(const char *addr)
{
	/* The policy lets the call through: coldroomd (polkit) decides. */
	int r = nobody_reads_but_cannot_change(addr, "not allowed to org.coldroom.sensors.configure");
	sd_bus *bus = NULL;

	if (r)
		return r;
	if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, addr) < 0 ||
	    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
		return 30;
	r = sd_bus_request_name(bus, NAME, SD_BUS_NAME_QUEUE);
	sd_bus_flush_close_unref(bus);
	return r == -EACCES ? 0 : 31;
}

static void test_daemon_checks_callers(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	/* The open bus lets everything through: the daemon must say no. */
	assert_int_equal(as_nobody(daemon_check, g.open_addr), 0);
	expect_attr("sensor0", "label", "Cold room B");
}

/* 0: SetLabel is allowed; 1: refused with AccessDenied; else broken. */
static int try_set_label(const char *addr)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r;

	if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, addr) < 0 ||
	    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
		return 10;
	r = call(bus, U0, UNIT, "SetLabel", &e, NULL, "s", "Group room");
	sd_bus_flush_close_unref(bus);
	if (r >= 0)
		return 0;
	return !strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED) ? 1 : 11;
}

static void set_admin_group(const char *group)
{
	char text[1024];
	char *conf = slurp(g.t.conf, NULL), *line = strstr(conf, "AdminGroup=");

	if (line)
		*line = '\0';	/* the test's own line is the last one */
	snprintf(text, sizeof(text), "%sAdminGroup=%s\n", conf, group);
	write_file(g.t.conf, text, strlen(text));
	free(conf);
	reload();
}

/*
 * Membership of the admin group comes from the user database, not from
 * the groups a caller's process carries: nobody is let in when the group
 * is its own (nogroup, its primary group in passwd), and refused when it
 * only put the group on its process with setgroups().
 */
static void test_admin_group_from_user_database(void **state)
{
	struct passwd *pw;
	struct group *other;
	gid_t gid;

	(void)state;
	if (geteuid() != 0)
		skip();
	pw = getpwuid(NOBODY);
	other = getgrnam("adm");
	if (!pw || !getgrgid(pw->pw_gid) || !other)
		skip();
	gid = other->gr_gid;
	set_admin_group(getgrgid(pw->pw_gid)->gr_name);
	assert_int_equal(as_nobody(try_set_label, g.open_addr), 0);
	expect_attr("sensor0", "label", "Group room");
	set_admin_group("adm");
	assert_int_equal(as_nobody_with_groups(try_set_label, g.open_addr, &gid, 1), 1);
	set_admin_group("coldroom-admin");
	assert_true(call(g.bus, U0, UNIT, "SetLabel", NULL, NULL, "s", "Cold room B") >= 0);
}

/* ---- polkit ---- */

#define PK_ACK		"org.coldroom.sensors.acknowledge"
#define PK_CONFIGURE	"org.coldroom.sensors.configure"

static struct {
	char verdicts[600], log[600];
	const char *method;		/* SetLabel, SetInterval or Acknowledge */
	uint32_t interval;
	bool interactive;
	int refused;			/* AuthorizationRefused signals seen */
	char action[64], reason[512];
	uint32_t uid, probe;
} pk;

static void pk_verdicts(const char *text)
{
	write_file(pk.verdicts, text, strlen(text));
}

static int pk_log_lines(void)
{
	size_t len = 0;
	char *s = slurp(pk.log, &len);
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	free(s);
	return n;
}

static int on_refused(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *action, *unit, *user, *reason;

	(void)userdata, (void)e;
	assert_true(sd_bus_message_read(m, "ssuuss", &action, &unit, &pk.probe, &pk.uid, &user,
					&reason) >= 0);
	snprintf(pk.action, sizeof(pk.action), "%s", action);
	snprintf(pk.reason, sizeof(pk.reason), "%s", reason);
	pk.refused++;
	return 0;
}

static sd_bus_message *pk_new_call(sd_bus *bus)
{
	sd_bus_message *m = NULL;
	bool ack = !strcmp(pk.method, "Acknowledge");
	int r;

	r = sd_bus_message_new_method_call(bus, &m, NAME, ack ? ROOT : U0, ack ? MGR : UNIT,
					   pk.method);
	if (r >= 0 && ack)
		r = sd_bus_message_append(m, "sus", "sensor0", 2, "checked the door");
	else if (r >= 0 && !strcmp(pk.method, "SetInterval"))
		r = sd_bus_message_append(m, "u", pk.interval);
	else if (r >= 0)
		r = sd_bus_message_append(m, "s", "Signed room");
	if (r >= 0)
		r = sd_bus_message_set_allow_interactive_authorization(m, pk.interactive);
	if (r < 0) {
		sd_bus_message_unref(m);
		return NULL;
	}
	return m;
}

/*
 * pk.method as nobody: 0 done, 1 AccessDenied, 2 interactive authorization
 * required, 3 limits exceeded, 4 no such alarm, 5 invalid arguments.
 */
static int pk_call(const char *addr)
{
	static const char *const errors[] = {
		SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
		SD_BUS_ERROR_LIMITS_EXCEEDED, "org.coldroom.Sensors1.Error.NoSuchAlarm",
		SD_BUS_ERROR_INVALID_ARGS,
	};
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = connect_to(addr);
	sd_bus_message *m = pk_new_call(bus);
	int r = m ? sd_bus_call(bus, m, 10 * 1000000, &e, NULL) : -ENOMEM;

	sd_bus_message_unref(m);
	sd_bus_flush_close_unref(bus);
	if (r >= 0)
		return 0;
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (sd_bus_error_has_name(&e, errors[i]))
			return (int)i + 1;
	return 11;
}

/*
 * While polkit holds its answers (a person reading the prompt), one caller
 * has at most 4 checks pending: the fifth is refused at once, and the
 * daemon answers everyone else meanwhile.
 */
static int pk_flood(const char *addr)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = connect_to(addr);
	struct timespec start;
	int r;

	for (int i = 0; i < 4; i++) {
		sd_bus_message *m = pk_new_call(bus);

		if (!m || sd_bus_call_async(bus, NULL, m, NULL, NULL, 60 * 1000000) < 0)
			return 10;
		sd_bus_message_unref(m);
	}
	if (sd_bus_flush(bus) < 0)
		return 11;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (pk_log_lines() < 4) {
		if (ms_since(&start) > 20000)
			return 12;
		usleep(10000);
	}
	if (call(bus, ROOT, MGR, "GetReadings", NULL, &reply, NULL) < 0)
		return 13;
	sd_bus_message_unref(reply);
	reply = pk_new_call(bus);
	r = reply ? sd_bus_call(bus, reply, 10 * 1000000, &e, NULL) : -ENOMEM;
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_LIMITS_EXCEEDED) ? 0 : 14;
}

static void pk_expect(const char *method, bool interactive, int want)
{
	pk.method = method;
	pk.interactive = interactive;
	assert_int_equal(as_nobody(pk_call, g.open_addr), want);
}

/* The refusal was audited: one more AuthorizationRefused, with @action and @how. */
static void pk_expect_refused(int *seen, const char *action, const char *how)
{
	pump_until(g.bus, &pk.refused, *seen + 1, 50);
	assert_int_equal(pk.refused, *seen + 1);
	*seen = pk.refused;
	assert_string_equal(pk.action, action);
	assert_int_equal(pk.uid, NOBODY);
	if (strncmp(pk.reason, how, strlen(how)))
		fail_msg("refusal reason '%s' does not start with '%s'", pk.reason, how);
}

static void test_polkit(void **state)
{
	sd_bus_slot *slot = NULL;
	char *log;
	int seen = 0, lines;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(pk.verdicts, sizeof(pk.verdicts), "%s/polkit-verdicts", g.t.root);
	snprintf(pk.log, sizeof(pk.log), "%s/polkit.log", g.t.root);
	write_file(pk.log, "", 0);
	chmod(pk.log, 0644);
	pk_verdicts("");
	g.mock_polkit = fork();
	assert_true(g.mock_polkit >= 0);
	if (g.mock_polkit == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(getenv("MOCK_POLKIT"), "mock_polkit", g.open_addr, pk.verdicts, pk.log,
		      (char *)NULL);
		_exit(127);
	}
	assert_true(sd_bus_match_signal(g.bus, &slot, NAME, ROOT, MGR, "AuthorizationRefused",
					on_refused, NULL) >= 0);
	/* A viewer: no right to configure; nothing changes, the attempt is audited. */
	pk_verdicts("65534 * no\n");
	{
		struct timespec start;
		int calls = pk.refused;

		/* The authority is up once it answers the daemon (each refusal is audited). */
		clock_gettime(CLOCK_MONOTONIC, &start);
		while (pk_log_lines() == 0) {
			pk_expect("SetLabel", true, 1);
			calls++;
			if (ms_since(&start) > 20000)
				fail_msg("the mock polkit authority never answered");
		}
		pump_until(g.bus, &pk.refused, calls, 0);
		seen = pk.refused;
	}
	pk_expect("SetLabel", true, 1);
	pk_expect_refused(&seen, PK_CONFIGURE, "denied");
	expect_attr("sensor0", "label", "Cold room B");
	pk_expect("Acknowledge", true, 1);
	pk_expect_refused(&seen, PK_ACK, "denied");
	assert_int_equal(pk.probe, 2);

	/* An operator without an agent: told to authenticate, nothing changes. */
	pk_verdicts("65534 * auth-ok\n");
	pk_expect("SetLabel", false, 2);
	pk_expect_refused(&seen, PK_CONFIGURE, "no agent");
	expect_attr("sensor0", "label", "Cold room B");
	/* A wrong password, a dismissed prompt: refused, audited, unchanged. */
	pk_verdicts("65534 * auth-wrong\n");
	pk_expect("SetLabel", true, 1);
	pk_expect_refused(&seen, PK_CONFIGURE, "denied");
	pk_verdicts("65534 * auth-cancel\n");
	pk_expect("SetLabel", true, 1);
	pk_expect_refused(&seen, PK_CONFIGURE, "cancelled");
	expect_attr("sensor0", "label", "Cold room B");

	/* The right password: done, the subject being the caller's bus name. */
	pk_verdicts("65534 * auth-ok\n");
	pk_expect("SetLabel", true, 0);
	expect_attr("sensor0", "label", "Signed room");
	log = slurp(pk.log, NULL);
	assert_non_null(strstr(log, "65534 " PK_CONFIGURE " 1 system-bus-name\n"));
	assert_non_null(strstr(log, "65534 " PK_CONFIGURE " 0 system-bus-name\n"));
	free(log);
	/* Acknowledging is its own action: allowed, and then there is no alarm to take. */
	pk_verdicts("65534 " PK_CONFIGURE " no\n65534 " PK_ACK " auth-ok\n");
	pk_expect("Acknowledge", true, 4);
	pk_expect("SetLabel", true, 1);
	pk_expect_refused(&seen, PK_CONFIGURE, "denied");

	/* Bad arguments are refused before anyone is asked for a password. */
	lines = pk_log_lines();
	pk.interval = 1;
	pk_expect("SetInterval", true, 5);
	assert_int_equal(pk_log_lines(), lines);

	/* Checks pending are bounded per caller; root is not asked at all. */
	pk_verdicts("65534 * hold\n");
	pk.method = "SetLabel";
	pk.interactive = true;
	write_file(pk.log, "", 0);
	assert_int_equal(as_nobody(pk_flood, g.open_addr), 0);
	assert_true(call(g.bus, U0, UNIT, "SetLabel", NULL, NULL, "s", "Cold room B") >= 0);
	expect_attr("sensor0", "label", "Cold room B");
	assert_int_equal(pk_log_lines(), 4);

	/* Without an authority on the bus, the groups of coldroomd.conf decide again. */
	assert_int_equal(stop(g.mock_polkit), 0);
	g.mock_polkit = 0;
	sd_bus_slot_unref(slot);
	wait_for_name(g.bus);
}

static void test_policy_file(void **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char path[600], sock[600];
	sd_bus *bus;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/policy-bus.conf", g.t.root);
	snprintf(sock, sizeof(sock), "%s/system.sock", g.t.root);
	write_bus_config(path, sock, getenv("POLICY"));
	g.policy_bus = spawn_bus(path, g.policy_addr, sizeof(g.policy_addr));
	g.policy_daemon = spawn_daemon(g.policy_addr, false);
	bus = connect_to(g.policy_addr);
	wait_for_name(bus);
	assert_int_equal(as_nobody(policy_check, g.policy_addr), 0);
	/* root passes the policy. */
	assert_true(call(bus, U0, UNIT, "SetLabel", &e, NULL, "s", "Via policy bus") >= 0);
	expect_attr("sensor0", "label", "Via policy bus");
	sd_bus_flush_close_unref(bus);
	assert_int_equal(stop(g.policy_daemon), 0);
	g.policy_daemon = 0;
}

static void test_reload_config(void **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *good, *err = NULL;
	size_t len;
	int r;

	(void)state;
	good = slurp(g.t.conf, &len);
	write_file(g.t.conf, "ReadingsBatchMs=fast\n", 21);
	r = call(g.bus, ROOT, MGR, "Reload", &e, NULL, NULL);
	expect_error(&e, r, "org.coldroom.Sensors1.Error.ConfigInvalid",
		     "coldroomd.conf:1: ReadingsBatchMs=fast is out of range");
	assert_int_equal(sd_bus_get_property_string(g.bus, NAME, ROOT, MGR, "ConfigError",
						    NULL, &err), 0);
	assert_non_null(strstr(err, "ReadingsBatchMs=fast"));
	free(err);
	/* The old configuration still serves: the model blob is still found. */
	faketree_add_fallback(&g.t, FW0);
	r = call(g.bus, ROOT, MGR, "Reload", &e, NULL, NULL);
	sd_bus_error_free(&e);
	(void)r;
	{
		char *src = faketree_fallback_path(&g.t, FW0, "loading");
		char *v = slurp(src, NULL);

		assert_string_equal(v, "0");
		free(v);
		free(src);
	}
	write_file(g.t.conf, good, len);
	reload();
	assert_int_equal(sd_bus_get_property_string(g.bus, NAME, ROOT, MGR, "ConfigError",
						    NULL, &err), 0);
	assert_string_equal(err, "");
	free(err);
	free(good);

	/* A bad drop-in is refused alike, by its name and line. */
	faketree_put(&g.t, "coldroomd.conf.d/50-bad.conf", "\nUnitPropertiesChanged=maybe\n");
	r = call(g.bus, ROOT, MGR, "Reload", &e, NULL, NULL);
	expect_error(&e, r, "org.coldroom.Sensors1.Error.ConfigInvalid",
		     "coldroomd.conf.d/50-bad.conf:2: UnitPropertiesChanged=maybe must be yes or no");
	faketree_link(&g.t, "coldroomd.conf.d/50-bad.conf", "/dev/null");
	reload();
	assert_int_equal(sd_bus_get_property_string(g.bus, NAME, ROOT, MGR, "ConfigError",
						    NULL, &err), 0);
	assert_string_equal(err, "");
	free(err);
}

/* One new sample of sensor0 gives exactly one Readings signal, with it. */
static void expect_one_readings_signal(void)
{
	char seq[32];
	uint64_t next = (uint64_t)get_reading0().seq + 1;

	memset(&sig, 0, sizeof(sig));
	snprintf(seq, sizeof(seq), "%llu\n", (unsigned long long)next);
	faketree_set(&g.t, "sensor0", "sample_seq", seq);
	reload();
	pump_until(g.bus, &sig.readings, 1, 300);
	assert_int_equal(sig.readings, 1);
	assert_int_equal(sig.last_n, 1);
	assert_string_equal(sig.last[0].name, "sensor0");
	assert_int_equal(sig.last[0].seq, next);
}

/*
 * The window's source is kept from window to window: a Reload that turns
 * the window off (ReadingsBatchMs=0: at the end of each loop iteration)
 * and on again replaces it, and no window is lost or sent twice.
 */
static void test_reload_switches_window(void **state)
{
	static const char key[] = "ReadingsBatchMs=50\n";
	char *good, *off, *at;
	size_t len;

	(void)state;
	subscribe();
	pump(g.bus, 150);
	good = slurp(g.t.conf, &len);
	at = strstr(good, key);
	assert_non_null(at);
	assert_true(asprintf(&off, "%.*sReadingsBatchMs=0\n%s", (int)(at - good), good,
			     at + strlen(key)) > 0);
	expect_one_readings_signal();
	write_file(g.t.conf, off, strlen(off));
	reload();
	expect_one_readings_signal();
	expect_one_readings_signal();
	write_file(g.t.conf, good, len);
	reload();
	expect_one_readings_signal();
	expect_one_readings_signal();
	free(off);
	free(good);
}

static void test_units_come_and_go(void **state)
{
	char path[600];
	uint32_t count = 0;

	(void)state;
	subscribe();
	pump(g.bus, 100);
	memset(&sig, 0, sizeof(sig));
	faketree_add_unit(&g.t, "sensor10", "CRS-200", "SIM-000010");
	reload();
	pump_until(g.bus, &sig.added, 1, 100);
	assert_int_equal(sig.added, 1);
	assert_int_equal(sd_bus_get_property_trivial(g.bus, NAME, ROOT, MGR, "UnitCount",
						     NULL, 'u', &count), 0);
	assert_int_equal(count, 4);
	prop_is(ROOT "/unit/sensor10", "Serial", "SIM-000010");
	snprintf(path, sizeof(path), "rm -r '%s/class/coldroom/sensor10'", g.t.sys);
	assert_int_equal(system(path), 0);
	reload();
	pump_until(g.bus, &sig.removed, 1, 100);
	assert_int_equal(sig.removed, 1);
	assert_int_equal(sd_bus_get_property_trivial(g.bus, NAME, ROOT, MGR, "UnitCount",
						     NULL, 'u', &count), 0);
	assert_int_equal(count, 3);
}

static void test_sighup(void **state)
{
	(void)state;
	faketree_set(&g.t, "sensor1", "temp1", "-19000\n");
	faketree_set(&g.t, "sensor1", "sample_seq", "7\n");
	kill(g.daemon, SIGHUP);
	for (int i = 0; i < 200 && get_num(U1, "Temp1", 'i') != -19000; i++)
		usleep(10000);
	assert_int_equal(get_num(U1, "Temp1", 'i'), -19000);
	assert_int_equal(get_num(U1, "SampleSeq", 't'), 7);
}

/* Last: SIGTERM ends it cleanly, and LeakSanitizer finds nothing. */
static void test_sigterm(void **state)
{
	(void)state;
	assert_int_equal(stop(g.daemon), 0);
	g.daemon = 0;
}

/* ---- the alarm lifecycle ---- */

/* What the fake systemd and the AlarmChanged signals saw. */
static struct {
	char started[8][256];
	char exec[8][256];		/* ExecStart's argv, one space between */
	char env[8][2048];		/* Environment: "\nKEY=VALUE\n...\n" */
	char description[8][256];
	char props[8][512];		/* the other properties' names, "Name " each */
	int n_started;
	char events[16][32];
	uint32_t states[16];
	int n_events;
} al;

/* @v's strings into @out as "SEP s SEP s ... SEP" (SEP '\n') or "s s" (' '). */
static void join_strv(sd_bus_message *m, char sep, char *out, size_t size)
{
	char **v = NULL;
	size_t len = 0;

	assert_true(sd_bus_message_read_strv(m, &v) >= 0);
	out[0] = '\0';
	if (sep == '\n')
		len += (size_t)snprintf(out, size, "\n");
	for (char **p = v; p && *p; p++) {
		len += (size_t)snprintf(out + len, size - len, "%s%s", *p,
					sep == '\n' || p[1] ? (sep == '\n' ? "\n" : " ") : "");
		assert_true(len < size);
		free(*p);
	}
	free(v);
}

/* StartTransientUnit(name, mode, properties, aux): records what coldroomd asked for. */
static int fake_start_transient_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *name, *mode, *prop;
	int n = al.n_started;

	(void)userdata, (void)error;
	assert_int_equal(sd_bus_message_read(m, "ss", &name, &mode), 1);
	assert_string_equal(mode, "fail");
	assert_true(n < 8);
	snprintf(al.started[n], sizeof(al.started[0]), "%s", name);
	al.exec[n][0] = al.env[n][0] = al.description[n][0] = al.props[n][0] = '\0';
	assert_int_equal(sd_bus_message_enter_container(m, 'a', "(sv)"), 1);
	while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
		assert_int_equal(sd_bus_message_read(m, "s", &prop), 1);
		if (!strcmp(prop, "ExecStart")) {
			const char *path;
			int ignore;

			assert_int_equal(sd_bus_message_enter_container(m, 'v', "a(sasb)"), 1);
			assert_int_equal(sd_bus_message_enter_container(m, 'a', "(sasb)"), 1);
			assert_int_equal(sd_bus_message_enter_container(m, 'r', "sasb"), 1);
			assert_int_equal(sd_bus_message_read(m, "s", &path), 1);
			join_strv(m, ' ', al.exec[n], sizeof(al.exec[0]));
			assert_string_equal(path, "/usr/libexec/coldroom/coldroom-notify");
			assert_int_equal(sd_bus_message_read(m, "b", &ignore), 1);
			assert_false(ignore);
			assert_true(sd_bus_message_exit_container(m) >= 0);
			assert_int_equal(sd_bus_message_enter_container(m, 'r', "sasb"), 0);
			assert_true(sd_bus_message_exit_container(m) >= 0);
			assert_true(sd_bus_message_exit_container(m) >= 0);
		} else if (!strcmp(prop, "Environment")) {
			assert_int_equal(sd_bus_message_enter_container(m, 'v', "as"), 1);
			join_strv(m, '\n', al.env[n], sizeof(al.env[0]));
			assert_true(sd_bus_message_exit_container(m) >= 0);
		} else if (!strcmp(prop, "Description")) {
			const char *v;

			assert_int_equal(sd_bus_message_read(m, "v", "s", &v), 1);
			snprintf(al.description[n], sizeof(al.description[0]), "%s", v);
		} else {
			size_t len = strlen(al.props[n]);

			snprintf(al.props[n] + len, sizeof(al.props[0]) - len, "%s ", prop);
			assert_true(sd_bus_message_skip(m, "v") >= 0);
		}
		assert_true(sd_bus_message_exit_container(m) >= 0);
	}
	assert_true(sd_bus_message_exit_container(m) >= 0);
	assert_true(sd_bus_message_skip(m, "a(sa(sv))") >= 0);
	al.n_started++;
	return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/1");
}

static const sd_bus_vtable fake_systemd_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", fake_start_transient_unit,
		      SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

static int on_alarm_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *event;
	uint64_t id;
	const char *serial, *unit;
	uint32_t probe, st;

	(void)userdata, (void)error;
	assert_true(sd_bus_message_read(m, "tsssuu", &id, &event, &serial, &unit, &probe,
					&st) > 0);
	assert_true(al.n_events < 16);
	snprintf(al.events[al.n_events], sizeof(al.events[0]), "%s", event);
	al.states[al.n_events++] = st;
	return 0;
}

/* The open alarms as "[KIND:]SERIAL/PROBE/STATE/USER/COMMENT;...", no KIND for temperature */
static void list_alarms(sd_bus *bus, char *out, size_t size)
{
	sd_bus_message *reply = NULL;
	size_t len = 0;

	out[0] = '\0';
	assert_true(call(bus, ROOT, MGR, "ListAlarms", NULL, &reply, NULL) >= 0);
	assert_int_equal(sd_bus_message_enter_container(reply, 'a', "(tssuuuitttusss)"), 1);
	for (;;) {
		const char *serial, *unit, *user, *comment, *kind;
		uint64_t id, raised, cleared, acked;
		uint32_t probe, st, level, uid;
		int32_t temp;
		int r = sd_bus_message_read(reply, "(tssuuuitttusss)", &id, &serial, &unit, &probe,
					    &st, &level, &temp, &raised, &cleared, &acked, &uid,
					    &user, &comment, &kind);

		assert_true(r >= 0);
		if (!r)
			break;
		if (strcmp(kind, "temperature"))
			len += (size_t)snprintf(out + len, size - len, "%s:", kind);
		len += (size_t)snprintf(out + len, size - len, "%s/%u/%u/%s/%s;", serial, probe, st,
					user, comment);
	}
	sd_bus_message_unref(reply);
}

static int ack_as(const char *addr)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = connect_to(addr);
	int r = call(bus, ROOT, MGR, "Acknowledge", &e, NULL, "sus", "sensor1", 1, "not mine");

	sd_bus_flush_close_unref(bus);
	if (r >= 0)
		return 0;
	return !strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED) ? 1 : 11;
}

static int set_delay_as(const char *addr)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = connect_to(addr);
	int r = call(bus, U1, UNIT, "SetAlarmDelay", &e, NULL, "uu", 2, 5);

	sd_bus_flush_close_unref(bus);
	if (r >= 0)
		return 0;
	return !strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED) ? 1 : 11;
}

/* coldroomd keeping its alarms in @state_dir; reading records from @fifo unless NULL. */
static pid_t spawn_alarm_daemon(const char *conf, const char *state_dir, const char *fifo)
{
	const char *argv[] = { "coldroomd", "--bus", g.open_addr, "--sysfs-root", g.t.sys,
			       "--config", conf, "--state-dir", state_dir,
			       fifo ? "--records-from" : NULL, fifo, NULL };
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		unsetenv("NOTIFY_SOCKET");
		execv(getenv("COLDROOMD"), (char **)argv);
		_exit(127);
	}
	wait_for_name(g.bus);
	return pid;
}

static void set_tree_condition(const char *alarm, const char *temp, const char *seq)
{
	faketree_set(&g.t, "sensor1", "temp1", temp);
	faketree_set(&g.t, "sensor1", "temp1_alarm", alarm);
	faketree_set(&g.t, "sensor1", "sample_seq", seq);
}

static void set_condition(const char *alarm, const char *temp, const char *seq)
{
	set_tree_condition(alarm, temp, seq);
	reload();
}

/* A label with what a shell or an EnvironmentFile= would take apart. */
#define AWKWARD_LABEL "Room \"B\" $HOME \\x41 'C'"

/*
 * An alarm is raised only once its condition held for the delay, starts
 * coldroom-alarm@ as a transient unit with its facts as its environment,
 * passed verbatim, and, unanswered, coldroom-escalate@; a
 * plain user cannot acknowledge it, root can, with a comment; one that
 * cleared unanswered stays listed until acknowledged; a blip shorter than
 * the delay raises nothing; open alarms survive a restart.
 */
static void test_alarm_lifecycle(void **state)
{
	char conf[600], state_dir[600], list[2048], *base, text[4096];
	sd_bus_slot *alarm_slot = NULL;
	sd_bus *sys;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct timespec start;
	pid_t daemon;
	uint32_t unacked = 0;
	int r;

	(void)state;
	memset(&al, 0, sizeof(al));
	snprintf(state_dir, sizeof(state_dir), "%s/state", g.t.root);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	faketree_set(&g.t, "sensor1", "label", AWKWARD_LABEL "\n");
	snprintf(conf, sizeof(conf), "%s/alarms.conf", g.t.root);
	base = slurp(g.t.conf, NULL);
	/* Delays long enough that a loaded machine cannot outrun them. */
	snprintf(text, sizeof(text), "%sAlarmDelaySec=3\nEscalateAfterSec=6\n", base);
	free(base);
	write_file(conf, text, strlen(text));
	set_tree_condition("0\n", "-20000\n", "10\n");

	/* systemd, as far as coldroomd needs it. */
	sys = connect_to(g.open_addr);
	assert_true(sd_bus_request_name(sys, "org.freedesktop.systemd1", 0) >= 0);
	assert_true(sd_bus_add_object_vtable(sys, NULL, "/org/freedesktop/systemd1",
					     "org.freedesktop.systemd1.Manager",
					     fake_systemd_vtable, NULL) >= 0);
	assert_true(sd_bus_match_signal(g.bus, &alarm_slot, NAME, ROOT, MGR, "AlarmChanged",
					on_alarm_changed, NULL) >= 0);
	g.alarm_daemon = daemon = spawn_alarm_daemon(conf, state_dir, NULL);

	/* Out of band: nothing yet, then raised after the delay. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	set_condition("1\n", "3000\n", "11\n");
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "");
	while ((al.n_started < 1 || al.n_events < 1) && ms_since(&start) < 20000) {
		pump(g.bus, 10);
		pump(sys, 10);
	}
	assert_true(ms_since(&start) >= 2900);
	assert_string_equal(al.events[0], "raised");
	assert_string_equal(al.started[0], "coldroom-alarm@SIM-000002-1.service");
	assert_string_equal(al.exec[0], "/usr/libexec/coldroom/coldroom-notify alarm");
	assert_string_equal(al.description[0],
			    "Cold-room alarm notification (alarm) for SIM-000002-1");
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_SERIAL=SIM-000002\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_PROBE=1\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_UNIT=sensor1\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_LABEL=" AWKWARD_LABEL "\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_MODEL=CRS-200\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_TEMP_MDEG=3000\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_ALARM_LEVEL=1\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_ALARM_STATE=raised\n"));
	assert_non_null(strstr(al.env[0], "\nCOLDROOM_ESCALATE_AFTER_SEC=6\n"));
	/* The unit's settings; a second raise can start the same name again. */
	assert_non_null(strstr(al.props[0], "Type "));
	assert_non_null(strstr(al.props[0], "CollectMode "));
	assert_non_null(strstr(al.props[0], "ProtectHome "));
	assert_non_null(strstr(al.props[0], "PrivateTmp "));
	assert_non_null(strstr(al.props[0], "PrivateDevices "));
	assert_non_null(strstr(al.props[0], "TimeoutStartUSec "));
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "SIM-000002/1/1//;");
	assert_int_equal(sd_bus_get_property_trivial(g.bus, NAME, ROOT, MGR,
						     "UnacknowledgedAlarms", NULL, 'u',
						     &unacked), 0);
	assert_int_equal(unacked, 1);

	/* Unanswered: the second level. */
	while ((al.n_started < 2 || al.n_events < 2) && ms_since(&start) < 20000) {
		pump(g.bus, 10);
		pump(sys, 10);
	}
	assert_string_equal(al.events[1], "escalated");
	assert_string_equal(al.started[1], "coldroom-escalate@SIM-000002-1.service");
	assert_string_equal(al.exec[1], "/usr/libexec/coldroom/coldroom-notify escalate");
	assert_non_null(strstr(al.env[1], "\nCOLDROOM_ALARM_LEVEL=2\n"));
	assert_non_null(strstr(al.env[1], "\nCOLDROOM_LABEL=" AWKWARD_LABEL "\n"));

	/* nobody may not acknowledge; root may. */
	if (geteuid() == 0)
		assert_int_equal(as_nobody(ack_as, g.open_addr), 1);
	r = call(g.bus, ROOT, MGR, "Acknowledge", &e, NULL, "sus", "sensor1", 2, "");
	expect_error(&e, r, "org.coldroom.Sensors1.Error.NoSuchAlarm", "no open alarm");
	r = call(g.bus, ROOT, MGR, "Acknowledge", &e, NULL, "sus", "SIM-000002", 1, "bad\ncomment");
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "one line");
	assert_true(call(g.bus, ROOT, MGR, "Acknowledge", NULL, NULL, "sus", "SIM-000002", 1,
			 "door closed") >= 0);
	list_alarms(g.bus, list, sizeof(list));
	if (geteuid() == 0)
		assert_string_equal(list, "SIM-000002/1/2/root/door closed;");
	r = call(g.bus, ROOT, MGR, "Acknowledge", &e, NULL, "sus", "sensor1", 1, "again");
	expect_error(&e, r, "org.coldroom.Sensors1.Error.NoSuchAlarm", "already acknowledged");

	/* Back in band for the delay: closed. */
	set_condition("0\n", "-20000\n", "12\n");
	pump_until(g.bus, &al.n_events, 4, 0);
	assert_string_equal(al.events[3], "cleared");
	assert_int_equal(al.states[3], 4);
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "");

	/*
	 * A blip shorter than the delay raises nothing. The probe's delay a
	 * day for it, so no machine is slow enough to make the blip a real
	 * excursion: coldroomd sees the condition (Temp1Alarm), raises
	 * nothing while it holds, nor once it is gone; and with the delay
	 * then 0, which acts at once on a raise still waiting, there is
	 * none left to act on.
	 */
	assert_true(call(g.bus, U1, UNIT, "SetAlarmDelay", NULL, NULL, "uu", 1, 86400) >= 0);
	set_condition("1\n", "1000\n", "13\n");
	assert_int_equal(get_num(U1, "Temp1Alarm", 'b'), 1);
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "");
	set_condition("0\n", "-20000\n", "14\n");
	assert_int_equal(get_num(U1, "Temp1Alarm", 'b'), 0);
	assert_true(call(g.bus, U1, UNIT, "SetAlarmDelay", NULL, NULL, "uu", 1, 0) >= 0);
	/* Signals sent before the replies above have arrived by now. */
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "");
	while ((r = sd_bus_process(g.bus, NULL)) > 0)
		;
	assert_true(r >= 0);
	assert_int_equal(al.n_events, 4);
	assert_true(call(g.bus, U1, UNIT, "SetAlarmDelay", NULL, NULL, "uu", 1, 3) >= 0);

	/* Raised and cleared unanswered: listed as cleared until acknowledged. */
	set_condition("1\n", "2000\n", "15\n");
	pump_until(g.bus, &al.n_events, 5, 0);
	set_condition("0\n", "-20000\n", "16\n");
	pump_until(g.bus, &al.n_events, 6, 0);
	assert_string_equal(al.events[5], "cleared");
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "SIM-000002/1/3//;");

	/* A probe's own delay: bad values and callers change nothing; a good one is kept. */
	r = call(g.bus, U1, UNIT, "SetAlarmDelay", &e, NULL, "uu", 3, 10);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "probe must be 1 or 2");
	r = call(g.bus, U1, UNIT, "SetAlarmDelay", &e, NULL, "uu", 2, 86401);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "0..86400");
	if (geteuid() == 0)
		assert_int_equal(as_nobody(set_delay_as, g.open_addr), 1);
	assert_int_equal(get_num(U1, "Temp2AlarmDelay", 'u'), 3);
	assert_true(call(g.bus, U1, UNIT, "SetAlarmDelay", NULL, NULL, "uu", 2, 600) >= 0);
	assert_int_equal(get_num(U1, "Temp2AlarmDelay", 'u'), 600);
	assert_int_equal(get_num(U1, "Temp1AlarmDelay", 'u'), 3);

	/* Kept across a restart, and its ack still closes it then. */
	assert_int_equal(stop(daemon), 0);
	g.alarm_daemon = daemon = spawn_alarm_daemon(conf, state_dir, NULL);
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "SIM-000002/1/3//;");
	assert_int_equal(get_num(U1, "Temp2AlarmDelay", 'u'), 600);
	assert_true(call(g.bus, ROOT, MGR, "Acknowledge", NULL, NULL, "sus", "sensor1", 1,
			 "checked the log") >= 0);
	list_alarms(g.bus, list, sizeof(list));
	assert_string_equal(list, "");
	assert_int_equal(stop(daemon), 0);
	g.alarm_daemon = 0;
	sd_bus_flush_close_unref(sys);
	sd_bus_slot_unref(alarm_slot);
	faketree_set(&g.t, "sensor1", "label", "Unit\n");
}

/* A second coldroomd on the open bus, reading records from @path. */
/* coldroomd with @conf, reading records from @path, or sysfs if NULL. */
static pid_t spawn_daemon_conf(const char *path, const char *conf)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		unsetenv("NOTIFY_SOCKET");
		if (path)
			execl(getenv("COLDROOMD"), "coldroomd", "--bus", g.open_addr,
			      "--sysfs-root", g.t.sys, "--config", conf,
			      "--records-from", path, (char *)NULL);
		else
			execl(getenv("COLDROOMD"), "coldroomd", "--bus", g.open_addr,
			      "--sysfs-root", g.t.sys, "--config", conf, (char *)NULL);
		_exit(127);
	}
	wait_for_name(g.bus);
	return pid;
}

static pid_t spawn_records_daemon(const char *path)
{
	return spawn_daemon_conf(path, g.t.conf);
}

static void reading_source_is(const char *want)
{
	char *v = NULL;

	assert_int_equal(sd_bus_get_property_string(g.bus, NAME, ROOT, MGR, "ReadingSource",
						    NULL, &v), 0);
	assert_string_equal(v, want);
	free(v);
}

/*
 * --records-from: records in the /dev/coldroom format from a FIFO. A burst
 * of samples of every unit, several per unit, arrives as one Readings
 * signal per batch window with every sample in the order read, not one
 * signal per record; a record of a unit that does not exist is skipped.
 * More samples of a unit than a window holds: its last entry has the
 * newest, and sample_seq jumps over the rest.
 */
static void test_records_fifo(void **state)
{
	struct coldroom_record rec[41];
	char fifo[600];
	pid_t daemon;
	int fd, n = 0;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/records", g.t.root);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	daemon = spawn_records_daemon(fifo);
	reading_source_is("device");
	subscribe();
	pump(g.bus, 200);
	memset(&sig, 0, sizeof(sig));
	/* Ten rounds of the three units, then one record of a unit nobody has. */
	for (int round = 0; round < 10; round++)
		for (uint32_t unit = 0; unit < 3; unit++)
			rec[n++] = (struct coldroom_record){
				.seq = 100 + (uint64_t)round,
				.timestamp_ns = 1000000000ULL + (uint64_t)round,
				.unit = unit,
				.flags = COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID,
				.temp1 = -20000 - round * 10 - (int32_t)unit,
				.temp2 = -21000 - round * 10 - (int32_t)unit,
			};
	rec[n++] = (struct coldroom_record){ .seq = 5, .unit = 7,
					      .flags = COLDROOM_F_TEMP1_VALID, .temp1 = 1 };
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rec, n * sizeof(rec[0])), (ssize_t)(n * sizeof(rec[0])));
	close(fd);
	pump_until(g.bus, &sig.readings, 1, 300);
	assert_int_equal(sig.readings, 1);
	assert_int_equal(sig.last_n, 30);
	for (int i = 0; i < 30; i++) {
		uint32_t unit = (uint32_t)(sig.last[i].name[6] - '0');
		int round = i / 3;

		assert_int_equal(unit, (uint32_t)(i % 3));
		assert_int_equal(strlen(sig.last[i].name), 7);
		assert_int_equal(sig.last[i].seq, 100 + (uint64_t)round);
		assert_int_equal(sig.last[i].t1, -20000 - round * 10 - (int32_t)unit);
		assert_int_equal(sig.last[i].t2, -21000 - round * 10 - (int32_t)unit);
		assert_int_equal(sig.last[i].s1, 1);
		assert_true(sig.last[i].when > 0);
	}
	assert_int_equal(get_num(U2, "Temp1", 'i'), -20092);
	assert_int_equal(get_num(U2, "SampleSeq", 't'), 109);

	/* 40 samples of sensor0 in one window: 31 of them, then the newest. */
	memset(&sig, 0, sizeof(sig));
	for (n = 0; n < 40; n++)
		rec[n] = (struct coldroom_record){
			.seq = 200 + (uint64_t)n, .timestamp_ns = 2000000000ULL + (uint64_t)n,
			.unit = 0, .flags = COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID,
			.temp1 = -19000 + n, .temp2 = -18000 + n,
		};
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rec, n * sizeof(rec[0])), (ssize_t)(n * sizeof(rec[0])));
	close(fd);
	pump_until(g.bus, &sig.readings, 1, 300);
	assert_int_equal(sig.readings, 1);
	assert_int_equal(sig.last_n, 32);
	for (int i = 0; i < 32; i++) {
		int k = i < 31 ? i : 39;

		assert_string_equal(sig.last[i].name, "sensor0");
		assert_int_equal(sig.last[i].seq, 200 + (uint64_t)k);
		assert_int_equal(sig.last[i].t1, -19000 + k);
	}
	assert_int_equal(get_num(U0, "SampleSeq", 't'), 239);

	/* Nothing newer: an old record changes nothing and sends nothing. */
	memset(&sig, 0, sizeof(sig));
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rec, sizeof(rec[0])), (ssize_t)sizeof(rec[0]));
	close(fd);
	pump(g.bus, 300);
	assert_int_equal(sig.readings, 0);
	assert_int_equal(get_num(U0, "Temp1", 'i'), -19000 + 39);
	assert_int_equal(stop(daemon), 0);
	unlink(fifo);
}

/* ---- probe health ---- */

/* @ms, stretched by WAIT_SCALE (default 3) as lib.sh's wait_for is. */
static long scaled_ms(long ms)
{
	const char *s = getenv("WAIT_SCALE");
	long k = s && atol(s) > 0 ? atol(s) : 3;

	return ms * k;
}

static struct {
	char kinds[64][16];		/* AlarmChanged's kind, in order */
	char events[64][16];
	int n;
} hk;

static int on_health_alarm(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *event, *serial, *unit, *user, *comment, *kind;
	uint32_t probe, st, level, uid;
	uint64_t id, when;
	int32_t temp;

	(void)userdata, (void)error;
	assert_int_equal(sd_bus_message_read(m, "tsssuuuitusss", &id, &event, &serial, &unit,
					     &probe, &st, &level, &temp, &when, &uid, &user,
					     &comment, &kind), 1);
	if (hk.n < 64) {
		snprintf(hk.kinds[hk.n], sizeof(hk.kinds[0]), "%s", kind);
		snprintf(hk.events[hk.n], sizeof(hk.events[0]), "%s", event);
		hk.n++;
	}
	return 0;
}

static bool health_event(const char *kind, const char *event)
{
	for (int i = 0; i < hk.n; i++)
		if (!strcmp(hk.kinds[i], kind) && !strcmp(hk.events[i], event))
			return true;
	return false;
}

/* One record of sensor1 (unit 1) into the FIFO; @valid2 false: probe 2 has no reading. */
static void health_record(const char *fifo, uint64_t seq, int32_t t1, int32_t t2, bool valid2)
{
	struct coldroom_record rec = {
		.seq = seq, .timestamp_ns = 1000000000ULL + seq, .unit = 1,
		.flags = COLDROOM_F_TEMP1_VALID | (valid2 ? COLDROOM_F_TEMP2_VALID : 0),
		.temp1 = t1, .temp2 = valid2 ? t2 : 0,
	};
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, &rec, sizeof(rec)), (ssize_t)sizeof(rec));
	close(fd);
}

/* Until the open alarms contain @want, bounded; the list then. */
static bool alarms_come(const char *want, char *list, size_t size, long ms)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		list_alarms(g.bus, list, size);
		if (strstr(list, want))
			return true;
		if (ms_since(&start) > scaled_ms(ms))
			return false;
		pump(g.bus, 100);
	}
}

/*
 * The probe-health alarms through the lifecycle, each with its own
 * setting: a unit that stops sampling raises silent (both probes), and a
 * sample clears it; a probe whose reading stays within StuckBandMdeg for
 * StuckSec raises stuck while its moving neighbour does not; a probe
 * without a reading raises fault; a start after an outage longer than
 * OutageSec with a probe out of band raises after-outage, cleared at once
 * and listed until acknowledged, and judged once. Each AlarmChanged names
 * its kind.
 */
static void test_probe_health(void **state)
{
	char conf[600], fifo[600], state_dir[600], alive[700], text[2048], list[4096];
	sd_bus_slot *slot = NULL;
	struct timespec start;
	uint64_t seq = 1000;
	pid_t daemon;
	bool stuck = false;

	(void)state;
	memset(&hk, 0, sizeof(hk));
	snprintf(state_dir, sizeof(state_dir), "%s/health-state", g.t.root);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	snprintf(fifo, sizeof(fifo), "%s/health-records", g.t.root);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(conf, sizeof(conf), "%s/health.conf", g.t.root);
	snprintf(text, sizeof(text),
		 "FirmwareOverrideDir=%s\nModelFirmwareDir=%s\nCalibrationDir=%s\n"
		 "ReadingsBatchMs=50\nAlarmUnits=no\nSilentIntervals=1\nSilentMinSec=3\n"
		 "StuckSec=2\nStuckBandMdeg=20\nFaultDelaySec=0\nOutageSec=60\n",
		 g.t.override_dir, g.t.model_dir, g.t.calibration_dir);
	write_file(conf, text, strlen(text));
	faketree_set(&g.t, "sensor1", "temp1_alarm", "0\n");
	assert_true(sd_bus_match_signal(g.bus, &slot, NAME, ROOT, MGR, "AlarmChanged",
					on_health_alarm, NULL) >= 0);
	g.alarm_daemon = daemon = spawn_alarm_daemon(conf, state_dir, fifo);

	/*
	 * sensor1 samples: probe 1 frozen at 4 degrees give or take 10 mC,
	 * probe 2 moving; sensor0 never samples.
	 */
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (ms_since(&start) < scaled_ms(20000)) {
		seq++;
		health_record(fifo, seq, 4000 + (int32_t)(seq % 3) * 10 - 10,
			      4000 + (int32_t)(seq % 50) * 100, true);
		pump(g.bus, 200);
		list_alarms(g.bus, list, sizeof(list));
		if (strstr(list, "stuck:SIM-000002/1/1//;") &&
		    strstr(list, "silent:SIM-000001/1/1//;")) {
			stuck = true;
			break;
		}
	}
	assert_true(stuck);
	assert_non_null(strstr(list, "silent:SIM-000001/2/1//;"));
	assert_null(strstr(list, "stuck:SIM-000002/2/"));
	assert_null(strstr(list, "fault:"));
	{
		uint32_t unacked = 0;

		/* Each kind of each probe is an alarm of its own. */
		assert_int_equal(sd_bus_get_property_trivial(g.bus, NAME, ROOT, MGR,
							     "UnacknowledgedAlarms", NULL, 'u',
							     &unacked), 0);
		assert_true(unacked >= 3);
	}

	/* Probe 2 loses its reading: fault at once (FaultDelaySec=0); back: cleared. */
	health_record(fifo, ++seq, 4000, 0, false);
	assert_true(alarms_come("fault:SIM-000002/2/1//;", list, sizeof(list), 5000));
	assert_int_equal(get_num(U1, "Temp2Status", 'u'), 2);
	health_record(fifo, ++seq, 4000, 5000, true);
	assert_true(alarms_come("fault:SIM-000002/2/3//;", list, sizeof(list), 5000));

	/* sensor0 samples again: its silent alarm is cleared, listed until acknowledged. */
	{
		struct coldroom_record rec = {
			.seq = 100000, .timestamp_ns = 1000000000ULL, .unit = 0,
			.flags = COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID,
			.temp1 = 3000, .temp2 = 3100,
		};
		int fd = open(fifo, O_WRONLY | O_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, &rec, sizeof(rec)), (ssize_t)sizeof(rec));
		close(fd);
	}
	assert_true(alarms_come("silent:SIM-000001/1/3//;", list, sizeof(list), 5000));
	assert_true(call(g.bus, ROOT, MGR, "Acknowledge", NULL, NULL, "sus", "sensor0", 1,
			 "logger was unplugged for cleaning") >= 0);
	list_alarms(g.bus, list, sizeof(list));
	assert_null(strstr(list, "SIM-000001/1/"));
	pump(g.bus, 200);
	assert_true(health_event("silent", "raised"));
	assert_true(health_event("silent", "cleared"));
	assert_true(health_event("silent", "acknowledged"));
	assert_true(health_event("stuck", "raised"));
	assert_true(health_event("fault", "raised"));
	assert_false(health_event("temperature", "raised"));
	assert_int_equal(stop(daemon), 0);

	/* Down for two hours (the stamp says so), and probe 1 of sensor1 out of band now. */
	snprintf(alive, sizeof(alive), "%s/alive", state_dir);
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(text, sizeof(text), "%llu\n",
			 ((unsigned long long)now.tv_sec - 7200) * 1000000ULL);
		write_file(alive, text, strlen(text));
	}
	for (int u = 0; u < 2; u++) {
		const char *unit = u ? "sensor1" : "sensor0";

		for (int ch = 1; ch <= 2; ch++) {
			char attr[32];

			snprintf(attr, sizeof(attr), "temp%d_min", ch);
			faketree_set(&g.t, unit, attr, "-25000\n");
			snprintf(attr, sizeof(attr), "temp%d_max", ch);
			faketree_set(&g.t, unit, attr, "-15000\n");
			snprintf(attr, sizeof(attr), "temp%d", ch);
			faketree_set(&g.t, unit, attr, "-20000\n");
			snprintf(attr, sizeof(attr), "temp%d_alarm", ch);
			faketree_set(&g.t, unit, attr, "0\n");
		}
	}
	faketree_set(&g.t, "sensor1", "temp1_alarm", "1\n");
	g.alarm_daemon = daemon = spawn_alarm_daemon(conf, state_dir, fifo);
	assert_true(alarms_come("outage:SIM-000002/1/3//;", list, sizeof(list), 5000));
	assert_null(strstr(list, "outage:SIM-000002/2/"));
	assert_null(strstr(list, "outage:SIM-000001/"));
	/* Open alarms of before the outage are still there. */
	assert_non_null(strstr(list, "stuck:SIM-000002/1/"));
	assert_true(call(g.bus, ROOT, MGR, "Acknowledge", NULL, NULL, "sus", "SIM-000002", 1,
			 "checked the room after the power cut") >= 0);
	/* Cleared already, the acknowledgement closes it (the others of the probe stay). */
	list_alarms(g.bus, list, sizeof(list));
	assert_null(strstr(list, "outage:"));
	assert_non_null(strstr(list, "stuck:SIM-000002/1/2/"));
	assert_int_equal(stop(daemon), 0);

	/* Restarted at once: that outage was judged, none is raised again. */
	g.alarm_daemon = daemon = spawn_alarm_daemon(conf, state_dir, fifo);
	pump(g.bus, 2000);
	list_alarms(g.bus, list, sizeof(list));
	assert_null(strstr(list, "outage:"));
	assert_int_equal(stop(daemon), 0);
	g.alarm_daemon = 0;
	faketree_set(&g.t, "sensor1", "temp1_alarm", "0\n");
	sd_bus_slot_unref(slot);
	unlink(fifo);
}

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static int set_calibration_as(const char *addr)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = connect_to(addr);
	int r = call(bus, U1, UNIT, "SetCalibration", &e, NULL, "uttsii", 1, UINT64_C(1),
		     UINT64_C(2), "forged", 0, 0);

	sd_bus_flush_close_unref(bus);
	if (r >= 0)
		return 0;
	return !strcmp(e.name, SD_BUS_ERROR_ACCESS_DENIED) ? 1 : 11;
}

/* Temp1Calibration's days left, and its certificate into @cert. */
static int64_t calibration_of(const char *prop, char *cert, size_t size)
{
	sd_bus_message *reply = NULL;
	uint64_t cal, due;
	const char *c;
	int32_t found, left;
	int64_t days;

	assert_true(sd_bus_get_property(g.bus, NAME, U1, UNIT, prop, NULL, &reply,
					"(ttsiix)") >= 0);
	assert_int_equal(sd_bus_message_read(reply, "(ttsiix)", &cal, &due, &c, &found, &left,
					     &days), 1);
	snprintf(cert, size, "%s", c);
	sd_bus_message_unref(reply);
	return days;
}

/*
 * A calibration set by an admin (SetCalibration) is kept across restarts,
 * shown with its days left, and raises its reminders through the
 * lifecycle: due in 30 days, the 90- and 30-day ones at once, not the
 * due-date one; a new calibration clears them. Bad values and callers
 * change nothing.
 */
static void test_calibration(void **state)
{
	char conf[600], state_dir[600], list[4096], cert[128], *base, text[4096];
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint64_t now = realtime_usec(), day = 86400ULL * 1000000ULL;
	pid_t daemon;
	int r;

	(void)state;
	snprintf(state_dir, sizeof(state_dir), "%s/cal-state", g.t.root);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/cal.conf", g.t.root);
	base = slurp(g.t.conf, NULL);
	snprintf(text, sizeof(text), "%sAlarmUnits=no\n", base);
	free(base);
	write_file(conf, text, strlen(text));
	g.alarm_daemon = daemon = spawn_alarm_daemon(conf, state_dir, NULL);

	assert_int_equal(calibration_of("Temp1Calibration", cert, sizeof(cert)), 0);
	assert_string_equal(cert, "");
	/* Due in 30 days (less an hour): the 90- and the 30-day reminder, at once. */
	assert_true(call(g.bus, U1, UNIT, "SetCalibration", NULL, NULL, "uttsii", 1,
			 now - 335 * day, now + 30 * day - 3600000000ULL, "DAkkS D-K-15070 #4711",
			 -150, 20) >= 0);
	list_alarms(g.bus, list, sizeof(list));
	assert_non_null(strstr(list, "calibration-90d:SIM-000002/1/1//;"));
	assert_non_null(strstr(list, "calibration-30d:SIM-000002/1/1//;"));
	assert_null(strstr(list, "calibration-due:"));
	assert_null(strstr(list, "SIM-000002/2/"));
	assert_int_equal(calibration_of("Temp1Calibration", cert, sizeof(cert)), 29);
	assert_string_equal(cert, "DAkkS D-K-15070 #4711");
	assert_int_equal(calibration_of("Temp2Calibration", cert, sizeof(cert)), 0);

	/* Refused, and nothing changed. */
	r = call(g.bus, U1, UNIT, "SetCalibration", &e, NULL, "uttsii", 1, now, now - day, "c",
		 0, 0);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "due date must come after");
	r = call(g.bus, U1, UNIT, "SetCalibration", &e, NULL, "uttsii", 1, now, now + day,
		 "two\nlines", 0, 0);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "one line");
	r = call(g.bus, U1, UNIT, "SetCalibration", &e, NULL, "uttsii", 3, now, now + day, "c",
		 0, 0);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "probe must be 1 or 2");
	r = call(g.bus, U1, UNIT, "SetCalibration", &e, NULL, "uttsii", 1, now, now + day, "c",
		 100001, 0);
	expect_error(&e, r, SD_BUS_ERROR_INVALID_ARGS, "at most 100 degrees");
	if (geteuid() == 0)
		assert_int_equal(as_nobody(set_calibration_as, g.open_addr), 1);
	assert_int_equal(calibration_of("Temp1Calibration", cert, sizeof(cert)), 29);
	assert_string_equal(cert, "DAkkS D-K-15070 #4711");

	/* Kept across a restart, with its reminders. */
	assert_int_equal(stop(daemon), 0);
	g.alarm_daemon = daemon = spawn_alarm_daemon(conf, state_dir, NULL);
	assert_int_equal(calibration_of("Temp1Calibration", cert, sizeof(cert)), 29);
	list_alarms(g.bus, list, sizeof(list));
	assert_non_null(strstr(list, "calibration-30d:SIM-000002/1/1//;"));

	/* Calibrated again, due in a year (less an hour): the reminders cleared, still listed. */
	assert_true(call(g.bus, U1, UNIT, "SetCalibration", NULL, NULL, "uttsii", 1, now,
			 now + 365 * day - 3600000000ULL, "DAkkS D-K-15070 #4802", 40, 0) >= 0);
	list_alarms(g.bus, list, sizeof(list));
	assert_non_null(strstr(list, "calibration-90d:SIM-000002/1/3//;"));
	assert_non_null(strstr(list, "calibration-30d:SIM-000002/1/3//;"));
	assert_int_equal(calibration_of("Temp1Calibration", cert, sizeof(cert)), 364);
	assert_true(call(g.bus, ROOT, MGR, "Acknowledge", NULL, NULL, "sus", "sensor1", 1,
			 "probe recalibrated") >= 0);
	list_alarms(g.bus, list, sizeof(list));
	assert_null(strstr(list, "calibration-"));
	assert_int_equal(stop(daemon), 0);
	g.alarm_daemon = 0;
}

/* A new sample of @unit in the tree, with temperatures made of @base. */
static void new_sample(const char *unit, int base)
{
	char v[32];

	snprintf(v, sizeof(v), "%d\n", base);
	faketree_set(&g.t, unit, "temp1", v);
	snprintf(v, sizeof(v), "%d\n", base - 1000);
	faketree_set(&g.t, unit, "temp2", v);
	faketree_set(&g.t, unit, "sample_seq", "300\n");
}

/*
 * A unit that goes within a batch window leaves that window's Readings
 * (sysfs readings, applied as they come): sensor10's reading is the
 * window's first entry; it is taken out, the others stay.
 */
static void test_unit_gone_in_window(void **state)
{
	char conf[600], cmd[2048];
	pid_t daemon;

	(void)state;
	/* A window long enough for three reloads to fall inside it. */
	snprintf(conf, sizeof(conf), "%s/long-window.conf", g.t.root);
	snprintf(cmd, sizeof(cmd), "sed '/^ReadingsBatchMs=/d' '%s' >'%s' && "
		 "echo ReadingsBatchMs=6000 >>'%s'", g.t.conf, conf, conf);
	assert_int_equal(system(cmd), 0);
	faketree_add_unit(&g.t, "sensor10", "CRS-200", "SIM-000010");
	daemon = spawn_daemon_conf(NULL, conf);
	subscribe();
	/* The readings of the start, in a window of their own. */
	pump_until(g.bus, &sig.readings, 1, 100);
	pump(g.bus, 6500);
	memset(&sig, 0, sizeof(sig));
	new_sample("sensor10", -19010);
	reload();
	new_sample("sensor1", -19001);
	new_sample("sensor2", -19002);
	reload();
	snprintf(cmd, sizeof(cmd), "rm -r '%s/class/coldroom/sensor10'", g.t.sys);
	assert_int_equal(system(cmd), 0);
	reload();
	assert_int_equal(sig.readings, 0);
	pump_until(g.bus, &sig.readings, 1, 500);
	assert_int_equal(sig.readings, 1);
	assert_int_equal(sig.last_n, 2);
	for (int i = 0; i < 2; i++) {
		int unit = sig.last[i].name[6] - '0';

		assert_true(unit == 1 || unit == 2);
		assert_int_equal(strlen(sig.last[i].name), 7);
		assert_int_equal(sig.last[i].seq, 300);
		assert_int_equal(sig.last[i].t1, -19000 - unit);
		assert_int_equal(sig.last[i].t2, -20000 - unit);
	}
	assert_string_not_equal(sig.last[0].name, sig.last[1].name);
	assert_int_equal(stop(daemon), 0);
}

/* A path that is not a FIFO: the daemon says so and reads sysfs. */
static void test_records_not_fifo(void **state)
{
	pid_t daemon;

	(void)state;
	daemon = spawn_records_daemon(g.t.conf);
	reading_source_is("sysfs");
	assert_int_equal(stop(daemon), 0);
}

/* The bus goes away under coldroomd: it exits with a failure, to be restarted. */
static void test_bus_lost(void **state)
{
	char path[600], sock[600], addr[400];
	struct timespec start;
	pid_t bus_pid, daemon;
	sd_bus *bus;
	int status = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/lost-bus.conf", g.t.root);
	snprintf(sock, sizeof(sock), "%s/lost.sock", g.t.root);
	write_bus_config(path, sock, NULL);
	bus_pid = spawn_bus(path, addr, sizeof(addr));
	daemon = fork();
	assert_true(daemon >= 0);
	if (daemon == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		unsetenv("NOTIFY_SOCKET");
		execl(getenv("COLDROOMD"), "coldroomd", "--bus", addr, "--sysfs-root", g.t.sys,
		      "--config", g.t.conf, (char *)NULL);
		_exit(127);
	}
	bus = connect_to(addr);
	wait_for_name(bus);
	sd_bus_flush_close_unref(bus);
	assert_int_equal(stop(bus_pid), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (waitpid(daemon, &status, WNOHANG) == 0) {
		if (ms_since(&start) > 10000) {
			stop(daemon);
			fail_msg("coldroomd still runs 10 s after its bus went away");
		}
		usleep(10000);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_FAILURE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_and_status),
		cmocka_unit_test(test_object_tree),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_firmware_served),
		cmocka_unit_test(test_get_readings),
		cmocka_unit_test(test_get_unit),
		cmocka_unit_test(test_new_sample_signals),
		cmocka_unit_test(test_temp_status),
		cmocka_unit_test(test_setters),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_daemon_checks_callers),
		cmocka_unit_test(test_admin_group_from_user_database),
		cmocka_unit_test(test_polkit),
		cmocka_unit_test(test_policy_file),
		cmocka_unit_test(test_reload_config),
		cmocka_unit_test(test_reload_switches_window),
		cmocka_unit_test(test_units_come_and_go),
		cmocka_unit_test(test_sighup),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_alarm_lifecycle),
		cmocka_unit_test(test_probe_health),
		cmocka_unit_test(test_calibration),
		cmocka_unit_test(test_records_fifo),
		cmocka_unit_test(test_unit_gone_in_window),
		cmocka_unit_test(test_records_not_fifo),
		cmocka_unit_test(test_bus_lost),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
