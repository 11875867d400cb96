// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * metricsfmt.c - the Prometheus text page (metricsfmt.h).
 *
 * At 10,000 units a page is ~200,000 lines; each is a few memcpy()s into a
 * buffer reserved once per line, with the unit's label set escaped once
 * when its properties change, not once per scrape, and numbers written by
 * hand rather than by printf().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metricsfmt.h"

void mbuf_free(struct mbuf *b)
{
	free(b->data);
	*b = (struct mbuf){ 0 };
}

int mbuf_reserve(struct mbuf *b, size_t more)
{
	size_t size = b->size ? b->size : 4096;
	char *data;

	if (b->len + more <= b->size)
		return 0;
	if (more > SIZE_MAX / 4 - b->len)
		return -ENOMEM;
	while (size < b->len + more)
		size *= 2;
	data = realloc(b->data, size);
	if (!data)
		return -ENOMEM;
	b->data = data;
	b->size = size;
	return 0;
}

int mbuf_append(struct mbuf *b, const char *s, size_t n)
{
	int r = mbuf_reserve(b, n);

	if (r)
		return r;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

#define APPEND_LITERAL(b, s) mbuf_append(b, s, sizeof(s) - 1)

size_t metrics_fixed(char *out, int64_t value, unsigned int decimals)
{
	uint64_t mag = value < 0 ? -(uint64_t)value : (uint64_t)value;
	char rev[24];		/* the digits, least significant first */
	size_t n = 0, len = 0, zeros = 0, i;

	if (decimals > 18)
		decimals = 18;
	do {
		rev[n++] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	while (n <= decimals)
		rev[n++] = '0';
	while (zeros < decimals && rev[zeros] == '0')
		zeros++;
	if (value < 0)
		out[len++] = '-';
	for (i = n; i > decimals; i--)
		out[len++] = rev[i - 1];
	if (zeros < decimals) {
		out[len++] = '.';
		for (i = decimals; i > zeros; i--)
			out[len++] = rev[i - 1];
	}
	return len;
}

int metrics_escape(struct mbuf *b, const char *s)
{
	/* No UTF-8 check: every string here came from sd-bus, which refuses invalid UTF-8. */
	for (;;) {
		size_t n = strcspn(s, "\\\"\n");
		int r = n ? mbuf_append(b, s, n) : 0;

		s += n;
		if (r || !*s)
			return r;
		if (*s == '\\')
			r = APPEND_LITERAL(b, "\\\\");
		else if (*s == '"')
			r = APPEND_LITERAL(b, "\\\"");
		else
			r = APPEND_LITERAL(b, "\\n");
		if (r)
			return r;
		s++;
	}
}

int metrics_unit_labels(const struct unit_info *u, char **out, size_t *len)
{
	struct mbuf b = { 0 };
	int r;

	r = APPEND_LITERAL(&b, "serial=\"");
	if (!r)
		r = metrics_escape(&b, u->serial);
	if (!r)
		r = APPEND_LITERAL(&b, "\",unit=\"");
	if (!r)
		r = metrics_escape(&b, u->name);
	if (!r)
		r = APPEND_LITERAL(&b, "\",label=\"");
	if (!r)
		r = metrics_escape(&b, u->label);
	if (!r)
		r = mbuf_append(&b, "\"", 2);	/* with the NUL */
	if (r) {
		mbuf_free(&b);
		return r;
	}
	*out = b.data;
	*len = b.len - 1;
	return 0;
}

/* --- the page ------------------------------------------------------------ */

#define NUM_MAX 24

static int family(struct mbuf *b, const char *name, const char *type, const char *help)
{
	int r = APPEND_LITERAL(b, "# HELP ");

	if (!r)
		r = mbuf_append(b, name, strlen(name));
	if (!r)
		r = mbuf_append(b, " ", 1);
	if (!r)
		r = mbuf_append(b, help, strlen(help));
	if (!r)
		r = APPEND_LITERAL(b, "\n# TYPE ");
	if (!r)
		r = mbuf_append(b, name, strlen(name));
	if (!r)
		r = mbuf_append(b, " ", 1);
	if (!r)
		r = mbuf_append(b, type, strlen(type));
	if (!r)
		r = mbuf_append(b, "\n", 1);
	return r;
}

/*
 * One line: NAME{LABELS EXTRA} VALUE[ TIMESTAMP]. @labels may be empty;
 * @extra, if any, starts with a comma unless @labels is empty.
 */
static int series(struct mbuf *b, const char *name, const char *labels, size_t labels_len,
		  const char *extra, const char *value, size_t value_len, int64_t timestamp_ms)
{
	size_t name_len = strlen(name), extra_len = extra ? strlen(extra) : 0;
	char *p;
	int r;

	r = mbuf_reserve(b, name_len + labels_len + extra_len + value_len + NUM_MAX + 5);
	if (r)
		return r;
	p = b->data + b->len;
	memcpy(p, name, name_len);
	p += name_len;
	if (labels_len + extra_len) {
		*p++ = '{';
		memcpy(p, labels, labels_len);
		p += labels_len;
		if (extra_len)
			memcpy(p, extra, extra_len);
		p += extra_len;
		*p++ = '}';
	}
	*p++ = ' ';
	memcpy(p, value, value_len);
	p += value_len;
	if (timestamp_ms >= 0) {
		*p++ = ' ';
		p += metrics_fixed(p, timestamp_ms, 0);
	}
	*p++ = '\n';
	b->len = (size_t)(p - b->data);
	return 0;
}

static int series_fixed(struct mbuf *b, const char *name, const struct metrics_unit *u,
			const char *extra, int64_t value, unsigned int decimals)
{
	char num[NUM_MAX];

	return series(b, name, u->labels, u->labels_len, extra, num,
		      metrics_fixed(num, value, decimals), -1);
}

/* A series without labels. */
static int scalar(struct mbuf *b, const char *name, const char *type, const char *help,
		  int64_t value, unsigned int decimals)
{
	char num[NUM_MAX];
	int r = family(b, name, type, help);

	return r ? r : series(b, name, "", 0, NULL, num, metrics_fixed(num, value, decimals), -1);
}

static const char *const probe_label[2] = { ",probe=\"1\"", ",probe=\"2\"" };

/* The unit a reading names, or NULL; *@hint as unit_index_next()'s. */
static const struct metrics_unit *unit_of(const struct metrics_input *in, uint32_t number,
					  size_t *hint)
{
	long at = unit_index_next(in->index, number, hint);

	return at < 0 ? NULL : &in->units[at];
}

/* The @k-th unit in Number order. */
static const struct metrics_unit *unit_nth(const struct metrics_input *in, size_t k)
{
	return &in->units[in->index->v[k].at];
}

/* What a unit-property family shows of @u (probe 0 or 1 where it has one). */
enum unit_value { UNIT_MIN, UNIT_MAX, UNIT_HYST };

static int per_unit_threshold(struct mbuf *b, const struct metrics_input *in, const char *name,
			      const char *help, enum unit_value what)
{
	int r = family(b, name, "gauge", help);

	for (size_t n = 0; n < in->index->n && !r; n++) {
		const struct metrics_unit *u = unit_nth(in, n);

		for (int c = 0; u && c < 2 && !r; c++) {
			const struct unit_info *i = u->info;
			int32_t v = what == UNIT_MIN ? i->min[c] : what == UNIT_MAX ? i->max[c] : i->hyst[c];

			r = series_fixed(b, name, u, probe_label[c], v, 3);
		}
	}
	return r;
}

static int unit_families(struct mbuf *b, const struct metrics_input *in)
{
	static const char *const fw_states[] = { "pending", "loading", "ready", "failed" };
	static const char *const fw_state_label[] = {
		",state=\"pending\"", ",state=\"loading\"", ",state=\"ready\"", ",state=\"failed\"",
	};
	struct mbuf extra = { 0 };
	int r;

	r = family(b, "coldroom_unit_info", "gauge",
		   "A unit coldroomd publishes: its model and firmware version (always 1).");
	for (size_t n = 0; n < in->index->n && !r; n++) {
		const struct metrics_unit *u = unit_nth(in, n);

		if (!u)
			continue;
		extra.len = 0;
		r = APPEND_LITERAL(&extra, ",model=\"");
		if (!r)
			r = metrics_escape(&extra, u->info->model);
		if (!r)
			r = APPEND_LITERAL(&extra, "\",firmware_version=\"");
		if (!r)
			r = metrics_escape(&extra, u->info->fw_version);
		if (!r)
			r = mbuf_append(&extra, "\"", 2);
		if (!r)
			r = series(b, "coldroom_unit_info", u->labels, u->labels_len, extra.data, "1", 1, -1);
	}
	mbuf_free(&extra);

	if (!r)
		r = per_unit_threshold(b, in, "coldroom_temperature_min_celsius",
				       "Lower end of the probe's alarm band.", UNIT_MIN);
	if (!r)
		r = per_unit_threshold(b, in, "coldroom_temperature_max_celsius",
				       "Upper end of the probe's alarm band.", UNIT_MAX);
	if (!r)
		r = per_unit_threshold(b, in, "coldroom_temperature_hysteresis_celsius",
				       "Hysteresis of the probe's alarm band.", UNIT_HYST);

	if (!r)
		r = family(b, "coldroom_firmware_state", "gauge",
			   "The unit's firmware state: 1 for the state it is in, 0 for the others.");
	for (size_t n = 0; n < in->index->n && !r; n++) {
		const struct metrics_unit *u = unit_nth(in, n);

		for (size_t s = 0; u && s < sizeof(fw_states) / sizeof(*fw_states) && !r; s++) {
			bool in_state = !strcmp(u->info->fw_state, fw_states[s]);

			r = series(b, "coldroom_firmware_state", u->labels, u->labels_len,
				   fw_state_label[s], in_state ? "1" : "0", 1, -1);
		}
	}

	if (!r)
		r = family(b, "coldroom_update_interval_seconds", "gauge",
			   "Time between the unit's samples.");
	for (size_t n = 0; n < in->index->n && !r; n++) {
		const struct metrics_unit *u = unit_nth(in, n);

		if (u)
			r = series_fixed(b, "coldroom_update_interval_seconds", u, NULL,
					 u->info->interval_ms, 3);
	}
	return r;
}

static int reading_families(struct mbuf *b, const struct metrics_input *in)
{
	const struct readings_msg *rd = in->readings;
	char num[NUM_MAX];
	int r;

	r = family(b, "coldroom_temperature_celsius", "gauge",
		   "The probe's latest reading, stamped with the time of its sample; "
		   "absent unless the probe status is 1 (ok).");
	for (size_t i = 0, hint = 0; i < rd->n && !r; i++) {
		const struct metrics_unit *u = unit_of(in, rd->unit[i], &hint);
		const int32_t temp[2] = { rd->temp1[i], rd->temp2[i] };
		const uint8_t status[2] = { rd->temp1_status[i], rd->temp2_status[i] };

		for (int c = 0; u && c < 2 && !r; c++) {
			if (status[c] != 1)
				continue;
			r = series(b, "coldroom_temperature_celsius", u->labels, u->labels_len,
				   probe_label[c], num, metrics_fixed(num, temp[c], 3),
				   rd->last_update[i] ? (int64_t)(rd->last_update[i] / 1000) : -1);
		}
	}

	if (!r)
		r = family(b, "coldroom_probe_status", "gauge",
			   "The probe's status: 0 unknown, 1 ok, 2 no data (no firmware or no "
			   "sample yet), 3 probe disconnected.");
	for (size_t i = 0, hint = 0; i < rd->n && !r; i++) {
		const struct metrics_unit *u = unit_of(in, rd->unit[i], &hint);
		const uint8_t status[2] = { rd->temp1_status[i], rd->temp2_status[i] };

		for (int c = 0; u && c < 2 && !r; c++)
			r = series_fixed(b, "coldroom_probe_status", u, probe_label[c], status[c], 0);
	}

	if (!r)
		r = family(b, "coldroom_alarm", "gauge",
			   "1 while the probe is out of its alarm band (the kernel's condition), else 0.");
	for (size_t i = 0, hint = 0; i < rd->n && !r; i++) {
		const struct metrics_unit *u = unit_of(in, rd->unit[i], &hint);
		const bool alarm[2] = { rd->alarms[i] & READINGS_ALARM_TEMP1,
					rd->alarms[i] & READINGS_ALARM_TEMP2 };

		for (int c = 0; u && c < 2 && !r; c++)
			r = series(b, "coldroom_alarm", u->labels, u->labels_len, probe_label[c],
				   alarm[c] ? "1" : "0", 1, -1);
	}

	if (!r)
		r = family(b, "coldroom_samples_total", "counter",
			   "The unit's sample sequence number: samples taken since the unit appeared.");
	for (size_t i = 0, hint = 0; i < rd->n && !r; i++) {
		const struct metrics_unit *u = unit_of(in, rd->unit[i], &hint);

		if (u)
			r = series_fixed(b, "coldroom_samples_total", u, NULL,
					 (int64_t)(rd->sample_seq[i] & INT64_MAX), 0);
	}

	if (!r)
		r = family(b, "coldroom_last_sample_timestamp_seconds", "gauge",
			   "When the unit's latest sample was taken (Unix time); absent before the first.");
	for (size_t i = 0, hint = 0; i < rd->n && !r; i++) {
		const struct metrics_unit *u = unit_of(in, rd->unit[i], &hint);

		if (u && rd->last_update[i])
			r = series_fixed(b, "coldroom_last_sample_timestamp_seconds", u, NULL,
					 (int64_t)(rd->last_update[i] & INT64_MAX), 6);
	}
	return r;
}

static int manager_families(struct mbuf *b, const struct metrics_manager *m)
{
	struct mbuf labels = { 0 };
	int r;

	r = APPEND_LITERAL(&labels, "version=\"");
	if (!r)
		r = metrics_escape(&labels, m->version);
	if (!r)
		r = APPEND_LITERAL(&labels, "\",reading_source=\"");
	if (!r)
		r = metrics_escape(&labels, m->reading_source);
	if (!r)
		r = APPEND_LITERAL(&labels, "\",event_source=\"");
	if (!r)
		r = metrics_escape(&labels, m->event_source);
	if (!r)
		r = APPEND_LITERAL(&labels, "\"");
	if (!r)
		r = family(b, "coldroom_coldroomd_info", "gauge",
			   "coldroomd's version and where it takes readings and events from (always 1).");
	if (!r)
		r = series(b, "coldroom_coldroomd_info", labels.data, labels.len, NULL, "1", 1, -1);
	mbuf_free(&labels);
	if (!r)
		r = scalar(b, "coldroom_units", "gauge", "Units coldroomd publishes.", m->unit_count, 0);
	if (!r)
		r = scalar(b, "coldroom_unacknowledged_alarms", "gauge",
			   "Open alarms nobody has acknowledged yet.", m->unacknowledged_alarms, 0);
	if (!r && m->n_kinds)
		r = family(b, "coldroom_open_alarms", "gauge",
			   "Open alarms (raised, acknowledged, or cleared but not acknowledged) "
			   "of each kind: temperature, or the probe's health.");
	for (size_t k = 0; !r && k < m->n_kinds; k++) {
		struct mbuf kind = { 0 };
		char num[NUM_MAX];

		r = APPEND_LITERAL(&kind, "kind=\"");
		if (!r)
			r = metrics_escape(&kind, m->open_alarms[k].kind);
		if (!r)
			r = APPEND_LITERAL(&kind, "\"");
		if (!r)
			r = mbuf_append(&kind, "", 1);	/* series() takes a string */
		if (!r)
			r = series(b, "coldroom_open_alarms", "", 0, kind.data, num,
				   metrics_fixed(num, m->open_alarms[k].n, 0), -1);
		mbuf_free(&kind);
	}
	if (!r && m->n_calibrations)
		r = family(b, "coldroom_calibration_due_timestamp_seconds", "gauge",
			   "When the probe's calibration is due (SetCalibration), seconds since "
			   "the epoch.");
	for (size_t i = 0; !r && i < m->n_calibrations; i++) {
		const struct metrics_calibration *c = &m->calibrations[i];
		struct mbuf labels = { 0 };
		char num[NUM_MAX];

		r = APPEND_LITERAL(&labels, "serial=\"");
		if (!r)
			r = metrics_escape(&labels, c->serial);
		if (!r)
			r = APPEND_LITERAL(&labels, "\"");
		if (!r)
			r = series(b, "coldroom_calibration_due_timestamp_seconds", labels.data,
				   labels.len, c->probe == 2 ? probe_label[1] : probe_label[0], num,
				   metrics_fixed(num, (int64_t)(c->due_us / 1000000), 0), -1);
		mbuf_free(&labels);
	}
	if (!r)
		r = scalar(b, "coldroom_config_error", "gauge",
			   "1 when coldroomd refused the last reload of its settings, else 0.",
			   m->config_error, 0);
	return r;
}

static int peer_families(struct mbuf *b, const struct metrics_peers *p)
{
	int r = 0;

	if (p->recorder)
		r = scalar(b, "coldroom_recorder_write_failing", "gauge",
			   "1 while coldroom-recorder cannot write the record (held in memory), else 0.",
			   p->write_failing, 0);
	if (!r && p->recorder)
		r = scalar(b, "coldroom_record_samples_lost_total", "counter",
			   "Samples the units took that the recorder counted lost, not in the record, "
			   "since it started.", (int64_t)(p->samples_lost & INT64_MAX), 0);
	if (!r && p->uplink)
		r = scalar(b, "coldroom_uplink_connected", "gauge",
			   "1 while coldroom-uplink is connected to its MQTT broker, else 0.",
			   p->uplink_connected, 0);
	if (!r && p->uplink)
		r = scalar(b, "coldroom_uplink_backlog", "gauge",
			   "Record rows and audit entries the broker has not acknowledged yet.",
			   (int64_t)(p->uplink_backlog & INT64_MAX), 0);
	return r;
}

/* The probes' MKT over 24 h and 30 days, with the time without data beside it. */
static int mkt_families(struct mbuf *b, const struct metrics_input *in)
{
	static const char *const window_label[2][METRICS_MKT_WINDOWS] = {
		{ ",probe=\"1\",window=\"24h\"", ",probe=\"1\",window=\"30d\"" },
		{ ",probe=\"2\",window=\"24h\"", ",probe=\"2\",window=\"30d\"" },
	};
	int r;

	r = scalar(b, "coldroom_mkt_activation_energy_joules_per_mole", "gauge",
		   "The activation energy dH of the mean kinetic temperature.", in->mkt_dh, 0);
	for (int gap = 0; gap < 2 && !r; gap++) {
		const char *name = gap ? "coldroom_mkt_no_data_seconds" : "coldroom_mkt_celsius";

		r = family(b, name, "gauge", gap ?
			   "Time in the MKT's window without data (not counted in it)." :
			   "Mean kinetic temperature over the window's time with data; absent "
			   "when it had none.");
		for (size_t n = 0; n < in->index->n && !r; n++) {
			const struct metrics_unit *u = unit_nth(in, n);

			for (int c = 0; c < 2 && !r; c++)
				for (int w = 0; w < METRICS_MKT_WINDOWS && !r; w++) {
					const struct metrics_mkt *k = &u->mkt[c][w];

					if (!k->known || (!gap && !k->valid))
						continue;
					r = series_fixed(b, name, u, window_label[c][w],
							 gap ? (int64_t)(k->gap_us / 1000000) :
							       k->mkt_mc, gap ? 0 : 3);
				}
		}
	}
	return r;
}

static int service_families(struct mbuf *b, const struct metrics_input *in)
{
	const struct metrics_service *s = in->service;
	int r;

	r = scalar(b, "coldroom_coldroomd_up", "gauge",
		   "1 when coldroomd answered this scrape, else 0.", in->readings != NULL, 0);
	if (!r)
		r = scalar(b, "coldroom_metrics_scrapes_total", "counter",
			   "Scrapes of /metrics answered.", (int64_t)(s->scrapes & INT64_MAX), 0);
	if (!r)
		r = scalar(b, "coldroom_metrics_scrape_errors_total", "counter",
			   "Scrapes coldroomd could not answer.",
			   (int64_t)(s->scrape_errors & INT64_MAX), 0);
	if (!r)
		r = scalar(b, "coldroom_metrics_requests_rejected_total", "counter",
			   "HTTP requests refused (wrong method, path or a body).",
			   (int64_t)(s->requests_rejected & INT64_MAX), 0);
	if (!r)
		r = scalar(b, "coldroom_metrics_readings_call_seconds", "gauge",
			   "Round trip of the last GetReadings call to coldroomd.",
			   (int64_t)(s->readings_call_usec & INT64_MAX), 6);
	return r;
}

int metrics_format(struct mbuf *b, const struct metrics_input *in)
{
	int r = 0;

	if (in->readings) {
		r = unit_families(b, in);
		if (!r)
			r = reading_families(b, in);
		if (!r && in->manager)
			r = manager_families(b, in->manager);
		if (!r && in->peers)
			r = peer_families(b, in->peers);
		if (!r && in->mkt_dh)
			r = mkt_families(b, in);
	}
	if (!r)
		r = service_families(b, in);
	return r;
}
