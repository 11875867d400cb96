// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bulkmsg.c - the records of /dev/coldroom and the generic netlink
 * messages, checked before anything in them is believed: every length
 * against the bytes that are really there, every attribute against the
 * size its type has. libmnl walks and checks the netlink messages; what
 * it lets pass (lengths over 2 GiB, bytes after the last attribute) is
 * checked here.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "bulkmsg.h"

int record_check(const struct coldroom_record *rec, enum record_kind *kind)
{
	if (rec->flags & ~RECORD_KNOWN_FLAGS)
		return -EBADMSG;
	if (rec->flags & COLDROOM_F_OVERFLOW) {
		/* An overflow report is about no unit and has no reading. */
		if (rec->unit != COLDROOM_UNIT_NONE || rec->flags != COLDROOM_F_OVERFLOW)
			return -EBADMSG;
		*kind = RECORD_OVERFLOW;
		return 0;
	}
	if (rec->unit > COLDROOM_UNIT_MAX)
		return -EBADMSG;
	*kind = RECORD_SAMPLE;
	return 0;
}

int record_parse(const void *buf, size_t len, struct coldroom_record *rec,
		 enum record_kind *kind)
{
	if (len != sizeof(*rec))
		return -EBADMSG;
	memcpy(rec, buf, sizeof(*rec));
	return record_check(rec, kind);
}

int reading_to_record(const struct coldroom_reading *r, struct coldroom_record *rec)
{
	const uint32_t known = (RECORD_KNOWN_FLAGS & ~COLDROOM_F_OVERFLOW) | COLDROOM_F_READY;

	if (r->unit > COLDROOM_UNIT_MAX || (r->flags & ~known))
		return -EBADMSG;
	if (!r->seq)
		return -ENODATA;
	*rec = (struct coldroom_record){
		.seq = r->seq,
		.timestamp_ns = r->timestamp_ns,
		.unit = r->unit,
		.flags = r->flags & ~COLDROOM_F_READY,
		.temp1 = r->temp1,
		.temp2 = r->temp2,
	};
	return 0;
}

/*
 * One message of @len bytes at @buf. mnl_nlmsg_ok() compares nlmsg_len as
 * an int, so a length of 2 GiB or more would pass it: compared here as
 * what it is.
 */
static bool msg_ok(const struct nlmsghdr *nh, size_t len)
{
	return len <= INT_MAX && mnl_nlmsg_ok(nh, (int)len) && nh->nlmsg_len <= len;
}

/*
 * An attribute walk with libmnl that also tells where it ended: mnl's
 * walks stop quietly at the first attribute that does not fit in what is
 * left, and bytes left over make the message malformed (as for the kernel's
 * own parser) rather than cut short.
 */
struct attr_walk {
	mnl_attr_cb_t cb;
	void *data;
	const uint8_t *start;
	size_t walked;		/* bytes up to the end of the last attribute */
};

static int attr_walk_cb(const struct nlattr *a, void *data)
{
	struct attr_walk *w = data;

	w->walked = (size_t)((const uint8_t *)a - w->start) + MNL_ALIGN(a->nla_len);
	return w->cb(a, w->data);
}

/*
 * @cb on every attribute of the @len bytes at @payload. 1 when all were
 * walked, 0 when @cb stopped the walk, -EBADMSG when @cb failed or bytes
 * are left that are no attribute. The last attribute may lack its padding.
 */
static int attrs_walk(const void *payload, size_t len, mnl_attr_cb_t cb, void *data)
{
	struct attr_walk w = { .cb = cb, .data = data, .start = payload };
	int r;

	r = mnl_attr_parse_payload(payload, len, attr_walk_cb, &w);
	if (r == MNL_CB_STOP)
		return 0;
	if (r < MNL_CB_STOP || w.walked < len)
		return -EBADMSG;
	return 1;
}

/* Attributes indexed by type, each checked against the type its table gives. */
struct attr_table {
	const struct nlattr **tb;
	const enum mnl_attr_data_type *types;
	uint16_t max;
};

static int attr_table_cb(const struct nlattr *a, void *data)
{
	const struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(a);

	/* Attributes newer than this daemon are none of its business. */
	if (type > t->max)
		return MNL_CB_OK;
	if (t->types[type] != MNL_TYPE_UNSPEC && mnl_attr_validate(a, t->types[type]) < 0)
		return MNL_CB_ERROR;
	t->tb[type] = a;	/* the last one wins */
	return MNL_CB_OK;
}

static int attrs_parse(const void *payload, size_t len, const enum mnl_attr_data_type *types,
		       uint16_t max, const struct nlattr **tb)
{
	struct attr_table t = { .tb = tb, .types = types, .max = max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	return attrs_walk(payload, len, attr_table_cb, &t) < 0 ? -EBADMSG : 0;
}

/*
 * The attributes after the generic netlink header of @nh, which msg_ok()
 * passed and which holds at least that header: exactly nlmsg_len, not
 * mnl_attr_parse()'s aligned end, which may lie past the bytes there are.
 */
static int genl_attrs_parse(const struct nlmsghdr *nh, const enum mnl_attr_data_type *types,
			    uint16_t max, const struct nlattr **tb)
{
	const size_t hdr = MNL_NLMSG_HDRLEN + MNL_ALIGN(GENL_HDRLEN);

	return attrs_parse(mnl_nlmsg_get_payload_offset(nh, GENL_HDRLEN), nh->nlmsg_len - hdr,
			   types, max, tb);
}

/*
 * The generic netlink message at @buf, checked: its lengths against @len
 * and its own, room for the generic header, an error answer as its -errno.
 */
static int genl_msg(const void *buf, size_t len, const struct nlmsghdr **ret,
		    const struct genlmsghdr **gh)
{
	const struct nlmsghdr *nh = buf;

	if (!msg_ok(nh, len))
		return -EBADMSG;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nh);

		if (mnl_nlmsg_get_payload_len(nh) < sizeof(*e))
			return -EBADMSG;
		/* Only an errno is an error; an ACK (0) or garbage is not an answer. */
		return e->error < 0 && e->error > -4096 ? e->error : -EBADMSG;
	}
	if (mnl_nlmsg_get_payload_len(nh) < MNL_ALIGN(GENL_HDRLEN))
		return -EBADMSG;
	*ret = nh;
	*gh = mnl_nlmsg_get_payload(nh);
	return 0;
}

int genl_family_request(void *buf, size_t size, uint32_t seq)
{
	struct nlmsghdr *nh;
	struct genlmsghdr *gh;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(GENL_HDRLEN))
		return -ENOBUFS;
	nh = mnl_nlmsg_put_header(buf);
	nh->nlmsg_type = GENL_ID_CTRL;
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = seq;
	gh = mnl_nlmsg_put_extra_header(nh, GENL_HDRLEN);
	gh->cmd = CTRL_CMD_GETFAMILY;
	gh->version = 1;
	if (!mnl_attr_put_strz_check(nh, size, CTRL_ATTR_FAMILY_NAME, COLDROOM_GENL_NAME))
		return -ENOBUFS;
	return (int)nh->nlmsg_len;
}

/* What the controller's answer must carry, and how. */
static const enum mnl_attr_data_type ctrl_types[CTRL_ATTR_MAX + 1] = {
	[CTRL_ATTR_FAMILY_ID] = MNL_TYPE_U16,
	[CTRL_ATTR_FAMILY_NAME] = MNL_TYPE_NUL_STRING,
	[CTRL_ATTR_MCAST_GROUPS] = MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type ctrl_grp_types[CTRL_ATTR_MCAST_GRP_MAX + 1] = {
	[CTRL_ATTR_MCAST_GRP_NAME] = MNL_TYPE_NUL_STRING,
	[CTRL_ATTR_MCAST_GRP_ID] = MNL_TYPE_U32,
};

/* One entry of CTRL_ATTR_MCAST_GROUPS: a nest with a name and an id. */
static int mcast_group_cb(const struct nlattr *grp, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];
	uint32_t *group_id = data;

	if (mnl_attr_validate(grp, MNL_TYPE_NESTED) < 0 ||
	    attrs_parse(mnl_attr_get_payload(grp), mnl_attr_get_payload_len(grp),
			ctrl_grp_types, CTRL_ATTR_MCAST_GRP_MAX, tb) < 0 ||
	    !tb[CTRL_ATTR_MCAST_GRP_NAME] || !tb[CTRL_ATTR_MCAST_GRP_ID])
		return MNL_CB_ERROR;
	if (strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]), COLDROOM_GENL_MCGRP_EVENTS))
		return MNL_CB_OK;
	*group_id = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_STOP;
}

int genl_family_parse(const void *buf, size_t len, uint16_t *family_id,
		      uint32_t *group_id)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *groups;
	const struct nlmsghdr *nh;
	const struct genlmsghdr *gh;
	uint32_t gid;
	uint16_t id;
	int r;

	r = genl_msg(buf, len, &nh, &gh);
	if (r < 0)
		return r;
	if (nh->nlmsg_type != GENL_ID_CTRL || gh->cmd != CTRL_CMD_NEWFAMILY)
		return -EBADMSG;
	r = genl_attrs_parse(nh, ctrl_types, CTRL_ATTR_MAX, tb);
	if (r < 0)
		return r;
	if (!tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]), COLDROOM_GENL_NAME))
		return -EBADMSG;
	if (!tb[CTRL_ATTR_FAMILY_ID])
		return -EBADMSG;
	id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (id == 0)
		return -EBADMSG;
	groups = tb[CTRL_ATTR_MCAST_GROUPS];
	if (!groups)
		return -ENOENT;
	/* The first group named "events" ends the walk (0). */
	r = attrs_walk(mnl_attr_get_payload(groups), mnl_attr_get_payload_len(groups),
		       mcast_group_cb, &gid);
	if (r < 0)
		return r;
	if (r > 0)
		return -ENOENT;
	*family_id = id;
	*group_id = gid;
	return 0;
}

/* What the driver's events carry (include/uapi/linux/coldroom.h), and how. */
static const enum mnl_attr_data_type coldroom_types[COLDROOM_ATTR_MAX + 1] = {
	[COLDROOM_ATTR_UNIT] = MNL_TYPE_U32,
	[COLDROOM_ATTR_MODEL] = MNL_TYPE_NUL_STRING,
	[COLDROOM_ATTR_SERIAL] = MNL_TYPE_NUL_STRING,
	[COLDROOM_ATTR_CHANNEL] = MNL_TYPE_U32,
	[COLDROOM_ATTR_ALARM] = MNL_TYPE_U8,
	[COLDROOM_ATTR_TEMP] = MNL_TYPE_U32,
	[COLDROOM_ATTR_SEQ] = MNL_TYPE_U64,
	[COLDROOM_ATTR_TIMESTAMP_NS] = MNL_TYPE_U64,
	[COLDROOM_ATTR_FW_STATE] = MNL_TYPE_U32,
	[COLDROOM_ATTR_FW_STATE_NAME] = MNL_TYPE_NUL_STRING,
	[COLDROOM_ATTR_FW_ERROR] = MNL_TYPE_NUL_STRING,
};

int genl_event_parse(const void *buf, size_t len, uint16_t family_id,
		     struct genl_event *ev)
{
	const struct nlattr *tb[COLDROOM_ATTR_MAX + 1];
	const struct nlmsghdr *nh;
	const struct genlmsghdr *gh;
	uint32_t channel;
	uint8_t alarm;
	int r;

	r = genl_msg(buf, len, &nh, &gh);
	if (r < 0)
		return r;
	if (nh->nlmsg_type != family_id)
		return -EOPNOTSUPP;
	r = genl_attrs_parse(nh, coldroom_types, COLDROOM_ATTR_MAX, tb);
	if (r < 0)
		return r;
	memset(ev, 0, sizeof(*ev));
	ev->cmd = gh->cmd;
	switch (gh->cmd) {
	case COLDROOM_CMD_UNIT_ADDED:
	case COLDROOM_CMD_UNIT_REMOVED:
	case COLDROOM_CMD_ALARM:
	case COLDROOM_CMD_FIRMWARE_STATE:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!tb[COLDROOM_ATTR_UNIT])
		return -EBADMSG;
	ev->unit = mnl_attr_get_u32(tb[COLDROOM_ATTR_UNIT]);
	if (ev->unit > COLDROOM_UNIT_MAX)
		return -EBADMSG;
	if (gh->cmd == COLDROOM_CMD_ALARM) {
		if (!tb[COLDROOM_ATTR_CHANNEL] || !tb[COLDROOM_ATTR_ALARM] ||
		    !tb[COLDROOM_ATTR_TEMP] || !tb[COLDROOM_ATTR_SEQ])
			return -EBADMSG;
		channel = mnl_attr_get_u32(tb[COLDROOM_ATTR_CHANNEL]);
		alarm = mnl_attr_get_u8(tb[COLDROOM_ATTR_ALARM]);
		if (channel < 1 || channel > 2 || alarm > 1)
			return -EBADMSG;
		ev->channel = channel;
		ev->alarm = alarm;
		ev->temp = (int32_t)mnl_attr_get_u32(tb[COLDROOM_ATTR_TEMP]);
		ev->seq = mnl_attr_get_u64(tb[COLDROOM_ATTR_SEQ]);
	} else if (gh->cmd == COLDROOM_CMD_FIRMWARE_STATE) {
		if (!tb[COLDROOM_ATTR_FW_STATE])
			return -EBADMSG;
		ev->fw_state = mnl_attr_get_u32(tb[COLDROOM_ATTR_FW_STATE]);
		if (ev->fw_state > COLDROOM_GENL_FW_FAILED)
			return -EBADMSG;
	}
	return 0;
}
