// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-uplink's MQTT contract (MQTT.md, v1): topics, payloads read
 * back with json-c, the retained state folded from the record, and
 * uplink.conf: every key, every way to get one wrong, and its drop-ins.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf_parser.h"
#include "faketree.h"
#include "uplinkconf.h"
#include "uplinkmsg.h"

static const struct uplink_origin origin = { .site = "plant-3", .host = "gw1" };

/* Parse @text (freed) as a JSON object; the test owns the result. */
static struct json_object *parsed(char *text)
{
	struct json_object *o;

	assert_non_null(text);
	o = json_tokener_parse(text);
	free(text);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

static const char *str_of(struct json_object *o, const char *key)
{
	return json_object_get_string(field(o, key));
}

static int64_t int_of(struct json_object *o, const char *key)
{
	return json_object_get_int64(field(o, key));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(uplink_name_valid("plant-3"));
	assert_true(uplink_name_valid("a.b_c-D9"));
	assert_false(uplink_name_valid(""));
	assert_false(uplink_name_valid(NULL));
	assert_false(uplink_name_valid("a/b"));
	assert_false(uplink_name_valid("+"));
	assert_false(uplink_name_valid("#"));
	assert_false(uplink_name_valid("with space"));
	assert_false(uplink_name_valid("x123456789x123456789x123456789x123456789x123456789x123456789x1234"));
}

static void test_topics(void **state)
{
	char *t;

	(void)state;
	t = uplink_topic(&origin, NULL, "status");
	assert_string_equal(t, "coldroom/v1/plant-3/gw1/status");
	free(t);
	t = uplink_topic(&origin, "SIM-000001", "interval");
	assert_string_equal(t, "coldroom/v1/plant-3/gw1/unit/SIM-000001/interval");
	free(t);
	/* A serial can add no level and no wildcard. */
	t = uplink_topic(&origin, "a/b+#c d%", "event");
	assert_string_equal(t, "coldroom/v1/plant-3/gw1/unit/a%2Fb%2B%23c%20d%25/event");
	free(t);
}

static void test_interval(void **state)
{
	struct uplink_row row = {
		.seq = 42, .start_us = 1796324010000000, .end_us = 1796324020000000,
		.serial = "SIM-\"1\"", .probe = 2, .n = 3, .min = -19500, .mean = -18167,
		.max = -5, .status = 0,
	};
	struct json_object *o = parsed(uplink_interval_json(&origin, &row, true));

	(void)state;
	assert_int_equal(int_of(o, "v"), 1);
	assert_string_equal(str_of(o, "site"), "plant-3");
	assert_string_equal(str_of(o, "host"), "gw1");
	assert_string_equal(str_of(o, "serial"), "SIM-\"1\"");
	assert_int_equal(int_of(o, "probe"), 2);
	assert_int_equal(int_of(o, "seq"), 42);
	assert_int_equal(int_of(o, "start_us"), 1796324010000000);
	assert_int_equal(int_of(o, "end_us"), 1796324020000000);
	assert_string_equal(str_of(o, "start"), "2026-12-03T18:53:30.000Z");
	assert_string_equal(str_of(o, "end"), "2026-12-03T18:53:40.000Z");
	assert_int_equal(int_of(o, "samples"), 3);
	assert_int_equal(int_of(o, "min_mdeg"), -19500);
	assert_string_equal(json_object_to_json_string(field(o, "mean_c")), "-18.167");
	assert_string_equal(json_object_to_json_string(field(o, "max_c")), "-0.005");
	assert_string_equal(str_of(o, "status"), "ok");
	assert_true(json_object_get_boolean(field(o, "historical")));
	json_object_put(o);

	/* No samples: no values, and the reason. */
	row.n = 0;
	row.status = RECORD_PROBE_FAULT;
	o = parsed(uplink_interval_json(&origin, &row, false));
	assert_null(field(o, "mean_mdeg"));
	assert_null(field(o, "min_c"));
	assert_string_equal(str_of(o, "status"), "probe-fault");
	assert_false(json_object_get_boolean(field(o, "historical")));
	/* No chain given: no chain fields. */
	assert_false(json_object_object_get_ex(o, "hash", NULL));
	json_object_put(o);

	/* The chain: the row's hash, the one before it, and the hashed digest. */
	uint8_t hash[32], prev[32], digest[32];

	memset(hash, 0xab, sizeof(hash));
	memset(prev, 0x01, sizeof(prev));
	memset(digest, 0xff, sizeof(digest));
	row.hash = hash;
	row.prev_hash = prev;
	o = parsed(uplink_interval_json(&origin, &row, false));
	assert_string_equal(str_of(o, "hash"),
			    "abababababababababababababababababababababababababababababababab");
	assert_string_equal(str_of(o, "prev_hash"),
			    "0101010101010101010101010101010101010101010101010101010101010101");
	assert_null(field(o, "samples_sha256"));
	assert_true(json_object_object_get_ex(o, "samples_sha256", NULL));
	assert_int_equal(int_of(o, "status_code"), RECORD_PROBE_FAULT);
	json_object_put(o);
	row.samples_sha256 = digest;
	o = parsed(uplink_interval_json(&origin, &row, false));
	assert_string_equal(str_of(o, "samples_sha256"),
			    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	/* A row of schema 1: no lost counts, and null says it is hashed without. */
	assert_int_equal(int_of(o, "lost"), 0);
	assert_string_equal(str_of(o, "lost_why"), "");
	assert_null(field(o, "lost_why_code"));
	assert_true(json_object_object_get_ex(o, "lost_why_code", NULL));
	json_object_put(o);
	/* Samples lost, and why (RECORD.md, "Every sample"). */
	row.has_lost = true;
	row.lost = 9;
	row.lost_why = RECORD_LOST_UPSTREAM | RECORD_LOST_LATE;
	o = parsed(uplink_interval_json(&origin, &row, false));
	assert_int_equal(int_of(o, "lost"), 9);
	assert_string_equal(str_of(o, "lost_why"), "upstream,late");
	assert_int_equal(int_of(o, "lost_why_code"), RECORD_LOST_UPSTREAM | RECORD_LOST_LATE);
	json_object_put(o);
}

static void test_event(void **state)
{
	struct record_event ev = {
		.seq = 7, .time_us = 1796324012345678, .event = "alarm-acknowledged",
		.serial = "SIM-000001", .probe = 1, .has_uid = true, .uid = 1000, .user = "ana",
		.has_reading = true, .reading = -9000,
		.detail = "id 3, level 1: moved the stock\n\"now\"",
	};
	uint8_t hash[32], prev[32];
	struct json_object *o = parsed(uplink_event_json(&origin, &ev, NULL, false));

	(void)state;
	assert_int_equal(int_of(o, "seq"), 7);
	assert_string_equal(str_of(o, "event"), "alarm-acknowledged");
	assert_string_equal(str_of(o, "serial"), "SIM-000001");
	assert_int_equal(int_of(o, "probe"), 1);
	assert_int_equal(int_of(o, "time_us"), 1796324012345678);
	assert_string_equal(str_of(o, "time"), "2026-12-03T18:53:32.345Z");
	assert_int_equal(int_of(o, "uid"), 1000);
	assert_string_equal(str_of(o, "user"), "ana");
	assert_int_equal(int_of(o, "reading_mdeg"), -9000);
	assert_string_equal(str_of(o, "detail"), "id 3, level 1: moved the stock\n\"now\"");
	/* Absent (NULL) is absent, not an empty string. */
	assert_false(json_object_object_get_ex(o, "what", NULL));
	assert_false(json_object_object_get_ex(o, "hash", NULL));
	json_object_put(o);

	/* '' is sent as '' (the chain hashes it apart from NULL), and the chain. */
	memset(hash, 0x10, sizeof(hash));
	memset(prev, 0x20, sizeof(prev));
	ev.what = "";
	ev.hash = hash;
	o = parsed(uplink_event_json(&origin, &ev, prev, false));
	assert_string_equal(str_of(o, "what"), "");
	assert_string_equal(str_of(o, "hash"),
			    "1010101010101010101010101010101010101010101010101010101010101010");
	assert_string_equal(str_of(o, "prev_hash"),
			    "2020202020202020202020202020202020202020202020202020202020202020");
	json_object_put(o);
}

static void test_status(void **state)
{
	struct json_object *o = parsed(uplink_status_json(&origin, true, "1.2.3", 1796324010000000));

	(void)state;
	assert_string_equal(str_of(o, "state"), "online");
	assert_string_equal(str_of(o, "version"), "1.2.3");
	json_object_put(o);
	o = parsed(uplink_status_json(&origin, false, NULL, 0));
	assert_string_equal(str_of(o, "state"), "offline");
	assert_false(json_object_object_get_ex(o, "version", NULL));
	json_object_put(o);
}

static void test_state(void **state)
{
	struct uplink_unit_state st = { .serial = "SIM-1" };
	struct uplink_row row = { .seq = 10, .start_us = 1, .end_us = 2, .serial = "SIM-1",
				  .probe = 1, .n = 1, .mean = 4000 };
	struct record_event ev = { .seq = 5, .event = "alarm-raised", .serial = "SIM-1", .probe = 2 };
	struct json_object *o, *t1;

	(void)state;
	assert_true(uplink_state_row(&st, &row));
	assert_false(uplink_state_row(&st, &row));	/* the same seq again: no change */
	assert_true(uplink_state_event(&st, &ev));
	ev.seq = 6;
	ev.event = "alarm-acknowledged";
	assert_true(uplink_state_event(&st, &ev));
	ev.seq = 7;
	ev.event = "alarm-cleared";
	assert_true(uplink_state_event(&st, &ev));	/* acknowledged, then back: closed */
	ev.seq = 8;
	ev.event = "setting-changed";
	assert_false(uplink_state_event(&st, &ev));
	o = parsed(uplink_state_json(&origin, &st));
	assert_true(json_object_get_boolean(field(o, "present")));
	assert_int_equal(int_of(o, "seq"), 10);
	t1 = field(o, "temp1");
	assert_int_equal(int_of(t1, "mean_mdeg"), 4000);
	assert_null(field(o, "temp2"));
	assert_string_equal(str_of(o, "alarm2"), "none");
	json_object_put(o);

	ev.seq = 9;
	ev.event = "alarm-raised";
	uplink_state_event(&st, &ev);
	ev.seq = 10;
	ev.event = "alarm-cleared";
	uplink_state_event(&st, &ev);
	ev.seq = 11;
	ev.event = "unit-removed";
	uplink_state_event(&st, &ev);
	o = parsed(uplink_state_json(&origin, &st));
	assert_string_equal(str_of(o, "alarm2"), "cleared");	/* nobody acknowledged it */
	assert_false(json_object_get_boolean(field(o, "present")));
	json_object_put(o);
}

static void test_discovery(void **state)
{
	char *topic;
	struct json_object *o = parsed(uplink_discovery_json(&origin, "SIM.1/x", 2, &topic));

	(void)state;
	assert_string_equal(topic, "homeassistant/sensor/coldroom_plant-3_gw1_SIM_1_x_2/config");
	assert_string_equal(str_of(o, "state_topic"), "coldroom/v1/plant-3/gw1/unit/SIM.1%2Fx/state");
	assert_string_equal(str_of(o, "availability_topic"), "coldroom/v1/plant-3/gw1/status");
	assert_string_equal(str_of(o, "value_template"), "{{ value_json.temp2.mean_c }}");
	assert_string_equal(str_of(o, "device_class"), "temperature");
	json_object_put(o);
	free(topic);
}

static void test_sample(void **state)
{
	struct uplink_sample s = { .serial = "SIM-1", .sample_seq = 99, .time_us = 1796324010000000,
				   .temp = { -18250, 0 }, .status = { 1, 3 }, .alarm = { true, false } };
	struct json_object *o = parsed(uplink_sample_json(&origin, &s));

	(void)state;
	assert_int_equal(int_of(o, "sample_seq"), 99);
	assert_int_equal(int_of(o, "temp1_mdeg"), -18250);
	assert_null(field(o, "temp2_mdeg"));
	assert_string_equal(str_of(o, "status2"), "probe-fault");
	assert_true(json_object_get_boolean(field(o, "alarm1")));
	json_object_put(o);
}

/* --- uplink.conf ----------------------------------------------------------- */

static void test_config_all_keys(void **state)
{
	static const char text[] =
		"# the site's broker\n"
		"; also a comment\n"
		"\n"
		"  Broker = mqtt.example.net:8884 \n"
		"Site=plant-3\r\n"
		"Host=gw1\n"
		"ClientId=gw1-uplink\n"
		"Username=coldroom\n"
		"PasswordFile=/etc/coldroom/mqtt-password\n"
		"CAFile=/etc/coldroom/ca.pem\n"
		"CertFile=/etc/coldroom/client.pem\n"
		"KeyFile=/etc/coldroom/client.key\n"
		"KeepaliveSec=30\n"
		"PublishSamples=yes\n"
		"HomeAssistantDiscovery=true";
	struct uplink_config c = { 0 };
	char err[256] = "";

	(void)state;
	assert_int_equal(uplink_config_parse(text, strlen(text), &c, err, sizeof(err)), 0);
	assert_string_equal(c.broker, "mqtt.example.net");
	assert_int_equal(c.port, 8884);
	assert_string_equal(c.site, "plant-3");
	assert_string_equal(c.host, "gw1");
	assert_string_equal(c.client_id, "gw1-uplink");
	assert_string_equal(c.username, "coldroom");
	assert_string_equal(c.password_file, "/etc/coldroom/mqtt-password");
	assert_string_equal(c.ca_file, "/etc/coldroom/ca.pem");
	assert_string_equal(c.cert_file, "/etc/coldroom/client.pem");
	assert_string_equal(c.key_file, "/etc/coldroom/client.key");
	assert_int_equal(c.keepalive_s, 30);
	assert_true(c.publish_samples);
	assert_true(c.ha_discovery);
	uplink_config_free(&c);
}

static void test_config_defaults(void **state)
{
	struct uplink_config c = { 0 };
	char err[256] = "";
	const char *plain = "Broker=10.0.0.5\nSite=s", *tls = "Broker=[fd00::1]\nSite=s\nCAFile=/ca",
		   *empty = "# nothing yet\n";

	(void)state;
	assert_int_equal(uplink_config_parse(plain, strlen(plain), &c, err, sizeof(err)), 0);
	assert_string_equal(c.broker, "10.0.0.5");
	assert_int_equal(c.port, 1883);
	assert_null(c.host);
	assert_int_equal(c.keepalive_s, 60);
	assert_false(c.publish_samples);
	assert_false(c.ha_discovery);
	assert_int_equal(uplink_config_parse(tls, strlen(tls), &c, err, sizeof(err)), 0);
	assert_string_equal(c.broker, "fd00::1");
	assert_int_equal(c.port, 8883);		/* TLS: the MQTT-over-TLS port */
	/* Off until configured: no Broker= is not an error, and no broker. */
	assert_int_equal(uplink_config_parse(empty, strlen(empty), &c, err, sizeof(err)), 0);
	assert_null(c.broker);
	uplink_config_free(&c);
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "Broker", "line 1: expected Key=Value" },
		{ "Site=a\nPassword=hunter2", "line 2: unknown key 'Password'" },
		{ "Site=a\nSite=b", "line 2: Site= given twice (first on line 1)" },
		{ "Broker=mqtt:0\nSite=a", "line 1: Broker=mqtt:0 has a port that is not 1..65535" },
		{ "Broker=mqtt:1883x\nSite=a", "line 1: Broker=mqtt:1883x has a port that is not 1..65535" },
		{ "Broker=mq/tt\nSite=a", "line 1: Broker=mq/tt must be host or host:port (a host name or an address)" },
		{ "Broker=:1883", "line 1: Broker=:1883 has no host name, or one longer than 253 characters" },
		{ "Broker=[::1", "line 1: Broker=[::1 has an unclosed or empty [IPv6 address]" },
		{ "Broker=[::1]x", "line 1: Broker=[::1]x must be [address]:port" },
		{ "Broker=[::g]", "line 1: Broker=[::g] is not an IPv6 address in brackets" },
		{ "Site=a/b", "line 1: Site=a/b must be 1 to 64 of the characters A-Z a-z 0-9 . _ -" },
		{ "Host=#", "line 1: Host=# must be 1 to 64 of the characters A-Z a-z 0-9 . _ -" },
		{ "Username=a b", "line 1: Username=a b must not contain spaces or control characters" },
		{ "ClientId=", "line 1: ClientId= must be 1 to 64 characters" },
		{ "CAFile=ca.pem", "line 1: CAFile=ca.pem must be an absolute path" },
		{ "KeepaliveSec=4", "line 1: KeepaliveSec=4 is out of range" },
		{ "KeepaliveSec=3601", "line 1: KeepaliveSec=3601 is out of range" },
		{ "PublishSamples=maybe", "line 1: PublishSamples=maybe must be yes or no" },
		{ "Broker=mqtt", "Broker= is set but Site= is not: name the site (its level in the topic tree)" },
		{ "CertFile=/c\nKeyFile=/k", "CertFile= and KeyFile= need CAFile= (TLS)" },
		{ "CAFile=/ca\nKeyFile=/k", "KeyFile= needs CertFile=" },
		{ "PasswordFile=/p", "PasswordFile= needs Username=" },
		{ "Username=u\nPasswordFile=/p", "PasswordFile= without CAFile= would send the "
		  "password in clear: set CAFile= (TLS), or AllowInsecurePassword=yes" },
		{ "AllowInsecurePassword=maybe",
		  "line 1: AllowInsecurePassword=maybe must be yes or no" },
	};
	struct uplink_config c = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";

		assert_int_equal(uplink_config_parse(bad[i].text, strlen(bad[i].text), &c, err,
						     sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].message);
		assert_null(c.broker);	/* untouched */
	}
	assert_int_equal(uplink_config_parse("Site=a\0", 7, &c, (char[64]){ 0 }, 64), -EINVAL);
	/* A password in clear only when the site says so. */
	{
		const char *t = "Username=u\nPasswordFile=/p\nAllowInsecurePassword=yes";

		assert_int_equal(uplink_config_parse(t, strlen(t), &c, (char[64]){ 0 }, 64), 0);
		assert_true(c.allow_insecure_password);
		assert_string_equal(c.password_file, "/p");
		uplink_config_free(&c);
	}
}

static void test_config_load(void **state)
{
	struct uplink_config c = { 0 };
	char err[512] = "";

	(void)state;
	assert_int_equal(uplink_config_load("/nonexistent/uplink.conf", &c, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/uplink.conf: No such file or directory");
}

/* A Broker= given only in a drop-in is configured; the keys meet across files. */
static void test_config_dropins(void **state)
{
	struct uplink_config c = { 0 };
	struct faketree t;
	char path[512], err[512] = "", want[600];

	(void)state;
	faketree_new(&t, NULL);
	snprintf(path, sizeof(path), "%s/uplink.conf", t.root);
	faketree_put(&t, "uplink.conf.d/10-broker.conf", "Broker=mqtt.example.net\nSite=plant-1\n");
	assert_int_equal(uplink_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.broker, "mqtt.example.net");
	assert_string_equal(c.site, "plant-1");
	assert_int_equal(c.port, 1883);

	/* The default port is decided after the last file: TLS from a later one. */
	faketree_put(&t, "uplink.conf", "Host=gw2\nBroker=old.example.net:1234\n");
	faketree_put(&t, "uplink.conf.d/20-tls.conf", "CAFile=/etc/coldroom/ca.pem\n");
	assert_int_equal(uplink_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.broker, "mqtt.example.net");
	assert_int_equal(c.port, 8883);
	assert_string_equal(c.host, "gw2");

	/* Keys that need each other are checked on the whole, named by the file. */
	faketree_put(&t, "uplink.conf.d/30-key.conf", "KeyFile=/etc/coldroom/k.pem\n");
	assert_int_equal(uplink_config_load(path, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: KeyFile= needs CertFile=", path);
	assert_string_equal(err, want);
	assert_null(c.key_file);	/* untouched */
	faketree_put(&t, "uplink.conf.d/30-key.conf", "Site=a/b\n");
	assert_int_equal(uplink_config_load(path, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s.d/30-key.conf:1: Site=a/b must be 1 to 64 of the characters A-Z a-z 0-9 . _ -",
		 path);
	assert_string_equal(err, want);
	uplink_config_free(&c);

	/* The system's directories are uplink.conf.d; a mask leaves nothing: not configured. */
	faketree_put(&t, "usr/lib/coldroom/uplink.conf.d/10-broker.conf", "Broker=b\nSite=s\n");
	assert_int_equal(conf_load(&uplink_config_table, t.root, NULL, &c, err, sizeof(err)), 1);
	assert_string_equal(c.broker, "b");
	faketree_link(&t, "etc/coldroom/uplink.conf.d/10-broker.conf", "/dev/null");
	assert_int_equal(conf_load(&uplink_config_table, t.root, NULL, &c, err, sizeof(err)), 0);
	assert_null(c.broker);
	uplink_config_free(&c);
	faketree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_topics),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_config_all_keys),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_load),
		cmocka_unit_test(test_config_dropins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
