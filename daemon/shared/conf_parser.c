// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * conf_parser.c - settings files and their drop-ins (conf_parser.h). Every
 * value is checked here, so a program only ever sees settings it can use,
 * and nothing is applied unless every file of the configuration is good.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_parser.h"
#include "fileio.h"
#include "macro.h"
#include "parse_util.h"

/* Where drop-ins of the default configuration live, highest precedence first. */
static const char *const conf_dirs[] = {
	"/etc/coldroom",
	"/run/coldroom",
	"/usr/lib/coldroom",
};

int conf_parse_boolean(const char *v)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(v, yes[i]))
			return 1;
		if (!strcmp(v, no[i]))
			return 0;
	}
	return -EINVAL;
}

int conf_parse_bool(const struct conf_key *key, const char *v, void *settings,
		    const char **why)
{
	int b = conf_parse_boolean(v);

	if (b < 0) {
		*why = "must be yes or no";
		return b;
	}
	*(bool *)conf_field(key, settings) = b;
	return 0;
}

int conf_parse_uint(const struct conf_key *key, const char *v, void *settings,
		    const char **why)
{
	unsigned long long n;

	if (parse_ull(v, &n) < 0 || n < key->min || n > key->max) {
		*why = "is out of range";
		return -EINVAL;
	}
	*(unsigned int *)conf_field(key, settings) = (unsigned int)n;
	return 0;
}

int conf_set_string(const struct conf_key *key, const char *v, void *settings)
{
	char **field = conf_field(key, settings);
	char *copy = strdup(v);

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

int conf_parse_path(const struct conf_key *key, const char *v, void *settings,
		    const char **why)
{
	if (v[0] != '/') {
		*why = "must be an absolute path";
		return -EINVAL;
	}
	return conf_set_string(key, v, settings);
}

int conf_parse_dir(const struct conf_key *key, const char *v, void *settings,
		   const char **why)
{
	char *dir;
	int r;

	r = conf_parse_path(key, v, settings, why);
	if (r < 0)
		return r;
	dir = *(char **)conf_field(key, settings);
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	return 0;
}

int conf_parse_token(const struct conf_key *key, const char *v, void *settings,
		     const char **why)
{
	if (!*v || strlen(v) > key->max) {
		*why = key->rule;
		return -EINVAL;
	}
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "must not contain spaces or control characters";
			return -EINVAL;
		}
	return conf_set_string(key, v, settings);
}

/* "FILE:LINE: ", "line LINE: " without a file, "FILE: " without a line. */
__attribute__((format(printf, 5, 6)))
static void conf_error(char *err, size_t err_len, const char *file, unsigned int line,
		       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (file && line)
		n = snprintf(err, err_len, "%s:%u: ", file, line);
	else if (line)
		n = snprintf(err, err_len, "line %u: ", line);
	else if (file)
		n = snprintf(err, err_len, "%s: ", file);
	else
		n = 0;
	if (n < 0 || (size_t)n >= err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Space and tab around @s cut off, and a CR before the newline, in place. */
static char *strip(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && strchr(" \t\r", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One "Key=Value" line; @seen holds the line each key was given on. */
static int parse_line(const struct conf_table *t, const char *file, unsigned int lineno,
		      char *line, unsigned int *seen, void *settings, char *err,
		      size_t err_len)
{
	char *eq = strchr(line, '='), *name, *value;
	const char *why = "is invalid";
	size_t i;
	int r;

	if (!eq) {
		conf_error(err, err_len, file, lineno, "expected Key=Value");
		return -EINVAL;
	}
	*eq = '\0';
	name = strip(line);
	value = strip(eq + 1);
	for (i = 0; i < t->n_keys && strcmp(t->keys[i].name, name); i++)
		;
	if (i == t->n_keys) {
		conf_error(err, err_len, file, lineno, "unknown key '%s'", name);
		return -EINVAL;
	}
	/* Within one file a second value is a mistake; a later file overrides. */
	if (seen[i]) {
		conf_error(err, err_len, file, lineno, "%s= given twice (first on line %u)", name,
			   seen[i]);
		return -EINVAL;
	}
	seen[i] = lineno;
	r = t->keys[i].parse(&t->keys[i], value, settings, &why);
	if (r == -ENOMEM)
		conf_error(err, err_len, file, 0, "out of memory");
	else if (r < 0)
		conf_error(err, err_len, file, lineno, "%s=%s %s", name, value, why);
	return r;
}

int conf_parse_text(const struct conf_table *t, const char *file, const char *text,
		    size_t len, void *settings, char *err, size_t err_len)
{
	_cleanup_(freep) unsigned int *seen = NULL;
	_cleanup_(freep) char *buf = NULL;
	unsigned int lineno = 0;
	char *rest, *line;
	int r;

	if (memchr(text, '\0', len)) {
		conf_error(err, err_len, file, 0, "contains a NUL byte");
		return -EINVAL;
	}
	buf = strndup(text, len);
	seen = calloc(t->n_keys, sizeof(*seen));
	if (!buf || !seen) {
		conf_error(err, err_len, file, 0, "out of memory");
		return -ENOMEM;
	}
	rest = buf;
	while ((line = strsep(&rest, "\n"))) {
		lineno++;
		line = strip(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		r = parse_line(t, file, lineno, line, seen, settings, err, err_len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Fresh settings with the defaults, in *@out. */
static int settings_new(const struct conf_table *t, void **out)
{
	void *s = calloc(1, t->size);
	int r;

	if (!s)
		return -ENOMEM;
	r = t->init(s);
	if (r < 0) {
		t->done(s);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* @s replaces @settings when @r says all went well; @s is freed either way. */
static int settings_commit(const struct conf_table *t, void *s, void *settings, int r)
{
	if (r >= 0) {
		t->done(settings);
		memcpy(settings, s, t->size);
	} else {
		t->done(s);
	}
	free(s);
	return r;
}

int conf_parse(const struct conf_table *t, const char *text, size_t len, void *settings,
	       char *err, size_t err_len)
{
	void *s;
	int r;

	r = settings_new(t, &s);
	if (r < 0) {
		conf_error(err, err_len, NULL, 0, "out of memory");
		return r;
	}
	r = conf_parse_text(t, NULL, text, len, s, err, err_len);
	if (r >= 0 && t->check)
		r = t->check(s, err, err_len);
	return settings_commit(t, s, settings, r);
}

/* One file onto @settings: 1 if read, 0 if there is none. */
static int load_file(const struct conf_table *t, const char *file, void *settings,
		     char *err, size_t err_len)
{
	_cleanup_(freep) char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, file, CONF_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		conf_error(err, err_len, file, 0, "%s",
			   r == -EFBIG ? "file too large" : strerror(-r));
		return r;
	}
	r = conf_parse_text(t, file, text, len, settings, err, err_len);
	return r < 0 ? r : 1;
}

struct dropin {
	char *name;	/* the file name, which orders and hides */
	char *path;	/* NULL: masked */
};

struct dropins {
	struct dropin v[CONF_DROPINS_MAX];
	size_t n;
};

static void dropins_free(struct dropins *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].path);
	}
	d->n = 0;
}

static void closedirp(DIR **dir)
{
	if (*dir)
		closedir(*dir);
}

static bool dropins_have(const struct dropins *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].name, name))
			return true;
	return false;
}

static int dir_error(const char *dir, int error, char *err, size_t err_len)
{
	conf_error(err, err_len, dir, 0, "%s", strerror(error));
	return -error;
}

/* Add the *.conf of @dir not hidden by a directory listed before. */
static int dropins_add_dir(struct dropins *d, const char *dir, char *err, size_t err_len)
{
	_cleanup_(closedirp) DIR *dp = opendir(dir);
	struct dirent *de;

	if (!dp) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return dir_error(dir, errno, err, err_len);
	}
	for (errno = 0; (de = readdir(dp)); errno = 0) {
		size_t n = strlen(de->d_name);
		char *name, *path = NULL;
		struct stat st;
		bool masked;

		if (de->d_name[0] == '.' || n <= 5 || strcmp(de->d_name + n - 5, ".conf"))
			continue;
		if (dropins_have(d, de->d_name))
			continue;
		/* A dangling symlink is ignored, as systemd does. */
		if (fstatat(dirfd(dp), de->d_name, &st, 0) < 0)
			continue;
		/* systemd's null_or_empty(): a symlink to /dev/null or an empty file. */
		masked = S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0);
		if (!masked && !S_ISREG(st.st_mode))
			continue;
		if (d->n == CONF_DROPINS_MAX) {
			conf_error(err, err_len, dir, 0, "more than %d drop-ins", CONF_DROPINS_MAX);
			return -E2BIG;
		}
		if (!masked && asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			goto oom;
		name = strdup(de->d_name);
		if (!name) {
			free(path);
			goto oom;
		}
		d->v[d->n++] = (struct dropin){ .name = name, .path = path };
	}
	if (errno)
		return dir_error(dir, errno, err, err_len);
	return 0;
oom:
	conf_error(err, err_len, dir, 0, "out of memory");
	return -ENOMEM;
}

static int dropin_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

/* The drop-in directories of @main: "@main.d", or the system's under @root. */
static int dropins_list(const struct conf_table *t, const char *root, const char *main,
			bool system, struct dropins *d, char *err, size_t err_len)
{
	const char *base = strrchr(t->path, '/') + 1;
	size_t n_dirs = system ? sizeof(conf_dirs) / sizeof(conf_dirs[0]) : 1;

	for (size_t i = 0; i < n_dirs; i++) {
		_cleanup_(freep) char *dir = NULL;
		int r;

		r = system ? asprintf(&dir, "%s%s/%s.d", root, conf_dirs[i], base) :
			     asprintf(&dir, "%s.d", main);
		if (r < 0) {
			dir = NULL;
			conf_error(err, err_len, main, 0, "out of memory");
			return -ENOMEM;
		}
		r = dropins_add_dir(d, dir, err, err_len);
		if (r < 0)
			return r;
	}
	qsort(d->v, d->n, sizeof(d->v[0]), dropin_cmp);
	return 0;
}

int conf_load(const struct conf_table *t, const char *root, const char *path, void *settings,
	      char *err, size_t err_len)
{
	bool system = !path || !strcmp(path, t->path);
	_cleanup_(freep) char *main = NULL;
	struct dropins d = { .n = 0 };
	int r, files = 0;
	void *s = NULL;

	r = system ? asprintf(&main, "%s%s", root ?: "", t->path) : asprintf(&main, "%s", path);
	if (r < 0) {
		main = NULL;
		conf_error(err, err_len, path, 0, "out of memory");
		return -ENOMEM;
	}
	r = settings_new(t, &s);
	if (r < 0) {
		conf_error(err, err_len, main, 0, "out of memory");
		return r;
	}
	r = load_file(t, main, s, err, err_len);
	if (r >= 0) {
		files = r;
		r = dropins_list(t, root ?: "", main, system, &d, err, err_len);
	}
	for (size_t i = 0; r >= 0 && i < d.n; i++)
		if (d.v[i].path) {
			r = load_file(t, d.v[i].path, s, err, err_len);
			files += r > 0;
		}
	dropins_free(&d);
	if (r >= 0 && t->check) {
		char msg[256];

		r = t->check(s, msg, sizeof(msg));
		if (r < 0)
			conf_error(err, err_len, main, 0, "%s", msg);
	}
	r = settings_commit(t, s, settings, r);
	return r < 0 ? r : files;
}
