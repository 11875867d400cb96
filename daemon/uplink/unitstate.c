// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * unitstate.c - each unit's retained state and its Home Assistant discovery,
 * folded from what is forwarded; apart, as they are per unit, not per entry.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uplink.h"
#include "uplinkmsg.h"

struct unit_slot *unit_slot(struct uplink *u, const char *serial)
{
	uint32_t h = 2166136261u;
	size_t i;

	if (u->units_used * 2 >= u->units_cap) {
		size_t cap = u->units_cap ? u->units_cap * 2 : 64;
		struct unit_slot *old = u->units, *v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		u->units = v;
		u->units_cap = cap;
		u->units_used = 0;
		for (i = 0; old && i < cap / 2; i++)
			if (old[i].used)
				*unit_slot(u, old[i].st.serial) = old[i];
		free(old);
	}
	for (const char *p = serial; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = h & (u->units_cap - 1); u->units[i].used; i = (i + 1) & (u->units_cap - 1))
		if (!strcmp(u->units[i].st.serial, serial))
			return &u->units[i];
	u->units[i].used = true;
	snprintf(u->units[i].st.serial, sizeof(u->units[i].st.serial), "%s", serial);
	u->units_used++;
	return &u->units[i];
}

static void publish_unit(struct uplink *u, struct unit_slot *s)
{
	char *topic = NULL;

	if (u->cfg.ha_discovery && !s->discovered) {
		s->discovered = true;
		for (unsigned int p = 1; p <= 2; p++) {
			char *payload = uplink_discovery_json(&u->origin, s->st.serial, p, &topic);

			(void)publish(u, topic, payload, 1, true, NULL);
		}
	}
	s->dirty = false;
	(void)publish(u, uplink_topic(&u->origin, s->st.serial, "state"),
		      uplink_state_json(&u->origin, &s->st), 1, true, NULL);
}

/* Every unit's state that changed (all, after a connect). */
void publish_units(struct uplink *u, bool all)
{
	if (u->conn != CONNECTED)
		return;
	for (size_t i = 0; i < u->units_cap; i++)
		if (u->units[i].used && (all || u->units[i].dirty))
			publish_unit(u, &u->units[i]);
}
