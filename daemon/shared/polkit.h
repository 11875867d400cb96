/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * polkit.h - a person's act (acknowledging, configuring, signing) checked
 * with polkit (org.freedesktop.PolicyKit1.Authority.CheckAuthorization)
 * without blocking the event loop, in the way of systemd's
 * bus_verify_polkit_async(): the method handler calls polkit_check(); the
 * first call asks polkit and returns 0 (the handler returns 1, no reply
 * yet); when polkit answers, the request is queued again on its bus
 * (sd_bus_enqueue_for_read()), the handler runs again and polkit_check()
 * returns the answer. A handler must therefore do nothing before
 * polkit_check() but read and validate its arguments.
 *
 * The policy is org.coldroom.sensors.policy with its rules
 * (SECURITY.md, "Roles"); root is allowed without asking.
 */
#ifndef COLDROOM_POLKIT_H
#define COLDROOM_POLKIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#define POLKIT_ACTION_ACKNOWLEDGE	"org.coldroom.sensors.acknowledge"
#define POLKIT_ACTION_CONFIGURE		"org.coldroom.sensors.configure"
#define POLKIT_ACTION_SIGN_REPORT	"org.coldroom.sensors.sign-report"

/* Checks in flight for one bus connection, and for all together. */
#define POLKIT_PENDING_PER_SENDER	4
#define POLKIT_PENDING_MAX		256
/* How long polkit may take: a person reads the prompt and types. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC	(300ULL * 1000000ULL)

/* Who asked, and how the act was allowed (or why not). */
struct polkit_caller {
	uid_t uid;
	char user[64];			/* the user name, or "uid N" */
	char printed_name[128];		/* GECOS' first field, else the user name */
	/*
	 * "polkit" (polkit said yes, after the password where the policy
	 * asks for it), "root", "group" (no polkit on the bus: the fallback
	 * groups); for a refusal: "denied", "cancelled", "no agent".
	 */
	char how[16];
};

struct polkit_registry;

struct polkit_registry *polkit_registry_free(struct polkit_registry *reg);
static inline void polkit_registry_freep(struct polkit_registry **reg)
{
	polkit_registry_free(*reg);
}

/*
 * Check @m's sender for @action. @fallback_groups (NULL-ended, may be
 * NULL) allow their members when no polkit authority is on the bus at
 * all. *@reg is created on first use.
 *
 * Returns 1: allowed (@caller filled); 0: polkit was asked, @m comes back
 * when it answers; -EACCES: refused or cancelled (@caller filled, @error
 * says why: the act is to be audited as refused); any other negative
 * errno: not decided (too many checks pending, the caller or polkit
 * unreachable), @error set.
 */
int polkit_check(struct polkit_registry **reg, sd_bus_message *m, const char *action,
		 const char *const *fallback_groups, struct polkit_caller *caller,
		 sd_bus_error *error);

/*
 * Refused attempts go into the audit trail, and anyone can repeat one: at
 * most POLKIT_REFUSALS_PER_MINUTE are itemized a minute. Returns whether to
 * itemize one now (CLOCK_MONOTONIC @now_usec); *@untold is then how many
 * were left out since the last one itemized.
 */
#define POLKIT_REFUSALS_PER_MINUTE	30

struct polkit_refusals {
	uint64_t window_usec;
	unsigned int in_window, untold;
};

bool polkit_refusal_itemize(struct polkit_refusals *r, uint64_t now_usec, unsigned int *untold);

/* @uid's user name and printed name (GECOS' first field, else the user name). */
void polkit_names_of(uid_t uid, char *user, size_t user_size, char *printed, size_t printed_size);

/* Whether @uid is in @group by the user database (not by what a process claims). */
bool polkit_uid_in_group(uid_t uid, const char *group);

#endif
