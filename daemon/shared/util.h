/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* util.h - small file and number helpers shared by coldroomd's modules. */
#ifndef COLDROOMD_UTIL_H
#define COLDROOMD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Run f(&var) when var goes out of scope, as systemd's code does. */
#define _cleanup_(f) __attribute__((cleanup(f)))

#include <stdlib.h>
static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Memory a pool hands out again, fenced off while it is free. */
#if defined(__SANITIZE_ADDRESS__)
#define COLDROOM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COLDROOM_ASAN 1
#endif
#endif
#ifdef COLDROOM_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

#include <unistd.h>
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

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

/* Strict decimal parsing: no sign for unsigned, no spaces, no trailing junk. */
int parse_ull(const char *s, unsigned long long *out);
int parse_ll(const char *s, long long *out);

#endif
