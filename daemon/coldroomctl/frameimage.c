// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * frameimage.c - thermal frames as false-colour PNG images with cairo.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cairo.h>

#include "frameimage.h"

#define IMAGE_WIDTH	480	/* the frame part, at least; pixels are squares */
#define BAR_WIDTH	24
#define MARGIN		12
#define LABEL_WIDTH	84

struct rgb {
	double r, g, b;
};

/* Cold to warm: dark blue, blue, cyan, green, yellow, red, white. */
static struct rgb colour_of(double t)
{
	static const struct rgb stops[] = {
		{ 0.00, 0.00, 0.30 }, { 0.00, 0.20, 0.90 }, { 0.00, 0.80, 0.90 },
		{ 0.10, 0.80, 0.20 }, { 0.95, 0.90, 0.10 }, { 0.90, 0.15, 0.05 },
		{ 1.00, 1.00, 1.00 },
	};
	const size_t last = sizeof(stops) / sizeof(stops[0]) - 1;
	double x = t <= 0 ? 0 : t >= 1 ? (double)last : t * (double)last;
	size_t i = (size_t)x;
	double f;

	if (i >= last)
		return stops[last];
	f = x - (double)i;
	return (struct rgb){
		stops[i].r + f * (stops[i + 1].r - stops[i].r),
		stops[i].g + f * (stops[i + 1].g - stops[i].g),
		stops[i].b + f * (stops[i + 1].b - stops[i].b),
	};
}

static void label(cairo_t *cr, double x, double y, int32_t cdeg)
{
	char text[32];

	snprintf(text, sizeof(text), "%.2f \u00b0C", cdeg / 100.0);
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, text);
}

int frame_write_png(const int16_t *pixels, unsigned int width, unsigned int height,
		    const char *path, struct frame_range *range, char *err, size_t err_len)
{
	cairo_surface_t *surface;
	cairo_status_t status;
	cairo_t *cr;
	int32_t lo = INT16_MAX, hi = INT16_MIN;
	unsigned int cell, img_w, img_h, total_w, total_h;
	double span;

	if (!width || !height || width > 4096 || height > 4096) {
		snprintf(err, err_len, "a frame of %u x %u pixels cannot be drawn", width, height);
		return -EINVAL;
	}
	for (size_t i = 0; i < (size_t)width * height; i++) {
		if (pixels[i] < lo)
			lo = pixels[i];
		if (pixels[i] > hi)
			hi = pixels[i];
	}
	/* A flat frame still gets a scale: one degree around its value. */
	span = hi > lo ? (double)(hi - lo) : 100.0;
	cell = IMAGE_WIDTH / width ? IMAGE_WIDTH / width : 1;
	img_w = cell * width;
	img_h = cell * height;
	total_w = MARGIN + img_w + MARGIN + BAR_WIDTH + LABEL_WIDTH;
	total_h = MARGIN + (img_h > 120 ? img_h : 120) + MARGIN;

	surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)total_w, (int)total_h);
	cr = cairo_create(surface);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	for (unsigned int y = 0; y < height; y++)
		for (unsigned int x = 0; x < width; x++) {
			struct rgb c = colour_of((pixels[(size_t)y * width + x] - lo) / span);

			cairo_set_source_rgb(cr, c.r, c.g, c.b);
			cairo_rectangle(cr, MARGIN + x * cell, MARGIN + y * cell, cell, cell);
			cairo_fill(cr);
		}
	/* The scale bar: warmest at the top, as on a thermometer. */
	for (unsigned int y = 0; y < img_h; y++) {
		struct rgb c = colour_of(1.0 - (double)y / (img_h > 1 ? img_h - 1 : 1));

		cairo_set_source_rgb(cr, c.r, c.g, c.b);
		cairo_rectangle(cr, MARGIN + img_w + MARGIN, MARGIN + y, BAR_WIDTH, 1);
		cairo_fill(cr);
	}
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 12);
	label(cr, MARGIN + img_w + MARGIN + BAR_WIDTH + 6, MARGIN + 10, hi);
	label(cr, MARGIN + img_w + MARGIN + BAR_WIDTH + 6, MARGIN + img_h, lo);
	cairo_destroy(cr);
	status = cairo_surface_write_to_png(surface, path);
	cairo_surface_destroy(surface);
	if (status != CAIRO_STATUS_SUCCESS) {
		snprintf(err, err_len, "writing %s: %s", path, cairo_status_to_string(status));
		return -EIO;
	}
	if (range)
		*range = (struct frame_range){ lo, hi };
	return 0;
}
