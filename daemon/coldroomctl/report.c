// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * report.c - see report.h. Drawn in points on an A4 landscape page
 * (842 x 595); a PNG is the same drawing at 2 pixels a point.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>

#include "record_types.h"
#include "report.h"

#define PAGE_W		842.0
#define PAGE_H		595.0
#define PNG_SCALE	2.0
#define PLOT_X		62.0
#define PLOT_Y		64.0
#define PLOT_W		548.0
#define PLOT_H		330.0
#define PANEL_X		(PLOT_X + PLOT_W + 24.0)
#define EVENTS_Y	(PLOT_Y + PLOT_H + 40.0)
#define MAX_EVENT_LINES	9

static const double probe_rgb[2][3] = {
	{ 0.12, 0.38, 0.75 },		/* probe 1: blue */
	{ 0.85, 0.42, 0.08 },		/* probe 2: orange */
};

static bool is_gap(const struct history_series *s, size_t i)
{
	return s->count[i] == 0;
}

void report_figures(const struct report_probe *p, uint64_t start_us, uint64_t end_us,
		    struct report_figures *f)
{
	const struct history_series *s = &p->rows;
	double sum = 0;

	memset(f, 0, sizeof(*f));
	f->min = INT32_MAX;
	f->max = INT32_MIN;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t a = s->start[i] > start_us ? s->start[i] : start_us;
		uint64_t b = s->end[i] < end_us ? s->end[i] : end_us;
		uint64_t len = b > a ? b - a : 0;

		if (is_gap(s, i)) {
			f->gap_us += len;
			continue;
		}
		f->samples += s->count[i];
		sum += (double)s->mean[i] * s->count[i];
		if (s->min[i] < f->min)
			f->min = s->min[i];
		if (s->max[i] > f->max)
			f->max = s->max[i];
		if (p->has_band && (s->min[i] < p->band_min || s->max[i] > p->band_max))
			f->out_of_band_us += len;
	}
	f->mean = f->samples ? sum / f->samples : NAN;
}

static void set_rgb(cairo_t *cr, const double *rgb, double alpha)
{
	cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
}

static void text(cairo_t *cr, double x, double y, double size, bool bold, const char *s)
{
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, s);
}

static void text_right(cairo_t *cr, double x, double y, double size, const char *s)
{
	cairo_text_extents_t ext;

	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, s, &ext);
	cairo_move_to(cr, x - ext.x_advance, y);
	cairo_show_text(cr, s);
}

struct axes {
	uint64_t t0, t1;		/* realtime us */
	double v0, v1;			/* mC, bottom and top */
};

static double ax_x(const struct axes *a, uint64_t t)
{
	if (t < a->t0)
		t = a->t0;
	if (t > a->t1)
		t = a->t1;
	return PLOT_X + PLOT_W * (double)(t - a->t0) / (double)(a->t1 - a->t0);
}

static double ax_y(const struct axes *a, double v)
{
	return PLOT_Y + PLOT_H * (a->v1 - v) / (a->v1 - a->v0);
}

/* The value range: every probe's readings and bands, in whole degrees, padded. */
static void value_range(const struct report_unit *u, struct axes *a)
{
	double lo = INFINITY, hi = -INFINITY;

	for (int p = 0; p < 2; p++) {
		const struct report_probe *pr = &u->probe[p];

		for (size_t i = 0; i < pr->rows.n; i++) {
			if (is_gap(&pr->rows, i))
				continue;
			lo = fmin(lo, pr->rows.min[i]);
			hi = fmax(hi, pr->rows.max[i]);
		}
		if (pr->has_band) {
			lo = fmin(lo, pr->band_min);
			hi = fmax(hi, pr->band_max);
		}
	}
	if (!isfinite(lo)) {
		lo = -30000;
		hi = 10000;
	}
	a->v0 = floor((lo - 1000) / 5000.0) * 5000.0;
	a->v1 = ceil((hi + 1000) / 5000.0) * 5000.0;
}

static void draw_grid(cairo_t *cr, const struct axes *a)
{
	char buf[32];
	double step = (a->v1 - a->v0) > 60000 ? 10000 : 5000;

	cairo_set_line_width(cr, 0.5);
	for (double v = a->v0; v <= a->v1 + 1; v += step) {
		cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
		cairo_move_to(cr, PLOT_X, ax_y(a, v));
		cairo_line_to(cr, PLOT_X + PLOT_W, ax_y(a, v));
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		snprintf(buf, sizeof(buf), "%.0f", v / 1000.0);
		text_right(cr, PLOT_X - 6, ax_y(a, v) + 3, 8, buf);
	}
	for (int h = 0; h <= 24; h += 3) {
		uint64_t t = a->t0 + (a->t1 - a->t0) * (uint64_t)h / 24;
		double x = ax_x(a, t);

		cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
		cairo_move_to(cr, x, PLOT_Y);
		cairo_line_to(cr, x, PLOT_Y + PLOT_H);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		snprintf(buf, sizeof(buf), "%02d:00", h);
		text(cr, x - 12, PLOT_Y + PLOT_H + 12, 8, false, buf);
	}
	cairo_save(cr);
	cairo_move_to(cr, PLOT_X - 34, PLOT_Y + PLOT_H / 2 + 30);
	cairo_rotate(cr, -M_PI / 2);
	cairo_set_font_size(cr, 9);
	cairo_show_text(cr, "temperature (\xc2\xb0" "C)");
	cairo_restore(cr);
	cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	cairo_set_line_width(cr, 0.8);
	cairo_rectangle(cr, PLOT_X, PLOT_Y, PLOT_W, PLOT_H);
	cairo_stroke(cr);
}

static void hatch(cairo_t *cr, double x, double y, double w, double h, double alpha)
{
	cairo_save(cr);
	cairo_rectangle(cr, x, y, w, h);
	cairo_clip(cr);
	cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.18);
	cairo_paint(cr);
	cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, alpha);
	cairo_set_line_width(cr, 0.5);
	for (double d = -h; d < w; d += 6) {
		cairo_move_to(cr, x + d, y + h);
		cairo_line_to(cr, x + d + h, y);
	}
	cairo_stroke(cr);
	cairo_restore(cr);
}

/*
 * Time without good samples, hatched so that it is never read as data:
 * the whole height where neither probe has any (the recorder or the unit
 * was down), a strip in the probe's colour where only one has none.
 */
static void draw_gaps(cairo_t *cr, const struct axes *a, const struct report_unit *u)
{
	for (int p = 0; p < 2; p++) {
		const struct history_series *s = &u->probe[p].rows, *o = &u->probe[!p].rows;

		for (size_t i = 0; i < s->n; i++) {
			double x0 = ax_x(a, s->start[i]), x1 = ax_x(a, s->end[i]);
			bool both = i < o->n && o->start[i] == s->start[i] && is_gap(o, i);

			if (!is_gap(s, i) || x1 <= x0 || (both && p == 1))
				continue;
			if (both) {
				hatch(cr, x0, PLOT_Y, x1 - x0, PLOT_H, 0.35);
				continue;
			}
			hatch(cr, x0, PLOT_Y + PLOT_H - 10 * (p + 1), x1 - x0, 10, 0.6);
			set_rgb(cr, probe_rgb[p], 0.6);
			cairo_rectangle(cr, x0, PLOT_Y + PLOT_H - 10 * (p + 1), x1 - x0, 10);
			cairo_fill(cr);
		}
	}
}

/* The probe's alarm band: where readings should stay, shaded, with its edges. */
static void draw_band(cairo_t *cr, const struct axes *a, const struct report_probe *p,
		      const double *rgb)
{
	const double dash[] = { 4.0, 3.0 };

	if (!p->has_band)
		return;
	set_rgb(cr, rgb, 0.07);
	cairo_rectangle(cr, PLOT_X, ax_y(a, p->band_max), PLOT_W,
			ax_y(a, p->band_min) - ax_y(a, p->band_max));
	cairo_fill(cr);
	set_rgb(cr, rgb, 0.8);
	cairo_set_line_width(cr, 0.8);
	cairo_set_dash(cr, dash, 2, 0);
	cairo_move_to(cr, PLOT_X, ax_y(a, p->band_min));
	cairo_line_to(cr, PLOT_X + PLOT_W, ax_y(a, p->band_min));
	cairo_move_to(cr, PLOT_X, ax_y(a, p->band_max));
	cairo_line_to(cr, PLOT_X + PLOT_W, ax_y(a, p->band_max));
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
}

/* Min..max of each interval as an envelope, the mean as a line; gaps break both. */
static void draw_probe(cairo_t *cr, const struct axes *a, const struct report_probe *p,
		       const double *rgb)
{
	const struct history_series *s = &p->rows;
	bool open = false;

	set_rgb(cr, rgb, 0.25);
	for (size_t i = 0; i < s->n; i++) {
		double x0 = ax_x(a, s->start[i]), x1 = ax_x(a, s->end[i]);

		if (is_gap(s, i))
			continue;
		cairo_rectangle(cr, x0, ax_y(a, s->max[i]), fmax(x1 - x0, 0.3),
				fmax(ax_y(a, s->min[i]) - ax_y(a, s->max[i]), 0.3));
	}
	cairo_fill(cr);
	set_rgb(cr, rgb, 1.0);
	cairo_set_line_width(cr, 1.2);
	for (size_t i = 0; i < s->n; i++) {
		double xm = (ax_x(a, s->start[i]) + ax_x(a, s->end[i])) / 2;

		if (is_gap(s, i)) {
			open = false;
			continue;
		}
		if (open)
			cairo_line_to(cr, xm, ax_y(a, s->mean[i]));
		else
			cairo_move_to(cr, xm, ax_y(a, s->mean[i]));
		open = true;
	}
	cairo_stroke(cr);
}

struct marker {
	const char *event;
	double rgb[3];
	const char *label;
};

static const struct marker markers[] = {
	{ "alarm-raised", { 0.80, 0.05, 0.05 }, "alarm raised" },
	{ "alarm-escalated", { 0.55, 0.00, 0.35 }, "alarm escalated" },
	{ "alarm-acknowledged", { 0.05, 0.55, 0.15 }, "acknowledged" },
	{ "alarm-cleared", { 0.35, 0.35, 0.35 }, "alarm cleared" },
	{ "alarm-returned", { 0.80, 0.05, 0.05 }, "alarm returned" },
	{ "setting-changed", { 0.45, 0.30, 0.60 }, "setting changed" },
};

static const struct marker *marker_of(const char *event)
{
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (!strcmp(markers[i].event, event))
			return &markers[i];
	return NULL;
}

static void format_hm(uint64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%H:%M:%S", &tm))
		snprintf(buf, size, "?");
}

static void format_day(uint64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d", &tm))
		snprintf(buf, size, "?");
}

/* A line on the plot per alarm event, and the events listed below it. */
static void draw_events(cairo_t *cr, const struct axes *a, const struct report_unit *u)
{
	char line[640], when[16];
	unsigned int listed = 0, shown = 0;

	for (size_t i = 0; i < u->n_events; i++) {
		const struct history_event *ev = &u->events[i];
		const struct marker *m = marker_of(ev->event);
		double x;

		if (!m)
			continue;
		x = ax_x(a, ev->time);
		set_rgb(cr, m->rgb, 0.9);
		cairo_set_line_width(cr, 1.0);
		cairo_move_to(cr, x, PLOT_Y);
		cairo_line_to(cr, x, PLOT_Y + PLOT_H);
		cairo_stroke(cr);
		cairo_move_to(cr, x - 3.5, PLOT_Y - 1);
		cairo_line_to(cr, x + 3.5, PLOT_Y - 1);
		cairo_line_to(cr, x, PLOT_Y + 5);
		cairo_close_path(cr);
		cairo_fill(cr);
		shown++;
		if (listed == MAX_EVENT_LINES)
			continue;
		format_hm(ev->time, when, sizeof(when));
		if (ev->has_reading)
			snprintf(line, sizeof(line), "%s  %s%s%u at %.1f \xc2\xb0" "C%s%s%s%s", when,
				 m->label, ev->probe ? ", probe " : "", ev->probe,
				 ev->reading / 1000.0, ev->user[0] ? " by " : "", ev->user,
				 ev->detail[0] ? " \xe2\x80\x94 " : "", ev->detail);
		else
			snprintf(line, sizeof(line), "%s  %s%s%s%s%s", when, m->label,
				 ev->what[0] ? ": " : "", ev->what, ev->user[0] ? " by " : "",
				 ev->user);
		text(cr, PLOT_X, EVENTS_Y + 12 + 11 * listed, 8, false, line);
		listed++;
	}
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	text(cr, PLOT_X, EVENTS_Y, 9, true, shown ? "Alarms and changes" : "No alarms, acknowledgements or changes this day");
	if (shown > listed) {
		snprintf(line, sizeof(line), "... and %u more (coldroomctl history, record)", shown - listed);
		text(cr, PLOT_X, EVENTS_Y + 12 + 11 * listed, 8, false, line);
	}
}

static void format_span(uint64_t us, char *buf, size_t size)
{
	uint64_t m = (us + 30000000) / 60000000;

	snprintf(buf, size, "%" PRIu64 " h %02" PRIu64 " min", m / 60, m % 60);
}

/* "MKT of the day -17.19 °C": the time without data is beside it. */
static void mkt_line(const struct mkt_result *m, const char *what, char *buf, size_t size)
{
	if (m->valid)
		snprintf(buf, size, "MKT of %s %.2f \xc2\xb0" "C", what, m->mkt_c);
	else
		snprintf(buf, size, "MKT of %s: no data", what);
}

static void draw_figures(cairo_t *cr, const struct report *r, const struct report_unit *u)
{
	char buf[128], span[32];
	double y = PLOT_Y + 4;

	for (int p = 0; p < 2; p++) {
		const struct report_probe *pr = &u->probe[p];
		struct report_figures f;

		report_figures(pr, r->start_us, r->end_us, &f);
		set_rgb(cr, probe_rgb[p], 1.0);
		cairo_rectangle(cr, PANEL_X, y - 8, 10, 10);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		snprintf(buf, sizeof(buf), "Probe %d", p + 1);
		text(cr, PANEL_X + 16, y, 10, true, buf);
		y += 15;
		if (pr->has_band)
			snprintf(buf, sizeof(buf), "band now %.1f .. %.1f \xc2\xb0" "C",
				 pr->band_min / 1000.0, pr->band_max / 1000.0);
		else
			snprintf(buf, sizeof(buf), "band not known (unit not present)");
		text(cr, PANEL_X, y, 8.5, false, buf);
		y += 12;
		if (f.samples) {
			snprintf(buf, sizeof(buf), "min %.2f  mean %.2f  max %.2f \xc2\xb0" "C",
				 f.min / 1000.0, f.mean / 1000.0, f.max / 1000.0);
			text(cr, PANEL_X, y, 8.5, false, buf);
			y += 12;
			snprintf(buf, sizeof(buf), "%" PRIu32 " samples", f.samples);
		} else {
			snprintf(buf, sizeof(buf), "no samples");
		}
		text(cr, PANEL_X, y, 8.5, false, buf);
		y += 12;
		format_span(f.out_of_band_us, span, sizeof(span));
		snprintf(buf, sizeof(buf), "out of band: %s%s", span, pr->has_band ? "" : " (?)");
		if (f.out_of_band_us)
			cairo_set_source_rgb(cr, 0.75, 0.05, 0.05);
		text(cr, PANEL_X, y, 8.5, f.out_of_band_us != 0, buf);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		y += 12;
		format_span(f.gap_us, span, sizeof(span));
		snprintf(buf, sizeof(buf), "no data: %s", span);
		text(cr, PANEL_X, y, 8.5, f.gap_us != 0, buf);
		y += 12;
		mkt_line(&pr->mkt_day, "the day", buf, sizeof(buf));
		text(cr, PANEL_X, y, 8.5, false, buf);
		y += 12;
		mkt_line(&pr->mkt_30, "30 days", buf, sizeof(buf));
		text(cr, PANEL_X, y, 8.5, false, buf);
		y += 12;
		format_span(pr->mkt_30.gap_us, span, sizeof(span));
		snprintf(buf, sizeof(buf), "(30 days: %s no data)", span);
		text(cr, PANEL_X, y, 8.5, false, buf);
		y += 24;
	}
	snprintf(buf, sizeof(buf), "MKT: mean kinetic temperature, dH %.3f kJ/mol,",
		 r->mkt_dh / 1000.0);
	text(cr, PANEL_X, y, 7.5, false, buf);
	y += 10;
	text(cr, PANEL_X, y, 7.5, false, "over the time with data only.");
	y += 14;
	static const char *const legend[] = {
		"Shaded: each interval's min..max;",
		"line: its mean; dashed: the band;",
		"hatched: no data (a strip: one probe).",
		"Out of band counts whole recording",
		"intervals with a sample outside it.",
	};

	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++)
		text(cr, PANEL_X, y + 10 * (double)i, 7.5, false, legend[i]);
}

static void draw_unit(cairo_t *cr, const struct report *r, const struct report_unit *u)
{
	struct axes a = { .t0 = r->start_us, .t1 = r->end_us };
	char buf[640];

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, 0, 0, PAGE_W, PAGE_H);	/* this panel only: images stack them */
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
	snprintf(buf, sizeof(buf), "%s \xe2\x80\x94 %s", u->label[0] ? u->label : u->serial, r->day);
	text(cr, PLOT_X, 30, 15, true, buf);
	snprintf(buf, sizeof(buf), "serial %s%s%s%s%s", u->serial, u->name[0] ? ", unit " : "",
		 u->name, u->model[0] ? ", model " : "", u->model);
	text(cr, PLOT_X, 45, 9, false, buf);
	/* A probe whose calibration was due by the day's end: one line each, in red. */
	for (int p = 0, line = 0; p < 2; p++) {
		const struct report_probe *pr = &u->probe[p];
		char due[32];

		if (!pr->cal_due_us || pr->cal_due_us >= r->end_us)
			continue;
		format_day(pr->cal_due_us, due, sizeof(due));
		snprintf(buf, sizeof(buf), "Probe %d: calibration OVERDUE since %s (certificate %s)",
			 p + 1, due, pr->cal_certificate);
		cairo_set_source_rgb(cr, 0.75, 0.05, 0.05);
		text(cr, PLOT_X + 300 * line++, 57, 8.5, true, buf);
	}
	cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
	value_range(u, &a);
	draw_gaps(cr, &a, u);
	for (int p = 0; p < 2; p++)
		draw_band(cr, &a, &u->probe[p], probe_rgb[p]);
	draw_grid(cr, &a);
	cairo_save(cr);
	cairo_rectangle(cr, PLOT_X, PLOT_Y, PLOT_W, PLOT_H);
	cairo_clip(cr);
	for (int p = 0; p < 2; p++)
		draw_probe(cr, &a, &u->probe[p], probe_rgb[p]);
	cairo_restore(cr);
	draw_events(cr, &a, u);
	draw_figures(cr, r, u);
	/* The record's own verdict, where an inspector looks for it. */
	if (!r->verified)
		cairo_set_source_rgb(cr, 0.5, 0.3, 0.0);
	else if (r->intact)
		cairo_set_source_rgb(cr, 0.05, 0.45, 0.1);
	else
		cairo_set_source_rgb(cr, 0.8, 0.0, 0.0);
	snprintf(buf, sizeof(buf), "Record %s: %s",
		 !r->verified ? "not verified" : r->intact ? "verified" : "NOT INTACT",
		 r->verify_message);
	text(cr, PLOT_X, PAGE_H - 30, 9, true, buf);
	cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
	text(cr, PLOT_X, PAGE_H - 16, 7.5, false, r->generated);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcasecmp(s + n - m, suffix);
}

int report_render(const struct report *r, const char *path, char *err, size_t err_len)
{
	size_t pages = r->n_units ? r->n_units : 1;
	bool png = has_suffix(path, ".png"), svg = has_suffix(path, ".svg");
	cairo_surface_t *surface;
	cairo_status_t st;
	cairo_t *cr;

	if (!png && !svg && !has_suffix(path, ".pdf")) {
		snprintf(err, err_len, "%s: the name must end in .pdf, .png or .svg", path);
		return -EINVAL;
	}
	if (!r->n_units) {
		snprintf(err, err_len, "no unit to report on");
		return -ENOENT;
	}
	/* A PDF has a page per unit; an image has the units one below the other. */
	if (png)
		surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(PAGE_W * PNG_SCALE),
						     (int)(PAGE_H * PNG_SCALE * (double)pages));
	else if (svg)
		surface = cairo_svg_surface_create(path, PAGE_W, PAGE_H * (double)pages);
	else
		surface = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
	cr = cairo_create(surface);
	if (png)
		cairo_scale(cr, PNG_SCALE, PNG_SCALE);
	for (size_t i = 0; i < r->n_units; i++) {
		cairo_save(cr);
		if (png || svg)
			cairo_translate(cr, 0, PAGE_H * (double)i);
		draw_unit(cr, r, &r->units[i]);
		cairo_restore(cr);
		if (!png && !svg)
			cairo_show_page(cr);
	}
	st = cairo_status(cr);
	cairo_destroy(cr);
	if (st == CAIRO_STATUS_SUCCESS && png)
		st = cairo_surface_write_to_png(surface, path);
	cairo_surface_finish(surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, err_len, "%s: %s", path, cairo_status_to_string(st));
		return -EIO;
	}
	return 0;
}

/* The excursion report: text pages, a line at a time. */
struct exc_page {
	cairo_t *cr;
	const struct exc_report *r;
	double y;
	unsigned int page;
};

#define EXC_TOP		70.0
#define EXC_BOTTOM	(PAGE_H - 50.0)
#define EXC_LINE	11.0

static void format_utc(uint64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "@%" PRIu64, usec / 1000000);
}

static void exc_footer(struct exc_page *p)
{
	char buf[320];

	cairo_set_source_rgb(p->cr, 0.4, 0.4, 0.4);
	snprintf(buf, sizeof(buf), "Made from the record's %s", p->r->made_from);
	text(p->cr, PLOT_X, PAGE_H - 30, 7.5, false, buf);
	snprintf(buf, sizeof(buf), "%s; page %u", p->r->generated, p->page);
	text(p->cr, PLOT_X, PAGE_H - 18, 7.5, false, buf);
}

static void exc_header(struct exc_page *p)
{
	char a[32], b[32], buf[256];

	cairo_set_source_rgb(p->cr, 0.05, 0.05, 0.05);
	format_utc(p->r->since_us, a, sizeof(a));
	format_utc(p->r->until_us, b, sizeof(b));
	snprintf(buf, sizeof(buf), "Excursions \xe2\x80\x94 %s to %s UTC", a, b);
	text(p->cr, PLOT_X, 30, 15, true, buf);
	snprintf(buf, sizeof(buf), "%zu excursion%s in %zu unit%s; MKT with dH %.3f kJ/mol over "
		 "the time with data only", p->r->n_exc, p->r->n_exc == 1 ? "" : "s",
		 p->r->n_units, p->r->n_units == 1 ? "" : "s", p->r->dh / 1000.0);
	text(p->cr, PLOT_X, 45, 9, false, buf);
	p->y = EXC_TOP;
}

/* Room for @lines more lines, or the next page. */
static void exc_room(struct exc_page *p, unsigned int lines)
{
	if (p->y + EXC_LINE * lines <= EXC_BOTTOM)
		return;
	exc_footer(p);
	cairo_show_page(p->cr);
	p->page++;
	exc_header(p);
}

static void exc_line(struct exc_page *p, double indent, double size, bool bold, const char *s)
{
	exc_room(p, 1);
	text(p->cr, PLOT_X + indent, p->y, size, bold, s);
	p->y += EXC_LINE;
}

static void exc_unit_name(const struct exc_unit *u, char *buf, size_t size)
{
	snprintf(buf, size, "%s (serial %s%s%s)", u->label[0] ? u->label : u->serial, u->serial,
		 u->name[0] ? ", unit " : "", u->name);
}

static void exc_draw_one(struct exc_page *p, const struct excursion *x)
{
	const struct exc_unit *u = &p->r->units[x->unit];
	char name[256], a[32], b[32], span[32], mkt[64], buf[1024];

	exc_room(p, 3 + (unsigned int)(x->n_events < 4 ? x->n_events : 4));
	exc_unit_name(u, name, sizeof(name));
	format_utc(x->start_us, a, sizeof(a));
	format_utc(x->end_us, b, sizeof(b));
	format_span(x->end_us - x->start_us, span, sizeof(span));
	cairo_set_source_rgb(p->cr, 0.75, 0.05, 0.05);
	snprintf(buf, sizeof(buf), "%s, probe %u: %s to %s (%s)", name, x->probe, a, b + 11, span);
	exc_line(p, 0, 9.5, true, buf);
	cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
	if (x->mkt.valid)
		snprintf(mkt, sizeof(mkt), "%.2f \xc2\xb0" "C", x->mkt.mkt_c);
	else
		snprintf(mkt, sizeof(mkt), "no data");
	snprintf(buf, sizeof(buf), "peak %.2f \xc2\xb0" "C, band %.1f .. %.1f \xc2\xb0" "C, MKT over it %s",
		 x->peak / 1000.0, x->band_min / 1000.0, x->band_max / 1000.0, mkt);
	exc_line(p, 12, 8.5, false, buf);
	if (!x->n_events)
		exc_line(p, 12, 8.5, false, "no alarm entry in the audit trail (within the alarm's delay)");
	for (size_t i = 0; i < x->n_events; i++) {
		const struct history_event *ev = &u->events[x->events[i]];
		char reading[48] = "";

		format_utc(ev->time, a, sizeof(a));
		if (ev->has_reading)
			snprintf(reading, sizeof(reading), " at %.1f \xc2\xb0" "C", ev->reading / 1000.0);
		snprintf(buf, sizeof(buf), "%s  %s%s%s%s%s%s%s%s%s%s%s%s", a, ev->event, reading,
			 ev->user[0] ? " by " : "", ev->user, ev->detail[0] ? " \xe2\x80\x94 " : "",
			 ev->detail, ev->what[0] ? " [" : "", ev->what,
			 ev->what[0] ? ": " : "", ev->old_value,
			 ev->what[0] ? " \xe2\x86\x92 " : "", ev->what[0] ? ev->new_value : "");
		if (ev->what[0])
			strncat(buf, "]", sizeof(buf) - strlen(buf) - 1);
		exc_line(p, 12, 8, false, buf);
	}
	p->y += 6;
}

static void exc_draw_days(struct exc_page *p)
{
	char day[32], out[32], gap[32], mkt[32], name[256], buf[64];

	exc_room(p, 4);
	p->y += 8;
	cairo_set_source_rgb(p->cr, 0.05, 0.05, 0.05);
	exc_line(p, 0, 11, true, "Time out of band per day (UTC days)");
	exc_room(p, 2);
	text(p->cr, PLOT_X, p->y, 8.5, true, "day");
	text(p->cr, PLOT_X + 72, p->y, 8.5, true, "probe");
	text(p->cr, PLOT_X + 110, p->y, 8.5, true, "out of band");
	text(p->cr, PLOT_X + 185, p->y, 8.5, true, "no data");
	text(p->cr, PLOT_X + 260, p->y, 8.5, true, "MKT of the day");
	text(p->cr, PLOT_X + 350, p->y, 8.5, true, "unit");
	p->y += EXC_LINE;
	for (size_t i = 0; i < p->r->n_days; i++) {
		const struct exc_day *d = &p->r->days[i];

		format_utc(d->start_us, day, sizeof(day));
		day[10] = 0;
		if (p->r->units[d->unit].has_band)
			format_span(d->out_us, out, sizeof(out));
		else
			snprintf(out, sizeof(out), "band not known");
		format_span(d->mkt.gap_us, gap, sizeof(gap));
		if (d->mkt.valid)
			snprintf(mkt, sizeof(mkt), "%.2f \xc2\xb0" "C", d->mkt.mkt_c);
		else
			snprintf(mkt, sizeof(mkt), "no data");
		exc_unit_name(&p->r->units[d->unit], name, sizeof(name));
		cairo_set_source_rgb(p->cr, d->out_us ? 0.75 : 0.1, d->out_us ? 0.05 : 0.1,
				     d->out_us ? 0.05 : 0.1);
		exc_room(p, 1);
		text(p->cr, PLOT_X, p->y, 8.5, false, day);
		snprintf(buf, sizeof(buf), "%u", d->probe);
		text(p->cr, PLOT_X + 72, p->y, 8.5, false, buf);
		text(p->cr, PLOT_X + 110, p->y, 8.5, d->out_us != 0, out);
		text(p->cr, PLOT_X + 185, p->y, 8.5, false, gap);
		text(p->cr, PLOT_X + 260, p->y, 8.5, false, mkt);
		text(p->cr, PLOT_X + 350, p->y, 8.5, false, name);
		p->y += EXC_LINE;
	}
}

static cairo_status_t write_stream(void *closure, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS :
						      CAIRO_STATUS_WRITE_ERROR;
}

int excursions_render_pdf(const struct exc_report *r, FILE *out, char *err, size_t err_len)
{
	cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(write_stream, out, PAGE_W,
									PAGE_H);
	struct exc_page p = { .r = r, .page = 1 };
	char date[32];
	time_t t = (time_t)(r->generated_us / 1000000);
	struct tm tm;
	cairo_status_t st;

	/* The file's date is the export's, so that the same record draws the same bytes. */
	if (gmtime_r(&t, &tm) && strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date);
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, date);
	}
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "Excursions");
	p.cr = cairo_create(surface);
	exc_header(&p);
	if (!r->n_exc) {
		cairo_set_source_rgb(p.cr, 0.05, 0.45, 0.1);
		exc_line(&p, 0, 10, true, "No excursion: every probe stayed in its band.");
	}
	for (size_t i = 0; i < r->n_exc; i++)
		exc_draw_one(&p, &r->exc[i]);
	exc_draw_days(&p);
	exc_footer(&p);
	cairo_show_page(p.cr);
	st = cairo_status(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, err_len, "%s", cairo_status_to_string(st));
		return -EIO;
	}
	return 0;
}
