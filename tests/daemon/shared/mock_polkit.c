// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mock_polkit ADDRESS VERDICTS LOG - a stand-in polkit authority on a
 * private bus: owns org.freedesktop.PolicyKit1 and answers
 * CheckAuthorization from the file VERDICTS, read again for every call,
 * lines "UID ACTION VERDICT" (ACTION may be "*"; the first match wins;
 * no match: no), VERDICT one of
 *   yes          allowed without asking (a rule said yes)
 *   no           not allowed (the role has no such right)
 *   auth-ok      a password is asked: allowed if the caller allowed
 *                interaction (the person typed it right), else a challenge
 *   auth-wrong   a password is asked and the person typed it wrong
 *   auth-cancel  a password is asked and the person dismissed the dialog
 *   hold         no answer at all, as while a person reads the prompt
 * Every call is appended to LOG as "UID ACTION FLAGS SUBJECT-KIND", the
 * subject's uid asked of the bus as polkitd does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

static const char *verdicts, *log_path;
static sd_bus_message *held[64];
static unsigned int n_held;

static void verdict_for(uint32_t uid, const char *action, char *out, size_t size)
{
	char line[512], act[256], v[32];
	unsigned int u;
	FILE *f = fopen(verdicts, "re");

	snprintf(out, size, "no");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %255s %31s", &u, act, v) == 3 && u == uid &&
		    (!strcmp(act, "*") || !strcmp(act, action))) {
			snprintf(out, size, "%s", v);
			break;
		}
	fclose(f);
}

static int check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *kind, *key, *name = NULL, *action, *cancel_id;
	sd_bus *bus = sd_bus_message_get_bus(m);
	sd_bus_message *reply = NULL;
	uint32_t flags, uid = (uint32_t)-1;
	bool interactive, dismissed = false;
	int authorized = 0, challenge = 0;
	char v[32];
	FILE *f;
	int r;

	(void)userdata;
	r = sd_bus_message_enter_container(m, 'r', "sa{sv}");
	if (r >= 0)
		r = sd_bus_message_read(m, "s", &kind);
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r > 0) {
		r = sd_bus_message_enter_container(m, 'e', "sv");
		if (r <= 0)
			break;
		r = sd_bus_message_read(m, "s", &key);
		if (r >= 0 && !strcmp(key, "name"))
			r = sd_bus_message_read(m, "v", "s", &name);
		else if (r >= 0)
			r = sd_bus_message_skip(m, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_read(m, "s", &action);
	if (r >= 0)
		r = sd_bus_message_skip(m, "a{ss}");
	if (r >= 0)
		r = sd_bus_message_read(m, "us", &flags, &cancel_id);
	if (r < 0)
		return r;
	if (strcmp(kind, "system-bus-name") || !name)
		return sd_bus_error_set(error, "org.freedesktop.PolicyKit1.Error.Failed",
					"only system-bus-name subjects here");
	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetConnectionUnixUser", error, &reply, "s",
			       name);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "u", &uid);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	interactive = flags & 1;
	f = fopen(log_path, "ae");
	if (f) {
		fprintf(f, "%u %s %u %s\n", uid, action, flags, kind);
		fclose(f);
	}
	verdict_for(uid, action, v, sizeof(v));
	if (!strcmp(v, "hold")) {
		if (n_held < sizeof(held) / sizeof(held[0]))
			held[n_held++] = sd_bus_message_ref(m);
		return 1;
	}
	if (!strcmp(v, "yes")) {
		authorized = 1;
	} else if (!strncmp(v, "auth-", 5)) {
		challenge = 1;
		if (interactive) {
			authorized = !strcmp(v, "auth-ok");
			dismissed = !strcmp(v, "auth-cancel");
		}
	}
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_append(reply, "bb", authorized, challenge);
	if (r >= 0 && dismissed)
		r = sd_bus_message_append(reply, "a{ss}", 1, "polkit.dismissed", "true");
	else if (r >= 0)
		r = sd_bus_message_append(reply, "a{ss}", 0);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 1;
}

static const sd_bus_vtable authority_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})",
		      check_authorization, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

int main(int argc, char **argv)
{
	sd_event *e = NULL;
	sd_bus *bus = NULL;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: mock_polkit ADDRESS VERDICTS LOG\n");
		return 2;
	}
	verdicts = argv[2];
	log_path = argv[3];
	r = sd_event_default(&e);
	/* SIGTERM ends it cleanly: the test checks its exit status. */
	if (r >= 0) {
		sigset_t ss;

		sigemptyset(&ss);
		sigaddset(&ss, SIGTERM);
		r = -sigprocmask(SIG_BLOCK, &ss, NULL);
	}
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, argv[1]);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/PolicyKit1/Authority",
					     "org.freedesktop.PolicyKit1.Authority",
					     authority_vtable, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(bus, e, 0);
	if (r >= 0)
		r = sd_bus_set_exit_on_disconnect(bus, 1);
	if (r >= 0)
		r = sd_bus_request_name(bus, "org.freedesktop.PolicyKit1", 0);
	if (r >= 0)
		r = sd_event_loop(e);
	if (r < 0)
		fprintf(stderr, "mock_polkit: %s\n", strerror(-r));
	for (unsigned int i = 0; i < n_held; i++)
		sd_bus_message_unref(held[i]);
	sd_bus_flush_close_unref(bus);
	sd_event_unref(e);
	return r < 0 ? 1 : 0;
}
