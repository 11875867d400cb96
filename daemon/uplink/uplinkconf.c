// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * uplinkconf.c - coldroom-uplink's settings (uplinkconf.h): the table of
 * uplink.conf's keys for the shared parser (conf_parser.h), the values
 * only the uplink has, and the keys that need each other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_parser.h"
#include "parse_util.h"
#include "uplinkconf.h"
#include "uplinkmsg.h"

void uplink_config_free(struct uplink_config *c)
{
	free(c->broker);
	free(c->site);
	free(c->host);
	free(c->client_id);
	free(c->username);
	free(c->password_file);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	memset(c, 0, sizeof(*c));
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* host, host:port, [v6 address] or [v6 address]:port */
static int parse_broker(const struct conf_key *key, const char *v, void *settings,
			const char **why)
{
	struct uplink_config *c = settings;
	const char *host = v, *end, *colon;
	unsigned long long port = 0;

	(void)key;	/* it sets two fields: broker and port */
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

static int parse_name(const struct conf_key *key, const char *v, void *settings,
		      const char **why)
{
	if (!uplink_name_valid(v)) {
		*why = "must be 1 to 64 of the characters A-Z a-z 0-9 . _ -";
		return -EINVAL;
	}
	return conf_set_string(key, v, settings);
}

/* What no single line can say: keys that need each other. */
static int check_whole(void *settings, char *err, size_t err_len)
{
	struct uplink_config *c = settings;

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
	if (c->password_file && !c->ca_file && !c->allow_insecure_password) {
		snprintf(err, err_len, "PasswordFile= without CAFile= would send the password "
			 "in clear: set CAFile= (TLS), or AllowInsecurePassword=yes");
		return -EINVAL;
	}
	if (!c->port)
		c->port = c->ca_file ? UPLINK_DEFAULT_TLS_PORT : UPLINK_DEFAULT_PORT;
	return 0;
}

static int uplink_config_defaults(void *settings)
{
	struct uplink_config *c = settings;

	memset(c, 0, sizeof(*c));
	c->keepalive_s = UPLINK_DEFAULT_KEEPALIVE_S;
	return 0;
}

static void uplink_config_done(void *settings)
{
	uplink_config_free(settings);
}

#define AT(field) offsetof(struct uplink_config, field)
#define KEY(n, p, field) { .name = n, .parse = p, .offset = AT(field) }
static const struct conf_key uplink_keys[] = {
	KEY("Broker", parse_broker, broker),
	KEY("Site", parse_name, site),
	KEY("Host", parse_name, host),
	{ .name = "ClientId", .parse = conf_parse_token, .offset = AT(client_id), .max = 64,
	  .rule = "must be 1 to 64 characters" },
	{ .name = "Username", .parse = conf_parse_token, .offset = AT(username), .max = 128,
	  .rule = "must be 1 to 128 characters" },
	KEY("PasswordFile", conf_parse_path, password_file),
	KEY("CAFile", conf_parse_path, ca_file),
	KEY("CertFile", conf_parse_path, cert_file),
	KEY("KeyFile", conf_parse_path, key_file),
	{ .name = "KeepaliveSec", .parse = conf_parse_uint, .offset = AT(keepalive_s),
	  .min = UPLINK_MIN_KEEPALIVE_S, .max = UPLINK_MAX_KEEPALIVE_S },
	KEY("PublishSamples", conf_parse_bool, publish_samples),
	KEY("HomeAssistantDiscovery", conf_parse_bool, ha_discovery),
	KEY("AllowInsecurePassword", conf_parse_bool, allow_insecure_password),
};

const struct conf_table uplink_config_table = {
	.path = UPLINK_CONFIG_PATH,
	.keys = uplink_keys,
	.n_keys = sizeof(uplink_keys) / sizeof(uplink_keys[0]),
	.size = sizeof(struct uplink_config),
	.init = uplink_config_defaults,
	.done = uplink_config_done,
	.check = check_whole,
};

int uplink_config_parse(const char *text, size_t len, struct uplink_config *c,
			char *err, size_t err_len)
{
	return conf_parse(&uplink_config_table, text, len, c, err, err_len);
}

int uplink_config_load(const char *path, struct uplink_config *c, char *err, size_t err_len)
{
	int r = conf_load(&uplink_config_table, NULL, path, c, err, err_len);

	if (r == 0) {
		/* Neither the file nor a drop-in: not configured. */
		snprintf(err, err_len, "%s: %s", path, strerror(ENOENT));
		return -ENOENT;
	}
	return r < 0 ? r : 0;
}
