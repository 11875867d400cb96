/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * timestamp.h - the times history --since and --until take: the forms of
 * systemd.time(7), as journalctl --since takes them.
 */
#ifndef COLDROOMCTL_TIMESTAMP_H
#define COLDROOMCTL_TIMESTAMP_H

#include <stdint.h>

/*
 * @s as CLOCK_REALTIME microseconds in @ret, relative to @now (also in
 * microseconds); local time as TZ says unless @s ends in " UTC".
 * -EINVAL when @s is none of the forms, -ERANGE when it is out of range.
 */
int timestamp_parse(const char *s, uint64_t now, uint64_t *ret);

#endif
