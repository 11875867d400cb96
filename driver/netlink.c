// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom core: the "coldroom" generic netlink family. It has no
 * commands to call; its multicast group "events" carries alarm set and
 * cleared, firmware state changes and units added and removed, in the
 * initial network namespace. A message is built only when the group has
 * a member (genl_has_listeners()).
 */

#include <linux/ktime.h>
#include <net/genetlink.h>

#include "coldroom_core.h"

enum {
	COLDROOM_MCGRP_EVENTS,
};

static const struct genl_multicast_group coldroom_nl_mcgrps[] = {
	[COLDROOM_MCGRP_EVENTS] = { .name = COLDROOM_GENL_MCGRP_EVENTS },
};

static struct genl_family coldroom_nl_family __ro_after_init = {
	.name = COLDROOM_GENL_NAME,
	.version = COLDROOM_GENL_VERSION,
	.maxattr = COLDROOM_ATTR_MAX,
	.module = THIS_MODULE,
	.mcgrps = coldroom_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(coldroom_nl_mcgrps),
};

/* A message for @cmd about unit @s, or NULL when nobody listens. */
static struct sk_buff *coldroom_nl_start(struct coldroom_sensor *s, u8 cmd,
					 void **hdr)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&coldroom_nl_family, &init_net,
				COLDROOM_MCGRP_EVENTS))
		return NULL;
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &coldroom_nl_family, 0, cmd);
	if (!*hdr ||
	    nla_put_u32(skb, COLDROOM_ATTR_UNIT, s->id) ||
	    nla_put_string(skb, COLDROOM_ATTR_MODEL, s->ident.model) ||
	    nla_put_string(skb, COLDROOM_ATTR_SERIAL, s->ident.serial)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void coldroom_nl_send(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&coldroom_nl_family, skb, 0, COLDROOM_MCGRP_EVENTS,
			  GFP_KERNEL);
}

void coldroom_nl_unit(struct coldroom_sensor *s, bool added)
{
	struct sk_buff *skb;
	void *hdr;

	skb = coldroom_nl_start(s, added ? COLDROOM_CMD_UNIT_ADDED :
				COLDROOM_CMD_UNIT_REMOVED, &hdr);
	if (skb)
		coldroom_nl_send(skb, hdr);
}

void coldroom_nl_alarm(struct coldroom_sensor *s, unsigned int channel,
		       bool alarm, s32 temp, u64 seq, u64 ns)
{
	struct sk_buff *skb;
	void *hdr;

	skb = coldroom_nl_start(s, COLDROOM_CMD_ALARM, &hdr);
	if (!skb)
		return;
	if (nla_put_u32(skb, COLDROOM_ATTR_CHANNEL, channel + 1) ||
	    nla_put_u8(skb, COLDROOM_ATTR_ALARM, alarm) ||
	    nla_put_s32(skb, COLDROOM_ATTR_TEMP, temp) ||
	    nla_put_u64_64bit(skb, COLDROOM_ATTR_SEQ, seq, COLDROOM_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, COLDROOM_ATTR_TIMESTAMP_NS, ns,
			      COLDROOM_ATTR_PAD)) {
		nlmsg_free(skb);
		return;
	}
	coldroom_nl_send(skb, hdr);
}

void coldroom_nl_fw_state(struct coldroom_sensor *s,
			  enum coldroom_fw_state state, const char *error)
{
	static const u32 uapi_state[] = {
		[COLDROOM_FW_PENDING] = COLDROOM_GENL_FW_PENDING,
		[COLDROOM_FW_LOADING] = COLDROOM_GENL_FW_LOADING,
		[COLDROOM_FW_READY] = COLDROOM_GENL_FW_READY,
		[COLDROOM_FW_FAILED] = COLDROOM_GENL_FW_FAILED,
	};
	struct sk_buff *skb;
	void *hdr;

	skb = coldroom_nl_start(s, COLDROOM_CMD_FIRMWARE_STATE, &hdr);
	if (!skb)
		return;
	if (nla_put_u32(skb, COLDROOM_ATTR_FW_STATE, uapi_state[state]) ||
	    nla_put_string(skb, COLDROOM_ATTR_FW_STATE_NAME,
			   coldroom_fw_state_name(state)) ||
	    nla_put_string(skb, COLDROOM_ATTR_FW_ERROR, error ? error : "")) {
		nlmsg_free(skb);
		return;
	}
	coldroom_nl_send(skb, hdr);
}

int coldroom_nl_init(void)
{
	return genl_register_family(&coldroom_nl_family);
}

void coldroom_nl_exit(void)
{
	genl_unregister_family(&coldroom_nl_family);
}
