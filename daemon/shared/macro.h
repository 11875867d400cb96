/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * macro.h - scope-bound clean-up, as systemd's code writes it: a variable
 * declared _cleanup_(freep) is freed however the function returns.
 */
#ifndef COLDROOM_MACRO_H
#define COLDROOM_MACRO_H

#include <stdlib.h>
#include <unistd.h>

/* Run f(&var) when var goes out of scope. */
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#endif
