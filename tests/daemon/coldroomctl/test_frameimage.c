// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * frame_write_png(): the PNG read back with cairo has the frame's pixels
 * as squares, colder ones darker and bluer, the scale bar beside them,
 * the range of the frame; bad input and an unwritable path are refused
 * with a reason, and nothing is written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cairo.h>

#include "frameimage.h"

#define W 32
#define H 24

static char dir[] = "/tmp/coldroom-frame.XXXXXX";

/* RGB of the image pixel at (x, y). */
static void pixel_at(cairo_surface_t *s, int x, int y, int rgb[3])
{
	const uint8_t *data = cairo_image_surface_get_data(s);
	uint32_t v = *(const uint32_t *)(data + (size_t)y * cairo_image_surface_get_stride(s) +
					 (size_t)x * 4);

	rgb[0] = (v >> 16) & 0xff;
	rgb[1] = (v >> 8) & 0xff;
	rgb[2] = v & 0xff;
}

static void test_gradient(void **state)
{
	int16_t pixels[W * H];
	struct frame_range range;
	cairo_surface_t *png;
	char path[128], err[256];
	int cold[3], warm[3], hot[3], bar_top[3], bar_bottom[3];

	(void)state;
	/* -20.00 degrees at the left, +5.00 at the right. */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			pixels[y * W + x] = (int16_t)(-2000 + x * 2500 / (W - 1));
	snprintf(path, sizeof(path), "%s/frame.png", dir);
	assert_int_equal(frame_write_png(pixels, W, H, path, &range, err, sizeof(err)), 0);
	assert_int_equal(range.min_cdeg, -2000);
	assert_int_equal(range.max_cdeg, 500);
	png = cairo_image_surface_create_from_png(path);
	assert_int_equal(cairo_surface_status(png), CAIRO_STATUS_SUCCESS);
	/* 480 pixels of frame (15 a pixel), the bar and its labels beside it. */
	assert_true(cairo_image_surface_get_width(png) > 480 + 24);
	assert_true(cairo_image_surface_get_height(png) >= 24 * 15);
	/* Inside the first and the last column of the frame. */
	pixel_at(png, 12 + 7, 12 + 100, cold);
	pixel_at(png, 12 + 480 - 8, 12 + 100, warm);
	pixel_at(png, 12 + 26 * 15 + 7, 12 + 100, hot);
	assert_true(cold[0] + cold[1] + cold[2] < warm[0] + warm[1] + warm[2]);
	assert_true(cold[2] > cold[0]);		/* cold is blue */
	assert_true(hot[0] > hot[2]);		/* near the top it is red */
	/* The scale bar: warmest at the top. */
	pixel_at(png, 12 + 480 + 12 + 12, 12 + 1, bar_top);
	pixel_at(png, 12 + 480 + 12 + 12, 12 + 24 * 15 - 2, bar_bottom);
	assert_true(bar_top[0] + bar_top[1] + bar_top[2] >
		    bar_bottom[0] + bar_bottom[1] + bar_bottom[2]);
	cairo_surface_destroy(png);
	unlink(path);
}

static void test_flat_frame(void **state)
{
	int16_t pixels[4 * 3];
	struct frame_range range;
	char path[128], err[256];

	(void)state;
	for (size_t i = 0; i < 12; i++)
		pixels[i] = -1850;
	snprintf(path, sizeof(path), "%s/flat.png", dir);
	assert_int_equal(frame_write_png(pixels, 4, 3, path, &range, err, sizeof(err)), 0);
	assert_int_equal(range.min_cdeg, -1850);
	assert_int_equal(range.max_cdeg, -1850);
	assert_int_equal(access(path, R_OK), 0);
	unlink(path);
}

static void test_refused(void **state)
{
	int16_t pixels[4] = { 0 };
	char path[128], err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/none.png", dir);
	assert_int_equal(frame_write_png(pixels, 0, 4, path, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0 x 4"));
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/no/such/dir/frame.png", dir);
	err[0] = '\0';
	assert_int_equal(frame_write_png(pixels, 2, 2, path, NULL, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, path));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	cairo_debug_reset_static_data();
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gradient),
		cmocka_unit_test(test_flat_frame),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
