// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * polkit.c - asynchronous polkit checks of a method's caller (polkit.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "polkit.h"

#define POLKIT_NAME	"org.freedesktop.PolicyKit1"
#define POLKIT_PATH	"/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE	"org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorization's flags: AllowUserInteraction. */
#define POLKIT_ALLOW_USER_INTERACTION	1U
/* An answered check whose request never came back (its object went away). */
#define POLKIT_DONE_EXPIRE_SEC		60

struct polkit_query {
	struct polkit_registry *reg;
	struct polkit_query *next;
	sd_bus_message *request;	/* referenced until its answer is taken */
	sd_bus_slot *slot;		/* the CheckAuthorization call in flight */
	char *action;
	char *sender;
	struct polkit_caller caller;
	bool done;
	time_t done_at;			/* CLOCK_MONOTONIC seconds */
	int result;			/* once done: 1, -EACCES or another -errno */
	sd_bus_error error;
	bool in_fallback_groups;	/* judged when asked: settings may be reloaded */
};

struct polkit_registry {
	struct polkit_query *queries;
	unsigned int n_queries;
};

static time_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void query_free(struct polkit_query *q)
{
	sd_bus_slot_unref(q->slot);
	sd_bus_message_unref(q->request);
	sd_bus_error_free(&q->error);
	free(q->action);
	free(q->sender);
	free(q);
}

static void query_unlink(struct polkit_query *q)
{
	for (struct polkit_query **p = &q->reg->queries; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			q->reg->n_queries--;
			return;
		}
}

struct polkit_registry *polkit_registry_free(struct polkit_registry *reg)
{
	if (!reg)
		return NULL;
	while (reg->queries) {
		struct polkit_query *q = reg->queries;

		reg->queries = q->next;
		query_free(q);
	}
	free(reg);
	return NULL;
}

bool polkit_uid_in_group(uid_t uid, const char *group)
{
	_cleanup_(freep) char *buf = NULL;
	_cleanup_(freep) gid_t *gids = NULL;
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	int n = 64;

	if (!group || !*group)
		return false;
	if (size < 16384)
		size = 16384;
	buf = malloc((size_t)size);
	if (!buf || getpwuid_r(uid, &pw, buf, (size_t)size / 2, &pwp) != 0 || !pwp ||
	    getgrnam_r(group, &gr, buf + size / 2, (size_t)size / 2, &grp) != 0 || !grp)
		return false;
	if (pw.pw_gid == gr.gr_gid)
		return true;
	for (;;) {
		int want = n;
		gid_t *g = realloc(gids, (size_t)n * sizeof(*g));

		if (!g)
			return false;
		gids = g;
		if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &want) >= 0) {
			for (int i = 0; i < want; i++)
				if (gids[i] == gr.gr_gid)
					return true;
			return false;
		}
		if (want <= n || want > 65536)
			return false;
		n = want;
	}
}

bool polkit_refusal_itemize(struct polkit_refusals *r, uint64_t now_usec, unsigned int *untold)
{
	if (now_usec - r->window_usec >= 60ULL * 1000000ULL) {
		r->window_usec = now_usec;
		r->in_window = 0;
	}
	if (r->in_window >= POLKIT_REFUSALS_PER_MINUTE) {
		r->untold++;
		return false;
	}
	r->in_window++;
	*untold = r->untold;
	r->untold = 0;
	return true;
}

void polkit_names_of(uid_t uid, char *user, size_t user_size, char *printed, size_t printed_size)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp) {
		snprintf(user, user_size, "uid %u", (unsigned int)uid);
		snprintf(printed, printed_size, "%s", user);
		return;
	}
	snprintf(user, user_size, "%s", pw.pw_name);
	/* GECOS: "Full Name,room,phone,...": the name is what a signature prints. */
	if (pw.pw_gecos && pw.pw_gecos[0] && pw.pw_gecos[0] != ',') {
		size_t len = strcspn(pw.pw_gecos, ",");
		bool printable = true;

		for (size_t i = 0; i < len; i++)
			if ((unsigned char)pw.pw_gecos[i] < 0x20 || pw.pw_gecos[i] == 0x7f)
				printable = false;
		if (printable) {
			snprintf(printed, printed_size, "%.*s", (int)len, pw.pw_gecos);
			return;
		}
	}
	snprintf(printed, printed_size, "%s", pw.pw_name);
}

/* The uid the bus vouches for (SO_PEERCRED or the bus daemon): never /proc. */
static int sender_uid(sd_bus_message *m, uid_t *uid, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	int r;

	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, uid);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "cannot identify the caller: %s",
					       strerror(-r));
	return 0;
}

static void refuse(struct polkit_query *q, const char *how, const char *name, const char *why)
{
	snprintf(q->caller.how, sizeof(q->caller.how), "%s", how);
	q->result = -EACCES;
	sd_bus_error_set(&q->error, name, why);
}

static void decide(struct polkit_query *q, sd_bus_message *reply)
{
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized = 0, challenge = 0, r;
	bool dismissed = false;
	char why[256];

	if (e) {
		/* No authority at all: the documented fallback (SECURITY.md, "Roles"). */
		if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
					   SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
			if (q->in_fallback_groups) {
				snprintf(q->caller.how, sizeof(q->caller.how), "group");
				q->result = 1;
				return;
			}
			snprintf(why, sizeof(why),
				 "%s is not allowed to %s (no polkit authority on the bus)",
				 q->caller.user, q->action);
			refuse(q, "denied", SD_BUS_ERROR_ACCESS_DENIED, why);
			return;
		}
		log_warning("polkit could not check %s for %s: %s", q->action, q->caller.user,
			    e->message ? e->message : e->name);
		q->result = -EHOSTUNREACH;
		sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
				  "polkit could not check %s: %s", q->action,
				  e->message ? e->message : e->name);
		return;
	}
	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "{ss}");
	while (r > 0) {
		const char *k, *v;

		r = sd_bus_message_read(reply, "{ss}", &k, &v);
		if (r > 0 && !strcmp(k, "polkit.dismissed") && !strcmp(v, "true"))
			dismissed = true;
	}
	if (r < 0) {
		q->result = -EBADMSG;
		sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
				  "polkit's answer on %s cannot be read: %s", q->action, strerror(-r));
		return;
	}
	if (authorized) {
		snprintf(q->caller.how, sizeof(q->caller.how), "polkit");
		q->result = 1;
		return;
	}
	if (dismissed) {
		snprintf(why, sizeof(why), "%s cancelled the authentication for %s",
			 q->caller.user, q->action);
		refuse(q, "cancelled", SD_BUS_ERROR_ACCESS_DENIED, why);
	} else if (challenge &&
		   !sd_bus_message_get_allow_interactive_authorization(q->request)) {
		snprintf(why, sizeof(why),
			 "%s needs to authenticate for %s: call again allowing interactive authorization, with an authentication agent running",
			 q->caller.user, q->action);
		refuse(q, "no agent", SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, why);
	} else if (challenge) {
		snprintf(why, sizeof(why), "%s was not authenticated for %s",
			 q->caller.user, q->action);
		refuse(q, "denied", SD_BUS_ERROR_ACCESS_DENIED, why);
	} else {
		snprintf(why, sizeof(why), "%s is not allowed to %s", q->caller.user, q->action);
		refuse(q, "denied", SD_BUS_ERROR_ACCESS_DENIED, why);
	}
}

static int on_answer(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct polkit_query *q = userdata;
	int r;

	(void)ret_error;
	q->slot = sd_bus_slot_unref(q->slot);
	decide(q, reply);
	q->done = true;
	q->done_at = now_sec();
	/* The request runs its handler again, which takes the answer. */
	r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
	if (r < 0) {
		log_warning("cannot requeue a request checked by polkit: %s", strerror(-r));
		(void)sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED,
						 "cannot complete the request: %s", strerror(-r));
		query_unlink(q);
		query_free(q);
	}
	return 0;
}

static int ask(struct polkit_query *q, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	sd_bus *bus = sd_bus_message_get_bus(q->request);
	bool interactive = sd_bus_message_get_allow_interactive_authorization(q->request) > 0;
	int r;

	r = sd_bus_message_new_method_call(bus, &call, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE,
					   "CheckAuthorization");
	/* The subject is the bus name itself: polkit asks the bus who it is. */
	if (r >= 0)
		r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s",
					  q->sender, q->action);
	if (r >= 0)
		r = sd_bus_message_append(call, "a{ss}", 0);
	if (r >= 0)
		r = sd_bus_message_append(call, "us",
					  interactive ? POLKIT_ALLOW_USER_INTERACTION : 0U, "");
	if (r >= 0)
		r = sd_bus_call_async(bus, &q->slot, call, on_answer, q,
				      interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "cannot ask polkit: %s", strerror(-r));
	return 0;
}

/* Forget answers whose request never came back for them. */
static void expire(struct polkit_registry *reg)
{
	time_t now = now_sec();

	for (struct polkit_query **p = &reg->queries; *p;) {
		struct polkit_query *q = *p;

		if (q->done && now - q->done_at > POLKIT_DONE_EXPIRE_SEC) {
			*p = q->next;
			reg->n_queries--;
			query_free(q);
			continue;
		}
		p = &q->next;
	}
}

int polkit_check(struct polkit_registry **regp, sd_bus_message *m, const char *action,
		 const char *const *fallback_groups, struct polkit_caller *caller,
		 sd_bus_error *error)
{
	struct polkit_registry *reg = *regp;
	struct polkit_query *q;
	const char *sender = sd_bus_message_get_sender(m);
	unsigned int from_sender = 0;
	uid_t uid;
	int r;

	if (reg) {
		for (q = reg->queries; q; q = q->next) {
			if (q->request != m || strcmp(q->action, action))
				continue;
			if (!q->done)
				return 0;
			/* The answer, for the request's second run. */
			*caller = q->caller;
			r = q->result;
			if (r < 0)
				sd_bus_error_set(error, q->error.name, q->error.message);
			query_unlink(q);
			query_free(q);
			return r;
		}
		expire(reg);
	}

	memset(caller, 0, sizeof(*caller));
	r = sender_uid(m, &uid, error);
	if (r < 0)
		return r;
	caller->uid = uid;
	polkit_names_of(uid, caller->user, sizeof(caller->user), caller->printed_name,
			sizeof(caller->printed_name));
	if (uid == 0) {
		snprintf(caller->how, sizeof(caller->how), "root");
		return 1;
	}
	if (!sender)
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
					"a caller without a bus name cannot be checked");

	if (!reg) {
		reg = calloc(1, sizeof(*reg));
		if (!reg)
			return sd_bus_error_set_errno(error, ENOMEM);
		*regp = reg;
	}
	for (q = reg->queries; q; q = q->next)
		if (!q->done && !strcmp(q->sender, sender))
			from_sender++;
	if (from_sender >= POLKIT_PENDING_PER_SENDER || reg->n_queries >= POLKIT_PENDING_MAX)
		return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					 "too many authorization checks pending (at most %d per caller)",
					 POLKIT_PENDING_PER_SENDER);

	q = calloc(1, sizeof(*q));
	if (!q)
		return sd_bus_error_set_errno(error, ENOMEM);
	q->reg = reg;
	q->request = sd_bus_message_ref(m);
	q->action = strdup(action);
	q->sender = strdup(sender);
	q->caller = *caller;
	for (const char *const *g = fallback_groups; g && *g; g++)
		if (polkit_uid_in_group(uid, *g))
			q->in_fallback_groups = true;
	q->error = SD_BUS_ERROR_NULL;
	if (!q->action || !q->sender) {
		query_free(q);
		return sd_bus_error_set_errno(error, ENOMEM);
	}
	r = ask(q, error);
	if (r < 0) {
		query_free(q);
		return r;
	}
	q->next = reg->queries;
	reg->queries = q;
	reg->n_queries++;
	return 0;
}
