// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bulkmsg.c - the records of /dev/coldroom and the generic netlink
 * messages, checked before anything in them is believed: every length
 * against the bytes that are really there, every attribute against the
 * size its type has.
 */
#include <errno.h>
#include <string.h>
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

/* Index the attributes in @p (@len bytes) by type; the last one wins. */
static int attrs_parse(const uint8_t *p, size_t len, const struct nlattr **tb,
		       unsigned int max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len > 0) {
		const struct nlattr *a = (const void *)p;
		size_t step;

		if (len < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -EBADMSG;
		if ((a->nla_type & NLA_TYPE_MASK) <= max)
			tb[a->nla_type & NLA_TYPE_MASK] = a;
		step = NLA_ALIGN(a->nla_len);
		/* The last attribute may lack its padding. */
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

static const void *attr_data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* The value of a fixed-size attribute, or -EBADMSG when absent or ill-sized. */
static int attr_get(const struct nlattr *a, void *out, size_t size)
{
	if (!a || attr_len(a) != size)
		return -EBADMSG;
	memcpy(out, attr_data(a), size);
	return 0;
}

/* A NUL-terminated string attribute. */
static const char *attr_str(const struct nlattr *a)
{
	const char *s;

	if (!a || attr_len(a) == 0)
		return NULL;
	s = attr_data(a);
	return memchr(s, '\0', attr_len(a)) ? s : NULL;
}

/* The header and the attributes of one generic netlink message. */
static int genl_split(const void *buf, size_t len, const struct nlmsghdr **nh,
		      const struct genlmsghdr **gh, const uint8_t **attrs,
		      size_t *attrs_len)
{
	const size_t hdr = NLMSG_HDRLEN + GENL_HDRLEN;

	if (len < NLMSG_HDRLEN)
		return -EBADMSG;
	*nh = buf;
	if ((*nh)->nlmsg_len < NLMSG_HDRLEN || (*nh)->nlmsg_len > len)
		return -EBADMSG;
	if ((*nh)->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(*nh);

		if ((*nh)->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EBADMSG;
		return e->error < 0 ? e->error : -EBADMSG;
	}
	if ((*nh)->nlmsg_len < hdr)
		return -EBADMSG;
	*gh = (const void *)((const uint8_t *)buf + NLMSG_HDRLEN);
	*attrs = (const uint8_t *)buf + hdr;
	*attrs_len = (*nh)->nlmsg_len - hdr;
	return 0;
}

int genl_family_request(void *buf, size_t size, uint32_t seq)
{
	size_t name_len = sizeof(COLDROOM_GENL_NAME);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + NLA_ALIGN(name_len);
	struct nlmsghdr *nh = buf;
	struct genlmsghdr *gh;
	struct nlattr *a;

	if (size < len)
		return -ENOBUFS;
	memset(buf, 0, len);
	nh->nlmsg_len = (uint32_t)len;
	nh->nlmsg_type = GENL_ID_CTRL;
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = seq;
	gh = NLMSG_DATA(nh);
	gh->cmd = CTRL_CMD_GETFAMILY;
	gh->version = 1;
	a = (void *)((uint8_t *)gh + GENL_HDRLEN);
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = (uint16_t)(NLA_HDRLEN + name_len);
	memcpy((uint8_t *)a + NLA_HDRLEN, COLDROOM_GENL_NAME, name_len);
	return (int)len;
}

int genl_family_parse(const void *buf, size_t len, uint16_t *family_id,
		      uint32_t *group_id)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	const struct nlmsghdr *nh;
	const struct genlmsghdr *gh;
	const uint8_t *attrs, *p;
	size_t attrs_len, left;
	const char *name;
	uint16_t id;
	int r;

	r = genl_split(buf, len, &nh, &gh, &attrs, &attrs_len);
	if (r < 0)
		return r;
	if (nh->nlmsg_type != GENL_ID_CTRL || gh->cmd != CTRL_CMD_NEWFAMILY)
		return -EBADMSG;
	r = attrs_parse(attrs, attrs_len, tb, CTRL_ATTR_MAX);
	if (r < 0)
		return r;
	name = attr_str(tb[CTRL_ATTR_FAMILY_NAME]);
	if (!name || strcmp(name, COLDROOM_GENL_NAME) != 0)
		return -EBADMSG;
	if (attr_get(tb[CTRL_ATTR_FAMILY_ID], &id, sizeof(id)) < 0 || id == 0)
		return -EBADMSG;
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return -ENOENT;
	/* A nest of nests, one per group: each with a name and an id. */
	p = attr_data(tb[CTRL_ATTR_MCAST_GROUPS]);
	left = attr_len(tb[CTRL_ATTR_MCAST_GROUPS]);
	while (left > 0) {
		const struct nlattr *grp = (const void *)p, *gtb[CTRL_ATTR_MCAST_GRP_MAX + 1];
		uint32_t gid;
		size_t step;

		if (left < NLA_HDRLEN || grp->nla_len < NLA_HDRLEN || grp->nla_len > left)
			return -EBADMSG;
		r = attrs_parse(attr_data(grp), attr_len(grp), gtb, CTRL_ATTR_MCAST_GRP_MAX);
		if (r < 0)
			return r;
		name = attr_str(gtb[CTRL_ATTR_MCAST_GRP_NAME]);
		if (!name || attr_get(gtb[CTRL_ATTR_MCAST_GRP_ID], &gid, sizeof(gid)) < 0)
			return -EBADMSG;
		if (!strcmp(name, COLDROOM_GENL_MCGRP_EVENTS)) {
			*family_id = id;
			*group_id = gid;
			return 0;
		}
		step = NLA_ALIGN(grp->nla_len);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	return -ENOENT;
}

int genl_event_parse(const void *buf, size_t len, uint16_t family_id,
		     struct genl_event *ev)
{
	const struct nlattr *tb[COLDROOM_ATTR_MAX + 1];
	const struct nlmsghdr *nh;
	const struct genlmsghdr *gh;
	const uint8_t *attrs;
	size_t attrs_len;
	uint32_t channel;
	uint8_t alarm;
	int r;

	r = genl_split(buf, len, &nh, &gh, &attrs, &attrs_len);
	if (r < 0)
		return r;
	if (nh->nlmsg_type != family_id)
		return -EOPNOTSUPP;
	r = attrs_parse(attrs, attrs_len, tb, COLDROOM_ATTR_MAX);
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
	if (attr_get(tb[COLDROOM_ATTR_UNIT], &ev->unit, sizeof(ev->unit)) < 0 ||
	    ev->unit > COLDROOM_UNIT_MAX)
		return -EBADMSG;
	if (gh->cmd == COLDROOM_CMD_ALARM) {
		if (attr_get(tb[COLDROOM_ATTR_CHANNEL], &channel, sizeof(channel)) < 0 ||
		    attr_get(tb[COLDROOM_ATTR_ALARM], &alarm, sizeof(alarm)) < 0 ||
		    attr_get(tb[COLDROOM_ATTR_TEMP], &ev->temp, sizeof(ev->temp)) < 0 ||
		    attr_get(tb[COLDROOM_ATTR_SEQ], &ev->seq, sizeof(ev->seq)) < 0)
			return -EBADMSG;
		if (channel < 1 || channel > 2 || alarm > 1)
			return -EBADMSG;
		ev->channel = channel;
		ev->alarm = alarm;
	} else if (gh->cmd == COLDROOM_CMD_FIRMWARE_STATE) {
		if (attr_get(tb[COLDROOM_ATTR_FW_STATE], &ev->fw_state,
			     sizeof(ev->fw_state)) < 0 ||
		    ev->fw_state > COLDROOM_GENL_FW_FAILED)
			return -EBADMSG;
	}
	return 0;
}
