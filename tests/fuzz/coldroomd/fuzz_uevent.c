// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the uevents coldroomd follows (uevent.c). The input
 * is an action byte, then the sysname, COLDROOM_EVENT and
 * COLDROOM_FIRMWARE separated by NULs (a missing field is an absent
 * property). Whatever is followed names no path outside its directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

#include "uevent.h"

/* The next NUL-terminated field of [*p, end), or NULL when none is left. */
static const char *next_field(const char **p, const char *end)
{
	const char *s = *p;
	const char *nul;

	if (s >= end)
		return NULL;
	nul = memchr(s, '\0', (size_t)(end - s));
	*p = nul ? nul + 1 : end;
	return s;
}

static void check_unit_name(const char *name)
{
	long n = unit_name_number(name);
	char canonical[UNIT_NAME_MAX];

	fuzz_assert(strlen(name) < UNIT_NAME_MAX);
	fuzz_assert(!strchr(name, '/') && name[0] != '.');
	fuzz_assert(!strncmp(name, UNIT_SYSNAME_PREFIX, strlen(UNIT_SYSNAME_PREFIX)));
	if (n >= 0) {
		snprintf(canonical, sizeof(canonical), UNIT_SYSNAME_PREFIX "%ld", n);
		fuzz_assert(!strcmp(canonical, name));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fields[3] = { NULL, NULL, NULL };
	struct uevent_msg msg;
	const char *p, *end;
	char *copy;

	if (size < 1)
		return 0;
	/* A NUL-terminated heap copy: ASan sees any read past it. */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	p = copy;
	end = copy + size;
	for (int i = 0; i < 3; i++)
		fields[i] = next_field(&p, end);
	uevent_classify((sd_device_action_t)(data[0] % (_SD_DEVICE_ACTION_MAX + 1)),
			fields[0], fields[1], fields[2], &msg);
	if (msg.verdict == UEVENT_IGNORE) {
		fuzz_assert(!msg.unit && !msg.fw_name);
		fuzz_assert(!fields[0] || !unit_name_followed(fields[0]));
	} else {
		fuzz_assert(msg.unit == fields[0]);
		check_unit_name(msg.unit);
	}
	if (msg.fw_name) {
		const char *base = msg.fw_name + strlen("coldroom/");

		fuzz_assert(msg.verdict == UEVENT_FIRMWARE_REQUEST && !msg.fw_name_rejected);
		fuzz_assert(!strncmp(msg.fw_name, "coldroom/", strlen("coldroom/")));
		fuzz_assert(strlen(msg.fw_name) < FW_NAME_MAX);
		fuzz_assert(*base && !strchr(base, '/') && strcmp(base, "..") && strcmp(base, "."));
	}
	if (msg.fw_name_rejected)
		fuzz_assert(fields[2] && !fw_name_valid(fields[2]));
	free(copy);
	return 0;
}
