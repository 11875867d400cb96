// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * status.c - what the uplink shows: State, Backlog, the cursors on the bus
 * and the STATUS= line; apart, as every other file only reports to it.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus_names.h"
#include "log.h"
#include "uplink.h"

/*
 * The backlog or a cursor moved. Told once a second at most (on_tick): at
 * thousands of units a PropertiesChanged per PUBACK would be a storm.
 */
void backlog_update(struct uplink *u)
{
	uint64_t b = (u->rec.head > u->rec.acked ? u->rec.head - u->rec.acked : 0) +
		     (u->aud.head > u->aud.acked ? u->aud.head - u->aud.acked : 0);

	if (!u->cursor_known)
		b = 0;
	if (b == u->backlog && u->rec.acked == u->told_record && u->aud.acked == u->told_audit)
		return;
	u->backlog = b;
	u->props_dirty = true;
	(void)sd_event_source_set_enabled(u->tick, SD_EVENT_ONESHOT);
}

static void notify_status(struct uplink *u)
{
	if (u->conn == CONNECTED)
		sd_notifyf(0, "STATUS=connected to %s as %s/%s; backlog %" PRIu64, u->broker,
			   u->origin.site, u->origin.host, u->backlog);
	else
		sd_notifyf(0, "STATUS=%s; backlog %" PRIu64, u->state, u->backlog);
}

void set_state(struct uplink *u, int priority, const char *fmt, ...)
{
	char s[STATE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (!strcmp(s, u->state))
		return;
	snprintf(u->state, sizeof(u->state), "%s", s);
	log_fields(priority, NULL, "%s: %s", u->broker, s);
	u->connected = u->conn == CONNECTED;
	notify_status(u);
	if (u->bus)
		(void)sd_bus_emit_properties_changed(u->bus, UPLINK_PATH, UPLINK_IFACE, "State",
						     "Connected", NULL);
}

/* Once a second while anything moves: the cursors to disk, the backlog to the bus. */
int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink *u = userdata;

	(void)usec;
	(void)cursor_save(u);
	if (u->props_dirty && u->bus) {
		u->props_dirty = false;
		u->told_record = u->rec.acked;
		u->told_audit = u->aud.acked;
		(void)sd_bus_emit_properties_changed(u->bus, UPLINK_PATH, UPLINK_IFACE, "Backlog",
						     "RecordSeq", "AuditSeq", NULL);
	}
	notify_status(u);
	/* At most once a second: a crash re-sends at most a second's worth (by seq). */
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}
