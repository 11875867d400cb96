// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faketree.h"

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void mkdir_p(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %m", buf);
}

void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0)
		die("write %s: %m", path);
}

char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("read %s", path);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

void copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = slurp(from, &len);

	if (!data)
		die("cannot read %s", from);
	write_file(to, data, len);
	free(data);
}

const char *blob_dir(void)
{
	const char *d = getenv("FW_BLOBS");

	if (!d)
		die("FW_BLOBS is not set (the Makefile sets it)");
	return d;
}

const char *samples_dir(void)
{
	const char *d = getenv("FW_SAMPLES");

	if (!d)
		die("FW_SAMPLES is not set (the Makefile sets it)");
	return d;
}

void faketree_new(struct faketree *t, const char *extra_conf)
{
	char path[512];
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(t->root, sizeof(t->root), "%s/coldroomd-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(t->root))
		die("mkdtemp: %m");
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->root);
	snprintf(t->conf, sizeof(t->conf), "%s/coldroomd.conf", t->root);
	snprintf(t->model_dir, sizeof(t->model_dir), "%s/model", t->root);
	snprintf(t->override_dir, sizeof(t->override_dir), "%s/override", t->root);
	snprintf(t->calibration_dir, sizeof(t->calibration_dir), "%s/calibration", t->root);
	snprintf(path, sizeof(path), "%s/class/coldroom", t->sys);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/class/firmware", t->sys);
	mkdir_p(path);
	mkdir_p(t->model_dir);
	mkdir_p(t->override_dir);
	mkdir_p(t->calibration_dir);
	f = fopen(t->conf, "we");
	if (!f)
		die("%s: %m", t->conf);
	fprintf(f, "FirmwareOverrideDir=%s\nModelFirmwareDir=%s\nCalibrationDir=%s\n%s",
		t->override_dir, t->model_dir, t->calibration_dir, extra_conf ? extra_conf : "");
	fclose(f);
}

/* <root>/@rel, its parent directory made. */
static void faketree_path(struct faketree *t, const char *rel, char *path, size_t size)
{
	char *slash;

	snprintf(path, size, "%s/%s", t->root, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path);
	*slash = '/';
}

void faketree_put(struct faketree *t, const char *rel, const char *text)
{
	char path[512];

	faketree_path(t, rel, path, sizeof(path));
	unlink(path);	/* not through a symlink put there before */
	write_file(path, text, strlen(text));
}

void faketree_link(struct faketree *t, const char *rel, const char *target)
{
	char path[512];

	faketree_path(t, rel, path, sizeof(path));
	unlink(path);
	if (symlink(target, path) < 0)
		die("symlink %s: %m", path);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void faketree_free(struct faketree *t)
{
	if (t->root[0])
		nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	t->root[0] = '\0';
}

void faketree_set(struct faketree *t, const char *unit, const char *attr,
		  const char *value)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/class/coldroom/%s/%s", t->sys, unit, attr);
	write_file(path, value, strlen(value));
}

void faketree_add_unit(struct faketree *t, const char *name, const char *model,
		       const char *serial)
{
	char path[512], fw[128];

	snprintf(path, sizeof(path), "%s/class/coldroom/%s", t->sys, name);
	mkdir_p(path);
	snprintf(fw, sizeof(fw), "coldroom/%s-%s.fw\n", model, serial);
	faketree_set(t, name, "serial", serial);
	faketree_set(t, name, "model", model);
	faketree_set(t, name, "label", "Unit\n");
	faketree_set(t, name, "temp1", "-18250\n");
	faketree_set(t, name, "temp2", "-17500\n");
	faketree_set(t, name, "temp1_alarm", "0\n");
	faketree_set(t, name, "temp2_alarm", "0\n");
	faketree_set(t, name, "sample_seq", "1\n");
	faketree_set(t, name, "sample_time_ns", "1000000\n");
	faketree_set(t, name, "update_interval_ms", "1000\n");
	faketree_set(t, name, "temp1_min", "-25000\n");
	faketree_set(t, name, "temp1_max", "-15000\n");
	faketree_set(t, name, "temp1_hyst", "500\n");
	faketree_set(t, name, "temp2_min", "-25000\n");
	faketree_set(t, name, "temp2_max", "-15000\n");
	faketree_set(t, name, "temp2_hyst", "500\n");
	faketree_set(t, name, "firmware_name", fw);
	faketree_set(t, name, "firmware_state", "pending\n");
	faketree_set(t, name, "firmware_error", "\n");
	faketree_set(t, name, "firmware_version", "\n");
	faketree_set(t, name, "firmware_reload", "");
}

char *faketree_fallback_path(struct faketree *t, const char *fw_name, const char *file)
{
	char *name = strdup(fw_name), *path;

	if (!name)
		die("strdup");
	/* The kernel names the fallback device after the file, '/' -> '!'. */
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '!';
	if (asprintf(&path, "%s/class/firmware/%s%s%s", t->sys, name,
		     file ? "/" : "", file ? file : "") < 0)
		die("asprintf");
	free(name);
	return path;
}

void faketree_add_fallback(struct faketree *t, const char *fw_name)
{
	char *dir = faketree_fallback_path(t, fw_name, NULL);
	char path[600];

	mkdir_p(dir);
	snprintf(path, sizeof(path), "%s/loading", dir);
	write_file(path, "", 0);
	snprintf(path, sizeof(path), "%s/data", dir);
	write_file(path, "", 0);
	free(dir);
}
