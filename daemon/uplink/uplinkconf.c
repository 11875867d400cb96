// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * uplinkconf.c - coldroom-uplink's settings (uplinkconf.h). One table
 * says each key's kind and where it goes; every value is checked here,
 * so the daemon only ever sees settings it can use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uplinkconf.h"
#include "uplinkmsg.h"
#include "util.h"

#define UPLINK_CONFIG_FILE_MAX (64 * 1024)

enum kind { K_BROKER, K_NAME, K_TOKEN, K_PATH, K_UINT, K_BOOL };

struct key {
	const char *name;
	enum kind kind;
	size_t offset;
	unsigned int min, max;		/* K_UINT; K_TOKEN: max length */
	const char *rule;		/* K_TOKEN: what a value must be */
};

#define AT(field) offsetof(struct uplink_config, field)
static const struct key keys[] = {
	{ .name = "Broker", .kind = K_BROKER, .offset = AT(broker) },
	{ .name = "Site", .kind = K_NAME, .offset = AT(site) },
	{ .name = "Host", .kind = K_NAME, .offset = AT(host) },
	{ .name = "ClientId", .kind = K_TOKEN, .offset = AT(client_id), .max = 64,
	  .rule = "must be 1 to 64 characters" },
	{ .name = "Username", .kind = K_TOKEN, .offset = AT(username), .max = 128,
	  .rule = "must be 1 to 128 characters" },
	{ .name = "PasswordFile", .kind = K_PATH, .offset = AT(password_file) },
	{ .name = "CAFile", .kind = K_PATH, .offset = AT(ca_file) },
	{ .name = "CertFile", .kind = K_PATH, .offset = AT(cert_file) },
	{ .name = "KeyFile", .kind = K_PATH, .offset = AT(key_file) },
	{ .name = "KeepaliveSec", .kind = K_UINT, .offset = AT(keepalive_s),
	  .min = UPLINK_MIN_KEEPALIVE_S, .max = UPLINK_MAX_KEEPALIVE_S },
	{ .name = "PublishSamples", .kind = K_BOOL, .offset = AT(publish_samples) },
	{ .name = "HomeAssistantDiscovery", .kind = K_BOOL, .offset = AT(ha_discovery) },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void uplink_config_free(struct uplink_config *c)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].kind != K_UINT && keys[i].kind != K_BOOL)
			free(*(char **)((char *)c + keys[i].offset));
	memset(c, 0, sizeof(*c));
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* host, host:port, [v6 address] or [v6 address]:port */
static int parse_broker(const char *v, struct uplink_config *c, const char **why)
{
	const char *host = v, *end, *colon;
	unsigned long long port = 0;

	if (*v == '[') {
		host = v + 1;
		end = strchr(host, ']');
		if (!end || end == host) {
			*why = "has an unclosed or empty [IPv6 address]";
			return -EINVAL;
		}
		for (const char *p = host; p < end; p++)
			if (!(*p == ':' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			      (*p >= 'A' && *p <= 'F') || *p == '.')) {
				*why = "is not an IPv6 address in brackets";
				return -EINVAL;
			}
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon) {
			*why = "must be [address]:port";
			return -EINVAL;
		}
	} else {
		colon = strchr(v, ':');
		end = colon ? colon : v + strlen(v);
		for (const char *p = host; p < end; p++)
			if (!host_char(*p)) {
				*why = "must be host or host:port (a host name or an address)";
				return -EINVAL;
			}
		if (end == host || end - host > 253) {
			*why = "has no host name, or one longer than 253 characters";
			return -EINVAL;
		}
	}
	if (colon && (parse_ull(colon + 1, &port) < 0 || port < 1 || port > 65535)) {
		*why = "has a port that is not 1..65535";
		return -EINVAL;
	}
	free(c->broker);
	c->broker = strndup(host, (size_t)(end - host));
	c->port = (unsigned int)port;
	return c->broker ? 0 : -ENOMEM;
}

static int set_value(struct uplink_config *c, const struct key *k, const char *v,
		     const char **why)
{
	void *field = (char *)c + k->offset;
	unsigned long long n;

	switch (k->kind) {
	case K_BROKER:
		return parse_broker(v, c, why);
	case K_NAME:
		if (!uplink_name_valid(v)) {
			*why = "must be 1 to 64 of the characters A-Z a-z 0-9 . _ -";
			return -EINVAL;
		}
		break;
	case K_TOKEN:
		if (!*v || strlen(v) > k->max) {
			*why = k->rule;
			return -EINVAL;
		}
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				*why = "must not contain spaces or control characters";
				return -EINVAL;
			}
		break;
	case K_PATH:
		if (v[0] != '/') {
			*why = "must be an absolute path";
			return -EINVAL;
		}
		break;
	case K_UINT:
		if (parse_ull(v, &n) < 0 || n < k->min || n > k->max) {
			*why = "is out of range";
			return -EINVAL;
		}
		*(unsigned int *)field = (unsigned int)n;
		return 0;
	case K_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
			*(bool *)field = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") ||
			 !strcmp(v, "0"))
			*(bool *)field = false;
		else {
			*why = "must be yes or no";
			return -EINVAL;
		}
		return 0;
	}
	free(*(char **)field);
	*(char **)field = strdup(v);
	return *(char **)field ? 0 : -ENOMEM;
}

/* Space and tab around @s cut off, in place. */
static char *trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && strchr(" \t\r", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One "Key=Value" line onto @c; @seen holds the line each key was given on. */
static int parse_line(struct uplink_config *c, char *line, unsigned int lineno,
		      unsigned int *seen, char *err, size_t err_len)
{
	char *eq = strchr(line, '='), *name, *value;
	const char *why = NULL;
	size_t i;
	int r;

	if (!eq) {
		snprintf(err, err_len, "line %u: expected Key=Value", lineno);
		return -EINVAL;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	for (i = 0; i < N_KEYS && strcmp(keys[i].name, name); i++)
		;
	if (i == N_KEYS) {
		snprintf(err, err_len, "line %u: unknown key '%s'", lineno, name);
		return -EINVAL;
	}
	if (seen[i]) {
		snprintf(err, err_len, "line %u: %s= given twice (first on line %u)", lineno, name,
			 seen[i]);
		return -EINVAL;
	}
	seen[i] = lineno;
	r = set_value(c, &keys[i], value, &why);
	if (r == -EINVAL)
		snprintf(err, err_len, "line %u: %s=%s %s", lineno, name, value, why);
	return r;
}

/* What no single line can say: keys that need each other. */
static int check_whole(struct uplink_config *c, char *err, size_t err_len)
{
	if (c->broker && !c->site) {
		snprintf(err, err_len, "Broker= is set but Site= is not: name the site "
			 "(its level in the topic tree)");
		return -EINVAL;
	}
	if ((c->cert_file || c->key_file) && !c->ca_file) {
		snprintf(err, err_len, "CertFile= and KeyFile= need CAFile= (TLS)");
		return -EINVAL;
	}
	if (c->key_file && !c->cert_file) {
		snprintf(err, err_len, "KeyFile= needs CertFile=");
		return -EINVAL;
	}
	if (c->password_file && !c->username) {
		snprintf(err, err_len, "PasswordFile= needs Username=");
		return -EINVAL;
	}
	if (!c->port)
		c->port = c->ca_file ? UPLINK_DEFAULT_TLS_PORT : UPLINK_DEFAULT_PORT;
	return 0;
}

int uplink_config_parse(const char *text, size_t len, struct uplink_config *out,
			char *err, size_t err_len)
{
	struct uplink_config c = { .keepalive_s = UPLINK_DEFAULT_KEEPALIVE_S };
	unsigned int seen[N_KEYS] = { 0 }, lineno = 0;
	_cleanup_(freep) char *buf = NULL;
	char *rest, *line;
	int r = 0;

	if (memchr(text, '\0', len)) {
		snprintf(err, err_len, "contains a NUL byte");
		return -EINVAL;
	}
	buf = strndup(text, len);
	if (!buf)
		return -ENOMEM;
	rest = buf;
	while (r >= 0 && (line = strsep(&rest, "\n"))) {
		lineno++;
		line = trim(line);
		if (*line && *line != '#' && *line != ';')
			r = parse_line(&c, line, lineno, seen, err, err_len);
	}
	if (r >= 0)
		r = check_whole(&c, err, err_len);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, err_len, "out of memory");
		uplink_config_free(&c);
		return r;
	}
	uplink_config_free(out);
	*out = c;
	return 0;
}

int uplink_config_load(const char *path, struct uplink_config *c, char *err, size_t err_len)
{
	char msg[UPLINK_ERROR_MAX];
	_cleanup_(freep) char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, path, UPLINK_CONFIG_FILE_MAX, &text, &len);
	if (r < 0) {
		snprintf(err, err_len, "%s: %s", path,
			 r == -EFBIG ? "file too large" : strerror(-r));
		return r;
	}
	r = uplink_config_parse(text, len, c, msg, sizeof(msg));
	if (r < 0)
		snprintf(err, err_len, "%s: %s", path, msg);
	return r;
}
