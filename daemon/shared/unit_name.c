// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * unit_name.c - the names the kernel hands user space: unit sysnames and
 * firmware file names. Anything udev, sysfs or the bus hands a program
 * passes here before it names a directory or a unit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/coldroom.h>

#include "unit_name.h"

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
