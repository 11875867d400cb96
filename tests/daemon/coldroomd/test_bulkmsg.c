// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_bulkmsg - the checks of /dev/coldroom records and generic netlink
 * messages: good input parses, and short, over-long, unknown or truncated
 * input is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "bulkmsg.h"

#define FAMILY 0x1234

static struct coldroom_record sample_record(void)
{
	return (struct coldroom_record){
		.pos = 7, .seq = 42, .timestamp_ns = 1000000, .unit = 3,
		.flags = COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID |
			 COLDROOM_F_TEMP1_ALARM,
		.temp1 = -18000, .temp2 = 4000,
	};
}

static void test_record_good(void **state)
{
	struct coldroom_record in = sample_record(), out;
	enum record_kind kind;

	(void)state;
	assert_int_equal(record_parse(&in, sizeof(in), &out, &kind), 0);
	assert_int_equal(kind, RECORD_SAMPLE);
	assert_int_equal(out.unit, 3);
	assert_int_equal(out.seq, 42);
	assert_int_equal(out.temp1, -18000);

	in = (struct coldroom_record){ .unit = COLDROOM_UNIT_NONE,
				       .flags = COLDROOM_F_OVERFLOW, .seq = 99 };
	assert_int_equal(record_parse(&in, sizeof(in), &out, &kind), 0);
	assert_int_equal(kind, RECORD_OVERFLOW);
	assert_int_equal(out.seq, 99);
}

static void test_record_bad(void **state)
{
	struct coldroom_record in = sample_record(), out;
	uint8_t big[sizeof(in) + 1] = { 0 };
	enum record_kind kind;

	(void)state;
	/* Short and long. */
	assert_int_equal(record_parse(&in, sizeof(in) - 1, &out, &kind), -EBADMSG);
	assert_int_equal(record_parse(&in, 0, &out, &kind), -EBADMSG);
	memcpy(big, &in, sizeof(in));
	assert_int_equal(record_parse(big, sizeof(big), &out, &kind), -EBADMSG);
	/* A unit number no unit can have. */
	in.unit = COLDROOM_UNIT_MAX + 1;
	assert_int_equal(record_parse(&in, sizeof(in), &out, &kind), -EBADMSG);
	/* Flags of a newer format. */
	in = sample_record();
	in.flags |= 1U << 20;
	assert_int_equal(record_parse(&in, sizeof(in), &out, &kind), -EBADMSG);
	/* An overflow report about a unit, or with a reading. */
	in = (struct coldroom_record){ .unit = 3, .flags = COLDROOM_F_OVERFLOW };
	assert_int_equal(record_parse(&in, sizeof(in), &out, &kind), -EBADMSG);
	in = (struct coldroom_record){ .unit = COLDROOM_UNIT_NONE,
				       .flags = COLDROOM_F_OVERFLOW | COLDROOM_F_TEMP1_VALID };
	assert_int_equal(record_parse(&in, sizeof(in), &out, &kind), -EBADMSG);
}

/* A message under construction. */
struct msg {
	uint8_t buf[1024] __attribute__((aligned(4)));
	size_t len;
	size_t nest;	/* offset of the open nest, 0 if none */
};

static void msg_start(struct msg *m, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nh = (void *)m->buf;
	struct genlmsghdr *gh = NLMSG_DATA(nh);

	memset(m, 0, sizeof(*m));
	nh->nlmsg_type = type;
	gh->cmd = cmd;
	gh->version = 1;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	nh->nlmsg_len = (uint32_t)m->len;
}

static void msg_put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (void *)(m->buf + m->len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy(m->buf + m->len + NLA_HDRLEN, data, len);
	m->len += NLA_ALIGN(NLA_HDRLEN + len);
	((struct nlmsghdr *)m->buf)->nlmsg_len = (uint32_t)m->len;
}

static void msg_put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	msg_put(m, type, &v, sizeof(v));
}

static void msg_nest_start(struct msg *m, uint16_t type)
{
	m->nest = m->len;
	msg_put(m, type | NLA_F_NESTED, NULL, 0);
}

static void msg_nest_end(struct msg *m)
{
	struct nlattr *a = (void *)(m->buf + m->nest);

	a->nla_len = (uint16_t)(m->len - m->nest);
}

static void alarm_msg(struct msg *m)
{
	uint8_t alarm = 1;
	int32_t temp = -12000;
	uint64_t seq = 77;

	msg_start(m, FAMILY, COLDROOM_CMD_ALARM);
	msg_put_u32(m, COLDROOM_ATTR_UNIT, 5);
	msg_put(m, COLDROOM_ATTR_SERIAL, "CR-1", 5);
	msg_put_u32(m, COLDROOM_ATTR_CHANNEL, 2);
	msg_put(m, COLDROOM_ATTR_ALARM, &alarm, sizeof(alarm));
	msg_put(m, COLDROOM_ATTR_TEMP, &temp, sizeof(temp));
	msg_put(m, COLDROOM_ATTR_SEQ, &seq, sizeof(seq));
}

static void test_reading(void **state)
{
	struct coldroom_reading r = {
		.unit = 7, .flags = COLDROOM_F_READY | COLDROOM_F_TEMP1_VALID |
				    COLDROOM_F_TEMP2_VALID | COLDROOM_F_TEMP2_ALARM,
		.temp1 = -18500, .temp2 = -30000, .seq = 12, .timestamp_ns = 5000,
	};
	struct coldroom_record rec;

	(void)state;
	assert_int_equal(reading_to_record(&r, &rec), 0);
	assert_int_equal(rec.unit, 7);
	assert_int_equal(rec.seq, 12);
	assert_int_equal(rec.timestamp_ns, 5000);
	assert_int_equal(rec.temp1, -18500);
	assert_int_equal(rec.temp2, -30000);
	/* READY is about the batch; a record has no such flag. */
	assert_int_equal(rec.flags, COLDROOM_F_TEMP1_VALID | COLDROOM_F_TEMP2_VALID |
				    COLDROOM_F_TEMP2_ALARM);
	/* Not sampled yet: nothing to apply. */
	r.seq = 0;
	assert_int_equal(reading_to_record(&r, &rec), -ENODATA);
	r.seq = 12;
	/* Out of range, overflow (a read() flag) and unknown flags. */
	r.unit = COLDROOM_UNIT_MAX + 1;
	assert_int_equal(reading_to_record(&r, &rec), -EBADMSG);
	r.unit = 7;
	r.flags |= COLDROOM_F_OVERFLOW;
	assert_int_equal(reading_to_record(&r, &rec), -EBADMSG);
	r.flags = COLDROOM_F_TEMP1_VALID | (1U << 20);
	assert_int_equal(reading_to_record(&r, &rec), -EBADMSG);
}

static void test_event_alarm(void **state)
{
	struct genl_event ev;
	struct msg m;

	(void)state;
	alarm_msg(&m);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), 0);
	assert_int_equal(ev.cmd, COLDROOM_CMD_ALARM);
	assert_int_equal(ev.unit, 5);
	assert_int_equal(ev.channel, 2);
	assert_int_equal(ev.alarm, 1);
	assert_int_equal(ev.temp, -12000);
	assert_int_equal(ev.seq, 77);
}

static void test_event_firmware(void **state)
{
	struct genl_event ev;
	struct msg m;

	(void)state;
	msg_start(&m, FAMILY, COLDROOM_CMD_FIRMWARE_STATE);
	msg_put_u32(&m, COLDROOM_ATTR_UNIT, 9);
	msg_put_u32(&m, COLDROOM_ATTR_FW_STATE, COLDROOM_GENL_FW_READY);
	msg_put(&m, COLDROOM_ATTR_FW_STATE_NAME, "ready", 6);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), 0);
	assert_int_equal(ev.unit, 9);
	assert_int_equal(ev.fw_state, COLDROOM_GENL_FW_READY);
	/* The last attribute without its padding, and one newer than this daemon. */
	m.len -= 2;
	((struct nlmsghdr *)m.buf)->nlmsg_len = (uint32_t)m.len;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), 0);
	assert_int_equal(ev.fw_state, COLDROOM_GENL_FW_READY);
	m.len += 2;
	msg_put(&m, COLDROOM_ATTR_MAX + 1, "new", 3);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), 0);
	assert_int_equal(ev.unit, 9);

	/* A state this daemon does not know. */
	msg_start(&m, FAMILY, COLDROOM_CMD_FIRMWARE_STATE);
	msg_put_u32(&m, COLDROOM_ATTR_UNIT, 9);
	msg_put_u32(&m, COLDROOM_ATTR_FW_STATE, COLDROOM_GENL_FW_FAILED + 1);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);
}

static void test_event_bad(void **state)
{
	struct genl_event ev;
	struct msg m;
	struct nlattr *a;
	uint16_t bad16 = 1;

	(void)state;
	/* Shorter than its headers, or than it says it is. */
	alarm_msg(&m);
	assert_int_equal(genl_event_parse(m.buf, NLMSG_HDRLEN - 1, FAMILY, &ev), -EBADMSG);
	assert_int_equal(genl_event_parse(m.buf, m.len - 4, FAMILY, &ev), -EBADMSG);
	((struct nlmsghdr *)m.buf)->nlmsg_len = NLMSG_HDRLEN + 2;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);

	/* An attribute that claims more bytes than the message has. */
	alarm_msg(&m);
	a = (void *)(m.buf + NLMSG_HDRLEN + GENL_HDRLEN);
	a->nla_len = 200;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);
	/* An attribute shorter than its own header. */
	a->nla_len = 2;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);

	/* The message cut inside its last attribute. */
	alarm_msg(&m);
	m.len -= 4;
	((struct nlmsghdr *)m.buf)->nlmsg_len = (uint32_t)m.len;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);

	/* A missing attribute, an ill-sized one, values out of range. */
	msg_start(&m, FAMILY, COLDROOM_CMD_ALARM);
	msg_put_u32(&m, COLDROOM_ATTR_UNIT, 5);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);
	msg_start(&m, FAMILY, COLDROOM_CMD_FIRMWARE_STATE);
	msg_put(&m, COLDROOM_ATTR_UNIT, &bad16, sizeof(bad16));
	msg_put_u32(&m, COLDROOM_ATTR_FW_STATE, COLDROOM_GENL_FW_READY);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);
	msg_start(&m, FAMILY, COLDROOM_CMD_FIRMWARE_STATE);
	msg_put_u32(&m, COLDROOM_ATTR_UNIT, COLDROOM_UNIT_MAX + 1);
	msg_put_u32(&m, COLDROOM_ATTR_FW_STATE, COLDROOM_GENL_FW_READY);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);
	alarm_msg(&m);
	a = (void *)(m.buf + NLMSG_HDRLEN + GENL_HDRLEN + 8 + 12);	/* CHANNEL */
	assert_int_equal(a->nla_type, COLDROOM_ATTR_CHANNEL);
	((uint32_t *)(a + 1))[0] = 3;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);

	/* A length of 2 GiB or more, which an int comparison would let pass. */
	alarm_msg(&m);
	((struct nlmsghdr *)m.buf)->nlmsg_len = 0x80000000U + (uint32_t)m.len;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);
	((struct nlmsghdr *)m.buf)->nlmsg_len = 0xfffffff0U;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);

	/* Bytes after the last attribute that are no attribute. */
	alarm_msg(&m);
	m.len += 4;
	((struct nlmsghdr *)m.buf)->nlmsg_len = (uint32_t)m.len;
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);

	/* A string without its NUL, even one this daemon does not use. */
	alarm_msg(&m);
	msg_put(&m, COLDROOM_ATTR_MODEL, "CRS-200", 7);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EBADMSG);

	/* Another family, an unknown command. */
	alarm_msg(&m);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY + 1, &ev), -EOPNOTSUPP);
	msg_start(&m, FAMILY, COLDROOM_CMD_MAX + 1);
	msg_put_u32(&m, COLDROOM_ATTR_UNIT, 5);
	assert_int_equal(genl_event_parse(m.buf, m.len, FAMILY, &ev), -EOPNOTSUPP);
}

static void family_reply(struct msg *m, const char *group)
{
	uint16_t id = FAMILY;
	size_t group_nest;

	msg_start(m, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
	msg_put(m, CTRL_ATTR_FAMILY_NAME, COLDROOM_GENL_NAME, sizeof(COLDROOM_GENL_NAME));
	msg_put(m, CTRL_ATTR_FAMILY_ID, &id, sizeof(id));
	msg_nest_start(m, CTRL_ATTR_MCAST_GROUPS);
	group_nest = m->nest;
	/* One group entry: nest 1 { NAME, ID }. */
	msg_nest_start(m, 1);
	msg_put(m, CTRL_ATTR_MCAST_GRP_NAME, group, strlen(group) + 1);
	msg_put_u32(m, CTRL_ATTR_MCAST_GRP_ID, 21);
	msg_nest_end(m);
	m->nest = group_nest;
	msg_nest_end(m);
}

static void test_family(void **state)
{
	uint8_t req[128];
	uint32_t group = 0;
	uint16_t id = 0;
	struct msg m;
	int len;

	(void)state;
	len = genl_family_request(req, sizeof(req), 1);
	assert_true(len > 0);
	assert_int_equal(((struct nlmsghdr *)req)->nlmsg_len, len);
	{
		const struct nlmsghdr *nh = (const void *)req;
		const struct genlmsghdr *gh = NLMSG_DATA(nh);
		const struct nlattr *a = (const void *)((const uint8_t *)gh + GENL_HDRLEN);

		assert_int_equal(nh->nlmsg_type, GENL_ID_CTRL);
		assert_int_equal(nh->nlmsg_flags, NLM_F_REQUEST);
		assert_int_equal(nh->nlmsg_seq, 1);
		assert_int_equal(gh->cmd, CTRL_CMD_GETFAMILY);
		assert_int_equal(a->nla_type, CTRL_ATTR_FAMILY_NAME);
		assert_int_equal(a->nla_len, NLA_HDRLEN + sizeof(COLDROOM_GENL_NAME));
		assert_string_equal((const char *)a + NLA_HDRLEN, COLDROOM_GENL_NAME);
		assert_int_equal(len, NLMSG_HDRLEN + GENL_HDRLEN +
				      NLA_ALIGN(NLA_HDRLEN + sizeof(COLDROOM_GENL_NAME)));
	}
	assert_int_equal(genl_family_request(req, 8, 1), -ENOBUFS);
	/* Room for the headers, not for the name. */
	assert_int_equal(genl_family_request(req, NLMSG_HDRLEN + GENL_HDRLEN + 8, 1), -ENOBUFS);

	family_reply(&m, COLDROOM_GENL_MCGRP_EVENTS);
	assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), 0);
	assert_int_equal(id, FAMILY);
	assert_int_equal(group, 21);

	/* No "events" group. */
	family_reply(&m, "other");
	assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), -ENOENT);

	/* A group entry that claims more than its nest holds. */
	family_reply(&m, COLDROOM_GENL_MCGRP_EVENTS);
	{
		uint8_t *p = m.buf + NLMSG_HDRLEN + GENL_HDRLEN;
		struct nlattr *a;

		/* Past FAMILY_NAME and FAMILY_ID to the first group's entry. */
		p += NLA_ALIGN(NLA_HDRLEN + sizeof(COLDROOM_GENL_NAME));
		p += NLA_ALIGN(NLA_HDRLEN + 2);
		a = (void *)(p + NLA_HDRLEN);
		a->nla_len += 8;
	}
	assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), -EBADMSG);

	/* The family's id missing, or 0. */
	msg_start(&m, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
	msg_put(&m, CTRL_ATTR_FAMILY_NAME, COLDROOM_GENL_NAME, sizeof(COLDROOM_GENL_NAME));
	assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), -EBADMSG);
	{
		uint16_t zero = 0;

		msg_put(&m, CTRL_ATTR_FAMILY_ID, &zero, sizeof(zero));
		assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), -EBADMSG);
	}
	/* An ill-sized id, another family's answer, and no groups at all. */
	msg_start(&m, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
	msg_put(&m, CTRL_ATTR_FAMILY_NAME, COLDROOM_GENL_NAME, sizeof(COLDROOM_GENL_NAME));
	msg_put_u32(&m, CTRL_ATTR_FAMILY_ID, FAMILY);
	assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), -EBADMSG);
	{
		uint16_t fid = FAMILY;

		msg_start(&m, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
		msg_put(&m, CTRL_ATTR_FAMILY_NAME, "other", 6);
		msg_put(&m, CTRL_ATTR_FAMILY_ID, &fid, sizeof(fid));
		assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), -EBADMSG);
		msg_start(&m, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
		msg_put(&m, CTRL_ATTR_FAMILY_NAME, COLDROOM_GENL_NAME, sizeof(COLDROOM_GENL_NAME));
		msg_put(&m, CTRL_ATTR_FAMILY_ID, &fid, sizeof(fid));
		assert_int_equal(genl_family_parse(m.buf, m.len, &id, &group), -ENOENT);
	}

	/* The controller's error: no such family. */
	{
		struct {
			struct nlmsghdr nh;
			struct nlmsgerr err;
		} e = { .nh = { .nlmsg_len = sizeof(e), .nlmsg_type = NLMSG_ERROR },
			.err = { .error = -ENOENT } };

		assert_int_equal(genl_family_parse(&e, sizeof(e), &id, &group), -ENOENT);
		assert_int_equal(genl_family_parse(&e, NLMSG_HDRLEN + 2, &id, &group),
				 -EBADMSG);
		/* An acknowledgement is no answer. */
		e.err.error = 0;
		assert_int_equal(genl_family_parse(&e, sizeof(e), &id, &group), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_good),
		cmocka_unit_test(test_record_bad),
		cmocka_unit_test(test_reading),
		cmocka_unit_test(test_event_alarm),
		cmocka_unit_test(test_event_firmware),
		cmocka_unit_test(test_event_bad),
		cmocka_unit_test(test_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
