/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * frameimage.h - a thermal frame as a false-colour PNG with a scale bar
 * (cairo), for coldroomctl frame.
 */
#ifndef COLDROOM_FRAMEIMAGE_H
#define COLDROOM_FRAMEIMAGE_H

#include <stddef.h>
#include <stdint.h>

struct frame_range {
	int32_t min_cdeg, max_cdeg;	/* coldest and warmest pixel, 0.01 degree C */
};

/*
 * Write @width x @height @pixels (0.01 degree C, row-major) to @path as a
 * PNG: each pixel a square, coldest dark blue to warmest white, and a
 * scale bar labelled in degrees Celsius. Returns 0 (and the range in
 * *@range), or a negative errno with the reason in @err.
 */
int frame_write_png(const int16_t *pixels, unsigned int width, unsigned int height,
		    const char *path, struct frame_range *range, char *err, size_t err_len);

#endif
