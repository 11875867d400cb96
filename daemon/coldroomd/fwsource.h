/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fwsource.h - find or compose the firmware blob for one unit.
 *
 * Search order (DBUS-API.md, "Firmware"):
 *  1. <override_dir>/<model>-<serial>.fw, the site's own blob for the unit,
 *     used as it is. If it exists but is not valid for the unit, that is
 *     an error: the daemon never falls back past a broken override.
 *  2. <model_dir>/<model>.fw, the packaged model blob, with
 *     <calibration_dir>/<serial>.conf applied on top when that file exists
 *     (coldroom_fw_text_apply), rebuilt for this serial (coldroom_fw_build).
 * Whatever the source, the final blob is checked with coldroom_fw_parse()
 * and coldroom_fw_check_target(model, serial) before it is returned.
 */
#ifndef COLDROOMD_FWSOURCE_H
#define COLDROOMD_FWSOURCE_H

#include <stddef.h>
#include <stdint.h>

struct fw_dirs {
	const char *override_dir;
	const char *model_dir;
	const char *calibration_dir;
};

struct fw_blob {
	uint8_t *data;
	size_t len;
	char source[1024];	/* the file(s) it came from, for logs and D-Bus */
	char version[16];	/* "major.minor.patch" */
};

#define FW_REASON_MAX 256

/*
 * Returns 0 with @out filled in (free with fw_blob_free), or a negative
 * errno with a reason a user can act on in @reason.
 */
int fw_compose(const struct fw_dirs *dirs, const char *model, const char *serial,
	       struct fw_blob *out, char *reason, size_t reason_len);

void fw_blob_free(struct fw_blob *blob);

#endif
