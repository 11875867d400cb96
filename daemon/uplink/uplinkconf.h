/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * uplinkconf.h - /etc/coldroom/uplink.conf and its drop-ins, coldroom-uplink's
 * settings: the syntax and the precedence of drop-ins are conf_parser.h's
 * (keys in daemon/uplink/uplink.conf and MQTT.md). No secret is ever a value here: the password and the TLS key
 * come from files (PasswordFile=, KeyFile=) or systemd credentials.
 */
#ifndef COLDROOM_UPLINKCONF_H
#define COLDROOM_UPLINKCONF_H

#include <stdbool.h>
#include <stddef.h>

struct conf_table;

#define UPLINK_CONFIG_PATH		"/etc/coldroom/uplink.conf"
#define UPLINK_DEFAULT_PORT		1883
#define UPLINK_DEFAULT_TLS_PORT		8883
#define UPLINK_DEFAULT_KEEPALIVE_S	60
#define UPLINK_MIN_KEEPALIVE_S		5
#define UPLINK_MAX_KEEPALIVE_S		3600
#define UPLINK_ERROR_MAX		512	/* room for a drop-in's path */

struct uplink_config {
	char *broker;		/* Broker=: the host name or address, no port; NULL: not configured */
	unsigned int port;	/* from Broker=host:port, else 1883, or 8883 with TLS */
	char *site;		/* Site= (required with Broker=) */
	char *host;		/* Host=; NULL: the machine's host name */
	char *client_id;	/* ClientId=; NULL: coldroom-<site>-<host> */
	char *username;		/* Username= */
	char *password_file;	/* PasswordFile= (credential mqtt-password first) */
	char *ca_file;		/* CAFile=: TLS, verifying the broker against it */
	char *cert_file;	/* CertFile=: a client certificate */
	char *key_file;		/* KeyFile= (credential mqtt-key first) */
	unsigned int keepalive_s;	/* KeepaliveSec= */
	bool publish_samples;		/* PublishSamples= */
	bool ha_discovery;		/* HomeAssistantDiscovery= */
	bool allow_insecure_password;	/* AllowInsecurePassword=: a password without TLS */
};

/* The keys of uplink.conf, for conf_load() (conf_parser.h). */
extern const struct conf_table uplink_config_table;

void uplink_config_free(struct uplink_config *c);

/*
 * Parse @text. Returns 0, or a negative errno with "line N: ..." in @err;
 * @c is written only on success (and freed by the caller).
 */
int uplink_config_parse(const char *text, size_t len, struct uplink_config *c,
			char *err, size_t err_len);

/*
 * Read and parse @path and its drop-ins (conf_load()). Neither the file
 * nor any drop-in is -ENOENT (not configured); on other failures @err
 * says why ("FILE:LINE: ..."). A Broker= given only in a drop-in counts.
 */
int uplink_config_load(const char *path, struct uplink_config *c, char *err, size_t err_len);

#endif
