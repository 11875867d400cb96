/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/types.h>: what driver/sim/thermal.[ch] use. */
#ifndef COLDROOM_TEST_LINUX_TYPES_H
#define COLDROOM_TEST_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#endif
