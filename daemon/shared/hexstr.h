/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hexstr.h - bytes as lowercase hex and back, on nettle's base16: the
 * record's hashes in its audit trail and journal, and the free text of
 * coldroomd's alarm state file. A program that calls these links nettle.
 */
#ifndef COLDROOM_HEXSTR_H
#define COLDROOM_HEXSTR_H

#include <stddef.h>
#include <sys/types.h>

/* The size of the hex of @n bytes, with its NUL. */
#define HEXSTR_SIZE(n) (2 * (n) + 1)

/* @size bytes of @data as lowercase hex in @out (HEXSTR_SIZE(@size) bytes). */
void hexstr_encode(const void *data, size_t size, char *out);

/*
 * Lowercase hex of even length in @hex into at most @max bytes of @out:
 * the number of bytes, -EINVAL for anything else (uppercase, spaces, an
 * odd length), -ENOSPC when it does not fit.
 */
ssize_t hexstr_decode(const char *hex, void *out, size_t max);

#endif
