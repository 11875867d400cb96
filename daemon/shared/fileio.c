// SPDX-License-Identifier: GPL-2.0 OR MIT
/* fileio.c - whole files and sysfs attributes, read and written (fileio.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd, r = 0;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t k;

		if (n + 1 >= cap) {
			char *nb;

			/* One byte over the limit is enough to know it is too large. */
			if (n > max) {
				r = -EFBIG;
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (r == 0 && n > max)
		r = -EFBIG;
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int write_string_at(int dirfd, const char *name, const char *value)
{
	int fd, r;

	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, value, strlen(value));
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

int pread_attr(int fd, char *buf, size_t size)
{
	ssize_t k;

	do
		k = pread(fd, buf, size - 1, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	if (k > 0 && buf[k - 1] == '\n')
		buf[--k] = '\0';
	return (int)k;
}

int read_attr_at(int dirfd, const char *name, char *buf, size_t size)
{
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = pread_attr(fd, buf, size);
	close(fd);
	return r;
}
