/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fileio.h - whole files and sysfs attributes, read and written, with
 * sizes bounded and short writes retried.
 */
#ifndef COLDROOM_FILEIO_H
#define COLDROOM_FILEIO_H

#include <stddef.h>

/*
 * Read a whole file (relative to @dirfd) of at most @max bytes into a
 * malloc()ed, NUL-terminated buffer. -EFBIG when it is larger.
 */
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len);

/* write() until all of @len is written, retrying EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);

/* Open @name under @dirfd for writing, write @value, close. */
int write_string_at(int dirfd, const char *name, const char *value);

/*
 * pread() a sysfs attribute from offset 0 into @buf without the trailing
 * newline. Reading from offset 0 also re-arms poll() on the attribute.
 */
int pread_attr(int fd, char *buf, size_t size);
int read_attr_at(int dirfd, const char *name, char *buf, size_t size);

#endif
