/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* parse_util.h - strict decimal parsing of what files and the kernel hand over. */
#ifndef COLDROOM_PARSE_UTIL_H
#define COLDROOM_PARSE_UTIL_H

/* No sign for unsigned, no spaces, no trailing junk: -EINVAL otherwise. */
int parse_ull(const char *s, unsigned long long *out);
int parse_ll(const char *s, long long *out);

#endif
