// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bus.c - org.coldroom.Sensors1 on D-Bus (DBUS-API.md is the reference):
 * the objects, their properties and methods. The signals are publish.c's.
 *
 * One fallback vtable serves every unit object; an ObjectManager sits at
 * the root.
 *
 * Layer: an event source (callers' requests), at the top. Its methods call
 * down: units.c (a write read back, then unit_publish()), the alarm
 * lifecycle (acknowledge, delays), publish.c (GetReadings, SettingChanged
 * goes out directly); nothing below calls into it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/coldroom.h>

#include "alarm_lifecycle.h"
#include "bus_names.h"
#include "coldroom_fw.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "polkit.h"
#include "service.h"


#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

/*
 * Manager.AuthorizationRefused: a refused or cancelled attempt at a
 * person's act, for the audit trail; itemized within polkit.h's bound,
 * the next itemized one counting those left out.
 */
static void emit_refused(struct daemon *d, const char *action, const char *serial,
			 uint32_t probe, const struct polkit_caller *c, const char *why)
{
	char reason[512];
	unsigned int untold;
	uint64_t now = 0;

	(void)sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	if (!polkit_refusal_itemize(&d->refusals, now, &untold))
		return;
	if (untold)
		snprintf(reason, sizeof(reason), "%s: %s (and %u earlier refused attempts not itemized)",
			 c->how, why ? why : "", untold);
	else
		snprintf(reason, sizeof(reason), "%s: %s", c->how, why ? why : "");
	log_fields(LOG_NOTICE, &(struct log_fields){ .serial = serial }, "refused %s for %s: %s",
		   action, c->user, reason);
	if (d->bus)
		(void)sd_bus_emit_signal(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					 "AuthorizationRefused", "ssuuss", action, serial ? serial : "",
					 probe, (uint32_t)c->uid, c->user, reason);
}

/*
 * Whether @m's caller may do @action (polkit.h): 1 yes, 0 asked (the
 * handler returns 1 and runs again with the answer), negative: @error
 * says why not; a refusal is audited. Without any polkit authority on the
 * bus, the configured groups are the fallback (coldroomd.conf).
 */
static int authorize(sd_bus_message *m, struct daemon *d, const char *action,
		     const char *serial, uint32_t probe, struct polkit_caller *caller,
		     sd_bus_error *error)
{
	const char *const admins[] = { d->config.admin_group, NULL };
	const char *const operators[] = { d->config.admin_group, d->config.operator_group, NULL };
	int r;

	r = polkit_check(&d->polkit, m, action,
			 !strcmp(action, POLKIT_ACTION_CONFIGURE) ? admins : operators, caller,
			 error);
	if (r == -EACCES)
		emit_refused(d, action, serial, probe, caller, error->message);
	return r;
}

#define AUTHORIZE(m, d, action, serial, probe, caller, error)				\
	do {										\
		int _a = authorize(m, d, action, serial, probe, caller, error);		\
											\
		if (_a <= 0)								\
			return _a == 0 ? 1 : _a;					\
	} while (0)

/*
 * Manager.SettingChanged: who changed what on a unit, with the old and new
 * value, for the audit trail (coldroom-recorder). Sent only for a change
 * that took effect.
 */
static void emit_setting_changed(struct unit *u, uid_t uid, const char *setting,
				 const char *old_value, const char *new_value)
{
	char buf[1024], user[64] = "";
	struct passwd pw, *pwp = NULL;

	if (old_value && new_value && !strcmp(old_value, new_value))
		return;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
		snprintf(user, sizeof(user), "%s", pw.pw_name);
	(void)sd_bus_emit_signal(u->daemon->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE, "SettingChanged",
				 "osssssus", u->object_path, u->name, u->info->serial, setting,
				 old_value ? old_value : "", new_value ? new_value : "", (uint32_t)uid,
				 user);
}

static void emit_setting_changed_int(struct unit *u, uid_t uid, const char *setting,
				     long long old_value, long long new_value)
{
	char o[24], n[24];

	snprintf(o, sizeof(o), "%lld", old_value);
	snprintf(n, sizeof(n), "%lld", new_value);
	emit_setting_changed(u, uid, setting, o, n);
}

static int unit_write(struct unit *u, const char *attr, const char *value,
		      sd_bus_error *error)
{
	int r = write_string_at(u->dirfd, attr, value);

	if (r == 0)
		return 0;
	if (r == -EINVAL)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "%s rejected %s = %s", u->name, attr, value);
	if (r == -ENOENT || r == -ENODEV)
		return sd_bus_error_setf(error, SENSORS_ERROR_NO_SUCH_UNIT,
					 "unit %s is gone", u->name);
	return sd_bus_error_setf(error, SENSORS_ERROR_WRITE_FAILED, "writing %s of %s: %s",
				 attr, u->name, strerror(-r));
}

static void unit_after_write(struct unit *u)
{
	unit_read_settings(u);
	unit_publish(u);
}

static int method_set_label(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct unit *u = userdata;
	char old[UNIT_LABEL_MAX];
	const char *label;
	struct polkit_caller who;
	uid_t uid = 0;
	int r;

	r = sd_bus_message_read(m, "s", &label);
	if (r < 0)
		return r;
	if (coldroom_fw_check_label(label) != COLDROOM_FW_OK)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "a label is 1 to %d printable ASCII characters, not starting or ending with a space",
					 COLDROOM_FW_LABEL_MAX);
	AUTHORIZE(m, u->daemon, POLKIT_ACTION_CONFIGURE, u->info->serial, 0, &who, error);
	uid = who.uid;
	snprintf(old, sizeof(old), "%s", u->info->label);
	r = unit_write(u, "label", label, error);
	if (r < 0)
		return r;
	log_fields(LOG_INFO, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: label set to '%s'", u->name, label);
	unit_after_write(u);
	emit_setting_changed(u, uid, "label", old, u->info->label);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_thresholds(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct unit *u = userdata;
	struct coldroom_fw_thresholds thr;
	static const char *const attrs[UNIT_CHANNELS][3] = {
		{ "temp1_min", "temp1_max", "temp1_hyst" },
		{ "temp2_min", "temp2_max", "temp2_hyst" },
	};
	char vmin[16], vmax[16], vhyst[16], omin[16], omax[16], ohyst[16];
	struct threshold_step {
		unsigned int attr;		/* index in attrs[ch] */
		const char *value, *undo;
	} steps[3];
	unsigned int n_steps = 0, done;
	int32_t old_min, old_max, old_hyst;
	uint32_t channel;
	int32_t min, max, hyst;
	unsigned int ch;
	struct polkit_caller who;
	uid_t uid = 0;
	int r;

	r = sd_bus_message_read(m, "uiii", &channel, &min, &max, &hyst);
	if (r < 0)
		return r;
	if (channel < 1 || channel > UNIT_CHANNELS)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "channel must be 1 or 2, not %u", channel);
	if (hyst < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"hysteresis must not be negative");
	thr.min_mdeg = min;
	thr.max_mdeg = max;
	thr.hyst_mdeg = (uint32_t)hyst;
	if (coldroom_fw_check_thresholds(&thr) != COLDROOM_FW_OK)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "invalid thresholds: need %d <= min < max <= %d, hysteresis <= %d and a clear band min + hysteresis .. max - hysteresis that is not empty",
					 COLDROOM_FW_TEMP_MIN_MDEG, COLDROOM_FW_TEMP_MAX_MDEG,
					 COLDROOM_FW_HYST_MAX_MDEG);
	AUTHORIZE(m, u->daemon, POLKIT_ACTION_CONFIGURE, u->info->serial, channel, &who, error);
	uid = who.uid;
	ch = channel - 1;
	snprintf(vmin, sizeof(vmin), "%d", min);
	snprintf(vmax, sizeof(vmax), "%d", max);
	snprintf(vhyst, sizeof(vhyst), "%d", hyst);
	/*
	 * The kernel judges every single write by the same rule, so each step
	 * must leave valid thresholds: widen the band to cover both the old
	 * and the new one, set the hysteresis (valid there, since the new
	 * band is), then narrow the band to the new one. A step that fails
	 * undoes the ones before it in reverse order, each back to a state
	 * that was valid: a failed call changes nothing.
	 */
	unit_read_settings(u);
	old_min = u->temp_min[ch];
	old_max = u->temp_max[ch];
	old_hyst = u->temp_hyst[ch];
	snprintf(omin, sizeof(omin), "%d", old_min);
	snprintf(omax, sizeof(omax), "%d", old_max);
	snprintf(ohyst, sizeof(ohyst), "%d", old_hyst);
	if (min < old_min)
		steps[n_steps++] = (struct threshold_step){ 0, vmin, omin };
	if (max > old_max)
		steps[n_steps++] = (struct threshold_step){ 1, vmax, omax };
	steps[n_steps++] = (struct threshold_step){ 2, vhyst, ohyst };
	if (min > old_min)
		steps[n_steps++] = (struct threshold_step){ 0, vmin, omin };
	if (max < old_max)
		steps[n_steps++] = (struct threshold_step){ 1, vmax, omax };
	for (done = 0, r = 0; done < n_steps; done++) {
		r = unit_write(u, attrs[ch][steps[done].attr], steps[done].value, error);
		if (r < 0)
			break;
	}
	while (r < 0 && done-- > 0) {
		int k = write_string_at(u->dirfd, attrs[ch][steps[done].attr], steps[done].undo);

		if (k < 0) {
			char why[512];

			snprintf(why, sizeof(why),
				 "%s; restoring %s to %s failed too (%s): the thresholds are those the unit's properties show",
				 error->message ? error->message : "", attrs[ch][steps[done].attr],
				 steps[done].undo, strerror(-k));
			log_fields(LOG_ERR, &(struct log_fields){ .unit = u->name,
								  .serial = u->info->serial },
				   "%s: %s", u->name, why);
			sd_bus_error_free(error);
			r = sd_bus_error_set(error, SENSORS_ERROR_WRITE_FAILED, why);
			break;
		}
	}
	unit_after_write(u);
	/* What took effect: nothing, unless undoing a failed step failed too. */
	emit_setting_changed_int(u, uid, attrs[ch][0], old_min, u->temp_min[ch]);
	emit_setting_changed_int(u, uid, attrs[ch][1], old_max, u->temp_max[ch]);
	emit_setting_changed_int(u, uid, attrs[ch][2], old_hyst, u->temp_hyst[ch]);
	if (r < 0)
		return r;
	log_fields(LOG_INFO, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: temp%u thresholds set to %d..%d, hysteresis %d",
		   u->name, channel, min, max, hyst);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_interval(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct unit *u = userdata;
	uint32_t ms, old;
	struct polkit_caller who;
	uid_t uid = 0;
	char v[16];
	int r;

	r = sd_bus_message_read(m, "u", &ms);
	if (r < 0)
		return r;
	if (coldroom_fw_check_interval(ms) != COLDROOM_FW_OK)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "interval must be %d..%d ms, not %u",
					 COLDROOM_FW_INTERVAL_MIN_MS,
					 COLDROOM_FW_INTERVAL_MAX_MS, ms);
	AUTHORIZE(m, u->daemon, POLKIT_ACTION_CONFIGURE, u->info->serial, 0, &who, error);
	uid = who.uid;
	snprintf(v, sizeof(v), "%u", ms);
	old = u->interval_ms;
	r = unit_write(u, "update_interval_ms", v, error);
	if (r < 0)
		return r;
	log_fields(LOG_INFO, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: interval set to %u ms", u->name, ms);
	unit_after_write(u);
	emit_setting_changed_int(u, uid, "update_interval_ms", old, u->interval_ms);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_alarm_delay(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static const char *const names[UNIT_CHANNELS] = { "temp1_alarm_delay", "temp2_alarm_delay" };
	struct unit *u = userdata;
	uint32_t probe, seconds;
	unsigned int old;
	struct polkit_caller who;
	uid_t uid = 0;
	int r;

	r = sd_bus_message_read(m, "uu", &probe, &seconds);
	if (r < 0)
		return r;
	if (probe < 1 || probe > UNIT_CHANNELS)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "probe must be 1 or 2, not %u", probe);
	if (seconds > CONFIG_MAX_ALARM_DELAY_S)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "an alarm delay is 0..%d s, not %u",
					 CONFIG_MAX_ALARM_DELAY_S, seconds);
	if (!alarm_serial_ok(u->info->serial))
		return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED,
					 "%s has no serial number to keep its delay by", u->name);
	AUTHORIZE(m, u->daemon, POLKIT_ACTION_CONFIGURE, u->info->serial, probe, &who, error);
	uid = who.uid;
	old = alarms_delay(u, probe - 1);
	r = alarms_set_delay(u, probe - 1, seconds);
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "cannot set the delay: %s", strerror(-r));
	log_fields(LOG_INFO, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: probe %u alarm delay set to %u s", u->name, probe, seconds);
	emit_setting_changed_int(u, uid, names[probe - 1], old, seconds);
	return sd_bus_reply_method_return(m, NULL);
}

/* A calibration as SettingChanged's text: what the audit trail keeps of it. */
static void calibration_text(const struct calibration *c, char *buf, size_t size)
{
	if (!c) {
		snprintf(buf, size, "none");
		return;
	}
	snprintf(buf, size, "calibrated %" PRIu64 " due %" PRIu64 " certificate %s "
		 "as-found %" PRId32 " mC as-left %" PRId32 " mC", c->calibrated_usec, c->due_usec,
		 c->certificate, c->as_found_mdeg, c->as_left_mdeg);
}

static int method_set_calibration(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static const char *const names[UNIT_CHANNELS] = { "temp1_calibration",
							  "temp2_calibration" };
	struct unit *u = userdata;
	struct calibration c = { 0 };
	char old[256], new[256];
	const char *cert, *why;
	struct polkit_caller who;
	uint32_t probe;
	int r;

	r = sd_bus_message_read(m, "uttsii", &probe, &c.calibrated_usec, &c.due_usec, &cert,
				&c.as_found_mdeg, &c.as_left_mdeg);
	if (r < 0)
		return r;
	if (probe < 1 || probe > UNIT_CHANNELS)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "probe must be 1 or 2, not %u", probe);
	if (strlen(cert) >= sizeof(c.certificate))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"the certificate reference is one line of 1 to 63 characters");
	snprintf(c.certificate, sizeof(c.certificate), "%s", cert);
	if (calibration_check(&c, &why) < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, why);
	if (!alarm_serial_ok(u->info->serial))
		return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED,
					 "%s has no serial number to keep its calibration by",
					 u->name);
	/* A setting like the others: polkit's configure action, after the input is valid. */
	AUTHORIZE(m, u->daemon, POLKIT_ACTION_CONFIGURE, u->info->serial, probe, &who, error);
	calibration_text(alarms_calibration(u, probe - 1), old, sizeof(old));
	r = alarms_set_calibration(u, probe - 1, &c);
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "cannot set the calibration: %s",
					       strerror(-r));
	calibration_text(&c, new, sizeof(new));
	log_fields(LOG_INFO, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: probe %u %s", u->name, probe, new);
	emit_setting_changed(u, who.uid, names[probe - 1], old, new);
	return sd_bus_reply_method_return(m, NULL);
}

/* TempNCalibration: (calibrated, due, certificate, as_found, as_left, days_left); zeros: none. */
static int prop_get_calibration(sd_bus *bus, const char *path, const char *interface,
				const char *property, sd_bus_message *reply,
				void *userdata, sd_bus_error *error)
{
	const struct unit *u = userdata;
	const struct calibration *c = alarms_calibration(u, !strcmp(property, "Temp2Calibration"));
	struct timespec now;

	(void)bus, (void)path, (void)interface, (void)error;
	if (!c)
		return sd_bus_message_append(reply, "(ttsiix)", UINT64_C(0), UINT64_C(0), "", 0,
					     0, INT64_C(0));
	clock_gettime(CLOCK_REALTIME, &now);
	return sd_bus_message_append(reply, "(ttsiix)", c->calibrated_usec, c->due_usec,
				     c->certificate, c->as_found_mdeg, c->as_left_mdeg,
				     calibration_days_left(c, (uint64_t)now.tv_sec * 1000000ULL +
							      (uint64_t)now.tv_nsec / 1000));
}

static int method_reload_firmware(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct unit *u = userdata;
	struct polkit_caller who;
	uid_t uid = 0;
	int r;

	AUTHORIZE(m, u->daemon, POLKIT_ACTION_CONFIGURE, u->info->serial, 0, &who, error);
	uid = who.uid;
	r = unit_write(u, "firmware_reload", "1", error);
	if (r < 0)
		return r;
	emit_setting_changed(u, uid, "firmware_reload", NULL, "requested");
	log_fields(LOG_INFO, &(struct log_fields){ .unit = u->name, .serial = u->info->serial },
		   "%s: firmware reload requested", u->name);
	return sd_bus_reply_method_return(m, NULL);
}

/*
 * The unit's latest thermal frame: the pixels (int16, 0.01 degree C,
 * row-major) in a sealed memfd, so that no pixel travels in the message
 * and the receiver can map it knowing it cannot change under it.
 */
static int method_get_frame(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static int16_t pixels[COLDROOM_FRAME_MAX_PIXELS];
	struct unit *u = userdata;
	struct coldroom_frame hdr;
	_cleanup_(closep) int fd = -1;
	size_t size;
	int r;

	r = bulk_copy_frame(u->daemon, u, &hdr, pixels);
	if (r == -ESTALE)	/* overwritten while copied: the next one is newer */
		r = bulk_copy_frame(u->daemon, u, &hdr, pixels);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, SENSORS_ERROR_NO_FRAME,
					 "%s (%s) has sent no thermal frame: it has no imager, "
					 "or no sample with one yet", u->name, u->info->model);
	if (r == -ENODEV)
		return sd_bus_error_setf(error, SENSORS_ERROR_NO_FRAME,
					 "thermal frames come from %s, which coldroomd is not reading",
					 COLDROOM_DEVICE);
	if (r < 0)
		return sd_bus_error_setf(error, SENSORS_ERROR_NO_FRAME,
					 "%s: its latest frame is gone from the ring (%s)",
					 u->name, strerror(-r));
	size = (size_t)hdr.width * hdr.height * sizeof(*pixels);
	fd = memfd_create("coldroom-frame", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return sd_bus_error_set_errnof(error, errno, "memfd_create: %m");
	r = write_all(fd, pixels, size);
	if (r >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			    F_SEAL_SEAL) < 0)
		r = -errno;
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "the frame's memfd: %s", strerror(-r));
	return sd_bus_reply_method_return(m, "hqqtt", fd, hdr.width, hdr.height, hdr.seq,
					  daemon_realtime_usec_of(u->daemon, hdr.timestamp_ns));
}

static int prop_get_string(sd_bus *bus, const char *path, const char *interface,
			   const char *property, sd_bus_message *reply,
			   void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	/* userdata points at the unit's char array (vtable offset). */
	return sd_bus_message_append_basic(reply, 's', userdata);
}

static int prop_get_celsius(sd_bus *bus, const char *path, const char *interface,
			    const char *property, sd_bus_message *reply,
			    void *userdata, sd_bus_error *error)
{
	struct unit *u = userdata;
	unsigned int ch = !strcmp(property, "Temp2Celsius");
	double v = u->temp_status[ch] == TEMP_STATUS_OK ? u->temp[ch] / 1000.0 : NAN;

	(void)bus, (void)path, (void)interface, (void)error;
	return sd_bus_message_append_basic(reply, 'd', &v);
}

#define U(field) offsetof(struct unit, field)
#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define CONST SD_BUS_VTABLE_PROPERTY_CONST
/* New with every sample: the Readings signal carries them (DBUS-API.md). */
#define HIGH_RATE 0

/*
 * The getters of the unit's strings, which live in its info (the vtable's
 * offsets reach only into struct unit itself), in the way of systemd's
 * BUS_DEFINE_PROPERTY_GET().
 */
#define DEFINE_INFO_GETTER(field)							\
	static int prop_get_info_##field(sd_bus *bus, const char *path,			\
					 const char *interface, const char *property,	\
					 sd_bus_message *reply, void *userdata,		\
					 sd_bus_error *error)				\
	{										\
		const struct unit *u = userdata;					\
											\
		(void)bus, (void)path, (void)interface, (void)property, (void)error;	\
		return sd_bus_message_append_basic(reply, 's', u->info->field);		\
	}
DEFINE_INFO_GETTER(serial)
DEFINE_INFO_GETTER(model)
DEFINE_INFO_GETTER(label)
DEFINE_INFO_GETTER(fw_name)
DEFINE_INFO_GETTER(fw_state)
DEFINE_INFO_GETTER(fw_version)
DEFINE_INFO_GETTER(fw_error)
DEFINE_INFO_GETTER(fw_source)

static int prop_get_alarm_delay(sd_bus *bus, const char *path, const char *interface,
				const char *property, sd_bus_message *reply,
				void *userdata, sd_bus_error *error)
{
	const struct unit *u = userdata;

	(void)bus, (void)path, (void)interface, (void)error;
	return sd_bus_message_append(reply, "u",
				     (uint32_t)alarms_delay(u, !strcmp(property, "Temp2AlarmDelay")));
}

const sd_bus_vtable bus_unit_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", prop_get_string, U(name), CONST),
	SD_BUS_PROPERTY("Number", "u", NULL, U(number), CONST),
	SD_BUS_PROPERTY("Serial", "s", prop_get_info_serial, 0, CONST),
	SD_BUS_PROPERTY("Model", "s", prop_get_info_model, 0, CONST),
	SD_BUS_PROPERTY("Label", "s", prop_get_info_label, 0, EMITS),
	SD_BUS_PROPERTY("Temp1", "i", NULL, U(temp[0]), HIGH_RATE),
	SD_BUS_PROPERTY("Temp2", "i", NULL, U(temp[1]), HIGH_RATE),
	SD_BUS_PROPERTY("Temp1Celsius", "d", prop_get_celsius, 0, HIGH_RATE),
	SD_BUS_PROPERTY("Temp2Celsius", "d", prop_get_celsius, 0, HIGH_RATE),
	SD_BUS_PROPERTY("Temp1Status", "u", NULL, U(temp_status[0]), EMITS),
	SD_BUS_PROPERTY("Temp2Status", "u", NULL, U(temp_status[1]), EMITS),
	SD_BUS_PROPERTY("Temp1Alarm", "b", NULL, U(alarm[0]), EMITS),
	SD_BUS_PROPERTY("Temp2Alarm", "b", NULL, U(alarm[1]), EMITS),
	SD_BUS_PROPERTY("Temp1Min", "i", NULL, U(temp_min[0]), EMITS),
	SD_BUS_PROPERTY("Temp1Max", "i", NULL, U(temp_max[0]), EMITS),
	SD_BUS_PROPERTY("Temp1Hyst", "i", NULL, U(temp_hyst[0]), EMITS),
	SD_BUS_PROPERTY("Temp2Min", "i", NULL, U(temp_min[1]), EMITS),
	SD_BUS_PROPERTY("Temp2Max", "i", NULL, U(temp_max[1]), EMITS),
	SD_BUS_PROPERTY("Temp2Hyst", "i", NULL, U(temp_hyst[1]), EMITS),
	SD_BUS_PROPERTY("UpdateIntervalMs", "u", NULL, U(interval_ms), EMITS),
	SD_BUS_PROPERTY("SampleSeq", "t", NULL, U(sample_seq), HIGH_RATE),
	SD_BUS_PROPERTY("LastUpdate", "t", NULL, U(last_update_usec), HIGH_RATE),
	SD_BUS_PROPERTY("FirmwareName", "s", prop_get_info_fw_name, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareState", "s", prop_get_info_fw_state, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareVersion", "s", prop_get_info_fw_version, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareError", "s", prop_get_info_fw_error, 0, EMITS),
	SD_BUS_PROPERTY("FirmwareSource", "s", prop_get_info_fw_source, 0, EMITS),
	/* Not signalled: a reload's AlarmDelaySec would change thousands at once. */
	SD_BUS_PROPERTY("Temp1AlarmDelay", "u", prop_get_alarm_delay, 0, 0),
	SD_BUS_PROPERTY("Temp2AlarmDelay", "u", prop_get_alarm_delay, 0, 0),
	/* Not signalled either: the days left change every day. */
	SD_BUS_PROPERTY("Temp1Calibration", "(ttsiix)", prop_get_calibration, 0, 0),
	SD_BUS_PROPERTY("Temp2Calibration", "(ttsiix)", prop_get_calibration, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("SetLabel", SD_BUS_ARGS("s", label), SD_BUS_NO_RESULT,
				method_set_label, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetThresholds",
				SD_BUS_ARGS("u", channel, "i", min, "i", max, "i", hyst),
				SD_BUS_NO_RESULT, method_set_thresholds,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetInterval", SD_BUS_ARGS("u", interval_ms),
				SD_BUS_NO_RESULT, method_set_interval,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetAlarmDelay", SD_BUS_ARGS("u", probe, "u", seconds),
				SD_BUS_NO_RESULT, method_set_alarm_delay,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetCalibration",
				SD_BUS_ARGS("u", probe, "t", calibrated, "t", due, "s", certificate,
					    "i", as_found, "i", as_left),
				SD_BUS_NO_RESULT, method_set_calibration,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ReloadFirmware", NULL, NULL, method_reload_firmware,
		      SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetFrame", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("h", pixels, "q", width, "q", height,
					      "t", sample_seq, "t", timestamp),
				method_get_frame, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

/*
 * Every unit's latest reading, in unit order, in the Readings signal's
 * shape. The snapshot is taken by the first call after a window ended or
 * a unit came or went, so all callers of one window share one pass over
 * the units; each reply copies its arrays whole, after the window's end
 * (replies.c).
 */
static int method_get_readings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return replies_get_readings(userdata, m, error);
}

static int method_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *key;
	struct unit *u;
	int r;

	r = sd_bus_message_read(m, "s", &key);
	if (r < 0)
		return r;
	u = daemon_find_unit(d, key);
	for (size_t i = 0; !u && i < d->n_units; i++)
		if (!strcmp(d->units[i]->info->serial, key))
			u = d->units[i];
	if (!u)
		return sd_bus_error_setf(error, SENSORS_ERROR_NO_SUCH_UNIT,
					 "no unit is named or has the serial '%s'", key);
	return sd_bus_reply_method_return(m, "o", u->object_path);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct polkit_caller who;
	int r;

	AUTHORIZE(m, d, POLKIT_ACTION_CONFIGURE, NULL, 0, &who, error);
	r = daemon_reload(d);
	(void)sd_bus_emit_properties_changed(d->bus, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					     "ConfigError", NULL);
	if (r < 0)
		return sd_bus_error_setf(error, SENSORS_ERROR_CONFIG_INVALID,
					 "%s (the previous configuration stays in force)",
					 d->config_error);
	return sd_bus_reply_method_return(m, NULL);
}

static int prop_get_const_version(sd_bus *bus, const char *path, const char *interface,
				  const char *property, sd_bus_message *reply,
				  void *userdata, sd_bus_error *error)
{
	(void)bus, (void)path, (void)interface, (void)property, (void)userdata, (void)error;
	return sd_bus_message_append(reply, "s", COLDROOM_VERSION);
}

static int prop_get_unit_count(sd_bus *bus, const char *path, const char *interface,
			       const char *property, sd_bus_message *reply,
			       void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	return sd_bus_message_append(reply, "u", (uint32_t)d->n_units);
}

#define ALARM_ENTRY "(tssuuuitttusss)"

/* The open alarms: raised, acknowledged, or cleared but not acknowledged. */
static int method_list_alarms(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct daemon *d = userdata;
	int r;

	(void)error;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', ALARM_ENTRY);
	for (size_t i = 0; r >= 0 && i < alarms_slots(d); i++) {
		const char *name;
		const struct alarm_record *a = alarms_slot(d, i, &name);

		if (!a)
			continue;
		r = sd_bus_message_append(reply, ALARM_ENTRY, a->id, a->serial, name,
					  (uint32_t)a->probe, (uint32_t)a->state,
					  (uint32_t)a->level, a->temp, a->raised_usec,
					  a->cleared_usec, a->acked_usec, a->acked_uid,
					  a->acked_user, a->comment, alarm_kind_name(a->kind));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_acknowledge(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *key, *comment;
	struct polkit_caller who;
	struct unit *u;
	uint32_t probe;
	int r;

	r = sd_bus_message_read(m, "sus", &key, &probe, &comment);
	if (r < 0)
		return r;
	if (probe < 1 || probe > UNIT_CHANNELS)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "probe must be 1 or 2, not %u", probe);
	if (strlen(comment) >= ALARM_COMMENT_MAX)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "a comment is at most %d characters", ALARM_COMMENT_MAX - 1);
	for (const char *p = comment; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
						"a comment is one line of text without control characters");
	u = daemon_find_unit(d, key);
	AUTHORIZE(m, d, POLKIT_ACTION_ACKNOWLEDGE, u ? u->info->serial : key, probe, &who, error);
	r = alarms_acknowledge(d, u, key, probe, who.uid, who.user, comment);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, SENSORS_ERROR_NO_SUCH_ALARM,
					 "%s probe %u has no open alarm", key, probe);
	if (r == -EALREADY)
		return sd_bus_error_setf(error, SENSORS_ERROR_NO_SUCH_ALARM,
					 "the alarm of %s probe %u is already acknowledged", key, probe);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, NULL);
}

static int prop_get_unacked(sd_bus *bus, const char *path, const char *interface,
			    const char *property, sd_bus_message *reply,
			    void *userdata, sd_bus_error *error)
{
	const struct daemon *d = userdata;

	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	return sd_bus_message_append(reply, "u", (uint32_t)d->n_unacked);
}

/* OpenAlarms: every kind, with how many of its alarms are open. */
static int prop_get_open_alarms(sd_bus *bus, const char *path, const char *interface,
				const char *property, sd_bus_message *reply,
				void *userdata, sd_bus_error *error)
{
	const struct daemon *d = userdata;
	int r;

	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	r = sd_bus_message_open_container(reply, 'a', "{su}");
	for (unsigned int k = 0; r >= 0 && k < ALARM_KINDS; k++)
		r = sd_bus_message_append(reply, "{su}", alarm_kind_name(k),
					  (uint32_t)d->n_open[k]);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Calibrations: every probe whose calibration is known, by serial, gone units too. */
static int prop_get_calibrations(sd_bus *bus, const char *path, const char *interface,
				 const char *property, sd_bus_message *reply,
				 void *userdata, sd_bus_error *error)
{
	const struct daemon *d = userdata;
	struct timespec ts;
	uint64_t now;
	int r;

	(void)bus, (void)path, (void)interface, (void)property, (void)error;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
	r = sd_bus_message_open_container(reply, 'a', "(suttsiix)");
	for (size_t i = 0; r >= 0 && i < alarms_slots(d); i++) {
		const char *serial;
		unsigned int probe;
		const struct calibration *c = alarms_calibration_slot(d, i, &serial, &probe);

		if (c)
			r = sd_bus_message_append(reply, "(suttsiix)", serial, (uint32_t)probe,
						  c->calibrated_usec, c->due_usec, c->certificate,
						  c->as_found_mdeg, c->as_left_mdeg,
						  calibration_days_left(c, now));
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", prop_get_const_version, 0, CONST),
	SD_BUS_PROPERTY("UnitCount", "u", prop_get_unit_count, 0, EMITS),
	SD_BUS_PROPERTY("ConfigError", "s", prop_get_string,
			offsetof(struct daemon, config_error), EMITS),
	SD_BUS_PROPERTY("ReadingSource", "s", prop_get_string,
			offsetof(struct daemon, reading_source_name), EMITS),
	SD_BUS_PROPERTY("EventSource", "s", prop_get_string,
			offsetof(struct daemon, event_source_name), EMITS),
	SD_BUS_METHOD_WITH_ARGS("GetReadings", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("au", units, "ai", temp1, "ai", temp2,
					      "ay", temp1_status, "ay", temp2_status,
					      "ay", alarms, "at", sample_seq, "at", last_update),
				method_get_readings, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetUnit", SD_BUS_ARGS("s", name_or_serial),
				SD_BUS_RESULT("o", unit), method_get_unit,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Reload", NULL, NULL, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("UnacknowledgedAlarms", "u", prop_get_unacked, 0, EMITS),
	SD_BUS_PROPERTY("OpenAlarms", "a{su}", prop_get_open_alarms, 0, EMITS),
	SD_BUS_PROPERTY("Calibrations", "a(suttsiix)", prop_get_calibrations, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("ListAlarms", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("a" ALARM_ENTRY, alarms), method_list_alarms,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Acknowledge",
				SD_BUS_ARGS("s", unit, "u", probe, "s", comment),
				SD_BUS_NO_RESULT, method_acknowledge, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("AlarmChanged",
				SD_BUS_ARGS("t", id, "s", event, "s", serial, "s", unit,
					    "u", probe, "u", state, "u", level, "i", temp,
					    "t", time, "u", uid, "s", user, "s", comment,
					    "s", kind), 0),
	SD_BUS_SIGNAL_WITH_ARGS("Alarm",
				SD_BUS_ARGS("o", unit, "s", name, "u", channel,
					    "b", active, "i", temp), 0),
	SD_BUS_SIGNAL_WITH_ARGS("SettingChanged",
				SD_BUS_ARGS("o", unit, "s", name, "s", serial, "s", setting,
					    "s", old_value, "s", new_value, "u", uid, "s", user), 0),
	SD_BUS_SIGNAL_WITH_ARGS("AuthorizationRefused",
				SD_BUS_ARGS("s", action, "s", unit, "u", probe, "u", uid,
					    "s", user, "s", reason), 0),
	SD_BUS_SIGNAL_WITH_ARGS("Readings",
				SD_BUS_ARGS("au", units, "ai", temp1, "ai", temp2,
					    "ay", temp1_status, "ay", temp2_status,
					    "ay", alarms, "at", sample_seq, "at", last_update), 0),
	SD_BUS_VTABLE_END
};

static int unit_find(sd_bus *bus, const char *path, const char *interface,
		     void *userdata, void **found, sd_bus_error *error)
{
	_cleanup_(freep) char *name = NULL;
	struct daemon *d = userdata;
	struct unit *u;
	int r;

	(void)bus, (void)interface, (void)error;
	r = sd_bus_path_decode(path, SENSORS_UNIT_PREFIX, &name);
	if (r <= 0)
		return 0;
	u = daemon_find_unit(d, name);
	if (!u)
		return 0;
	*found = u;
	return 1;
}

static int unit_enumerate(sd_bus *bus, const char *prefix, void *userdata,
			  char ***nodes, sd_bus_error *error)
{
	struct daemon *d = userdata;
	char **v;

	(void)bus, (void)prefix, (void)error;
	v = calloc(d->n_units + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_units; i++) {
		v[i] = strdup(d->units[i]->object_path);
		if (!v[i]) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return -ENOMEM;
		}
	}
	*nodes = v;
	return 0;
}

int bus_attach(struct daemon *d, sd_bus *bus)
{
	int r;

	r = sd_bus_add_object_manager(bus, NULL, SENSORS_PATH);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, SENSORS_PATH, SENSORS_MANAGER_IFACE,
					     manager_vtable, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, SENSORS_UNIT_PREFIX, SENSORS_UNIT_IFACE,
					       bus_unit_vtable, unit_find, d);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, NULL, SENSORS_UNIT_PREFIX, unit_enumerate, d);
	if (r >= 0)
		r = replies_attach(d, bus);
	if (r < 0) {
		log_error("cannot publish the objects: %s", strerror(-r));
		return r;
	}
	d->bus = sd_bus_ref(bus);
	return 0;
}

int bus_setup(struct daemon *d, const struct service *service, const char *bus_spec)
{
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	const char *unique;
	int r;

	/*
	 * Callers come after the readings: the window's timer and the device
	 * have a higher priority than the bus, and no call holds the loop
	 * long (GetManagedObjects is answered in slices, replies.c).
	 */
	r = service_bus_open(service, d->event, bus_spec, &bus);
	if (r < 0)
		return r;
	/*
	 * Finish authentication and Hello now: the first scan of thousands of
	 * units runs before the event loop, and the bus drops a connection
	 * whose authentication takes longer than its auth_timeout.
	 */
	r = sd_bus_get_unique_name(bus, &unique);
	if (r < 0) {
		log_error("cannot connect to the %s bus: %s", bus_spec, strerror(-r));
		return r;
	}
	return bus_attach(d, bus);
}

int bus_request_name(struct daemon *d)
{
	int r = sd_bus_request_name(d->bus, SENSORS_BUS_NAME, 0);

	if (r < 0)
		log_error("cannot own %s: %s", SENSORS_BUS_NAME, strerror(-r));
	return r;
}
