/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * busclient.h - what the tests' bus clients that queue calls without a
 * race (recorder/verify_limits, coldroomd/replies_limits) share.
 */
#ifndef COLDROOM_TEST_BUSCLIENT_H
#define COLDROOM_TEST_BUSCLIENT_H

#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* A connection of its own to @address, attached to @event. */
int busclient_connect(const char *address, sd_event *event, sd_bus **ret);
/* The bus has read (and routed) all that @bus sent before this returns. */
int busclient_round_trip(sd_bus *bus);
/*
 * The calls queued (@r: 0, or the error that stopped it), @pid (stopped by
 * the test) continued and @event run until every call has ended; then the
 * @n connections of @buses closed. The exit status, errors said as @prog.
 */
int busclient_finish(const char *prog, pid_t pid, int r, sd_event *event, sd_bus **buses,
		     size_t n);

#endif
