/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * alarm_notify.h - the alarm notification units, started as transient
 * units through systemd's D-Bus API with the alarm's facts in their
 * environment.
 *
 * Layer: below the lifecycle (alarm_lifecycle.c is its one caller); calls
 * only sd-bus and sd-event, knows nothing of units or alarms beyond the
 * strings it is given.
 */
#ifndef COLDROOMD_ALARM_NOTIFY_H
#define COLDROOMD_ALARM_NOTIFY_H

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

struct alarm_notifier;

int alarm_notifier_new(sd_event *event, struct alarm_notifier **ret);
struct alarm_notifier *alarm_notifier_free(struct alarm_notifier *n);

/*
 * Starts coldroom-alarm@INSTANCE.service (level 1) or
 * coldroom-escalate@INSTANCE.service (level 2) with @env, "KEY=VALUE"
 * strings passed as they are. Not waited for: the outcome is logged.
 */
int alarm_notify_start(struct alarm_notifier *n, sd_bus *bus, unsigned int level,
		       const char *instance, char *const *env);

#endif
