// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mkt.c - each probe's mean kinetic temperature over the last 24 hours and
 * 30 days, from coldroom-recorder's GetMeanKineticTemperaturePage, one
 * call at a time and apart from the scrapes: the page shows the last
 * refresh (at most one every MKT_REFRESH_USEC), so that a scrape never
 * waits for the recorder, and the recorder answers one bounded page at a
 * time whatever the number of units.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "log.h"
#include "metrics.h"
#include "mkt.h"

#define MKT_REFRESH_USEC	(300 * 1000000ULL)
#define MKT_CALL_USEC		(25 * 1000000ULL)

static uint64_t now_clock(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void refresh_done(struct metricsd *m, const char *why)
{
	m->mkt.slot = sd_bus_slot_unref(m->mkt.slot);
	m->mkt.running = false;
	m->mkt.done_usec = now_clock(CLOCK_MONOTONIC);
	if (why)
		log_debug("MKT not refreshed: %s", why);
}

static int on_page(sd_bus_message *reply, void *userdata, sd_bus_error *error);

/* The current item's next page, or the next item; done after the last unit. */
static void ask(struct metricsd *m)
{
	static const uint64_t window_us[METRICS_MKT_WINDOWS] = {
		86400ULL * 1000000, 30ULL * 86400 * 1000000,
	};
	int r;

	if (!m->mkt.after_time && !m->mkt.after_seq) {
		if (m->mkt.unit >= m->n_present) {
			refresh_done(m, NULL);
			return;
		}
		snprintf(m->mkt.serial, sizeof(m->mkt.serial), "%s", m->infos[m->mkt.unit].serial);
		m->mkt.since = m->mkt.until - window_us[m->mkt.window];
		mkt_init(&m->mkt.sum, m->mkt.since, m->mkt.until, m->mkt.dh);
	}
	m->mkt.slot = sd_bus_slot_unref(m->mkt.slot);
	r = sd_bus_call_method_async(m->bus, &m->mkt.slot, RECORDER_BUS_NAME, RECORDER_PATH,
				     RECORDER_IFACE, "GetMeanKineticTemperaturePage", on_page, m,
				     "sutttt", m->mkt.serial, m->mkt.probe + 1, m->mkt.since,
				     m->mkt.until, m->mkt.after_time, m->mkt.after_seq);
	if (r < 0)
		refresh_done(m, strerror(-r));
}

/* The item's sum is whole: kept on the unit if it is still the one asked about. */
static void store(struct metricsd *m)
{
	struct mkt_result res;
	struct metrics_mkt *k;

	mkt_result(&m->mkt.sum, m->mkt.until, &res);
	if (m->mkt.unit < m->n_present && !strcmp(m->infos[m->mkt.unit].serial, m->mkt.serial)) {
		k = &m->units[m->mkt.unit].mkt[m->mkt.probe][m->mkt.window];
		k->known = true;
		k->valid = res.valid && isfinite(res.mkt_c) && fabs(res.mkt_c) < 1e6;
		k->mkt_mc = k->valid ? (int32_t)lround(res.mkt_c * 1000.0) : 0;
		k->gap_us = res.gap_us;
	}
	m->mkt.after_time = m->mkt.after_seq = 0;
	if (++m->mkt.window == METRICS_MKT_WINDOWS) {
		m->mkt.window = 0;
		if (++m->mkt.probe == 2) {
			m->mkt.probe = 0;
			m->mkt.unit++;
		}
	}
}

static int on_page(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	uint64_t next_time, next_seq;
	struct mkt_sum page;
	int more, r;

	(void)error;
	if (e) {
		refresh_done(m, e->message ? e->message : e->name);
		return 0;
	}
	mkt_init(&page, m->mkt.since, m->mkt.until, m->mkt.dh);
	r = sd_bus_message_read(reply, "tdttttiibtt", &page.data_us, &page.ln_sum,
				&page.nodata_us, &page.missing_us, &page.first_us, &page.reached_us,
				&page.peak, &page.low, &more, &next_time, &next_seq);
	page.any = page.reached_us > 0;
	if (!page.data_us)
		page.ln_sum = -INFINITY;
	/* A page outside its window, or a cursor that does not move on, ends the refresh. */
	if (r < 0 || (page.data_us && !isfinite(page.ln_sum)) ||
	    (page.any && (page.first_us < m->mkt.since || page.reached_us > m->mkt.until ||
			  page.first_us > page.reached_us)) ||
	    (more && (next_time < m->mkt.after_time ||
		      (next_time == m->mkt.after_time && next_seq <= m->mkt.after_seq)))) {
		refresh_done(m, "a malformed reply");
		return 0;
	}
	mkt_merge(&m->mkt.sum, &page);
	if (more) {
		m->mkt.after_time = next_time;
		m->mkt.after_seq = next_seq;
	} else {
		store(m);
	}
	ask(m);
	return 0;
}

/* The recorder's settings first: the activation energy and how late the record is. */
static int on_settings(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct metricsd *m = userdata;
	uint32_t dh = 0, interval_s = 0;
	int r;

	(void)error;
	if (sd_bus_message_is_method_error(reply, NULL)) {
		refresh_done(m, "the recorder is not there");
		return 0;
	}
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r > 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key;

		r = sd_bus_message_read(reply, "s", &key);
		if (r >= 0 && !strcmp(key, "MKTActivationEnergy"))
			r = sd_bus_message_read(reply, "v", "u", &dh);
		else if (r >= 0 && !strcmp(key, "RecordIntervalSec"))
			r = sd_bus_message_read(reply, "v", "u", &interval_s);
		else if (r >= 0)
			r = sd_bus_message_skip(reply, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r < 0 || dh < MKT_MIN_DH || dh > MKT_MAX_DH || !interval_s || interval_s > 3600) {
		refresh_done(m, "the recorder's settings are malformed");
		return 0;
	}
	m->mkt.dh = dh;
	m->mkt.interval_s = interval_s;
	/* Up to what is written for good: an interval is written 5 s after it ends, two are open. */
	m->mkt.until = now_clock(CLOCK_REALTIME) - 2ULL * interval_s * 1000000 - 5000000;
	m->mkt.unit = 0;
	m->mkt.probe = m->mkt.window = 0;
	m->mkt.after_time = m->mkt.after_seq = 0;
	ask(m);
	return 0;
}

void mkt_refresh_maybe(struct metricsd *m)
{
	int r;

	if (m->mkt.running ||
	    (m->mkt.done_usec && now_clock(CLOCK_MONOTONIC) - m->mkt.done_usec < MKT_REFRESH_USEC))
		return;
	m->mkt.running = true;
	r = sd_bus_call_method_async(m->bus, &m->mkt.slot, RECORDER_BUS_NAME, RECORDER_PATH,
				     "org.freedesktop.DBus.Properties", "GetAll", on_settings, m,
				     "s", RECORDER_IFACE);
	if (r < 0)
		refresh_done(m, strerror(-r));
}

void mkt_refresh_stop(struct metricsd *m)
{
	m->mkt.slot = sd_bus_slot_unref(m->mkt.slot);
	m->mkt.running = false;
}
