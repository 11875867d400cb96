/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * signal_guard.h - whose a signal is. A signal is a service's only when
 * its sender is the current unique owner of the service's well-known name
 * and it has no destination (coldroomd/DBUS-API.md, "Trusting a signal"):
 * any local user may send a signal, broadcast or unicast to any
 * connection, and a unicast one reaches a client whatever its match rules
 * say. Every client of coldroomd's or the recorder's signals matches them
 * through a guard; what it refuses is dropped with a debug line.
 */
#ifndef COLDROOM_SIGNAL_GUARD_H
#define COLDROOM_SIGNAL_GUARD_H

#include <stdbool.h>
#include <systemd/sd-bus.h>

struct signal_guard;

/*
 * Follow the unique owner of @name on @bus: NameOwnerChanged, taken only
 * from the bus itself, and an asynchronous GetNameOwner (its answer is
 * taken in @bus's event loop; until then no signal is trusted), asked
 * again with a growing wait while it fails otherwise than with "no
 * owner", on the event loop @bus is attached to. When
 * @owner_changed is set, it is called with each NameOwnerChanged of @name
 * once the new owner is taken. The guard lives as long as @bus.
 */
int signal_guard_new(sd_bus *bus, const char *name, sd_bus_message_handler_t owner_changed,
		     void *userdata, struct signal_guard **ret);

/* @m comes from the name's current owner and has no destination. */
bool signal_guard_trusted(struct signal_guard *g, sd_bus_message *m);

/*
 * sd_bus_match_signal() of the guarded name's signals (@path, @interface,
 * @member: NULL for any), @handler called only for the trusted ones.
 */
int signal_guard_match(struct signal_guard *g, const char *path, const char *interface,
		       const char *member, sd_bus_message_handler_t handler, void *userdata);

/*
 * Likewise for a match rule @rule (e.g. "interface='...',member='...'")
 * that names neither type nor sender: the guard adds both.
 */
int signal_guard_add_match(struct signal_guard *g, const char *rule,
			   sd_bus_message_handler_t handler, void *userdata);

#endif
