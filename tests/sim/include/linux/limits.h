/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/limits.h>. */
#ifndef COLDROOM_TEST_LINUX_LIMITS_H
#define COLDROOM_TEST_LINUX_LIMITS_H

#include <stdint.h>

#define S16_MIN INT16_MIN
#define S16_MAX INT16_MAX
#define U32_MAX UINT32_MAX

#endif
