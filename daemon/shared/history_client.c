// SPDX-License-Identifier: GPL-2.0 OR MIT
/* history_client.c - see history_client.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_names.h"
#include "history_client.h"
#include "macro.h"
#include "mkt.h"

void history_series_free(struct history_series *s)
{
	free(s->start);
	free(s->end);
	free(s->count);
	free(s->min);
	free(s->mean);
	free(s->max);
	free(s->status);
	free(s->lost);
	free(s->lost_why);
	memset(s, 0, sizeof(*s));
}

/* The next array of @m, of @n entries of @size bytes, appended to *@out's @have. */
static int read_array(sd_bus_message *m, char type, size_t size, size_t have, size_t *n,
		      void **out)
{
	const void *p;
	size_t len;
	void *grown;
	int r;

	r = sd_bus_message_read_array(m, type, &p, &len);
	if (r < 0)
		return r;
	if (len % size || (*n != SIZE_MAX && len / size != *n))
		return -EBADMSG;	/* the arrays are parallel */
	*n = len / size;
	grown = realloc(*out, (have + *n) * size + 1);
	if (!grown)
		return -ENOMEM;
	*out = grown;
	if (len)
		memcpy((char *)grown + have * size, p, len);
	return 0;
}

/*
 * A cursor that does not move on is a recorder that would have us ask
 * forever: a page's last row comes after the one before it.
 */
static bool cursor_moved(uint64_t time, uint64_t seq, uint64_t next_time, uint64_t next_seq)
{
	return next_time > time || (next_time == time && next_seq > seq);
}

int history_fetch(sd_bus *bus, const char *serial, unsigned int probe, uint64_t since,
		  uint64_t until, struct history_series *out, sd_bus_error *e)
{
	uint64_t after_time = 0, after_seq = 0;
	int more = 1, r = 0;

	memset(out, 0, sizeof(*out));
	/* Page after page (GetHistoryPage2): the whole range, a bounded call at a time. */
	while (r >= 0 && more) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
		uint64_t next_time, next_seq;
		size_t n = SIZE_MAX;

		r = sd_bus_call_method(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
				       "GetHistoryPage2", e, &reply, "sutttt", serial,
				       (uint32_t)probe, since, until, after_time, after_seq);
		if (r < 0)
			break;
		r = read_array(reply, 't', sizeof(uint64_t), out->n, &n, (void **)&out->start);
		if (r >= 0)
			r = read_array(reply, 't', sizeof(uint64_t), out->n, &n, (void **)&out->end);
		if (r >= 0)
			r = read_array(reply, 'u', sizeof(uint32_t), out->n, &n, (void **)&out->count);
		if (r >= 0)
			r = read_array(reply, 'i', sizeof(int32_t), out->n, &n, (void **)&out->min);
		if (r >= 0)
			r = read_array(reply, 'i', sizeof(int32_t), out->n, &n, (void **)&out->mean);
		if (r >= 0)
			r = read_array(reply, 'i', sizeof(int32_t), out->n, &n, (void **)&out->max);
		if (r >= 0)
			r = read_array(reply, 'y', 1, out->n, &n, (void **)&out->status);
		if (r >= 0)
			r = read_array(reply, 'u', sizeof(uint32_t), out->n, &n, (void **)&out->lost);
		if (r >= 0)
			r = read_array(reply, 'y', 1, out->n, &n, (void **)&out->lost_why);
		if (r >= 0)
			r = sd_bus_message_read(reply, "btt", &more, &next_time, &next_seq);
		if (r >= 0 && more && (!n || !cursor_moved(after_time, after_seq, next_time, next_seq)))
			r = -EBADMSG;
		if (r < 0)
			break;
		out->n += n;
		after_time = next_time;
		after_seq = next_seq;
	}
	if (r < 0) {
		history_series_free(out);
		return r;
	}
	return 0;
}

/* One GetEventsPage reply's entries appended to *@v (@n of @cap). */
static int read_events(sd_bus_message *reply, struct history_event **v, size_t *n, size_t *cap)
{
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "(tsubxsssss)");
	while (r >= 0) {
		const char *event, *user, *what, *old_value, *new_value, *detail;
		struct history_event *ev;
		uint64_t time;
		uint32_t probe;
		int has_reading;
		int64_t reading;

		r = sd_bus_message_read(reply, "(tsubxsssss)", &time, &event, &probe, &has_reading,
					&reading, &user, &what, &old_value, &new_value, &detail);
		if (r <= 0)
			break;
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 64;
			struct history_event *nv = realloc(*v, c * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			*v = nv;
			*cap = c;
		}
		ev = &(*v)[(*n)++];
		memset(ev, 0, sizeof(*ev));
		ev->time = time;
		snprintf(ev->event, sizeof(ev->event), "%s", event);
		ev->probe = probe;
		ev->has_reading = has_reading;
		ev->reading = reading;
		snprintf(ev->user, sizeof(ev->user), "%s", user);
		snprintf(ev->what, sizeof(ev->what), "%s", what);
		snprintf(ev->old_value, sizeof(ev->old_value), "%s", old_value);
		snprintf(ev->new_value, sizeof(ev->new_value), "%s", new_value);
		snprintf(ev->detail, sizeof(ev->detail), "%s", detail);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	return r;
}

int history_events_fetch(sd_bus *bus, const char *serial, uint64_t since, uint64_t until,
			 struct history_event **out, size_t *n, sd_bus_error *e)
{
	struct history_event *v = NULL;
	uint64_t after_time = 0, after_seq = 0;
	size_t cap = 0;
	int more = 1, r = 0;

	*out = NULL;
	*n = 0;
	while (r >= 0 && more) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
		uint64_t next_time, next_seq;
		size_t had = *n;

		r = sd_bus_call_method(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
				       "GetEventsPage", e, &reply, "stttt", serial, since, until,
				       after_time, after_seq);
		if (r >= 0)
			r = read_events(reply, &v, n, &cap);
		if (r >= 0)
			r = sd_bus_message_read(reply, "btt", &more, &next_time, &next_seq);
		if (r >= 0 && more &&
		    (*n == had || !cursor_moved(after_time, after_seq, next_time, next_seq)))
			r = -EBADMSG;
		if (r >= 0) {
			after_time = next_time;
			after_seq = next_seq;
		}
	}
	if (r < 0) {
		free(v);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

int history_mkt(sd_bus *bus, const char *serial, unsigned int probe, uint64_t since,
		uint64_t until, struct mkt_sum *out, sd_bus_error *e)
{
	uint64_t after_time = 0, after_seq = 0;
	uint32_t dh;
	int more = 1, r;

	r = sd_bus_get_property_trivial(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
					"MKTActivationEnergy", e, 'u', &dh);
	if (r < 0)
		return r;
	if (dh < MKT_MIN_DH || dh > MKT_MAX_DH)
		return -EBADMSG;
	mkt_init(out, since, until, dh);
	while (more) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
		uint64_t next_time, next_seq;
		struct mkt_sum page;

		r = sd_bus_call_method(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE,
				       "GetMeanKineticTemperaturePage", e, &reply, "sutttt", serial,
				       (uint32_t)probe, since, until, after_time, after_seq);
		if (r < 0)
			return r;
		mkt_init(&page, since, until, dh);
		r = sd_bus_message_read(reply, "tdttttiibtt", &page.data_us, &page.ln_sum,
					&page.nodata_us, &page.missing_us, &page.first_us,
					&page.reached_us, &page.peak, &page.low, &more, &next_time,
					&next_seq);
		if (r < 0)
			return r;
		/* A page's sums are inside the window, in order, and its cursor moves on. */
		page.any = page.reached_us > 0;
		if (!page.data_us)
			page.ln_sum = -INFINITY;
		if (!isfinite(page.ln_sum) && page.data_us)
			return -EBADMSG;
		if (page.any && (page.first_us < since || page.reached_us > until ||
				 page.first_us > page.reached_us ||
				 page.data_us + page.nodata_us + page.missing_us >
				 page.reached_us - page.first_us))
			return -EBADMSG;
		if (more && !cursor_moved(after_time, after_seq, next_time, next_seq))
			return -EBADMSG;
		mkt_merge(out, &page);
		after_time = next_time;
		after_seq = next_seq;
	}
	return 0;
}

int history_verify(sd_bus *bus, bool *intact, char *message, size_t size, sd_bus_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int64_t rows, audit;
	const char *msg;
	int ok, r;

	r = sd_bus_call_method(bus, RECORDER_BUS_NAME, RECORDER_PATH, RECORDER_IFACE, "Verify", e,
			       &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "bxxs", &ok, &rows, &audit, &msg);
	if (r < 0)
		return r;
	*intact = ok;
	snprintf(message, size, "%s", msg);
	return 0;
}
