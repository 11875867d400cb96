// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * verify_limits ADDRESS RECORDER_PID - Recorder1.Verify's limits, without
 * a race: with the recorder stopped (SIGSTOP, by the caller), one
 * connection sends two Verify calls and 32 others one each; a round trip
 * to the bus after each connection's calls makes sure the bus has routed
 * them, so the recorder finds all 34 queued when it gets SIGCONT and
 * takes them before its walk (which runs only when nothing else is due)
 * can answer any. Prints one line per call: "first", "second", or "other"
 * and the reply ("ok" and the verdict, or the error's name and message).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "busclient.h"

#define OTHERS 32

struct call {
	const char *who;
};

static int pending;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct call *c = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	const char *msg = "";
	int intact = 0;

	(void)ret_error;
	if (e)
		printf("%s error %s: %s\n", c->who, e->name, e->message);
	else if (sd_bus_message_read(m, "bxxs", &intact, NULL, NULL, &msg) < 0)
		printf("%s malformed\n", c->who);
	else
		printf("%s ok %s %s\n", c->who, intact ? "true" : "false", msg);
	if (--pending == 0)
		sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), 0);
	return 0;
}

static int verify_async(sd_bus *bus, struct call *c)
{
	int r = sd_bus_call_method_async(bus, NULL, "org.coldroom.Recorder1",
					 "/org/coldroom/Recorder1", "org.coldroom.Recorder1",
					 "Verify", on_reply, c, NULL);

	if (r >= 0)
		pending++;
	return r;
}

int main(int argc, char **argv)
{
	static struct call first = { "first" }, second = { "second" }, others[OTHERS];
	sd_bus *buses[OTHERS + 1] = { NULL };
	sd_event *event = NULL;
	pid_t pid;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: verify_limits ADDRESS RECORDER_PID\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	r = sd_event_default(&event);
	if (r >= 0)
		r = busclient_connect(argv[1], event, &buses[0]);
	if (r >= 0)
		r = verify_async(buses[0], &first);
	if (r >= 0)
		r = verify_async(buses[0], &second);
	if (r >= 0)
		r = busclient_round_trip(buses[0]);
	for (int i = 0; r >= 0 && i < OTHERS; i++) {
		others[i].who = "other";
		r = busclient_connect(argv[1], event, &buses[i + 1]);
		if (r >= 0)
			r = verify_async(buses[i + 1], &others[i]);
		if (r >= 0)
			r = busclient_round_trip(buses[i + 1]);
	}
	return busclient_finish("verify_limits", pid, r, event, buses, OTHERS + 1);
}
