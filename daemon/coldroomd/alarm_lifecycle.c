// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * alarm_lifecycle.c - coldroomd's alarm lifecycle (alarm_lifecycle.h says
 * what it is): the delays as timers, the open alarms kept in the state
 * directory so that a restart forgets none, the facts of an alarm for the
 * site's notification units.
 *
 * Layer: told by units.c (a changed condition, a unit come or gone) and by
 * the bus methods (acknowledge, delays); its own timers (delay,
 * escalation) are event sources. It calls only down: alarm_rules.c,
 * alarm_notify.c, and publish.c for AlarmChanged, UnacknowledgedAlarms and
 * STATUS=. It reads a unit's fields, never calls into units.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alarm_lifecycle.h"
#include "alarm_notify.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "parse_util.h"

#define STATE_FILE "alarms"
#define STATE_FILE_MAX (4 * 1024 * 1024)
/* When coldroomd was last known to run: the after-outage rule's clock. */
#define ALIVE_FILE "alive"
#define ALIVE_EVERY_USEC (60 * 1000000ULL)
/* The probe-health sweep: one timer for every unit, never one per unit. */
#define SWEEP_USEC 1000000ULL

/* The rules' numbers are daemon.h's. */
_Static_assert(TEMP_STATUS_NO_DATA == 2 && TEMP_STATUS_DISCONNECTED == 3,
	       "health_fault() knows TempNStatus by number");

/* One unit serial, probe and kind: its condition, its delay, its open alarm. */
struct alarm_track {
	struct daemon *daemon;
	struct alarm_record rec;	/* rec.id 0: no open alarm */
	struct unit *unit;		/* NULL while the unit is gone */
	bool condition;			/* the kernel's, as last seen */
	bool own_delay;			/* set for this probe; else AlarmDelaySec */
	unsigned int delay_s;
	struct calibration cal;		/* the temperature track's; calibrated_usec 0: none */
	sd_event_source *delay_timer;	/* a raise or a clear waiting out the delay */
	sd_event_source *escalate_timer;
};

struct alarms {
	struct alarm_track **tracks;
	size_t n_tracks, cap_tracks;
	uint64_t next_id;
	char *state_path;		/* NULL: not kept across restarts */
	sd_event_source *save_defer;	/* one write per loop iteration, however many changed */
	struct alarm_notifier *notifier;	/* the notification units */
	sd_event_source *sweep;		/* the probe-health sweep */
	char *alive_path;		/* NULL: no state directory */
	uint64_t alive_written_usec;
	uint64_t down_since_usec;	/* the last stamp before this start; 0: none */
	bool outage_due;		/* the first sweep judges the first readings */
	uint64_t cal_checked_usec;	/* the reminders, judged once a minute */
};

static uint64_t now_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static bool unacked(enum alarm_state s)
{
	return s == ALARM_STATE_RAISED || s == ALARM_STATE_CLEARED;
}

static struct alarm_track *track_find(struct alarms *a, const char *serial, unsigned int probe,
				      enum alarm_kind kind)
{
	for (size_t i = 0; i < a->n_tracks; i++) {
		struct alarm_track *t = a->tracks[i];

		if (t->rec.probe == probe && t->rec.kind == kind && !strcmp(t->rec.serial, serial))
			return t;
	}
	return NULL;
}

static struct alarm_track *track_new(struct daemon *d, const char *serial, unsigned int probe,
				     enum alarm_kind kind)
{
	struct alarms *a = d->alarms;
	struct alarm_track *t;

	if (!alarm_serial_ok(serial))
		return NULL;
	if (a->n_tracks == a->cap_tracks) {
		size_t cap = a->cap_tracks ? 2 * a->cap_tracks : 16;
		struct alarm_track **n = realloc(a->tracks, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->tracks = n;
		a->cap_tracks = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->daemon = d;
	snprintf(t->rec.serial, sizeof(t->rec.serial), "%s", serial);
	t->rec.probe = probe;
	t->rec.kind = kind;
	a->tracks[a->n_tracks++] = t;
	return t;
}

static void track_free(struct alarm_track *t)
{
	sd_event_source_disable_unref(t->delay_timer);
	sd_event_source_disable_unref(t->escalate_timer);
	free(t);
}

/* Drops @t when nothing is left to keep: no unit, no alarm, no own delay. */
static void track_maybe_drop(struct alarm_track *t)
{
	struct alarms *a = t->daemon->alarms;

	if (t->unit || t->rec.id || t->own_delay || t->cal.calibrated_usec)
		return;
	for (size_t i = 0; i < a->n_tracks; i++)
		if (a->tracks[i] == t) {
			a->tracks[i] = a->tracks[--a->n_tracks];
			break;
		}
	track_free(t);
}

/* @u's track of channel @ch and @kind, made when @create. */
static struct alarm_track *unit_track(struct unit *u, unsigned int ch, enum alarm_kind kind,
				      bool create)
{
	struct alarm_track *t = u->track[ch][kind];

	/* A serial unfit for a state file or a unit name has no alarms kept (logged once, at start). */
	if (t || !create || !u->daemon->alarms || !alarm_serial_ok(u->info->serial))
		return t;
	t = track_new(u->daemon, u->info->serial, ch + 1, kind);
	if (t) {
		t->unit = u;
		u->track[ch][kind] = t;
	} else {
		log_error("%s: cannot follow the %s alarms of probe %u (serial '%s')", u->name,
			  alarm_kind_name(kind), ch + 1, u->info->serial);
	}
	return t;
}

/* The whole state, written to a new file and renamed over the old one. */
static void state_write(struct daemon *d)
{
	struct alarms *a = d->alarms;
	_cleanup_(freep) char *tmp = NULL;
	char line[1024];
	FILE *f;
	int r = 0;

	if (!a->state_path)
		return;
	if (asprintf(&tmp, "%s.new", a->state_path) < 0) {
		tmp = NULL;
		log_error("cannot save the alarms: out of memory");
		return;
	}
	f = fopen(tmp, "we");
	if (!f) {
		log_error("cannot save the alarms to %s: %m", tmp);
		return;
	}
	fprintf(f, "# coldroomd: open alarms, probe delays and calibrations (coldroomd(8)); "
		"do not edit\n");
	fprintf(f, "next-id %" PRIu64 "\n", a->next_id);
	for (size_t i = 0; i < a->n_tracks && r >= 0; i++) {
		const struct alarm_track *t = a->tracks[i];

		if (t->own_delay)
			fprintf(f, "delay %s %u %u\n", t->rec.serial, t->rec.probe, t->delay_s);
		if (t->cal.calibrated_usec) {
			r = calibration_state_format(t->rec.serial, t->rec.probe, &t->cal, line,
						     sizeof(line));
			if (r >= 0)
				fputs(line, f);
		}
		if (t->rec.id) {
			r = alarm_state_format(&t->rec, line, sizeof(line));
			if (r >= 0)
				fputs(line, f);
		}
	}
	if (r >= 0 && (fflush(f) != 0 || fsync(fileno(f)) < 0))
		r = -errno;
	if (fclose(f) != 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, a->state_path) < 0)
		r = -errno;
	if (r < 0) {
		log_error("cannot save the alarms to %s: %s", a->state_path, strerror(-r));
		unlink(tmp);
	}
}

static int on_save(sd_event_source *s, void *userdata)
{
	(void)s;
	state_write(userdata);
	return 0;
}

/*
 * After the changes of this loop iteration: thousands of probes that go
 * out of band together are one write, not one write of the whole file each.
 */
static void state_save(struct daemon *d)
{
	struct alarms *a = d->alarms;
	int r;

	if (!a->state_path)
		return;
	r = a->save_defer ? 0 : sd_event_add_defer(d->event, &a->save_defer, on_save, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(a->save_defer, SD_EVENT_ONESHOT);
	if (r < 0) {
		log_warning("cannot defer saving the alarms (%s); saving now", strerror(-r));
		state_write(d);
	}
}

static void count_unacked(struct daemon *d)
{
	struct alarms *a = d->alarms;
	unsigned int n = 0, open[ALARM_KINDS] = { 0 };

	for (size_t i = 0; i < a->n_tracks; i++) {
		const struct alarm_record *rec = &a->tracks[i]->rec;

		n += rec->id && unacked(rec->state);
		open[rec->kind] += rec->id != 0;
	}
	if (memcmp(open, d->n_open, sizeof(open))) {
		memcpy(d->n_open, open, sizeof(open));
		publish_open_alarms_changed(d);
	}
	if (n != d->n_unacked) {
		d->n_unacked = n;
		publish_unacked_changed(d);
	}
}

/* The facts of an alarm, as its notification unit's environment. */
#define ENV_FACTS_MAX 20
#define ENV_FACT_MAX (UNIT_LABEL_MAX + 32)

struct env_facts {
	char *v[ENV_FACTS_MAX + 1];
	char buf[ENV_FACTS_MAX][ENV_FACT_MAX];
	size_t n;
};

static void env_fact(struct env_facts *e, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void env_fact(struct env_facts *e, const char *key, const char *fmt, ...)
{
	char *p = e->buf[e->n];
	int k = snprintf(p, ENV_FACT_MAX, "%s=", key);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p + k, ENV_FACT_MAX - (size_t)k, fmt, ap);
	va_end(ap);
	e->v[e->n++] = p;
	e->v[e->n] = NULL;
}

/*
 * KEY=VALUE as systemd passes them to the unit: raw, so a label keeps its
 * quotes, dollars and backslashes (labels are printable ASCII).
 */
static void alarm_facts(const struct alarm_track *t, unsigned int level, struct env_facts *e)
{
	const struct unit *u = t->unit;
	unsigned int ch = t->rec.probe - 1;
	time_t secs = (time_t)(t->rec.raised_usec / 1000000);
	char when[64];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	e->n = 0;
	env_fact(e, "COLDROOM_ALARM_ID", "%" PRIu64, t->rec.id);
	env_fact(e, "COLDROOM_ALARM_LEVEL", "%u", level);
	env_fact(e, "COLDROOM_ALARM_STATE", "%s", alarm_state_name(t->rec.state));
	env_fact(e, "COLDROOM_ALARM_KIND", "%s", alarm_kind_name(t->rec.kind));
	env_fact(e, "COLDROOM_SERIAL", "%s", t->rec.serial);
	env_fact(e, "COLDROOM_PROBE", "%u", t->rec.probe);
	env_fact(e, "COLDROOM_UNIT", "%s", u ? u->name : "");
	env_fact(e, "COLDROOM_LABEL", "%s", u ? u->info->label : "");
	env_fact(e, "COLDROOM_MODEL", "%s", u ? u->info->model : "");
	env_fact(e, "COLDROOM_TEMP_MDEG", "%" PRId32, t->rec.temp);
	if (u) {
		env_fact(e, "COLDROOM_TEMP_MIN_MDEG", "%" PRId32, u->temp_min[ch]);
		env_fact(e, "COLDROOM_TEMP_MAX_MDEG", "%" PRId32, u->temp_max[ch]);
		env_fact(e, "COLDROOM_TEMP_HYST_MDEG", "%" PRId32, u->temp_hyst[ch]);
	}
	env_fact(e, "COLDROOM_RAISED", "%s", when);
	env_fact(e, "COLDROOM_RAISED_USEC", "%" PRIu64, t->rec.raised_usec);
	env_fact(e, "COLDROOM_ESCALATE_AFTER_SEC", "%u", t->daemon->config.escalate_after_s);
}

/* coldroom-alarm@ (level 1) or coldroom-escalate@ (level 2) of @t, not waited for. */
static void start_notification(struct alarm_track *t, unsigned int level)
{
	struct daemon *d = t->daemon;
	char instance[ALARM_SERIAL_MAX + 16];
	struct env_facts e;

	if (!d->config.alarm_units || !d->bus || !d->alarms->notifier)
		return;
	if (alarm_instance_name(t->rec.serial, t->rec.probe, t->rec.kind, instance,
				sizeof(instance)) < 0)
		return;
	alarm_facts(t, level, &e);
	(void)alarm_notify_start(d->alarms->notifier, d->bus, level, instance, e.v);
}

static void changed(struct alarm_track *t, const char *event, uint32_t uid, const char *user,
		    const char *comment, uint64_t when)
{
	struct daemon *d = t->daemon;
	const char *name = t->unit ? t->unit->name : "";

	log_fields(t->rec.state == ALARM_STATE_RAISED ? LOG_WARNING : LOG_NOTICE,
		   &(struct log_fields){ .unit = name, .serial = t->rec.serial,
					 .outcome = event },
		   "alarm %" PRIu64 " (%s) of %s (%s) probe %u %s at %d mC%s%s%s%s", t->rec.id,
		   alarm_kind_name(t->rec.kind), t->rec.serial, name[0] ? name : "gone",
		   t->rec.probe, event,
		   t->unit ? t->unit->temp[t->rec.probe - 1] : t->rec.temp,
		   user && user[0] ? " by " : "", user ? user : "",
		   comment && comment[0] ? ": " : "", comment ? comment : "");
	publish_alarm_changed(d, &t->rec, event, name, uid, user ? user : "",
			       comment ? comment : "", when,
			       t->unit ? t->unit->temp[t->rec.probe - 1] : t->rec.temp);
	state_save(d);
	count_unacked(d);
}

static int on_escalate(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct alarm_track *t = userdata;

	(void)s, (void)usec;
	t->escalate_timer = sd_event_source_disable_unref(t->escalate_timer);
	if (!t->rec.id || !unacked(t->rec.state) || t->rec.level >= ALARM_LEVEL_ESCALATED)
		return 0;
	t->rec.level = ALARM_LEVEL_ESCALATED;
	start_notification(t, ALARM_LEVEL_ESCALATED);
	changed(t, "escalated", 0, NULL, NULL, now_realtime_usec());
	return 0;
}

/* The second level, EscalateAfterSec after the alarm was raised. */
static void arm_escalation(struct alarm_track *t)
{
	struct daemon *d = t->daemon;
	uint64_t now = now_realtime_usec(), at, after = d->config.escalate_after_s * 1000000ULL;
	int r;

	t->escalate_timer = sd_event_source_disable_unref(t->escalate_timer);
	if (!after || !d->config.alarm_units || t->rec.level >= ALARM_LEVEL_ESCALATED ||
	    !unacked(t->rec.state))
		return;
	at = t->rec.raised_usec + after;
	r = sd_event_add_time_relative(d->event, &t->escalate_timer, CLOCK_MONOTONIC,
				       at > now ? at - now : 0, 1000000, on_escalate, t);
	if (r < 0)
		log_error("alarm %" PRIu64 ": cannot time its escalation: %s", t->rec.id,
			  strerror(-r));
}

static void do_raise(struct alarm_track *t)
{
	struct alarms *a = t->daemon->alarms;
	enum alarm_state was = t->rec.state;
	uint64_t now = now_realtime_usec();

	t->rec.state = alarm_rule_raise(was);
	if (t->rec.state == was)
		return;
	if (was == ALARM_STATE_CLEARED) {
		/* Out of band again before anyone answered: the same alarm. */
		t->rec.cleared_usec = 0;
		changed(t, "returned", 0, NULL, NULL, now);
		return;
	}
	t->rec.id = a->next_id++;
	t->rec.level = 0;
	t->rec.temp = t->unit ? t->unit->temp[t->rec.probe - 1] : 0;
	t->rec.raised_usec = now;
	t->rec.cleared_usec = 0;
	t->rec.acked_usec = 0;
	t->rec.acked_uid = 0;
	t->rec.acked_user[0] = '\0';
	t->rec.comment[0] = '\0';
	if (t->daemon->config.alarm_units && t->daemon->bus) {
		t->rec.level = ALARM_LEVEL_NOTIFIED;
		start_notification(t, ALARM_LEVEL_NOTIFIED);
	}
	changed(t, "raised", 0, NULL, NULL, now);
	arm_escalation(t);
}

static void do_clear(struct alarm_track *t)
{
	enum alarm_state was = t->rec.state;
	uint64_t now = now_realtime_usec();

	t->rec.state = alarm_rule_clear(was);
	if (t->rec.state == was)
		return;
	t->rec.cleared_usec = now;
	changed(t, "cleared", 0, NULL, NULL, now);
	if (t->rec.state == ALARM_STATE_CLOSED) {
		t->escalate_timer = sd_event_source_disable_unref(t->escalate_timer);
		t->rec.id = 0;
		state_save(t->daemon);
	}
}

static int on_delay(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct alarm_track *t = userdata;

	(void)s, (void)usec;
	t->delay_timer = sd_event_source_disable_unref(t->delay_timer);
	if (t->condition)
		do_raise(t);
	else
		do_clear(t);
	return 0;
}

unsigned int alarms_delay(const struct unit *u, unsigned int ch)
{
	const struct alarm_track *t = u->track[ch][ALARM_KIND_TEMPERATURE];

	return t && t->own_delay ? t->delay_s : u->daemon->config.alarm_delay_s;
}

/*
 * How long @t's condition must hold: the probe's delay for what the
 * readings say (the band, the rate), FaultDelaySec for a fault; the other
 * rules have their time in them (SilentIntervals, StuckSec) or are an
 * event (after an outage).
 */
static unsigned int track_delay(const struct alarm_track *t)
{
	switch (t->rec.kind) {
	case ALARM_KIND_TEMPERATURE:
	case ALARM_KIND_RATE:
		return alarms_delay(t->unit, t->rec.probe - 1);
	case ALARM_KIND_FAULT:
		return t->daemon->config.fault_delay_s;
	default:
		return 0;
	}
}

/* The condition is @cond now: raise or clear after the delay, or at once. */
static void follow_condition(struct alarm_track *t, bool cond)
{
	enum alarm_state next;
	unsigned int delay;
	int r;

	t->condition = cond;
	t->delay_timer = sd_event_source_disable_unref(t->delay_timer);
	next = cond ? alarm_rule_raise(t->rec.state) : alarm_rule_clear(t->rec.state);
	if (next == t->rec.state)
		return;
	delay = track_delay(t);
	if (!delay) {
		on_delay(NULL, 0, t);
		return;
	}
	r = sd_event_add_time_relative(t->daemon->event, &t->delay_timer, CLOCK_MONOTONIC,
				       delay * 1000000ULL, 100000, on_delay, t);
	if (r < 0) {
		log_error("%s: cannot time the alarm delay of probe %u (%s); acting at once",
			  t->unit->name, t->rec.probe, strerror(-r));
		on_delay(NULL, 0, t);
	}
}

/* @u's probe @ch is in condition @cond of @kind: a track only once it matters. */
static void set_condition(struct unit *u, unsigned int ch, enum alarm_kind kind, bool cond)
{
	struct alarm_track *t = unit_track(u, ch, kind, cond);

	if (!t || t->condition == cond)
		return;
	follow_condition(t, cond);
}

void alarms_condition_changed(struct unit *u, unsigned int ch)
{
	set_condition(u, ch, ALARM_KIND_TEMPERATURE, u->alarm[ch] != 0);
}

/*
 * A new sample or status of @u: the rules on the readings, per probe.
 * Called once per sample, so what it does per probe is a few compares.
 */
void alarms_sample(struct unit *u, bool new_sample)
{
	const struct config *c = &u->daemon->config;
	uint64_t now = now_realtime_usec();

	if (!u->daemon->alarms)
		return;
	if (new_sample) {
		u->seen_usec = now;
		for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++)
			set_condition(u, ch, ALARM_KIND_SILENT, false);
	}
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++) {
		struct probe_health *h = &u->health[ch];
		bool valid = u->temp_status[ch] == TEMP_STATUS_OK;
		bool stuck = false, rate = false;

		set_condition(u, ch, ALARM_KIND_FAULT, health_fault(c, u->temp_status[ch]));
		if (!valid) {
			/* No reading says nothing of being frozen or fast. */
			health_no_reading(h);
		} else if (new_sample) {
			stuck = health_stuck(c, h, u->temp[ch], now);
			rate = health_rate(c, h, u->temp[ch], now);
		} else {
			continue;
		}
		set_condition(u, ch, ALARM_KIND_STUCK, stuck);
		set_condition(u, ch, ALARM_KIND_RATE, rate);
	}
}

/*
 * The first sweep after a start that followed an outage: a probe out of
 * band now was out of band at some unknown time of the gap. Raised and
 * cleared at once, it stays listed until a person acknowledges it.
 */
static void judge_outage(struct unit *u)
{
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++) {
		if (!health_out_of_band(u->alarm[ch], u->temp_status[ch] == TEMP_STATUS_OK,
					u->temp[ch], u->temp_min[ch], u->temp_max[ch]))
			continue;
		set_condition(u, ch, ALARM_KIND_OUTAGE, true);
		set_condition(u, ch, ALARM_KIND_OUTAGE, false);
	}
}

/* The stamp, once a minute (@force: now), written whole and renamed. */
static void alive_write(struct alarms *a, uint64_t now, bool force)
{
	_cleanup_(freep) char *tmp = NULL;
	char text[32];
	int fd, n, r;

	if (!a->alive_path || (!force && a->alive_written_usec && now >= a->alive_written_usec &&
			       now - a->alive_written_usec < ALIVE_EVERY_USEC))
		return;
	a->alive_written_usec = now;
	if (asprintf(&tmp, "%s.new", a->alive_path) < 0) {
		tmp = NULL;
		return;
	}
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", now);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	r = fd < 0 ? -errno : write_all(fd, text, (size_t)n);
	if (fd >= 0 && close(fd) < 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, a->alive_path) < 0)
		r = -errno;
	if (r < 0) {
		log_warning("cannot write %s: %s", a->alive_path, strerror(-r));
		unlink(tmp);
	}
}

/* The last stamp, or 0 when there is none or it is damaged (nothing is judged). */
static uint64_t alive_read(const char *path)
{
	_cleanup_(freep) char *text = NULL;
	unsigned long long v;
	size_t len;
	int r;

	r = read_file_at(AT_FDCWD, path, 64, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r >= 0 && len && text[len - 1] == '\n')
		text[len - 1] = '\0';
	if (r < 0 || parse_ull(text, &v) < 0) {
		log_warning("%s: cannot read when coldroomd last ran; no outage is judged", path);
		return 0;
	}
	return v;
}

/* @u's calibration reminders at @now: each a kind of its own, raised once its day came. */
static void judge_calibration(struct unit *u, uint64_t now)
{
	static const enum alarm_kind kinds[] = {
		ALARM_KIND_CAL_90, ALARM_KIND_CAL_30, ALARM_KIND_CAL_DUE
	};

	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++) {
		const struct alarm_track *t = u->track[ch][ALARM_KIND_TEMPERATURE];
		const struct calibration none = { 0 };

		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			set_condition(u, ch, kinds[i],
				      calibration_reminder(t ? &t->cal : &none, kinds[i], now));
	}
}

/* Once a second, for every unit: silent; after a start, the outage; the stamp. */
static int on_sweep(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	struct alarms *a = d->alarms;
	uint64_t now = now_realtime_usec();
	/* Days pass slowly: the reminders once a minute (and at once after a change). */
	bool cal = !a->cal_checked_usec || now < a->cal_checked_usec ||
		   now - a->cal_checked_usec >= 60 * 1000000ULL;

	for (size_t i = 0; i < d->n_units; i++) {
		struct unit *u = d->units[i];
		bool silent = health_silent(&d->config, u->seen_usec, u->interval_ms, now);

		for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++)
			set_condition(u, ch, ALARM_KIND_SILENT, silent);
		if (a->outage_due)
			judge_outage(u);
		if (cal)
			judge_calibration(u, now);
	}
	if (cal)
		a->cal_checked_usec = now;
	if (a->outage_due) {
		a->outage_due = false;
		/* Judged: the next start must not judge the same gap again. */
		alive_write(a, now, true);
	}
	alive_write(a, now, false);
	(void)sd_event_source_set_time(s, usec + SWEEP_USEC);
	return 0;
}

void alarms_unit_added(struct unit *u)
{
	struct alarms *a = u->daemon->alarms;

	if (!a || !alarm_serial_ok(u->info->serial))
		return;
	/* Silent from now if no sample comes. */
	u->seen_usec = now_realtime_usec();
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++) {
		for (unsigned int k = 0; k < ALARM_KINDS; k++) {
			struct alarm_track *t = track_find(a, u->info->serial, ch + 1, k);

			if (t && !t->unit) {
				t->unit = u;
				u->track[ch][k] = t;
				/* An open alarm was in its condition when last seen. */
				t->condition = t->rec.id &&
					       (t->rec.state == ALARM_STATE_RAISED ||
						t->rec.state == ALARM_STATE_ACKNOWLEDGED);
			}
		}
		alarms_condition_changed(u, ch);
	}
	alarms_sample(u, false);
}

void alarms_unit_removed(struct unit *u)
{
	for (unsigned int ch = 0; ch < UNIT_CHANNELS; ch++)
		for (unsigned int k = 0; k < ALARM_KINDS; k++) {
			struct alarm_track *t = u->track[ch][k];

			if (!t)
				continue;
			u->track[ch][k] = NULL;
			t->unit = NULL;
			/* A raise or clear waiting for its delay needs the unit's readings. */
			t->delay_timer = sd_event_source_disable_unref(t->delay_timer);
			track_maybe_drop(t);
		}
}

int alarms_set_delay(struct unit *u, unsigned int ch, unsigned int seconds)
{
	struct alarm_track *t;

	if (seconds > CONFIG_MAX_ALARM_DELAY_S)
		return -ERANGE;
	if (!u->daemon->alarms)
		return -EOPNOTSUPP;
	t = unit_track(u, ch, ALARM_KIND_TEMPERATURE, true);
	if (!t)
		return -ENOMEM;
	t->own_delay = true;
	t->delay_s = seconds;
	state_save(u->daemon);
	/* A raise or clear waiting: it waits for the new delay from now. */
	if (t->delay_timer)
		follow_condition(t, t->condition);
	t = u->track[ch][ALARM_KIND_RATE];
	if (t && t->delay_timer)
		follow_condition(t, t->condition);
	return 0;
}

static int acknowledge_one(struct alarm_track *t, uid_t uid, const char *user,
			   const char *comment)
{
	struct daemon *d = t->daemon;
	enum alarm_state next;

	if (alarm_rule_ack(t->rec.state, &next) < 0)
		return -EALREADY;
	t->rec.state = next;
	t->rec.acked_usec = now_realtime_usec();
	t->rec.acked_uid = (uint32_t)uid;
	snprintf(t->rec.acked_user, sizeof(t->rec.acked_user), "%s", user);
	snprintf(t->rec.comment, sizeof(t->rec.comment), "%s", comment);
	t->escalate_timer = sd_event_source_disable_unref(t->escalate_timer);
	changed(t, "acknowledged", (uint32_t)uid, user, comment, t->rec.acked_usec);
	if (t->rec.state == ALARM_STATE_CLOSED) {
		t->rec.id = 0;
		state_save(d);
		track_maybe_drop(t);
	}
	return 0;
}

int alarms_acknowledge(struct daemon *d, struct unit *u, const char *key, unsigned int probe,
		       uid_t uid, const char *user, const char *comment)
{
	struct alarms *a = d->alarms;
	bool open = false, acked = false;

	if (!a)
		return -ENOENT;
	/* Each open alarm of the probe, whatever its kind: one answer to what a person saw. */
	for (unsigned int k = 0; k < ALARM_KINDS; k++) {
		struct alarm_track *t = NULL;

		if (u && probe >= 1 && probe <= UNIT_CHANNELS)
			t = u->track[probe - 1][k];
		if (!t)
			t = track_find(a, key, probe, k);
		if (!t || !t->rec.id)
			continue;
		open = true;
		if (acknowledge_one(t, uid, user, comment) == 0)
			acked = true;
	}
	return acked ? 0 : open ? -EALREADY : -ENOENT;
}

int alarms_set_calibration(struct unit *u, unsigned int ch, const struct calibration *c)
{
	struct alarm_track *t;
	const char *why;

	if (calibration_check(c, &why) < 0)
		return -EINVAL;
	if (!u->daemon->alarms)
		return -EOPNOTSUPP;
	t = unit_track(u, ch, ALARM_KIND_TEMPERATURE, true);
	if (!t)
		return -ENOMEM;
	t->cal = *c;
	state_save(u->daemon);
	/* A new due date: the reminders as of now, not in a minute. */
	judge_calibration(u, now_realtime_usec());
	return 0;
}

const struct calibration *alarms_calibration(const struct unit *u, unsigned int ch)
{
	const struct alarm_track *t = u->track[ch][ALARM_KIND_TEMPERATURE];

	return t && t->cal.calibrated_usec ? &t->cal : NULL;
}

const struct calibration *alarms_calibration_slot(const struct daemon *d, size_t i,
						  const char **serial, unsigned int *probe)
{
	const struct alarm_track *t = d->alarms->tracks[i];

	if (!t->cal.calibrated_usec)
		return NULL;
	*serial = t->rec.serial;
	*probe = t->rec.probe;
	return &t->cal;
}

size_t alarms_slots(const struct daemon *d)
{
	return d->alarms ? d->alarms->n_tracks : 0;
}

const struct alarm_record *alarms_slot(const struct daemon *d, size_t i, const char **unit_name)
{
	const struct alarm_track *t = d->alarms->tracks[i];

	if (!t->rec.id)
		return NULL;
	*unit_name = t->unit ? t->unit->name : "";
	return &t->rec;
}

/* The track a line of the state file is about, made if it is the first. */
static struct alarm_track *load_track(struct daemon *d, const char *serial, unsigned int probe,
				      enum alarm_kind kind)
{
	struct alarm_track *t = track_find(d->alarms, serial, probe, kind);

	return t ? t : track_new(d, serial, probe, kind);
}

static int load_alarm(void *userdata, const struct alarm_record *rec)
{
	struct alarm_track *t = load_track(userdata, rec->serial, rec->probe, rec->kind);

	if (!t)
		return -ENOMEM;
	t->rec = *rec;
	return 0;
}

static int load_delay(void *userdata, const char *serial, unsigned int probe,
		      unsigned int seconds)
{
	struct alarm_track *t = load_track(userdata, serial, probe, ALARM_KIND_TEMPERATURE);

	if (!t)
		return -ENOMEM;
	t->own_delay = true;
	t->delay_s = seconds;
	return 0;
}

static int load_calibration(void *userdata, const char *serial, unsigned int probe,
			    const struct calibration *c)
{
	struct alarm_track *t = load_track(userdata, serial, probe, ALARM_KIND_TEMPERATURE);

	if (!t)
		return -ENOMEM;
	t->cal = *c;
	return 0;
}

static int state_load(struct daemon *d)
{
	struct alarms *a = d->alarms;
	struct alarm_state_parser p = { .userdata = d, .on_alarm = load_alarm,
					.on_delay = load_delay, .on_calibration = load_calibration };
	_cleanup_(freep) char *text = NULL;
	unsigned int line;
	size_t len;
	int r;

	r = read_file_at(AT_FDCWD, a->state_path, STATE_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_error("cannot read the alarms from %s: %s", a->state_path, strerror(-r));
		return r;
	}
	r = alarm_state_parse(text, len, &p, &line);
	if (r < 0) {
		/* Never silently lose an alarm: refuse to start over a damaged file. */
		log_error("%s: line %u is damaged; move the file away to start without the "
			  "alarms it holds", a->state_path, line);
		return r;
	}
	a->next_id = p.next_id;
	for (size_t i = 0; i < a->n_tracks; i++) {
		struct alarm_track *t = a->tracks[i];

		if (t->rec.id)
			arm_escalation(t);
	}
	count_unacked(d);
	if (d->n_unacked)
		log_warning("%u alarm(s) not acknowledged (coldroomctl alarms)", d->n_unacked);
	return 0;
}

int alarms_init(struct daemon *d, const char *state_dir)
{
	struct alarms *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	d->alarms = a;
	a->next_id = 1;
	if (state_dir && asprintf(&a->state_path, "%s/%s", state_dir, STATE_FILE) < 0) {
		a->state_path = NULL;
		return -ENOMEM;
	}
	r = alarm_notifier_new(d->event, &a->notifier);
	if (r < 0)
		return r;
	r = sd_event_add_time_relative(d->event, &a->sweep, CLOCK_MONOTONIC, SWEEP_USEC,
				       SWEEP_USEC / 4, on_sweep, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(a->sweep, SD_EVENT_ON);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(a->sweep, "probe-health");
	if (!a->state_path) {
		log_info("no state directory: open alarms are not kept across restarts, "
			 "and no outage is judged");
		return 0;
	}
	if (asprintf(&a->alive_path, "%s/%s", state_dir, ALIVE_FILE) < 0) {
		a->alive_path = NULL;
		return -ENOMEM;
	}
	a->down_since_usec = alive_read(a->alive_path);
	a->outage_due = health_outage(&d->config, a->down_since_usec, now_realtime_usec());
	if (a->outage_due)
		log_warning("coldroomd was not running for %" PRIu64 " s: probes out of band now "
			    "raise an after-outage alarm",
			    (now_realtime_usec() - a->down_since_usec) / 1000000);
	return state_load(d);
}

void alarms_done(struct daemon *d)
{
	struct alarms *a = d->alarms;

	if (!a)
		return;
	/* What changed in the last iteration is not lost at exit. */
	if (a->save_defer && sd_event_source_get_enabled(a->save_defer, NULL) > 0)
		state_write(d);
	sd_event_source_disable_unref(a->save_defer);
	sd_event_source_disable_unref(a->sweep);
	/* Stopped now: the time until the next start is the outage. */
	if (!a->outage_due)
		alive_write(a, now_realtime_usec(), true);
	free(a->alive_path);
	for (size_t i = 0; i < a->n_tracks; i++)
		track_free(a->tracks[i]);
	free(a->tracks);
	free(a->state_path);
	alarm_notifier_free(a->notifier);
	free(a);
	d->alarms = NULL;
}
