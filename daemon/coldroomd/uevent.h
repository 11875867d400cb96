/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * uevent.h - what coldroomd believes of a uevent of class coldroom. A
 * pure function, so the tests and the fuzzer can feed it anything udev
 * could.
 */
#ifndef COLDROOMD_UEVENT_H
#define COLDROOMD_UEVENT_H

#include <stdbool.h>
#include <systemd/sd-device.h>

#include "unit_name.h"

enum uevent_verdict {
	UEVENT_IGNORE,		/* not a unit: nothing to do */
	UEVENT_REMOVE,		/* the unit is gone */
	UEVENT_ADD,		/* add, bind, move...: the unit is there */
	UEVENT_FIRMWARE_REQUEST,/* change: the unit asks for firmware */
	UEVENT_ALARM,		/* change: a channel's alarm came or went */
	UEVENT_FIRMWARE_STATE,	/* change: the firmware state moved */
	UEVENT_REREAD,		/* change of no known kind ("udevadm trigger") */
};

struct uevent_msg {
	enum uevent_verdict verdict;
	const char *unit;	/* the sysname, when not UEVENT_IGNORE */
	/* UEVENT_FIRMWARE_REQUEST: the file asked for, NULL if none or not ours */
	const char *fw_name;
	bool fw_name_rejected;	/* COLDROOM_FIRMWARE was there but not ours */
};

/*
 * Classify a uevent from its action, sysname and the properties
 * COLDROOM_EVENT and COLDROOM_FIRMWARE (NULL when absent). The strings
 * @msg points to are the caller's.
 */
void uevent_classify(sd_device_action_t action, const char *sysname, const char *event,
		     const char *firmware, struct uevent_msg *msg);

#endif
