// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cursor.c - the cursors: how far the broker has acknowledged each stream, kept
 * in the state directory; apart, as the only state the uplink keeps on disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "uplink.h"

#define CURSOR_FILE		"cursor"

int cursor_load(struct uplink *u)
{
	_cleanup_(closep) int dir = open(u->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(freep) char *text = NULL;
	unsigned long long rec, aud;
	size_t len;
	char tail;
	int k;

	if (dir < 0) {
		k = -errno;
		log_error("cannot open the state directory %s: %s", u->state_dir, strerror(-k));
		return k;
	}
	k = read_file_at(dir, CURSOR_FILE, 256, &text, &len);
	if (k == -ENOENT)
		return 0;	/* the first start: the heads, once known */
	if (k < 0) {
		log_error("cannot read %s/" CURSOR_FILE ": %s", u->state_dir, strerror(-k));
		return k;
	}
	if (sscanf(text, "record %llu\naudit %llu\n%c", &rec, &aud, &tail) != 2 ||
	    text[len - 1] != '\n') {
		log_error("%s/" CURSOR_FILE " is damaged; remove it to start again from the "
			  "record's end (what was not yet sent would not be sent)", u->state_dir);
		return -EBADMSG;
	}
	u->rec.acked = rec;
	u->aud.acked = aud;
	u->cursor_known = true;
	return 0;
}

/* Written whole to a new file and renamed over the old: never half a cursor. */
int cursor_save(struct uplink *u)
{
	char path[4200], tmp[4210], text[64];
	int fd, k, n;

	if (!u->cursor_known || !u->cursor_dirty)
		return 0;
	n = snprintf(text, sizeof(text), "record %" PRIu64 "\naudit %" PRIu64 "\n", u->rec.acked,
		     u->aud.acked);
	snprintf(path, sizeof(path), "%s/" CURSOR_FILE, u->state_dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		k = -errno;
	} else {
		k = write_all(fd, text, (size_t)n);
		if (!k && fsync(fd) < 0)
			k = -errno;
		close(fd);
		if (!k && rename(tmp, path) < 0)
			k = -errno;
	}
	if (k) {
		log_error("cannot write %s: %s", path, strerror(-k));
		return k;
	}
	u->cursor_dirty = false;
	return 0;
}
