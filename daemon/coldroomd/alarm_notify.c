// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * alarm_notify.c - coldroom-alarm@SERIAL-PROBE.service and
 * coldroom-escalate@SERIAL-PROBE.service as transient units:
 * StartTransientUnit with the unit's settings from the one table below
 * and the alarm's facts as its Environment=, "KEY=VALUE" strings that
 * systemd passes on as they are (no file, no quoting). The names are the
 * ones operators know from systemctl and the journal, and a site's
 * drop-ins for the templates (in coldroom-alarm@.service.d/) apply to
 * these instances as to any other.
 *
 * Layer: under the lifecycle (alarm_lifecycle.c calls it); calls only
 * sd-bus, sd-event and the log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm_notify.h"
#include "alarm_rules.h"
#include "log.h"
#include "macro.h"

#ifndef COLDROOM_LIBEXECDIR
#define COLDROOM_LIBEXECDIR "/usr/libexec/coldroom"
#endif
#define NOTIFY_PROGRAM COLDROOM_LIBEXECDIR "/coldroom-notify"

#define USEC_PER_SEC 1000000ULL
/* An earlier instance of the same name ends within TimeoutStartSec= (2 min). */
#define RETRY_USEC (5 * USEC_PER_SEC)
#define RETRY_MAX 36

/*
 * The notification units' settings, and the only place they are written
 * down: there is no unit file (systemd refuses a transient unit that has
 * one). systemd/check-service.sh reads this table, one entry a line, to
 * check the sandbox. Types: 's' a string, 'b' yes/no, 'a' a list of one
 * string, 'T' seconds (sent as KEY with "Sec" made "USec", in us), 't' a
 * number, 'l' a list of names, allowed or, after "~", denied (sent as
 * "(bas)"), 'n' RestrictNamespaces=yes (sent as no namespace allowed),
 * 'c' an empty capability set.
 *
 * They run as their own user, coldroom-notify (sysusers), the only one
 * besides root that may read notify.conf and its webhook tokens, in a
 * sandbox like the services': no privilege to gain, nothing to write,
 * no devices, IP and AF_UNIX only. Mail is handed over SMTP to the local
 * MTA (localhost:25, curl's smtp://) rather than through sendmail(8):
 * sendmail implementations pass mail to setgid helpers (Postfix's
 * postdrop), which NoNewPrivileges= and RestrictSUIDSGID= forbid, and
 * every MTA that provides sendmail also listens on localhost:25.
 *
 * MemoryMax= and TasksMax=: a shell, awk and curl, whatever the number
 * of units (a few MiB and at most four processes); the limits leave
 * ample room and stop a runaway.
 *
 * RemainAfterExit=no and CollectMode=inactive-or-failed: once an instance
 * has run, whether it succeeded or failed, systemd unloads it, so the next
 * alarm of the same probe can start the same name again. Until then (an
 * earlier notification still sending its mail) StartTransientUnit answers
 * UnitExists: the start is tried again every 5 s, for longer than the
 * earlier one may run, so no notification is lost and the names stay as
 * documented.
 */
static const struct notify_setting {
	const char *section;
	const char *key;
	char type;
	const char *value;
} notify_settings[] = {
	{ "Unit", "Documentation", 'a', "man:coldroomd(8)" },
	{ "Unit", "CollectMode", 's', "inactive-or-failed" },
	{ "Service", "Type", 's', "oneshot" },
	{ "Service", "RemainAfterExit", 'b', "no" },
	{ "Service", "TimeoutStartSec", 'T', "120" },
	{ "Service", "User", 's', "coldroom-notify" },
	{ "Service", "Group", 's', "coldroom-notify" },
	{ "Service", "UMask", 'u', "0077" },
	{ "Service", "MemoryMax", 't', "67108864" },
	{ "Service", "TasksMax", 't', "16" },
	{ "Service", "CapabilityBoundingSet", 'c', "" },
	{ "Service", "NoNewPrivileges", 'b', "yes" },
	{ "Service", "ProtectSystem", 's', "strict" },
	{ "Service", "ProtectHome", 's', "yes" },
	{ "Service", "PrivateTmp", 'b', "yes" },
	{ "Service", "PrivateDevices", 'b', "yes" },
	{ "Service", "PrivateIPC", 'b', "yes" },
	{ "Service", "ProtectHostname", 'b', "yes" },
	{ "Service", "ProtectClock", 'b', "yes" },
	{ "Service", "ProtectKernelTunables", 'b', "yes" },
	{ "Service", "ProtectKernelModules", 'b', "yes" },
	{ "Service", "ProtectKernelLogs", 'b', "yes" },
	{ "Service", "ProtectControlGroups", 'b', "yes" },
	{ "Service", "ProtectProc", 's', "invisible" },
	{ "Service", "ProcSubset", 's', "pid" },
	{ "Service", "RestrictAddressFamilies", 'l', "AF_INET AF_INET6 AF_UNIX" },
	{ "Service", "RestrictNamespaces", 'n', "yes" },
	{ "Service", "RestrictRealtime", 'b', "yes" },
	{ "Service", "RestrictSUIDSGID", 'b', "yes" },
	{ "Service", "LockPersonality", 'b', "yes" },
	{ "Service", "MemoryDenyWriteExecute", 'b', "yes" },
	{ "Service", "RemoveIPC", 'b', "yes" },
	{ "Service", "KeyringMode", 's', "private" },
	{ "Service", "DevicePolicy", 's', "closed" },
	{ "Service", "SystemCallArchitectures", 'a', "native" },
	{ "Service", "SystemCallFilter", 'l', "@system-service" },
	{ "Service", "SystemCallFilter", 'l', "~@privileged @resources" },
};

struct notify_start {
	struct alarm_notifier *owner;
	struct notify_start *next;
	sd_bus *bus;
	sd_bus_slot *slot;		/* the call waiting for its reply */
	sd_event_source *retry;		/* waiting for an earlier instance to go */
	unsigned int attempts;
	const char *verb;		/* coldroom-notify's argument: alarm, escalate */
	char instance[ALARM_SERIAL_MAX + 16];
	char unit[ALARM_SERIAL_MAX + 64];
	char **env;
};

struct alarm_notifier {
	sd_event *event;
	struct notify_start *starts;
};

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static char **strv_copy(char *const *v)
{
	size_t n = 0;
	char **c;

	while (v[n])
		n++;
	c = calloc(n + 1, sizeof(*c));
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			strv_free(c);
			return NULL;
		}
	}
	return c;
}

static void start_free(struct notify_start *c)
{
	for (struct notify_start **p = &c->owner->starts; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	sd_bus_slot_unref(c->slot);
	sd_event_source_disable_unref(c->retry);
	sd_bus_unref(c->bus);
	strv_free(c->env);
	free(c);
}

/* A 'l' entry: "(bas)", an allow list or, after "~", a deny list. */
static int append_list(sd_bus_message *m, const struct notify_setting *s)
{
	bool deny = s->value[0] == '~';
	char buf[128], *save = NULL;
	int r;

	if (snprintf(buf, sizeof(buf), "%s", s->value + deny) >= (int)sizeof(buf))
		return -EINVAL;
	r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", s->key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "(bas)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "bas");
	if (r >= 0)
		r = sd_bus_message_append(m, "b", (int)!deny);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "s");
	for (char *w = strtok_r(buf, " ", &save); r >= 0 && w; w = strtok_r(NULL, " ", &save))
		r = sd_bus_message_append(m, "s", w);
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int append_setting(sd_bus_message *m, const struct notify_setting *s)
{
	char name[64];
	size_t n;

	switch (s->type) {
	case 't':
		return sd_bus_message_append(m, "(sv)", s->key, "t",
					     (uint64_t)strtoull(s->value, NULL, 10));
	case 'u':
		return sd_bus_message_append(m, "(sv)", s->key, "u",
					     (uint32_t)strtoul(s->value, NULL, 8));
	case 'c':
	case 'n':
		/* No capability; no namespace type allowed. */
		return sd_bus_message_append(m, "(sv)", s->key, "t", (uint64_t)0);
	case 'l':
		return append_list(m, s);
	case 's':
		return sd_bus_message_append(m, "(sv)", s->key, "s", s->value);
	case 'b':
		return sd_bus_message_append(m, "(sv)", s->key, "b", (int)!strcmp(s->value, "yes"));
	case 'a':
		return sd_bus_message_append(m, "(sv)", s->key, "as", 1, s->value);
	case 'T':
		n = strlen(s->key);
		if (n < 3 || strcmp(s->key + n - 3, "Sec"))
			return -EINVAL;
		snprintf(name, sizeof(name), "%.*sUSec", (int)(n - 3), s->key);
		return sd_bus_message_append(m, "(sv)", name, "t",
					     (uint64_t)strtoull(s->value, NULL, 10) * USEC_PER_SEC);
	default:
		return -EINVAL;
	}
}

/* The unit's properties: the table, its name and program, the facts. */
static int append_properties(sd_bus_message *m, const struct notify_start *c)
{
	char description[160];
	int r;

	snprintf(description, sizeof(description), "Cold-room alarm notification (%s) for %s",
		 c->verb, c->instance);
	r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "Description", "s", description);
	for (size_t i = 0; r >= 0 && i < sizeof(notify_settings) / sizeof(notify_settings[0]); i++)
		r = append_setting(m, &notify_settings[i]);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "ExecStart", "a(sasb)", 1, NOTIFY_PROGRAM, 2,
					  NOTIFY_PROGRAM, c->verb, 0);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "Environment");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "as");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, c->env);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int send_start(struct notify_start *c);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct notify_start *c = userdata;
	int r;

	(void)s, (void)usec;
	c->retry = sd_event_source_disable_unref(c->retry);
	r = send_start(c);
	if (r < 0) {
		log_warning("alarm: cannot start %s: %s", c->unit, strerror(-r));
		start_free(c);
	}
	return 0;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct notify_start *c = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	int r;

	(void)ret_error;
	c->slot = sd_bus_slot_unref(c->slot);
	if (!e) {
		log_info("alarm: started %s", c->unit);
		start_free(c);
		return 0;
	}
	if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists") &&
	    c->attempts < RETRY_MAX) {
		if (c->attempts == 1)
			log_notice("alarm: %s is still there (an earlier notification running, or "
				   "a unit file of that name: a site's settings belong in a drop-in); "
				   "trying again for %llu s", c->unit,
				   RETRY_MAX * RETRY_USEC / USEC_PER_SEC);
		r = sd_event_add_time_relative(c->owner->event, &c->retry, CLOCK_MONOTONIC,
					       RETRY_USEC, USEC_PER_SEC, on_retry, c);
		if (r >= 0)
			return 0;
	}
	log_warning("alarm: cannot start %s: %s", c->unit, e->message ? e->message : e->name);
	start_free(c);
	return 0;
}

static int send_start(struct notify_start *c)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;

	c->attempts++;
	r = sd_bus_message_new_method_call(c->bus, &m, "org.freedesktop.systemd1",
					   "/org/freedesktop/systemd1",
					   "org.freedesktop.systemd1.Manager",
					   "StartTransientUnit");
	/* "fail": an alarm's notification never replaces another job. */
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", c->unit, "fail");
	if (r >= 0)
		r = append_properties(m, c);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call_async(c->bus, &c->slot, m, on_reply, c, 0);
	return r;
}

int alarm_notify_start(struct alarm_notifier *n, sd_bus *bus, unsigned int level,
		       const char *instance, char *const *env)
{
	bool escalate = level == ALARM_LEVEL_ESCALATED;
	struct notify_start *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->owner = n;
	c->next = n->starts;
	n->starts = c;
	c->bus = sd_bus_ref(bus);
	c->verb = escalate ? "escalate" : "alarm";
	snprintf(c->instance, sizeof(c->instance), "%s", instance);
	snprintf(c->unit, sizeof(c->unit), "coldroom-%s@%s.service", c->verb, instance);
	c->env = strv_copy(env);
	r = c->env ? send_start(c) : -ENOMEM;
	if (r < 0) {
		log_warning("alarm: cannot start %s: %s", c->unit, strerror(-r));
		start_free(c);
	}
	return r;
}

int alarm_notifier_new(sd_event *event, struct alarm_notifier **ret)
{
	struct alarm_notifier *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->event = sd_event_ref(event);
	*ret = n;
	return 0;
}

struct alarm_notifier *alarm_notifier_free(struct alarm_notifier *n)
{
	if (!n)
		return NULL;
	while (n->starts)
		start_free(n->starts);
	sd_event_unref(n->event);
	free(n);
	return NULL;
}
