/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * conf_parser.h - the one parser of every program's settings file:
 * "Key=Value" lines, '#' or ';' comments, space and tab around keys and
 * values ignored, keys case-sensitive, each at most once per file. A
 * table says each key's parser and its place in the settings; the tables
 * are data beside their programs (config.c, uplink/uplinkconf.c).
 *
 * Drop-ins work as systemd's own *.conf files do (systemd-system.conf(5),
 * "CONFIGURATION DIRECTORIES AND PRECEDENCE"): after the main file, every
 * *.conf in /etc/coldroom/NAME.d/, /run/coldroom/NAME.d/ and
 * /usr/lib/coldroom/NAME.d/, in the order of their file names whatever
 * the directory; a name in /etc hides the same name in /run and /usr/lib,
 * /run hides /usr/lib, and an empty file or a symlink to /dev/null masks
 * it. A later setting overrides an earlier one.
 */
#ifndef COLDROOM_CONF_PARSER_H
#define COLDROOM_CONF_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#define CONF_FILE_MAX		(64 * 1024)	/* bytes, any one file */
#define CONF_DROPINS_MAX	64		/* drop-in names, masks included */

struct conf_key;

/*
 * Parse @value into the key's place in @settings. Returns 0, -EINVAL with
 * @why saying what the value must be (it follows "Key=Value "), or -ENOMEM.
 */
typedef int (*conf_parse_t)(const struct conf_key *key, const char *value, void *settings,
			    const char **why);

struct conf_key {
	const char *name;
	conf_parse_t parse;
	size_t offset;		/* of the key's field in the settings */
	unsigned int min, max;	/* conf_parse_uint: bounds; conf_parse_token: max length */
	const char *rule;	/* conf_parse_token: what a value must be */
};

struct conf_table {
	const char *path;		/* the main file, e.g. /etc/coldroom/coldroomd.conf */
	const struct conf_key *keys;
	size_t n_keys;
	size_t size;			/* of the settings */
	int (*init)(void *settings);	/* the defaults: 0 or -ENOMEM */
	void (*done)(void *settings);	/* frees what init and the parsers allocated */
	/* What no single line can say, after the last file; may be NULL. */
	int (*check)(void *settings, char *err, size_t err_len);
};

/* The key's field in @settings. */
static inline void *conf_field(const struct conf_key *key, void *settings)
{
	return (char *)settings + key->offset;
}

/* 1, yes, true, on: 1; 0, no, false, off: 0; else -EINVAL. */
int conf_parse_boolean(const char *value);

/* Parsers for a table: bool; unsigned int in min..max; char *. */
int conf_parse_bool(const struct conf_key *key, const char *value, void *settings,
		    const char **why);
int conf_parse_uint(const struct conf_key *key, const char *value, void *settings,
		    const char **why);
/* An absolute path, kept as written. */
int conf_parse_path(const struct conf_key *key, const char *value, void *settings,
		    const char **why);
/* An absolute path without its trailing slashes (paths are built from it). */
int conf_parse_dir(const struct conf_key *key, const char *value, void *settings,
		   const char **why);
/* 1 to max characters, no spaces or control characters; key->rule on length. */
int conf_parse_token(const struct conf_key *key, const char *value, void *settings,
		     const char **why);
/* Replace the string at the key's field with a copy of @value. */
int conf_set_string(const struct conf_key *key, const char *value, void *settings);

/*
 * Parse @text onto @settings, which holds the defaults or what earlier
 * files said. Errors read "FILE:LINE: ..." ("line LINE: ..." when @file is
 * NULL). On failure @settings may be half-written: parse onto a copy.
 */
int conf_parse_text(const struct conf_table *t, const char *file, const char *text,
		    size_t len, void *settings, char *err, size_t err_len);

/*
 * @text as the whole configuration: the defaults, @text, the table's
 * check. @settings (initialised) is replaced only on success.
 */
int conf_parse(const struct conf_table *t, const char *text, size_t len, void *settings,
	       char *err, size_t err_len);

/*
 * Read a configuration: the main file, then its drop-ins, then the
 * table's check. With @path NULL or the table's own path, the main file is
 * @root + t->path and the drop-ins come from the three directories under
 * @root (NULL or "": /); any other @path is read with drop-ins from
 * "@path.d/" only, and @root is not used. A missing main file or
 * directory is no error. Returns the number of files read (0: the
 * defaults), or a negative errno with @err naming the file (and line);
 * @settings (initialised) is replaced only on success.
 */
int conf_load(const struct conf_table *t, const char *root, const char *path, void *settings,
	      char *err, size_t err_len);

#endif
