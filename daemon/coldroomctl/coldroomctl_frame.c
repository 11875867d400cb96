// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_frame.c - frame: a unit's latest thermal frame, fetched as a
 * sealed memfd and written as a false-colour PNG.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <json-c/json.h>

#include "bus_names.h"
#include "coldroomctl.h"
#include "frameimage.h"
#include "macro.h"
#include "unit_client.h"

/* A number printed with two decimals, as the text output has it. */
static struct json_object *jfixed2(double v)
{
	char text[64];

	snprintf(text, sizeof(text), "%.2f", v);
	return jnew(json_object_new_double_s(v, text));
}

/* The unit's latest thermal frame as a false-colour PNG. */
int cmd_frame(sd_bus *bus, const char *key, const char *path)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct frame_range range;
	struct unit_info u;
	struct stat st;
	uint16_t width, height;
	uint64_t seq, when;
	const int16_t *pixels;
	size_t size;
	char err[512];
	int fd, r;

	r = fetch_unit(bus, key, &u);
	if (r)
		return r;
	r = sd_bus_call_method(bus, SENSORS_BUS_NAME, u.path, SENSORS_UNIT_IFACE, "GetFrame", &e, &reply, NULL);
	free(u.path);
	if (r < 0)
		return fail_call("frame", &e, r);
	r = sd_bus_message_read(reply, "hqqtt", &fd, &width, &height, &seq, &when);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: frame: bad reply: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	size = (size_t)width * height * sizeof(*pixels);
	/* The daemon sealed it: its size is what it is and cannot change. */
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != size || !size) {
		fprintf(stderr, "coldroomctl: frame: the pixels do not match %u x %u\n",
			width, height);
		return EXIT_FAILURE;
	}
	pixels = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (pixels == MAP_FAILED) {
		fprintf(stderr, "coldroomctl: frame: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	r = frame_write_png(pixels, width, height, path, &range, err, sizeof(err));
	munmap((void *)pixels, size);
	if (r < 0) {
		fprintf(stderr, "coldroomctl: frame: %s\n", err);
		return EXIT_FAILURE;
	}
	if (arg_json) {
		struct json_object *o = jnew(json_object_new_object());

		jset(o, "unit", jstr(u.name));
		jset(o, "file", jstr(path));
		jset(o, "width", juint(width));
		jset(o, "height", juint(height));
		jset(o, "sample_seq", juint(seq));
		jset(o, "timestamp", juint(when));
		jset(o, "min", jfixed2(range.min_cdeg / 100.0));
		jset(o, "max", jfixed2(range.max_cdeg / 100.0));
		json_print(o);
	} else {
		printf("%s: frame of sample %" PRIu64 ", %u x %u, %.2f..%.2f \u00b0C, written to %s\n",
		       u.name, seq, width, height, range.min_cdeg / 100.0,
		       range.max_cdeg / 100.0, path);
	}
	return 0;
}
