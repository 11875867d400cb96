// SPDX-License-Identifier: GPL-2.0 OR MIT
/* parse_util.c - strict decimal numbers (parse_util.h). */
#include <errno.h>
#include <stdlib.h>

#include "parse_util.h"

int parse_ull(const char *s, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int parse_ll(const char *s, long long *out)
{
	const char *digits = *s == '-' ? s + 1 : s;
	char *end;

	if (*digits < '0' || *digits > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}
