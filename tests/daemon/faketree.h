/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * faketree.h - a temporary directory that looks like the parts of sysfs
 * and /etc/coldroom coldroomd reads: <root>/sys/class/coldroom/sensorN/,
 * <root>/sys/class/firmware/coldroom!X.fw/{loading,data}, <root>/model,
 * <root>/override, <root>/calibration and <root>/coldroomd.conf.
 */
#ifndef FAKETREE_H
#define FAKETREE_H

#include <stddef.h>

struct faketree {
	char root[256];
	char sys[300];
	char conf[300];
	char model_dir[300];
	char override_dir[300];
	char calibration_dir[300];
};

/* Make the tree; the config names its directories and @extra_conf lines. */
void faketree_new(struct faketree *t, const char *extra_conf);
void faketree_free(struct faketree *t);

/* A unit with firmware pending and plausible attributes. */
void faketree_add_unit(struct faketree *t, const char *name, const char *model,
		       const char *serial);
/* Write an attribute in place (kept-open fds see it). */
void faketree_set(struct faketree *t, const char *unit, const char *attr,
		  const char *value);
/* The fallback directory of a request, empty loading and data files. */
void faketree_add_fallback(struct faketree *t, const char *fw_name);
char *faketree_fallback_path(struct faketree *t, const char *fw_name, const char *file);

/* <root>/@rel with @text, or a symlink to @target, its directories made. */
void faketree_put(struct faketree *t, const char *rel, const char *text);
void faketree_link(struct faketree *t, const char *rel, const char *target);

/* Helpers: whole files as malloc()ed strings; copy; write. */
char *slurp(const char *path, size_t *len);
void write_file(const char *path, const void *data, size_t len);
void copy_file(const char *from, const char *to);

/* Where the firmware build put the sample blobs (env FW_BLOBS). */
const char *blob_dir(void);
/* The firmware text sources (env FW_SAMPLES). */
const char *samples_dir(void);

#endif
