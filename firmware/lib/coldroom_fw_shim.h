/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * coldroom_fw_shim.h - what coldroom_fw.c needs from its surroundings.
 *
 * The parser compiles unchanged into the kernel and into user space; this
 * header is the only place where the two differ: the fixed-width types and
 * one 64-bit division (a plain '/' on s64 does not link on 32-bit kernels).
 */
#ifndef COLDROOM_FW_SHIM_H
#define COLDROOM_FW_SHIM_H

#ifdef __KERNEL__

#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/types.h>

#define coldroom_fw_div_s64(dividend, divisor) div_s64(dividend, divisor)

#else /* !__KERNEL__ */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef S32_MAX
#define S32_MAX INT32_MAX
#endif
#ifndef S32_MIN
#define S32_MIN INT32_MIN
#endif

static inline s64 coldroom_fw_div_s64(s64 dividend, s32 divisor)
{
	return dividend / divisor;
}

#endif /* __KERNEL__ */

#endif /* COLDROOM_FW_SHIM_H */
