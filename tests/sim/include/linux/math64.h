/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/math64.h>: division truncates toward zero, as C's. */
#ifndef COLDROOM_TEST_LINUX_MATH64_H
#define COLDROOM_TEST_LINUX_MATH64_H

#include <linux/types.h>

static inline s64 div_s64(s64 dividend, s32 divisor)
{
	return dividend / divisor;
}

#endif
