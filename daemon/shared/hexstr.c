// SPDX-License-Identifier: GPL-2.0 OR MIT
/* hexstr.c - lowercase hex on nettle's base16. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <nettle/base16.h>

#include "hexstr.h"

void hexstr_encode(const void *data, size_t size, char *out)
{
	base16_encode_update(out, size, data);	/* lowercase, as the files have it */
	out[BASE16_ENCODE_LENGTH(size)] = '\0';
}

ssize_t hexstr_decode(const char *hex, void *out, size_t max)
{
	struct base16_decode_ctx ctx;
	size_t n = strlen(hex), len;

	/* base16 also takes uppercase and skips spaces: what we write is neither. */
	if (n % 2 || strspn(hex, "0123456789abcdef") != n)
		return -EINVAL;
	if (BASE16_DECODE_LENGTH(n) > max)
		return -ENOSPC;
	base16_decode_init(&ctx);
	if (!base16_decode_update(&ctx, &len, out, n, hex) || !base16_decode_final(&ctx))
		return -EINVAL;
	return (ssize_t)len;
}
