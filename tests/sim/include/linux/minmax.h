/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/minmax.h>: the typed forms thermal.c uses. */
#ifndef COLDROOM_TEST_LINUX_MINMAX_H
#define COLDROOM_TEST_LINUX_MINMAX_H

#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define max_t(type, a, b) ((type)(a) > (type)(b) ? (type)(a) : (type)(b))
#define clamp_t(type, v, lo, hi) min_t(type, max_t(type, v, lo), hi)

#endif
