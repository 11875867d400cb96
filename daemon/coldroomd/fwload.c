// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fwload.c - serving the kernel's firmware sysfs fallback.
 *
 * A unit asks for coldroom/<model>-<serial>.fw with request_firmware_nowait()
 * and no uevent of the firmware class; the kernel then creates
 * <sysfs>/class/firmware/coldroom!<model>-<serial>.fw/{loading,data} and
 * waits without a timeout. The unit announces the request with a change
 * uevent of its own, which may arrive a few ms before that directory
 * exists, so a request is retried on a bounded backoff timer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"

#define RETRY_FIRST_USEC	(5 * 1000ULL)
#define RETRY_MAX_USEC		(200 * 1000ULL)

int fw_abort(int fallback_dirfd)
{
	return write_string_at(fallback_dirfd, "loading", "-1");
}

int fw_dance(int fallback_dirfd, const void *blob, size_t len)
{
	int fd, r;

	r = write_string_at(fallback_dirfd, "loading", "1");
	if (r < 0)
		goto fail;
	fd = openat(fallback_dirfd, "data", O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	/* The kernel takes at most a page per write(): write_all() loops. */
	r = write_all(fd, blob, len);
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	if (r < 0)
		goto fail;
	r = write_string_at(fallback_dirfd, "loading", "0");
	if (r < 0)
		goto fail;
	return 0;
fail:
	/* Never leave the kernel waiting on a half-done upload. */
	fw_abort(fallback_dirfd);
	return r;
}

char *fw_fallback_dir(const char *sysfs_root, const char *fw_name)
{
	char *path, *p;

	if (asprintf(&path, "%s/class/firmware/%s", sysfs_root, fw_name) < 0)
		return NULL;
	/* The kernel names the fallback device after the file, '/' -> '!'. */
	for (p = path + strlen(sysfs_root) + strlen("/class/firmware/"); *p; p++)
		if (*p == '/')
			*p = '!';
	return path;
}

static void fw_request_free(struct fw_request *rq)
{
	struct fw_request **pp;

	for (pp = &rq->daemon->requests; *pp; pp = &(*pp)->next)
		if (*pp == rq) {
			*pp = rq->next;
			break;
		}
	sd_event_source_disable_unref(rq->timer);
	free(rq);
}

void fw_requests_free(struct daemon *d)
{
	while (d->requests)
		fw_request_free(d->requests);
}

static void fw_serve(struct fw_request *rq, int dirfd, const char *dir)
{
	struct daemon *d = rq->daemon;
	struct fw_dirs dirs = {
		.override_dir = d->config.override_dir,
		.model_dir = d->config.model_dir,
		.calibration_dir = d->config.calibration_dir,
	};
	struct log_fields f = { .firmware = rq->fw_name };
	char reason[FW_REASON_MAX];
	struct fw_blob blob;
	struct unit *u;
	int r;

	u = daemon_find_unit_by_fw(d, rq->fw_name);
	if (!u) {
		/* The request can overtake the unit's own add event. */
		daemon_scan_units(d);
		u = daemon_find_unit_by_fw(d, rq->fw_name);
	}
	if (!u) {
		f.outcome = "failed";
		log_fields(LOG_ERR, &f, "%s: no coldroom unit requests %s, refusing it",
			   dir, rq->fw_name);
		fw_abort(dirfd);
		return;
	}
	f.unit = u->name;
	f.serial = u->info->serial;

	r = fw_compose(&dirs, u->info->model, u->info->serial, &blob, reason, sizeof(reason));
	if (r < 0) {
		f.outcome = "failed";
		log_fields(LOG_ERR, &f, "%s (%s %s): no valid firmware: %s",
			   u->name, u->info->model, u->info->serial, reason);
		r = fw_abort(dirfd);
		if (r < 0)
			log_fields(LOG_ERR, &f, "%s: cannot abort the request: %s",
				   dir, strerror(-r));
		unit_set_daemon_fw_result(u, reason, "");
		return;
	}
	r = fw_dance(dirfd, blob.data, blob.len);
	if (r < 0) {
		snprintf(reason, sizeof(reason), "uploading %.160s failed: %s",
			 blob.source, strerror(-r));
		f.outcome = "failed";
		log_fields(LOG_ERR, &f, "%s (%s): %s", u->name, u->info->serial, reason);
		unit_set_daemon_fw_result(u, reason, "");
	} else {
		f.outcome = "loaded";
		log_fields(LOG_INFO, &f, "%s (%s %s): uploaded firmware %s from %s (%zu bytes)",
			   u->name, u->info->model, u->info->serial, blob.version, blob.source,
			   blob.len);
		unit_set_daemon_fw_result(u, "", blob.source);
	}
	fw_blob_free(&blob);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static int fw_request_retry(sd_event_source *s, uint64_t usec, void *userdata);

/* One attempt; frees @rq unless it has to wait for the directory. */
static void fw_request_try(struct fw_request *rq)
{
	struct daemon *d = rq->daemon;
	uint64_t now, delay;
	char *dir;
	int dirfd, r;

	dir = fw_fallback_dir(d->sysfs_root, rq->fw_name);
	if (!dir) {
		log_error("out of memory");
		fw_request_free(rq);
		return;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0) {
		fw_serve(rq, dirfd, dir);
		close(dirfd);
		free(dir);
		fw_request_free(rq);
		return;
	}
	r = -errno;
	now = now_usec();
	if (r != -ENOENT || now >= rq->deadline_usec) {
		struct log_fields f = { .firmware = rq->fw_name, .outcome = "missed" };

		log_fields(LOG_WARNING, &f, "%s: %s", dir,
			   r == -ENOENT ? "the firmware request's fallback never appeared"
					: strerror(-r));
		free(dir);
		fw_request_free(rq);
		return;
	}
	free(dir);
	delay = RETRY_FIRST_USEC << (rq->attempts < 6 ? rq->attempts : 6);
	if (delay > RETRY_MAX_USEC)
		delay = RETRY_MAX_USEC;
	if (now + delay > rq->deadline_usec)
		delay = rq->deadline_usec - now;
	rq->attempts++;
	r = sd_event_add_time_relative(d->event, &rq->timer, CLOCK_MONOTONIC, delay,
				       1000, fw_request_retry, rq);
	if (r < 0) {
		log_error("cannot arm a timer for %s: %s", rq->fw_name, strerror(-r));
		fw_request_free(rq);
	}
}

static int fw_request_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fw_request *rq = userdata;

	(void)usec;
	(void)s;
	rq->timer = sd_event_source_disable_unref(rq->timer);
	fw_request_try(rq);
	return 0;
}

int fw_request_start(struct daemon *d, const char *fw_name)
{
	struct fw_request *rq;

	if (!fw_name_valid(fw_name)) {
		log_warning("ignoring a firmware request for '%s': not a coldroom blob",
			    fw_name);
		return -EINVAL;
	}
	/* A request being waited for is already on its way. */
	for (rq = d->requests; rq; rq = rq->next)
		if (!strcmp(rq->fw_name, fw_name))
			return 0;
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->daemon = d;
	snprintf(rq->fw_name, sizeof(rq->fw_name), "%s", fw_name);
	rq->deadline_usec = now_usec() + d->config.fallback_wait_ms * 1000ULL;
	rq->next = d->requests;
	d->requests = rq;
	fw_request_try(rq);
	return 0;
}
