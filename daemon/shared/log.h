/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * log.h - coldroomd's logging: structured journal entries when stderr is
 * the journal (systemd sets $JOURNAL_STREAM), plain lines otherwise.
 */
#ifndef COLDROOMD_LOG_H
#define COLDROOMD_LOG_H

#include <syslog.h>

/* Journal fields of one firmware or unit event; any may be NULL. */
struct log_fields {
	const char *unit;	/* COLDROOM_UNIT, e.g. sensor0 */
	const char *serial;	/* COLDROOM_SERIAL */
	const char *firmware;	/* COLDROOM_FIRMWARE, the requested name */
	const char *outcome;	/* COLDROOM_OUTCOME: loaded, failed, ... */
};

void log_set_max_level(int level);

__attribute__((format(printf, 3, 4)))
void log_fields(int priority, const struct log_fields *f, const char *fmt, ...);

#define log_error(...)	log_fields(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_fields(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...)	log_fields(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)	log_fields(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	log_fields(LOG_DEBUG, NULL, __VA_ARGS__)

#endif
