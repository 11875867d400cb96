/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * unit_name.h - the rules for the names the kernel hands user space: unit
 * sysnames and firmware file names. Pure functions, so the tests and the
 * fuzzer can feed them anything udev could.
 */
#ifndef COLDROOM_UNIT_NAME_H
#define COLDROOM_UNIT_NAME_H

#include <stdbool.h>

#define UNIT_SYSNAME_PREFIX "sensor"	/* the units of class coldroom */
#define UNIT_NAME_MAX 64		/* with its NUL */
#define FW_NAME_MAX 128			/* with its NUL */

/* A unit's directory name: not empty, short, no '/', not hidden. */
bool unit_name_valid(const char *name);
/* The N of a unit named "sensorN" (exactly that spelling), or -1. */
long unit_name_number(const char *name);
/* Whether a device of the class with this sysname is one of the units. */
bool unit_name_followed(const char *name);
/* coldroom/<name>.fw with nothing that could leave that directory. */
bool fw_name_valid(const char *name);

#endif
