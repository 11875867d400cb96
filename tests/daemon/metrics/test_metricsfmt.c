// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom-metrics' page (daemon/metrics/metricsfmt.c): numbers written exactly,
 * label values escaped, the sample's own timestamp, a unit without a sample,
 * a reading of an unknown unit, the page without coldroomd, the recorder's
 * and the uplink's metrics only when each answered.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metricsfmt.h"

static void check_fixed(int64_t value, unsigned int decimals, const char *want)
{
	char out[32];
	size_t len = metrics_fixed(out, value, decimals);

	out[len] = 0;
	assert_string_equal(out, want);
}

static void test_fixed(void **state)
{
	(void)state;
	check_fixed(-18250, 3, "-18.25");
	check_fixed(8000, 3, "8");
	check_fixed(-500, 3, "-0.5");
	check_fixed(0, 3, "0");
	check_fixed(1, 3, "0.001");
	check_fixed(-1, 3, "-0.001");
	check_fixed(100, 3, "0.1");
	check_fixed(60000, 3, "60");
	check_fixed(INT32_MIN, 3, "-2147483.648");
	check_fixed(INT32_MAX, 3, "2147483.647");
	check_fixed(1733250000123456LL, 6, "1733250000.123456");
	check_fixed(1733250000000000LL, 6, "1733250000");
	check_fixed(1733250000100000LL, 6, "1733250000.1");
	check_fixed(639, 6, "0.000639");
	check_fixed(INT64_MAX, 0, "9223372036854775807");
	check_fixed(INT64_MIN, 0, "-9223372036854775808");
	check_fixed(42, 0, "42");
}

static void check_escape(const char *in, const char *want)
{
	struct mbuf b = { 0 };

	assert_int_equal(metrics_escape(&b, in), 0);
	assert_int_equal(mbuf_append(&b, "", 1), 0);
	assert_string_equal(b.data, want);
	mbuf_free(&b);
}

static void test_escape(void **state)
{
	(void)state;
	check_escape("Freezer 2", "Freezer 2");
	check_escape("", "");
	check_escape("a\"b\\c\nd", "a\\\"b\\\\c\\nd");
	check_escape("K\xc3\xbchlraum \xe2\x82\xac \xf0\x9f\xa7\x8a", "K\xc3\xbchlraum \xe2\x82\xac \xf0\x9f\xa7\x8a");
	check_escape("\\\"\n", "\\\\\\\"\\n");
}

/*
 * Two units (Numbers 0 and 2, dense in the other order), readings of three
 * (Number 7 unknown).
 */
struct fixture {
	struct unit_info info[3];
	struct metrics_unit units[3];
	struct unit_index index;
	uint32_t number[3];
	int32_t temp1[3], temp2[3];
	uint8_t s1[3], s2[3], alarms[3];
	uint64_t seq[3], when[3];
	struct readings_msg rd;
	struct metrics_manager manager;
	struct metrics_calibration cal[2];
	struct metrics_service service;
	struct metrics_input in;
	struct mbuf page;
};

static void unit(struct fixture *f, uint32_t at, uint32_t n, const char *serial,
		 const char *label, const char *fw_state)
{
	struct unit_info *u = &f->info[at];
	char *labels;
	size_t len;

	*u = (struct unit_info){ .number = n, .min = { -25000, -30000 }, .max = { -15000, 8000 },
				 .hyst = { 500, 1250 }, .interval_ms = 100 };
	snprintf(u->name, sizeof(u->name), "sensor%u", n);
	snprintf(u->serial, sizeof(u->serial), "%s", serial);
	snprintf(u->label, sizeof(u->label), "%s", label);
	snprintf(u->model, sizeof(u->model), "CRS-210T");
	snprintf(u->fw_state, sizeof(u->fw_state), "%s", fw_state);
	snprintf(u->fw_version, sizeof(u->fw_version), "%s", !strcmp(fw_state, "ready") ? "1.2.3" : "");
	assert_int_equal(metrics_unit_labels(u, &labels, &len), 0);
	assert_int_equal(strlen(labels), len);
	f->units[at] = (struct metrics_unit){ .info = u, .labels = labels, .labels_len = len };
	assert_int_equal(unit_index_add(&f->index, n, at), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unit(f, 1, 0, "SIM-000001", "Room \"A\"\\1", "ready");
	unit(f, 0, 2, "SIM-000003", "Dock", "pending");
	/* Number 0 sampled; Number 2 has no sample yet; Number 7 is unknown. */
	f->number[0] = 0, f->temp1[0] = -18250, f->temp2[0] = 3500, f->s1[0] = 1, f->s2[0] = 1;
	f->alarms[0] = READINGS_ALARM_TEMP2, f->seq[0] = 42, f->when[0] = 1733250000123456ULL;
	f->number[1] = 2, f->s1[1] = 2, f->s2[1] = 3;
	f->number[2] = 7, f->temp1[2] = 1000, f->s1[2] = 1, f->seq[2] = 5, f->when[2] = 1;
	f->rd = (struct readings_msg){ .n = 3, .unit = f->number, .temp1 = f->temp1,
				       .temp2 = f->temp2, .temp1_status = f->s1, .temp2_status = f->s2,
				       .alarms = f->alarms, .sample_seq = f->seq, .last_update = f->when };
	f->cal[0] = (struct metrics_calibration){ "SIM-000001", 2, 1790000000000000ULL };
	f->cal[1] = (struct metrics_calibration){ "GONE\"1", 1, 1700000000123456ULL };
	f->manager = (struct metrics_manager){ .version = "0.1.0", .reading_source = "device",
					       .event_source = "netlink", .unit_count = 2,
					       .unacknowledged_alarms = 1,
					       .open_alarms = { { "temperature", 1 }, { "stuck", 2 },
								{ "si\"lent", 0 } },
					       .n_kinds = 3, .calibrations = f->cal,
					       .n_calibrations = 2 };
	f->service = (struct metrics_service){ .scrapes = 3, .scrape_errors = 1,
					       .requests_rejected = 2, .readings_call_usec = 1500 };
	f->in = (struct metrics_input){ .units = f->units, .index = &f->index, .readings = &f->rd,
					.manager = &f->manager, .service = &f->service };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 3; i++)
		free((char *)f->units[i].labels);
	unit_index_free(&f->index);
	mbuf_free(&f->page);
	free(f);
	return 0;
}

static const char *format(struct fixture *f)
{
	f->page.len = 0;
	assert_int_equal(metrics_format(&f->page, &f->in), 0);
	assert_int_equal(mbuf_append(&f->page, "", 1), 0);
	return f->page.data;
}

static int count(const char *page, const char *needle)
{
	int n = 0;

	for (const char *p = page; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

#define S0 "{serial=\"SIM-000001\",unit=\"sensor0\",label=\"Room \\\"A\\\"\\\\1\""
#define S2 "{serial=\"SIM-000003\",unit=\"sensor2\",label=\"Dock\""

static void test_page(void **state)
{
	struct fixture *f = *state;
	const char *page = format(f);

	/* The reading, exact, with its sample's timestamp in ms. */
	assert_int_equal(count(page, "\ncoldroom_temperature_celsius" S0 ",probe=\"1\"} -18.25 1733250000123\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_temperature_celsius" S0 ",probe=\"2\"} 3.5 1733250000123\n"), 1);
	/* A unit without a sample: no temperature, no sample time; its status says why. */
	assert_int_equal(count(page, "coldroom_temperature_celsius" S2), 0);
	assert_int_equal(count(page, "coldroom_last_sample_timestamp_seconds" S2), 0);
	assert_int_equal(count(page, "\ncoldroom_probe_status" S2 ",probe=\"1\"} 2\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_probe_status" S2 ",probe=\"2\"} 3\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_samples_total" S2 "} 0\n"), 1);
	/* A reading of a unit not (yet) known is left out. */
	assert_int_equal(count(page, "sensor7"), 0);

	assert_int_equal(count(page, "\ncoldroom_alarm" S0 ",probe=\"1\"} 0\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_alarm" S0 ",probe=\"2\"} 1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_samples_total" S0 "} 42\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_last_sample_timestamp_seconds" S0 "} 1733250000.123456\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_temperature_min_celsius" S0 ",probe=\"2\"} -30\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_temperature_max_celsius" S0 ",probe=\"1\"} -15\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_temperature_hysteresis_celsius" S0 ",probe=\"2\"} 1.25\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_update_interval_seconds" S2 "} 0.1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_unit_info" S0 ",model=\"CRS-210T\",firmware_version=\"1.2.3\"} 1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_firmware_state" S0 ",state=\"ready\"} 1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_firmware_state" S0 ",state=\"pending\"} 0\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_firmware_state" S2 ",state=\"pending\"} 1\n"), 1);
	assert_int_equal(count(page, "coldroom_firmware_state" S2), 4);

	/* coldroomd's and the service's own. */
	assert_int_equal(count(page, "\ncoldroom_coldroomd_info{version=\"0.1.0\",reading_source=\"device\","
				     "event_source=\"netlink\"} 1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_units 2\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_unacknowledged_alarms 1\n"), 1);
	/* Every kind coldroomd names, 0 included, its name escaped. */
	assert_int_equal(count(page, "\ncoldroom_open_alarms{kind=\"temperature\"} 1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_open_alarms{kind=\"stuck\"} 2\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_open_alarms{kind=\"si\\\"lent\"} 0\n"), 1);
	assert_int_equal(count(page, "# TYPE coldroom_open_alarms gauge\n"), 1);
	/* When each calibration is due, by serial (a gone unit's too), in whole seconds. */
	assert_int_equal(count(page, "\ncoldroom_calibration_due_timestamp_seconds{serial=\"SIM-000001\","
				     "probe=\"2\"} 1790000000\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_calibration_due_timestamp_seconds{serial=\"GONE\\\"1\","
				     "probe=\"1\"} 1700000000\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_config_error 0\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_coldroomd_up 1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_metrics_scrapes_total 3\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_metrics_scrape_errors_total 1\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_metrics_requests_rejected_total 2\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_metrics_readings_call_seconds 0.0015\n"), 1);
	/* The recorder did not answer: no lost count at all. */
	assert_int_equal(count(page, "coldroom_record_samples_lost_total"), 0);

	/* Each family once, with its help and type, and the page ends a line. */
	assert_int_equal(count(page, "# TYPE coldroom_temperature_celsius gauge\n"), 1);
	assert_int_equal(count(page, "# HELP coldroom_temperature_celsius "), 1);
	assert_int_equal(count(page, "# TYPE coldroom_samples_total counter\n"), 1);
	assert_int_equal(count(page, "# TYPE "), count(page, "# HELP "));
	assert_int_equal(page[strlen(page) - 1], '\n');
}

static void test_page_without_coldroomd(void **state)
{
	struct fixture *f = *state;
	const char *page;

	f->in.readings = NULL;
	page = format(f);
	assert_int_equal(count(page, "\ncoldroom_coldroomd_up 0\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_metrics_scrapes_total 3\n"), 1);
	assert_int_equal(count(page, "sensor"), 0);
	assert_int_equal(count(page, "coldroom_units"), 0);
}

static void test_page_without_manager(void **state)
{
	struct fixture *f = *state;
	const char *page;

	f->in.manager = NULL;
	page = format(f);
	assert_int_equal(count(page, "coldroom_coldroomd_info"), 0);
	assert_int_equal(count(page, "\ncoldroom_coldroomd_up 1\n"), 1);
	assert_int_equal(count(page, "coldroom_temperature_celsius" S0), 2);
}

/* The recorder and the uplink: each on the page only when it answered. */
static void test_page_peers(void **state)
{
	struct fixture *f = *state;
	struct metrics_peers peers = { .recorder = true, .write_failing = true,
				       .samples_lost = 11,
				       .uplink = true, .uplink_connected = false,
				       .uplink_backlog = 1234567 };
	const char *page;

	assert_int_equal(count(format(f), "coldroom_recorder_"), 0);
	assert_int_equal(count(f->page.data, "coldroom_uplink_"), 0);

	f->in.peers = &peers;
	page = format(f);
	assert_int_equal(count(page, "\ncoldroom_recorder_write_failing 1\n"), 1);
	assert_int_equal(count(page, "# TYPE coldroom_record_samples_lost_total counter\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_record_samples_lost_total 11\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_uplink_connected 0\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_uplink_backlog 1234567\n"), 1);
	assert_int_equal(count(page, "# TYPE coldroom_uplink_backlog gauge\n"), 1);
	assert_int_equal(count(page, "# TYPE "), count(page, "# HELP "));

	peers.uplink = false;
	peers.write_failing = false;
	page = format(f);
	assert_int_equal(count(page, "\ncoldroom_recorder_write_failing 0\n"), 1);
	assert_int_equal(count(page, "coldroom_uplink_"), 0);

	/* Without coldroomd the page is a 503's: nothing of either. */
	peers.uplink = true;
	f->in.readings = NULL;
	page = format(f);
	assert_int_equal(count(page, "coldroom_recorder_"), 0);
	assert_int_equal(count(page, "coldroom_record_samples_lost_total"), 0);
	assert_int_equal(count(page, "coldroom_uplink_"), 0);
}

/*
 * The MKT from the recorder: a value over each window's time with data,
 * the time without beside it; no value where there was no data, nothing
 * where the recorder did not answer, no family before its first answer.
 */
static void test_page_mkt(void **state)
{
	struct fixture *f = *state;
	const char *page = format(f);

	assert_int_equal(count(page, "coldroom_mkt"), 0);
	f->units[1].mkt[0][METRICS_MKT_24H] = (struct metrics_mkt){ .known = true, .valid = true,
								   .mkt_mc = -17187 };
	f->units[1].mkt[0][METRICS_MKT_30D] = (struct metrics_mkt){ .known = true, .valid = true,
								   .mkt_mc = -17190,
								   .gap_us = 3600000000ULL };
	f->units[1].mkt[1][METRICS_MKT_30D] = (struct metrics_mkt){ .known = true,
								   .gap_us = 2592000000000ULL };
	f->in.mkt_dh = 83144;
	page = format(f);
	assert_int_equal(count(page, "\ncoldroom_mkt_activation_energy_joules_per_mole 83144\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_mkt_celsius" S0 ",probe=\"1\",window=\"24h\"} -17.187\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_mkt_celsius" S0 ",probe=\"1\",window=\"30d\"} -17.19\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_mkt_no_data_seconds" S0 ",probe=\"1\",window=\"24h\"} 0\n"), 1);
	assert_int_equal(count(page, "\ncoldroom_mkt_no_data_seconds" S0 ",probe=\"1\",window=\"30d\"} 3600\n"), 1);
	/* Probe 2: a month without data has no MKT, only the time without. */
	assert_int_equal(count(page, "coldroom_mkt_celsius" S0 ",probe=\"2\""), 0);
	assert_int_equal(count(page, "\ncoldroom_mkt_no_data_seconds" S0 ",probe=\"2\",window=\"30d\"} 2592000\n"), 1);
	assert_int_equal(count(page, "coldroom_mkt_no_data_seconds" S0 ",probe=\"2\",window=\"24h\""), 0);
	/* The other unit: not asked yet. */
	assert_int_equal(count(page, "coldroom_mkt_celsius" S2), 0);
	assert_int_equal(count(page, "coldroom_mkt_no_data_seconds" S2), 0);
	assert_int_equal(count(page, "# TYPE "), count(page, "# HELP "));
}

/* The buffer is reused: a second page replaces nothing it should not. */
static void test_page_reused(void **state)
{
	struct fixture *f = *state;
	size_t len;

	format(f);
	len = f->page.len;
	f->temp1[0] = -5000;
	assert_int_equal(count(format(f), "probe=\"1\"} -5 1733250000123\n"), 1);
	assert_int_equal(count(f->page.data, "-18.25"), 0);
	assert_int_equal(f->page.len, len - 4);	/* "-5" for "-18.25" */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_escape),
		cmocka_unit_test_setup_teardown(test_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_without_coldroomd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_without_manager, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_mkt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
