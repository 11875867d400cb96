// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-fwtool - build, inspect and verify coldroom firmware blobs.
 *
 * Exit status: 0 success, 1 invalid input (or an I/O failure), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldroom_fw.h"
#include "coldroom_fw_build.h"
#include "coldroom_fw_text.h"

#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

#define EXIT_INVALID	1
#define EXIT_USAGE	2

static const char usage_text[] =
	"Usage: coldroom-fwtool build SOURCE -o BLOB\n"
	"       coldroom-fwtool inspect BLOB\n"
	"       coldroom-fwtool verify BLOB [--model MODEL] [--serial SERIAL]\n"
	"       coldroom-fwtool --help | --version\n"
	"\n"
	"  build    compile a text source into a firmware blob\n"
	"  inspect  print a blob as text source (build turns it back into\n"
	"           the same blob)\n"
	"  verify   check a blob, and optionally that it fits a unit of\n"
	"           MODEL with serial SERIAL\n"
	"\n"
	"Exit status: 0 ok, 1 invalid input or I/O error, 2 usage error.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("coldroom-fwtool: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'coldroom-fwtool --help'.\n", stderr);
	return EXIT_USAGE;
}

/* Reads all of @path, refusing more than @limit bytes. */
static int read_file(const char *path, size_t limit, const char *what,
		     u8 **data, size_t *len)
{
	size_t cap = 4096, n = 0;
	u8 *buf = NULL;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		u8 *grown;
		size_t got;

		if (n == cap || !buf) {
			if (buf)
				cap *= 2;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				fprintf(stderr, "%s: out of memory\n", path);
				goto fail;
			}
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > limit) {
			fprintf(stderr,
				"%s: %s is larger than the %zu-byte limit\n",
				path, what, limit);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(buf);
	return -1;
}

/* Writes via a temporary file and rename(), so a failure leaves no half blob. */
static int write_file(const char *path, const u8 *data, size_t len)
{
	char *tmp;
	FILE *f;
	int ok;

	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		fprintf(stderr, "%s: out of memory\n", path);
		return -1;
	}
	f = fopen(tmp, "wb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	ok = fwrite(data, 1, len, f) == len;
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		fprintf(stderr, "%s: %s\n", path,
			ok ? strerror(errno) : "write error");
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *src;
	struct coldroom_fw_text_error terr;
	struct coldroom_fw_image img;
	enum coldroom_fw_error err;
	u8 *text, *payload, *blob;
	size_t text_len, blob_len;
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c != 'o')
			return usage_error("%s", "build: bad option");
		out = optarg;
	}
	if (optind + 1 != argc)
		return usage_error("%s", "build: need exactly one SOURCE");
	if (!out)
		return usage_error("%s", "build: need -o BLOB");
	src = argv[optind];

	if (read_file(src, COLDROOM_FW_TEXT_MAX, "source", &text, &text_len))
		return EXIT_INVALID;
	ret = coldroom_fw_text_parse((const char *)text, text_len, &img,
				     &payload, &terr);
	free(text);
	if (ret) {
		if (terr.line)
			fprintf(stderr, "%s:%u: %s\n", src, terr.line,
				terr.msg);
		else
			fprintf(stderr, "%s: %s\n", src, terr.msg);
		return EXIT_INVALID;
	}
	err = coldroom_fw_build_alloc(&img, &blob, &blob_len);
	free(payload);
	if (err) {
		fprintf(stderr, "%s: %s\n", src, coldroom_fw_strerror(err));
		return EXIT_INVALID;
	}
	ret = write_file(out, blob, blob_len);
	free(blob);
	return ret ? EXIT_INVALID : EXIT_SUCCESS;
}

/* Reads and parses a blob, reporting "BLOB: invalid: reason" on failure. */
static int load_blob(const char *path, u8 **data,
		     struct coldroom_fw_image *img)
{
	enum coldroom_fw_error err;
	size_t len;

	if (read_file(path, COLDROOM_FW_MAX_SIZE, "blob", data, &len))
		return -1;
	err = coldroom_fw_parse(*data, len, img);
	if (err) {
		fprintf(stderr, "%s: invalid: %s\n", path,
			coldroom_fw_strerror(err));
		free(*data);
		return -1;
	}
	return 0;
}

static int cmd_inspect(int argc, char **argv)
{
	struct coldroom_fw_image img;
	char *text;
	u8 *data;
	int ok;

	if (argc != 2)
		return usage_error("%s", "inspect: need exactly one BLOB");
	if (argv[1][0] == '-')
		return usage_error("inspect: unknown option '%s'", argv[1]);
	if (load_blob(argv[1], &data, &img))
		return EXIT_INVALID;
	text = coldroom_fw_text_format(&img);
	free(data);
	if (!text) {
		fprintf(stderr, "%s: out of memory\n", argv[1]);
		return EXIT_INVALID;
	}
	ok = fputs(text, stdout) >= 0 && fflush(stdout) == 0;
	free(text);
	if (!ok) {
		fprintf(stderr, "coldroom-fwtool: write error\n");
		return EXIT_INVALID;
	}
	return EXIT_SUCCESS;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "serial", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *serial = NULL, *path;
	struct coldroom_fw_image img;
	enum coldroom_fw_error err;
	u8 *data;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'm')
			model = optarg;
		else if (c == 's')
			serial = optarg;
		else
			return usage_error("%s", "verify: bad option");
	}
	if (optind + 1 != argc)
		return usage_error("%s", "verify: need exactly one BLOB");
	path = argv[optind];

	if (load_blob(path, &data, &img))
		return EXIT_INVALID;
	err = coldroom_fw_check_target(&img, model, serial);
	if (err == COLDROOM_FW_E_WRONG_MODEL)
		fprintf(stderr, "%s: invalid: %s (blob is for %s, not %s)\n",
			path, coldroom_fw_strerror(err), img.model, model);
	else if (err)
		fprintf(stderr, "%s: invalid: %s (blob is for serial %s, not %s)\n",
			path, coldroom_fw_strerror(err), img.serial, serial);
	else
		printf("%s: valid (model %s, version %u.%u.%u)\n", path,
		       img.model, img.fw_version >> 16,
		       (img.fw_version >> 8) & 0xff, img.fw_version & 0xff);
	free(data);
	return err ? EXIT_INVALID : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		return usage_error("%s", "missing command");
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage_text, stdout);
		return EXIT_SUCCESS;
	}
	if (!strcmp(cmd, "--version")) {
		printf("coldroom-fwtool %s (firmware format %d)\n",
		       COLDROOM_VERSION, COLDROOM_FW_FORMAT_VERSION);
		return EXIT_SUCCESS;
	}
	/* Subcommands parse their own options from their own argv[0]. */
	optind = 1;
	opterr = 1;
	if (!strcmp(cmd, "build"))
		return cmd_build(argc - 1, argv + 1);
	if (!strcmp(cmd, "inspect"))
		return cmd_inspect(argc - 1, argv + 1);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
