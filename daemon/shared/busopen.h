/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * busopen.h - the one way coldroom-sensor's programs connect to a bus:
 * "system", "user", or a D-Bus address (the tests' private buses).
 */
#ifndef COLDROOM_BUSOPEN_H
#define COLDROOM_BUSOPEN_H

#include <systemd/sd-bus.h>

/* Connect to @spec as a bus client; @description names the connection. */
int bus_open_spec(const char *spec, const char *description, sd_bus **ret);

#endif
