// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * replies.c - the calls whose replies carry every unit: GetManagedObjects
 * and GetReadings, answered so that no caller holds the readings up.
 *
 * Each message of ours passes through dbus-daemon in turn, and dbus-daemon
 * takes its time over a large one (it reads 2 KB at a time): at 10,000
 * units a GetManagedObjects reply is 10 MB, about a window's worth of
 * dbus-daemon, and a GetReadings reply 440 KB. A Readings signal sent
 * behind such a reply waits for it. So these replies go out right after
 * the end of the batch window under way, behind its Readings signal, with
 * a window to pass before the next signal (at once when no window is
 * under way).
 *
 * GetManagedObjects: sd-bus would marshal every unit with every property
 * in one callback, about 100 ms of the loop at 10,000 units, during which
 * no window ends and no record is read. Here the reply is built
 * REPLIES_SLICE_US at a time, taking turns with the bus's other calls,
 * after the readings (the window's timer and the device have a higher
 * priority), one reply at a time (one reply's memory held, not one a
 * caller), and paced: after a reply of N units the next one starts
 * N / REPLIES_UNITS_PER_SEC seconds later (5 s at 10,000 units, nothing to
 * speak of at a hundred). A unit that comes or goes before the reply is
 * sent restarts it: the reply is the units of one moment, as sd-bus's.
 *
 * Callers wait in the order they came: one pending call of each method a
 * sender, REPLIES_MAX_PER_USER a user and REPLIES_MAX_PENDING in all,
 * beyond which a caller gets LimitsExceeded (one user's connections cannot
 * queue the others out). A refusal, too, is told at the end of the window
 * under way: a client that calls again as soon as it is refused would
 * otherwise make a loop of two messages through dbus-daemon per turn, tens
 * of thousands a second, half a CPU of dbus-daemon's and a quarter of
 * ours; told at the window's end, it calls once a window. Up to
 * REPLIES_MAX_REFUSED wait so (their calls' references held), beyond that
 * they are told at once.
 *
 * Layer: an event source (callers), beside bus.c, whose unit vtable it
 * walks to say each unit's properties as sd-bus's own reply says them;
 * publish.c tells it when a window's Readings signal is out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus_names.h"
#include "daemon.h"
#include "log.h"
#include "macro.h"

#define OBJECT_MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"
#define NO_UID ((uid_t)-1)

struct waiting_call {
	sd_bus_message *call;
	char *sender;
	uid_t uid;		/* as the bus vouches for it, or NO_UID */
};

/* The calls of one method waiting for their reply. */
struct call_queue {
	const char *method;
	struct waiting_call v[REPLIES_MAX_PENDING];
	size_t n;
};

/* A call refused, told so at the window's end. */
struct refusal {
	sd_bus_message *call;
	char text[160];
};

struct replies {
	struct daemon *daemon;
	struct call_queue objects, readings;
	struct refusal refused[REPLIES_MAX_REFUSED];
	size_t n_refused;
	/* GetManagedObjects: the head call's reply, built in slices. */
	sd_event_source *slice;
	sd_bus_message *reply;
	bool built;			/* whole: sent after the window */
	size_t next;			/* the next unit it takes */
	uint64_t units_gen;		/* the units it was started with */
	uint64_t not_before;		/* CLOCK_MONOTONIC: the pace after a reply */
	uint64_t longest_us;		/* the longest slice so far (debug log) */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The caller's effective uid as the bus vouches for it, or NO_UID. */
static uid_t sender_uid(sd_bus_message *m)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	uid_t uid;

	if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds) < 0 ||
	    sd_bus_creds_get_euid(creds, &uid) < 0)
		return NO_UID;
	return uid;
}

/* @m joins @q, or the caller is told why not. */
static int queue_admit(struct call_queue *q, sd_bus_message *m, sd_bus_error *error)
{
	const char *sender = sd_bus_message_get_sender(m);
	unsigned int of_user = 0;
	struct waiting_call *w;
	uid_t uid;

	if (!sender)
		sender = "";
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->v[i].sender, sender))
			return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
						 "a %s call of %s is still pending", q->method,
						 sender);
	/*
	 * Asked of the bus only now: a sender that calls again at once costs
	 * no round trip. A bus that cannot say who called: each connection
	 * on its own.
	 */
	uid = sender_uid(m);
	for (size_t i = 0; i < q->n; i++)
		of_user += uid != NO_UID && q->v[i].uid == uid;
	if (of_user >= REPLIES_MAX_PER_USER)
		return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					 "%u %s calls of uid %u are pending: try again later",
					 of_user, q->method, (unsigned int)uid);
	if (q->n == REPLIES_MAX_PENDING)
		return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					 "%d %s calls are pending: try again later",
					 REPLIES_MAX_PENDING, q->method);
	w = &q->v[q->n];
	w->sender = strdup(sender);
	if (!w->sender)
		return -ENOMEM;
	w->call = sd_bus_message_ref(m);
	w->uid = uid;
	q->n++;
	return 0;
}

/* The head of @q is done with: answered, or failed with @r. */
static void queue_pop(struct call_queue *q, int r)
{
	struct waiting_call *w = &q->v[0];

	if (r < 0)
		(void)sd_bus_reply_method_errnof(w->call, r, "%s failed: %s", q->method,
						 strerror(-r));
	sd_bus_message_unref(w->call);
	free(w->sender);
	memmove(&q->v[0], &q->v[1], (q->n - 1) * sizeof(*w));
	q->n--;
}

/* A caller gone meanwhile is not our failure. */
static int sent(int r)
{
	return r == -ENOTCONN || r == -ECONNRESET ? 0 : r;
}

/*
 * @m refused with @error (LimitsExceeded): told after the window under way,
 * if one is and there is room to wait; else at once, as sd-bus tells an
 * error a handler returns.
 */
static int refuse(struct replies *rp, sd_bus_message *m, sd_bus_error *error, int r)
{
	struct refusal *f;

	if (!sd_bus_error_has_name(error, SD_BUS_ERROR_LIMITS_EXCEEDED) ||
	    !rp->daemon->flush_due || rp->n_refused == REPLIES_MAX_REFUSED)
		return r;
	f = &rp->refused[rp->n_refused++];
	f->call = sd_bus_message_ref(m);
	snprintf(f->text, sizeof(f->text), "%s", error->message);
	sd_bus_error_free(error);
	return 1;	/* handled: the error comes at the window's end */
}

/* The refusals waiting, told. */
static void tell_refused(struct replies *rp)
{
	for (size_t i = 0; i < rp->n_refused; i++) {
		struct refusal *f = &rp->refused[i];

		(void)sent(sd_bus_reply_method_errorf(f->call, SD_BUS_ERROR_LIMITS_EXCEEDED, "%s",
						      f->text));
		f->call = sd_bus_message_unref(f->call);
	}
	rp->n_refused = 0;
}

/* GetReadings' reply to @m: every unit's reading as of the last window. */
static int answer_readings(struct daemon *d, sd_bus_message *m)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = publish_append_readings(d, reply);
	if (r >= 0)
		r = sent(sd_bus_send(NULL, reply, NULL));
	return r;
}

int replies_get_readings(struct daemon *d, sd_bus_message *m, sd_bus_error *error)
{
	int r;

	if (!d->flush_due)
		return answer_readings(d, m);
	r = queue_admit(&d->replies->readings, m, error);
	if (r < 0)
		return refuse(d->replies, m, error, r);
	return 1;	/* handled: the reply comes at the window's end */
}

/*
 * One property of @u by its vtable entry: the getter, or the member at its
 * offset; as sd-bus does, a getter gets the unit plus the entry's offset.
 */
static int append_property(sd_bus_message *m, struct unit *u, const sd_bus_vtable *v)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *sig = v->x.property.signature;
	void *at = (uint8_t *)u + v->x.property.offset;
	int r;

	r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, 's', v->x.property.member);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', sig);
	if (r < 0)
		return r;
	if (v->x.property.get)
		r = v->x.property.get(sd_bus_message_get_bus(m), u->object_path,
				      SENSORS_UNIT_IFACE, v->x.property.member, m, at, &error);
	else if (sig[0] && !sig[1] && !strchr("sog", sig[0]))
		r = sd_bus_message_append_basic(m, sig[0], at);
	else
		r = -EINVAL;	/* the unit vtable has no such property */
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* The interfaces sd-bus answers for every object, with no properties. */
static const char *const std_ifaces[] = {
	"org.freedesktop.DBus.Peer",
	"org.freedesktop.DBus.Introspectable",
	"org.freedesktop.DBus.Properties",
};

/* @u as sd-bus's GetManagedObjects says an object: its path, its interfaces. */
static int append_unit(sd_bus_message *m, struct unit *u)
{
	int r;

	r = sd_bus_message_open_container(m, 'e', "oa{sa{sv}}");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, 'o', u->object_path);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
	for (size_t i = 0; r >= 0 && i < sizeof(std_ifaces) / sizeof(std_ifaces[0]); i++)
		r = sd_bus_message_append(m, "{sa{sv}}", std_ifaces[i], 0);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sa{sv}");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, 's', SENSORS_UNIT_IFACE);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (const sd_bus_vtable *v = bus_unit_vtable; r >= 0 && v->type != _SD_BUS_VTABLE_END;
	     v++) {
		if (v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY)
			continue;
		if (v->flags & (SD_BUS_VTABLE_HIDDEN | SD_BUS_VTABLE_PROPERTY_EXPLICIT))
			continue;
		r = append_property(m, u, v);
	}
	for (int i = 0; r >= 0 && i < 4; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

/* The head GetManagedObjects call is done with; its reply dropped. */
static void objects_pop(struct replies *rp, int r)
{
	rp->reply = sd_bus_message_unref(rp->reply);
	rp->built = false;
	queue_pop(&rp->objects, r);
}

/*
 * The next slice, at the pace, after what else is pending at the bus's
 * priority: a oneshot timer re-armed is pending anew, behind the calls
 * that came meanwhile.
 */
static void next_slice(struct replies *rp)
{
	uint64_t now = now_us();

	if (!rp->objects.n || rp->built)
		return;
	if (sd_event_source_set_time(rp->slice, rp->not_before > now ? rp->not_before : now) < 0 ||
	    sd_event_source_set_enabled(rp->slice, SD_EVENT_ONESHOT) < 0) {
		log_error("GetManagedObjects: cannot go on; failing the pending calls");
		while (rp->objects.n)
			objects_pop(rp, -ENOMEM);
	}
}

/*
 * The head call's reply, built: out, and the next call's turn; built
 * anew if a unit came or went since (its InterfacesAdded or Removed went
 * out before the reply, which must not contradict it).
 */
static void send_objects(struct replies *rp)
{
	int r;

	if (rp->units_gen != rp->daemon->units_gen) {
		rp->built = false;
		rp->reply = sd_bus_message_unref(rp->reply);
		next_slice(rp);
		return;
	}
	r = sent(sd_bus_send(NULL, rp->reply, NULL));
	rp->not_before = now_us() + rp->daemon->n_units * 1000000ULL / REPLIES_UNITS_PER_SEC;
	objects_pop(rp, r);
	next_slice(rp);
}

static int start_objects(struct replies *rp)
{
	int r;

	rp->reply = sd_bus_message_unref(rp->reply);
	rp->next = 0;
	rp->units_gen = rp->daemon->units_gen;
	r = sd_bus_message_new_method_return(rp->objects.v[0].call, &rp->reply);
	if (r >= 0)
		r = sd_bus_message_open_container(rp->reply, 'a', "{oa{sa{sv}}}");
	return r;
}

/* One slice of the head call's reply. */
static int on_slice(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct replies *rp = userdata;
	struct daemon *d = rp->daemon;
	uint64_t t0 = now_us(), took;
	size_t first;
	int r = 0;

	(void)s, (void)usec;
	if (!rp->objects.n)
		return 0;
	if (!rp->reply || rp->units_gen != d->units_gen)
		r = start_objects(rp);
	/* The clock every 16 units: a unit is a few microseconds. */
	for (first = rp->next; r >= 0 && rp->next < d->n_units; rp->next++) {
		if (rp->next > first && !((rp->next - first) % 16) &&
		    now_us() - t0 >= REPLIES_SLICE_US)
			break;
		r = append_unit(rp->reply, d->units[rp->next]);
	}
	if (r >= 0 && rp->next == d->n_units) {
		r = sd_bus_message_close_container(rp->reply);
		rp->built = r >= 0;
	}
	if (r < 0)
		objects_pop(rp, r);
	/* No window under way: nothing to wait for. */
	if (rp->built && !d->flush_due)
		send_objects(rp);
	else
		next_slice(rp);
	took = now_us() - t0;
	if (took > rp->longest_us) {
		rp->longest_us = took;
		log_debug("GetManagedObjects: longest slice so far %llu us",
			  (unsigned long long)took);
	}
	return 0;
}

void replies_window_ended(struct daemon *d)
{
	struct replies *rp = d->replies;

	if (!rp)
		return;
	tell_refused(rp);
	while (rp->readings.n)
		queue_pop(&rp->readings, answer_readings(d, rp->readings.v[0].call));
	if (rp->built)
		send_objects(rp);
}

/* GetManagedObjects: queued, answered by the slices; the rest as sd-bus does it. */
static int on_manager_message(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct replies *rp = d->replies;
	int r;

	if (!sd_bus_message_is_method_call(m, OBJECT_MANAGER_IFACE, "GetManagedObjects"))
		return 0;
	if (!sd_bus_message_has_signature(m, ""))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"GetManagedObjects takes no arguments");
	r = queue_admit(&rp->objects, m, error);
	if (r < 0)
		return refuse(rp, m, error, r);
	if (rp->objects.n == 1)
		next_slice(rp);
	return 1;	/* handled: the reply comes from the slices */
}

int replies_attach(struct daemon *d, sd_bus *bus)
{
	struct replies *rp;
	int r;

	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	rp->daemon = d;
	rp->objects.method = "GetManagedObjects";
	rp->readings.method = "GetReadings";
	/*
	 * A timer (the pace) at the bus's priority, so that slices and other
	 * calls take turns (sd-event runs the source of one priority that
	 * waited longest); the window's timer and the device come first.
	 */
	r = sd_event_add_time(d->event, &rp->slice, CLOCK_MONOTONIC, 0, 0, on_slice, rp);
	if (r >= 0)
		r = sd_event_source_set_priority(rp->slice, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_event_source_set_enabled(rp->slice, SD_EVENT_OFF);
	if (r >= 0)
		(void)sd_event_source_set_description(rp->slice, "get-managed-objects");
	/* Ahead of sd-bus's own GetManagedObjects, which holds the loop. */
	if (r >= 0)
		r = sd_bus_add_object(bus, NULL, SENSORS_PATH, on_manager_message, d);
	if (r < 0) {
		sd_event_source_disable_unref(rp->slice);
		free(rp);
		return r;
	}
	d->replies = rp;
	return 0;
}

void replies_free(struct daemon *d)
{
	struct replies *rp = d->replies;

	if (!rp)
		return;
	tell_refused(rp);
	while (rp->objects.n)
		objects_pop(rp, -ESHUTDOWN);
	while (rp->readings.n)
		queue_pop(&rp->readings, -ESHUTDOWN);
	sd_event_source_disable_unref(rp->slice);
	free(rp);
	d->replies = NULL;
}
