// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <string.h>

#include "busopen.h"

int bus_open_spec(const char *spec, const char *description, sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (!strcmp(spec, "system"))
		return sd_bus_open_system_with_description(ret, description);
	if (!strcmp(spec, "user"))
		return sd_bus_open_user_with_description(ret, description);
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_description(bus, description);
	if (r >= 0)
		r = sd_bus_set_address(bus, spec);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}
