// SPDX-License-Identifier: GPL-2.0 OR MIT
/* signal_guard.c - signals taken from a name's owner only (signal_guard.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "signal_guard.h"

#define BUS_DRIVER "org.freedesktop.DBus"

/*
 * GetNameOwner is asked again after a failure other than "no owner" (a
 * timeout on a bus too busy to answer in time): the owner may well be
 * there, and until it is known every signal of the name is dropped.
 */
#define OWNER_RETRY_FIRST_USEC	(1ULL * 1000000)
#define OWNER_RETRY_MAX_USEC	(30ULL * 1000000)

struct signal_guard {
	sd_bus *bus;			/* not referenced: the guard is the bus's */
	char *name;
	char *owner;			/* its unique owner; NULL: none, or not known yet */
	bool known;			/* GetNameOwner answered, or the name changed since */
	sd_event_source *retry;		/* GetNameOwner asked again at its time */
	uint64_t retry_usec;		/* the next wait before asking again */
	sd_bus_message_handler_t owner_changed;
	void *userdata;
};

/* One guarded match: the handler behind the guard. Freed with its slot. */
struct guarded {
	struct signal_guard *guard;
	sd_bus_message_handler_t handler;
	void *userdata;
};

static void guard_free(void *p)
{
	struct signal_guard *g = p;

	sd_event_source_disable_unref(g->retry);
	free(g->name);
	free(g->owner);
	free(g);
}

static int set_owner(struct signal_guard *g, const char *owner)
{
	char *s = NULL;

	if (owner && *owner && !(s = strdup(owner)))
		return -ENOMEM;
	free(g->owner);
	g->owner = s;
	g->known = true;
	return 0;
}

bool signal_guard_trusted(struct signal_guard *g, sd_bus_message *m)
{
	const char *sender = sd_bus_message_get_sender(m);
	const char *destination = sd_bus_message_get_destination(m);
	const char *why = NULL;

	if (destination)
		why = "it is addressed to us alone";
	else if (!g->known)
		why = "the name's owner is not known yet";
	else if (!g->owner)
		why = "the name has no owner";
	else if (!sender || strcmp(sender, g->owner))
		why = "its sender does not own the name";
	if (!why)
		return true;
	log_debug("dropped signal %s.%s on %s from %s: %s (%s is %s's)",
		  sd_bus_message_get_interface(m) ?: "?", sd_bus_message_get_member(m) ?: "?",
		  sd_bus_message_get_path(m) ?: "?", sender ?: "?", why, g->name,
		  g->owner ?: "nobody");
	return false;
}

static int on_guarded(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct guarded *w = userdata;

	if (!signal_guard_trusted(w->guard, m))
		return 0;
	return w->handler(m, w->userdata, error);
}

/* NameOwnerChanged of the name: only the bus itself says so. */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct signal_guard *g = userdata;
	const char *sender = sd_bus_message_get_sender(m);
	const char *name, *old_owner, *new_owner;
	int r;

	if (!sender || strcmp(sender, BUS_DRIVER)) {
		log_debug("dropped a NameOwnerChanged from %s: only %s sends it", sender ?: "?",
			  BUS_DRIVER);
		return 0;
	}
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, g->name))
		return 0;
	r = set_owner(g, new_owner);
	if (r < 0) {
		/* Better no signal than one from a former owner. */
		free(g->owner);
		g->owner = NULL;
		log_error("cannot follow %s's owner: %s", g->name, strerror(-r));
		return 0;
	}
	if (!g->owner_changed)
		return 0;
	r = sd_bus_message_rewind(m, true);
	if (r < 0)
		return r;
	return g->owner_changed(m, g->userdata, error);
}

static int on_get_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *error);

static int ask_owner(struct signal_guard *g)
{
	return sd_bus_call_method_async(g->bus, NULL, BUS_DRIVER, "/org/freedesktop/DBus",
					BUS_DRIVER, "GetNameOwner", on_get_name_owner, g, "s",
					g->name);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct signal_guard *g = userdata;
	int r;

	(void)s, (void)usec;
	if (g->known)
		return 0;
	r = ask_owner(g);
	if (r < 0)
		log_error("cannot ask who owns %s: %s; its signals are dropped until it "
			  "changes hands", g->name, strerror(-r));
	return 0;
}

/* GetNameOwner failed and the owner is still not known: ask again later. */
static void retry_later(struct signal_guard *g, const char *why)
{
	sd_event *event = sd_bus_get_event(g->bus);
	uint64_t wait = g->retry_usec;
	int r = -ENXIO;

	g->retry_usec = 2 * wait < OWNER_RETRY_MAX_USEC ? 2 * wait : OWNER_RETRY_MAX_USEC;
	if (event && g->retry)
		r = sd_event_source_set_time_relative(g->retry, wait);
	else if (event)
		r = sd_event_add_time_relative(event, &g->retry, CLOCK_MONOTONIC, wait, 0,
					       on_retry, g);
	if (r >= 0)
		r = sd_event_source_set_enabled(g->retry, SD_EVENT_ONESHOT);
	if (r < 0) {
		log_error("cannot learn who owns %s: %s; nor ask again (%s): its signals are "
			  "dropped until it changes hands", g->name, why, strerror(-r));
		return;
	}
	log_warning("cannot learn who owns %s: %s; asking again in %" PRIu64 " s, its signals "
		    "are dropped until then", g->name, why, wait / 1000000);
}

static int on_get_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct signal_guard *g = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	const char *owner = NULL;
	int r;

	(void)error;
	/* A NameOwnerChanged that came first is newer than this answer. */
	if (g->known)
		return 0;
	if (e && !sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		retry_later(g, e->message ?: e->name);
		return 0;
	}
	if (!e && sd_bus_message_read(m, "s", &owner) < 0) {
		retry_later(g, "a malformed answer");
		return 0;
	}
	r = set_owner(g, owner);
	if (r < 0)
		log_error("cannot follow %s's owner: %s", g->name, strerror(-r));
	else
		log_debug("%s is %s's", g->name, g->owner ?: "nobody");
	return 0;
}

int signal_guard_new(sd_bus *bus, const char *name, sd_bus_message_handler_t owner_changed,
		     void *userdata, struct signal_guard **ret)
{
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	_cleanup_(freep) char *rule = NULL;
	struct signal_guard *g;
	int r;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->bus = bus;
	g->owner_changed = owner_changed;
	g->userdata = userdata;
	g->name = strdup(name);
	if (!g->name || asprintf(&rule, "type='signal',sender='" BUS_DRIVER "',path='/org/freedesktop/DBus',"
				 "interface='" BUS_DRIVER "',member='NameOwnerChanged',arg0='%s'",
				 name) < 0) {
		rule = NULL;
		guard_free(g);
		return -ENOMEM;
	}
	/* Synchronous: the bus has the rule before it answers GetNameOwner. */
	r = sd_bus_add_match(bus, &slot, rule, on_name_owner_changed, g);
	if (r < 0) {
		guard_free(g);
		return r;
	}
	sd_bus_slot_set_destroy_callback(slot, guard_free);
	r = sd_bus_slot_set_floating(slot, 1);
	if (r < 0)
		return r;
	g->retry_usec = OWNER_RETRY_FIRST_USEC;
	r = ask_owner(g);
	if (r < 0)
		return r;
	*ret = g;
	return 0;
}

static int guarded_add(struct signal_guard *g, const char *rule,
		       sd_bus_message_handler_t handler, void *userdata)
{
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	struct guarded *w;
	int r;

	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct guarded){ .guard = g, .handler = handler, .userdata = userdata };
	r = sd_bus_add_match(g->bus, &slot, rule, on_guarded, w);
	if (r < 0) {
		free(w);
		return r;
	}
	sd_bus_slot_set_destroy_callback(slot, free);
	return sd_bus_slot_set_floating(slot, 1);
}

int signal_guard_add_match(struct signal_guard *g, const char *rule,
			   sd_bus_message_handler_t handler, void *userdata)
{
	_cleanup_(freep) char *full = NULL;

	if (asprintf(&full, "type='signal',sender='%s',%s", g->name, rule) < 0)
		return -ENOMEM;
	return guarded_add(g, full, handler, userdata);
}

int signal_guard_match(struct signal_guard *g, const char *path, const char *interface,
		       const char *member, sd_bus_message_handler_t handler, void *userdata)
{
	_cleanup_(freep) char *rule = NULL;

	if (asprintf(&rule, "type='signal',sender='%s'%s%s%s%s%s%s%s%s%s", g->name,
		     path ? ",path='" : "", path ?: "", path ? "'" : "",
		     interface ? ",interface='" : "", interface ?: "", interface ? "'" : "",
		     member ? ",member='" : "", member ?: "", member ? "'" : "") < 0)
		return -ENOMEM;
	return guarded_add(g, rule, handler, userdata);
}
