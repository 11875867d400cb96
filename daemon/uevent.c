// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * uevent.c - the uevents of class coldroom, and the names they carry.
 * Anything udev hands coldroomd passes here before it names a directory
 * or a unit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/coldroom.h>

#include "uevent.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

bool unit_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= UNIT_NAME_MAX || name[0] == '.')
		return false;
	return strspn(name, NAME_CHARS) == n;
}

/* Records and events name units by number: an index spares a name lookup. */
long unit_name_number(const char *name)
{
	char canonical[UNIT_NAME_MAX];
	unsigned long n;
	char *end;

	if (strncmp(name, UNIT_SYSNAME_PREFIX, strlen(UNIT_SYSNAME_PREFIX)) ||
	    !isdigit((unsigned char)name[strlen(UNIT_SYSNAME_PREFIX)]))
		return -1;
	errno = 0;
	n = strtoul(name + strlen(UNIT_SYSNAME_PREFIX), &end, 10);
	if (errno || *end || n > COLDROOM_UNIT_MAX)
		return -1;
	snprintf(canonical, sizeof(canonical), UNIT_SYSNAME_PREFIX "%lu", n);
	return strcmp(canonical, name) ? -1 : (long)n;
}

/* The enumeration (list_class()) and the uevents follow the same devices. */
bool unit_name_followed(const char *name)
{
	return !strncmp(name, UNIT_SYSNAME_PREFIX, strlen(UNIT_SYSNAME_PREFIX)) &&
	       unit_name_valid(name);
}

bool fw_name_valid(const char *name)
{
	const char *base;

	if (strncmp(name, "coldroom/", 9) != 0 || strlen(name) >= FW_NAME_MAX)
		return false;
	base = name + 9;
	if (!*base || strchr(base, '/') || !strcmp(base, ".") || !strcmp(base, ".."))
		return false;
	return true;
}

void uevent_classify(sd_device_action_t action, const char *sysname, const char *event,
		     const char *firmware, struct uevent_msg *msg)
{
	*msg = (struct uevent_msg){ .verdict = UEVENT_IGNORE };
	if (!sysname || !unit_name_followed(sysname))
		return;
	msg->unit = sysname;
	if (action == SD_DEVICE_REMOVE) {
		msg->verdict = UEVENT_REMOVE;
		return;
	}
	if (action != SD_DEVICE_CHANGE) {
		msg->verdict = UEVENT_ADD;
		return;
	}
	if (event && !strcmp(event, "firmware-request")) {
		msg->verdict = UEVENT_FIRMWARE_REQUEST;
		if (firmware && fw_name_valid(firmware))
			msg->fw_name = firmware;
		else if (firmware)
			msg->fw_name_rejected = true;
	} else if (event && !strcmp(event, "alarm")) {
		msg->verdict = UEVENT_ALARM;
	} else if (event && !strcmp(event, "firmware-state")) {
		msg->verdict = UEVENT_FIRMWARE_STATE;
	} else {
		msg->verdict = UEVENT_REREAD;
	}
}
