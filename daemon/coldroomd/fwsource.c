// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldroom_fw.h"
#include "coldroom_fw_build.h"
#include "coldroom_fw_text.h"
#include "fileio.h"
#include "fwsource.h"

void fw_blob_free(struct fw_blob *blob)
{
	free(blob->data);
	blob->data = NULL;
	blob->len = 0;
}

static const char *read_error(int r)
{
	return r == -EFBIG ? "file too large" : strerror(-r);
}

/* Parse and check a blob for this unit; the reason names @path. */
static int verify(const uint8_t *data, size_t len, const char *path,
		  const char *model, const char *serial,
		  struct coldroom_fw_image *img, char *reason, size_t reason_len)
{
	enum coldroom_fw_error e;

	e = coldroom_fw_parse(data, len, img);
	if (e == COLDROOM_FW_OK)
		e = coldroom_fw_check_target(img, model, serial);
	if (e != COLDROOM_FW_OK) {
		snprintf(reason, reason_len, "%s: %s", path, coldroom_fw_strerror(e));
		return -EINVAL;
	}
	return 0;
}

static void set_version(struct fw_blob *out, const struct coldroom_fw_image *img)
{
	snprintf(out->version, sizeof(out->version), "%u.%u.%u",
		 img->fw_version >> 16, (img->fw_version >> 8) & 0xff,
		 img->fw_version & 0xff);
}

int fw_compose(const struct fw_dirs *dirs, const char *model, const char *serial,
	       struct fw_blob *out, char *reason, size_t reason_len)
{
	struct coldroom_fw_image img;
	struct coldroom_fw_text_error text_err;
	char path[512], cal_path[512];
	char *data = NULL, *text = NULL;
	size_t len, text_len;
	uint8_t *built = NULL;
	size_t built_len;
	enum coldroom_fw_error e;
	int r;

	memset(out, 0, sizeof(*out));
	/* The names come from sysfs and become parts of file names. */
	if (coldroom_fw_check_model(model) != COLDROOM_FW_OK) {
		snprintf(reason, reason_len, "unit reports an invalid model name");
		return -EINVAL;
	}
	if (coldroom_fw_check_serial(serial) != COLDROOM_FW_OK || !strcmp(serial, "*")) {
		snprintf(reason, reason_len, "unit reports an invalid serial");
		return -EINVAL;
	}

	snprintf(path, sizeof(path), "%s/%s-%s.fw", dirs->override_dir, model, serial);
	r = read_file_at(AT_FDCWD, path, COLDROOM_FW_MAX_SIZE, &data, &len);
	if (r == 0) {
		r = verify((uint8_t *)data, len, path, model, serial, &img,
			   reason, reason_len);
		if (r < 0) {
			free(data);
			return r;
		}
		out->data = (uint8_t *)data;
		out->len = len;
		snprintf(out->source, sizeof(out->source), "%s", path);
		set_version(out, &img);
		return 0;
	}
	if (r != -ENOENT) {
		snprintf(reason, reason_len, "%s: %s", path, read_error(r));
		return r;
	}

	snprintf(path, sizeof(path), "%s/%s.fw", dirs->model_dir, model);
	r = read_file_at(AT_FDCWD, path, COLDROOM_FW_MAX_SIZE, &data, &len);
	if (r < 0) {
		if (r == -ENOENT)
			snprintf(reason, reason_len,
				 "no firmware for model %s (no %s/%s-%s.fw, no %s)",
				 model, dirs->override_dir, model, serial, path);
		else
			snprintf(reason, reason_len, "%s: %s", path, read_error(r));
		return r;
	}
	r = verify((uint8_t *)data, len, path, model, serial, &img, reason, reason_len);
	if (r < 0)
		goto out;

	snprintf(cal_path, sizeof(cal_path), "%s/%s.conf", dirs->calibration_dir, serial);
	r = read_file_at(AT_FDCWD, cal_path, COLDROOM_FW_TEXT_MAX, &text, &text_len);
	if (r == -ENOENT) {
		/* No per-unit calibration: the model blob fits as it is. */
		out->data = (uint8_t *)data;
		out->len = len;
		data = NULL;
		snprintf(out->source, sizeof(out->source), "%s", path);
		set_version(out, &img);
		return 0;
	}
	if (r < 0) {
		snprintf(reason, reason_len, "%s: %s", cal_path, read_error(r));
		goto out;
	}
	if (coldroom_fw_text_apply(&img, text, text_len, &text_err) < 0) {
		if (text_err.line)
			snprintf(reason, reason_len, "%s:%u: %s", cal_path,
				 text_err.line, text_err.msg);
		else
			snprintf(reason, reason_len, "%s: %s", cal_path, text_err.msg);
		r = -EINVAL;
		goto out;
	}
	/* The calibrated blob belongs to this unit only. */
	snprintf(img.serial, sizeof(img.serial), "%s", serial);
	e = coldroom_fw_build_alloc(&img, &built, &built_len);
	if (e != COLDROOM_FW_OK) {
		snprintf(reason, reason_len, "%s with %s: %s", path, cal_path,
			 coldroom_fw_strerror(e));
		r = e == COLDROOM_FW_E_NOSPACE ? -ENOMEM : -EINVAL;
		goto out;
	}
	/* The built blob is checked like any other before anyone uploads it. */
	r = verify(built, built_len, cal_path, model, serial, &img, reason, reason_len);
	if (r < 0) {
		free(built);
		goto out;
	}
	out->data = built;
	out->len = built_len;
	snprintf(out->source, sizeof(out->source), "%.500s + %.500s", path, cal_path);
	set_version(out, &img);
	r = 0;
out:
	free(text);
	free(data);
	return r;
}
