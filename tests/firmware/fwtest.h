/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Helpers shared by the firmware unit tests. */
#ifndef FWTEST_H
#define FWTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "coldroom_fw.h"
#include "coldroom_fw_build.h"
#include "coldroom_fw_text.h"

/* An image with every section, and one with only the required ones. */
void fwt_full_image(struct coldroom_fw_image *img);
void fwt_min_image(struct coldroom_fw_image *img);

/* Builds @img (must succeed); the caller frees the blob. */
u8 *fwt_build(const struct coldroom_fw_image *img, size_t *len);

/* A section for fwt_raw_blob(): @data may be NULL for zeros. */
struct fwt_sec {
	u16 type;
	u32 length;
	const void *data;
};

/*
 * Lays out @n sections in the given order (directory and data alike),
 * padded to 4 bytes, under a valid header; returns a malloc()ed blob with
 * a correct CRC and its length in @len.
 */
u8 *fwt_raw_blob(const struct fwt_sec *sec, unsigned int n, size_t *len);

void fwt_put16(u8 *p, u16 v);
void fwt_put32(u8 *p, u32 v);
u32 fwt_get32(const u8 *p);
void fwt_fix_crc(u8 *blob, size_t len);
u8 *fwt_dirent(u8 *blob, unsigned int i);
u8 *fwt_section(u8 *blob, unsigned int i);
/* Directory index of the @nth (0-based) section of @type; fails if none. */
unsigned int fwt_find(const u8 *blob, u16 type, unsigned int nth);

/* Reads a whole file (must succeed), NUL-terminated; caller frees. */
char *fwt_read_file(const char *path, size_t *len);
/* $name from the environment (the Makefile sets it), or a test failure. */
const char *fwt_env(const char *name);

void fwt_expect_parse(const u8 *blob, size_t len,
		      enum coldroom_fw_error want, const char *file, int line);
#define expect_parse(blob, len, want) \
	fwt_expect_parse(blob, len, want, __FILE__, __LINE__)

#endif /* FWTEST_H */
