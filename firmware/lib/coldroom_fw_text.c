// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom_fw_text.c - text sources of firmware blobs and override files.
 *
 * One "key = value" per line. Values are checked with the parser's own
 * rule functions (coldroom_fw_check_*()), so the text and the blob can
 * never disagree about what is valid; this file only adds line numbers
 * and the limits to the messages.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldroom_fw_text.h"

#define PAYLOAD_BYTES_PER_LINE	32

enum key_kind {
	KEY_MODEL,
	KEY_SERIAL,
	KEY_VERSION,
	KEY_GAIN,
	KEY_OFFSET,
	KEY_INTERVAL,
	KEY_MIN,
	KEY_MAX,
	KEY_HYST,
	KEY_LABEL,
	KEY_WIDTH,
	KEY_HEIGHT,
	KEY_PAYLOAD,
};

struct key {
	const char *name;
	enum key_kind kind;
	unsigned int ch;
	bool in_override;	/* may appear in a per-unit override file */
};

/* In the order coldroom_fw_text_format() writes them. */
static const struct key keys[] = {
	{ "model",		KEY_MODEL,	0, false },
	{ "serial",		KEY_SERIAL,	0, false },
	{ "version",		KEY_VERSION,	0, false },
	{ "temp1.gain_ppm",	KEY_GAIN,	0, true },
	{ "temp1.offset_mdeg",	KEY_OFFSET,	0, true },
	{ "temp2.gain_ppm",	KEY_GAIN,	1, true },
	{ "temp2.offset_mdeg",	KEY_OFFSET,	1, true },
	{ "interval_ms",	KEY_INTERVAL,	0, true },
	{ "temp1.min_mdeg",	KEY_MIN,	0, true },
	{ "temp1.max_mdeg",	KEY_MAX,	0, true },
	{ "temp1.hyst_mdeg",	KEY_HYST,	0, true },
	{ "temp2.min_mdeg",	KEY_MIN,	1, true },
	{ "temp2.max_mdeg",	KEY_MAX,	1, true },
	{ "temp2.hyst_mdeg",	KEY_HYST,	1, true },
	{ "label",		KEY_LABEL,	0, true },
	{ "thermal.width",	KEY_WIDTH,	0, false },
	{ "thermal.height",	KEY_HEIGHT,	0, false },
	{ "payload",		KEY_PAYLOAD,	0, false },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct parser {
	struct coldroom_fw_image img;	/* the working copy */
	bool override;
	unsigned int line_of[NKEYS];	/* where each key was set, 0: not */
	u32 width, height;		/* wider than the image's u16 fields */
	u8 *payload;
	size_t payload_len, payload_cap;
	struct coldroom_fw_text_error *err;
};

static __attribute__((format(printf, 3, 4)))
int fail(struct parser *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	p->err->line = line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A printable, bounded rendering of untrusted text for messages. */
static const char *quote(char *buf, size_t size, const char *s, size_t n)
{
	const size_t shown = 24;
	size_t i, o = 0;

	for (i = 0; i < n && i < shown && o + 1 < size; i++)
		buf[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n > shown && o + 4 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* A decimal integer, optional '-', no other characters, in [min, max]. */
static bool parse_int(const char *s, size_t n, s64 min, s64 max, s64 *out)
{
	bool neg = false;
	s64 v = 0;
	size_t i = 0;

	if (n && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > (s64)1 << 33)	/* far beyond any u32 or s32 */
			return false;
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "MAJOR.MINOR.PATCH" as major << 16 | minor << 8 | patch. */
static bool parse_version(const char *s, size_t n, u32 *out)
{
	static const s64 limit[3] = { 65535, 255, 255 };
	u32 v = 0;
	int part;

	for (part = 0; part < 3; part++) {
		size_t len = 0;
		s64 num;

		while (len < n && s[len] != '.')
			len++;
		if ((part < 2) != (len < n))
			return false;
		if (!len || s[0] == '-' ||
		    !parse_int(s, len, 0, limit[part], &num))
			return false;
		v = v << (part ? 8 : 0) | (u32)num;
		s += len + (part < 2);
		n -= len + (part < 2);
	}
	*out = v;
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int append_payload(struct parser *p, unsigned int line,
			  const char *s, size_t n)
{
	char q[32];
	size_t i;

	if (n % 2)
		return fail(p, line, "payload: odd number of hex digits");
	if (p->payload_len + n / 2 > COLDROOM_FW_PAYLOAD_MAX)
		return fail(p, line, "payload larger than %d bytes",
			    COLDROOM_FW_PAYLOAD_MAX);
	if (p->payload_len + n / 2 > p->payload_cap) {
		size_t cap = p->payload_cap ? p->payload_cap : 256;
		u8 *grown;

		while (cap < p->payload_len + n / 2)
			cap *= 2;
		grown = realloc(p->payload, cap);
		if (!grown)
			return fail(p, line, "out of memory");
		p->payload = grown;
		p->payload_cap = cap;
	}
	for (i = 0; i < n; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return fail(p, line, "payload: '%s' is not hex",
				    quote(q, sizeof(q), s + i, 2));
		p->payload[p->payload_len++] = (u8)(hi << 4 | lo);
	}
	return 0;
}

/* Copies a string value that must fit in @size - 1 characters. */
static bool copy_string(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size || memchr(s, '\0', n))
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static int set_value(struct parser *p, const struct key *k,
		     unsigned int line, const char *s, size_t n)
{
	struct coldroom_fw_image *img = &p->img;
	char q[32];
	s64 v;

	switch (k->kind) {
	case KEY_MODEL:
		if (!copy_string(img->model, sizeof(img->model), s, n) ||
		    coldroom_fw_check_model(img->model))
			return fail(p, line,
				    "model '%s': need 1-%d characters of A-Z a-z 0-9 . _ -",
				    quote(q, sizeof(q), s, n),
				    COLDROOM_FW_MODEL_LEN);
		return 0;
	case KEY_SERIAL:
		if (!copy_string(img->serial, sizeof(img->serial), s, n) ||
		    coldroom_fw_check_serial(img->serial))
			return fail(p, line,
				    "serial '%s': need * or 1-%d characters of A-Z a-z 0-9 . _ -",
				    quote(q, sizeof(q), s, n),
				    COLDROOM_FW_SERIAL_LEN);
		return 0;
	case KEY_VERSION:
		if (!parse_version(s, n, &img->fw_version))
			return fail(p, line,
				    "version '%s': need MAJOR.MINOR.PATCH (0-65535.0-255.0-255)",
				    quote(q, sizeof(q), s, n));
		return 0;
	case KEY_LABEL:
		if (!copy_string(img->label, sizeof(img->label), s, n) ||
		    coldroom_fw_check_label(img->label))
			return fail(p, line,
				    "label '%s': need 1-%d printable ASCII characters",
				    quote(q, sizeof(q), s, n),
				    COLDROOM_FW_LABEL_MAX);
		img->has_label = true;
		return 0;
	case KEY_PAYLOAD:
		return append_payload(p, line, s, n);
	case KEY_GAIN:
	case KEY_OFFSET:
	case KEY_MIN:
	case KEY_MAX:
		if (!parse_int(s, n, S32_MIN, S32_MAX, &v))
			break;
		if (k->kind == KEY_GAIN)
			img->cal[k->ch].gain_ppm = (s32)v;
		else if (k->kind == KEY_OFFSET)
			img->cal[k->ch].offset_mdeg = (s32)v;
		else if (k->kind == KEY_MIN)
			img->thr[k->ch].min_mdeg = (s32)v;
		else
			img->thr[k->ch].max_mdeg = (s32)v;
		return 0;
	case KEY_INTERVAL:
	case KEY_HYST:
	case KEY_WIDTH:
	case KEY_HEIGHT:
		if (!parse_int(s, n, 0, UINT32_MAX, &v))
			break;
		if (k->kind == KEY_INTERVAL)
			img->interval_ms = (u32)v;
		else if (k->kind == KEY_HYST)
			img->thr[k->ch].hyst_mdeg = (u32)v;
		else if (k->kind == KEY_WIDTH)
			p->width = (u32)v;
		else
			p->height = (u32)v;
		return 0;
	}
	return fail(p, line, "%s: '%s' is not %s 32-bit integer", k->name,
		    quote(q, sizeof(q), s, n),
		    k->kind == KEY_GAIN || k->kind == KEY_OFFSET ||
		    k->kind == KEY_MIN || k->kind == KEY_MAX ?
		    "a signed" : "an unsigned");
}

static int parse_line(struct parser *p, unsigned int line,
		      const char *s, size_t n)
{
	const char *eq, *val;
	size_t klen, vlen;
	char q[32];
	size_t i;

	if (memchr(s, '\0', n))
		return fail(p, line, "NUL byte in text");
	trim(&s, &n);
	if (!n || s[0] == '#')
		return 0;
	eq = memchr(s, '=', n);
	if (!eq)
		return fail(p, line, "expected 'key = value'");
	klen = (size_t)(eq - s);
	val = eq + 1;
	vlen = n - klen - 1;
	trim(&s, &klen);
	trim(&val, &vlen);

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == klen &&
		    !memcmp(keys[i].name, s, klen))
			break;
	if (i == NKEYS)
		return fail(p, line, "unknown key '%s'",
			    quote(q, sizeof(q), s, klen));
	if (p->override && !keys[i].in_override)
		return fail(p, line,
			    "'%s' cannot be set in an override file (allowed: temp1/temp2 calibration and thresholds, interval_ms, label)",
			    keys[i].name);
	if (p->line_of[i] && keys[i].kind != KEY_PAYLOAD)
		return fail(p, line, "'%s' given twice (first on line %u)",
			    keys[i].name, p->line_of[i]);
	if (!vlen)
		return fail(p, line, "'%s' has no value", keys[i].name);
	if (!p->line_of[i])
		p->line_of[i] = line;
	return set_value(p, &keys[i], line, val, vlen);
}

static unsigned int line_of(const struct parser *p, enum key_kind kind,
			    unsigned int ch)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].kind == kind && keys[i].ch == ch)
			return p->line_of[i];
	return 0;
}

static unsigned int max3(unsigned int a, unsigned int b, unsigned int c)
{
	unsigned int m = a > b ? a : b;

	return m > c ? m : c;
}

/* Rules that span several keys, checked once every line is read. */
static int check_groups(struct parser *p)
{
	struct coldroom_fw_image *img = &p->img;
	unsigned int ch, line, lmin, lmax, lhyst;
	size_t i;

	if (!p->override)
		for (i = 0; i < NKEYS; i++)
			if (!p->line_of[i] && keys[i].kind <= KEY_OFFSET)
				return fail(p, 0, "missing '%s'", keys[i].name);

	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++) {
		line = max3(line_of(p, KEY_GAIN, ch),
			    line_of(p, KEY_OFFSET, ch), 0);
		if (line && coldroom_fw_check_calibration(&img->cal[ch]))
			return fail(p, line,
				    "temp%u calibration out of range: gain_ppm must be %d..%d, offset_mdeg %d..%d",
				    ch + 1, COLDROOM_FW_GAIN_MIN_PPM,
				    COLDROOM_FW_GAIN_MAX_PPM,
				    -COLDROOM_FW_OFFSET_MAX_MDEG,
				    COLDROOM_FW_OFFSET_MAX_MDEG);
	}

	line = line_of(p, KEY_INTERVAL, 0);
	if (line && coldroom_fw_check_interval(img->interval_ms))
		return fail(p, line, "interval_ms must be %d..%d",
			    COLDROOM_FW_INTERVAL_MIN_MS,
			    COLDROOM_FW_INTERVAL_MAX_MS);
	if (line)
		img->has_interval = true;

	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++) {
		lmin = line_of(p, KEY_MIN, ch);
		lmax = line_of(p, KEY_MAX, ch);
		lhyst = line_of(p, KEY_HYST, ch);
		line = max3(lmin, lmax, lhyst);
		if (!line)
			continue;
		/* An override may adjust thresholds the blob already has. */
		if (!img->has_thresholds[ch] && !(lmin && lmax && lhyst))
			return fail(p, line,
				    "temp%u thresholds need temp%u.min_mdeg, temp%u.max_mdeg and temp%u.hyst_mdeg",
				    ch + 1, ch + 1, ch + 1, ch + 1);
		if (coldroom_fw_check_thresholds(&img->thr[ch]))
			return fail(p, line,
				    "temp%u thresholds invalid: need %d <= min_mdeg < max_mdeg <= %d, hyst_mdeg <= %d and below max_mdeg - min_mdeg",
				    ch + 1, COLDROOM_FW_TEMP_MIN_MDEG,
				    COLDROOM_FW_TEMP_MAX_MDEG,
				    COLDROOM_FW_HYST_MAX_MDEG);
		img->has_thresholds[ch] = true;
	}

	lmin = line_of(p, KEY_WIDTH, 0);
	lmax = line_of(p, KEY_HEIGHT, 0);
	line = max3(lmin, lmax, 0);
	if (line) {
		if (!lmin || !lmax)
			return fail(p, line,
				    "thermal geometry needs thermal.width and thermal.height");
		if (coldroom_fw_check_thermal(p->width, p->height))
			return fail(p, line,
				    "thermal geometry out of range: each side 1..%d, at most %d pixels",
				    COLDROOM_FW_FRAME_DIM_MAX,
				    COLDROOM_FW_FRAME_PIXELS_MAX);
		img->has_thermal = true;
		img->frame_width = (u16)p->width;
		img->frame_height = (u16)p->height;
	}

	if (!p->override && !p->payload_len)
		return fail(p, 0, "missing 'payload'");
	return 0;
}

static int run(struct parser *p, const char *text, size_t len)
{
	unsigned int line = 0;
	size_t pos = 0;

	if (len > COLDROOM_FW_TEXT_MAX)
		return fail(p, 0, "text larger than %d bytes",
			    COLDROOM_FW_TEXT_MAX);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (parse_line(p, ++line, text + pos, end - pos))
			return -1;
		pos = end + 1;
	}
	return check_groups(p);
}

int coldroom_fw_text_parse(const char *text, size_t len,
			   struct coldroom_fw_image *img, u8 **payload_buf,
			   struct coldroom_fw_text_error *err)
{
	struct parser p = { .err = err };

	if (run(&p, text, len)) {
		free(p.payload);
		return -1;
	}
	p.img.payload = p.payload;
	p.img.payload_len = (u32)p.payload_len;
	*img = p.img;
	*payload_buf = p.payload;
	return 0;
}

int coldroom_fw_text_apply(struct coldroom_fw_image *img,
			   const char *text, size_t len,
			   struct coldroom_fw_text_error *err)
{
	struct parser p = { .img = *img, .override = true, .err = err };

	if (run(&p, text, len))
		return -1;
	*img = p.img;
	return 0;
}

char *coldroom_fw_text_format(const struct coldroom_fw_image *img)
{
	char *text = NULL;
	size_t size = 0;
	unsigned int ch;
	u32 i;
	FILE *f;

	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	fprintf(f, "# coldroom firmware source\n");
	fprintf(f, "model = %s\nserial = %s\nversion = %u.%u.%u\n",
		img->model, img->serial, img->fw_version >> 16,
		(img->fw_version >> 8) & 0xff, img->fw_version & 0xff);
	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++)
		fprintf(f, "temp%u.gain_ppm = %d\ntemp%u.offset_mdeg = %d\n",
			ch + 1, img->cal[ch].gain_ppm,
			ch + 1, img->cal[ch].offset_mdeg);
	if (img->has_interval)
		fprintf(f, "interval_ms = %u\n", img->interval_ms);
	for (ch = 0; ch < COLDROOM_FW_CHANNELS; ch++)
		if (img->has_thresholds[ch])
			fprintf(f, "temp%u.min_mdeg = %d\ntemp%u.max_mdeg = %d\ntemp%u.hyst_mdeg = %u\n",
				ch + 1, img->thr[ch].min_mdeg,
				ch + 1, img->thr[ch].max_mdeg,
				ch + 1, img->thr[ch].hyst_mdeg);
	if (img->has_label)
		fprintf(f, "label = %s\n", img->label);
	if (img->has_thermal)
		fprintf(f, "thermal.width = %u\nthermal.height = %u\n",
			img->frame_width, img->frame_height);
	for (i = 0; i < img->payload_len; i++) {
		if (i % PAYLOAD_BYTES_PER_LINE == 0)
			fputs(i ? "\npayload = " : "payload = ", f);
		fprintf(f, "%02x", img->payload[i]);
	}
	if (img->payload_len)
		fputc('\n', f);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
