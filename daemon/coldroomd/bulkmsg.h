/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * bulkmsg.h - checks of what the kernel's bulk path hands coldroomd: the
 * records of /dev/coldroom and the messages of the generic netlink family.
 * Pure functions on byte buffers, so the tests can feed them bad input.
 */
#ifndef COLDROOMD_BULKMSG_H
#define COLDROOMD_BULKMSG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/coldroom.h>

/* Flags a record may carry; anything else is a format this daemon does not know. */
#define RECORD_KNOWN_FLAGS (COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID | \
			    COLDROOM_F_TEMP1_ALARM | COLDROOM_F_TEMP2_ALARM | \
			    COLDROOM_F_FRAME | COLDROOM_F_READY | COLDROOM_F_OVERFLOW)

enum record_kind {
	RECORD_SAMPLE,		/* a unit's sample */
	RECORD_OVERFLOW,	/* seq records were lost before this point */
};

/*
 * Copy the record at @buf (@len bytes) into @rec. -EBADMSG unless @len is
 * exactly one record, the unit number is in range (or NONE for an overflow
 * report) and the flags are known.
 */
int record_parse(const void *buf, size_t len, struct coldroom_record *rec,
		 enum record_kind *kind);
/* The same checks on a whole record already in place (a read() buffer). */
int record_check(const struct coldroom_record *rec, enum record_kind *kind);

/*
 * A reading of COLDROOM_IOC_READ_BATCH as the record of that sample, so
 * that one path applies both. -EBADMSG unless the unit number is in range
 * and the flags are those a reading may carry; -ENODATA for a unit that
 * has not sampled yet (nothing to apply).
 */
int reading_to_record(const struct coldroom_reading *r, struct coldroom_record *rec);

/* One event of the "events" multicast group. */
struct genl_event {
	uint8_t cmd;			/* COLDROOM_CMD_* */
	uint32_t unit;
	unsigned int channel;		/* ALARM: 1 or 2 */
	int alarm;			/* ALARM: 1 set, 0 cleared */
	int32_t temp;			/* ALARM */
	uint64_t seq;			/* ALARM */
	uint32_t fw_state;		/* FIRMWARE_STATE: COLDROOM_GENL_FW_* */
};

/*
 * Build a CTRL_CMD_GETFAMILY request for COLDROOM_GENL_NAME into @buf.
 * Returns its length or -ENOBUFS.
 */
int genl_family_request(void *buf, size_t size, uint32_t seq);

/*
 * Parse the controller's answer: the family id and the id of the
 * COLDROOM_GENL_MCGRP_EVENTS group. -errno of an NLMSG_ERROR answer,
 * -EBADMSG for anything malformed, -ENOENT without that group.
 */
int genl_family_parse(const void *buf, size_t len, uint16_t *family_id,
		      uint32_t *group_id);

/*
 * Parse one netlink message of @family_id at @buf (@len bytes: exactly
 * that message). -EBADMSG for a malformed one (lengths, missing or
 * ill-sized attributes, values out of range), -EOPNOTSUPP for a command
 * this daemon does not handle or another family.
 */
int genl_event_parse(const void *buf, size_t len, uint16_t family_id,
		     struct genl_event *ev);

#endif
