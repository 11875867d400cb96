// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * uevent.c - what a uevent of class coldroom means to coldroomd.
 */
#include <string.h>

#include "uevent.h"

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
