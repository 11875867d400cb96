// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom core: the "coldroom" class, one sensorN device per unit with its
 * sysfs attributes, the sample path and the alarm logic, and the module's
 * init and exit.
 */

#include <linux/ctype.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/kernfs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/xarray.h>

#include "coldroom_core.h"

#define COLDROOM_DEFAULT_INTERVAL_MS	1000

static const struct coldroom_thresholds coldroom_default_thr[COLDROOM_CHANNELS] = {
	{ .min = -25000, .max = -12000, .hyst = 1000 },	/* room air */
	{ .min = -40000, .max = 0, .hyst = 1000 },		/* evaporator coil */
};

static const char * const coldroom_fw_state_names[] = {
	[COLDROOM_FW_PENDING] = "pending",
	[COLDROOM_FW_LOADING] = "loading",
	[COLDROOM_FW_READY] = "ready",
	[COLDROOM_FW_FAILED] = "failed",
};

static DEFINE_IDA(coldroom_ida);
/*
 * Registered sensors by identity, to refuse a second unit with the same
 * model and serial in constant time (the key is the NUL-padded identity).
 */
static struct rhashtable coldroom_idents;
static const struct rhashtable_params coldroom_ident_params = {
	.key_len = sizeof(struct coldroom_identity),
	.key_offset = offsetof(struct coldroom_sensor, ident),
	.head_offset = offsetof(struct coldroom_sensor, ident_node),
	.automatic_shrinking = true,
};

/* The same sensors by unit number: lookups, and walks in unit order. */
static DEFINE_XARRAY(coldroom_units);

const char *coldroom_fw_state_name(enum coldroom_fw_state state)
{
	return coldroom_fw_state_names[state];
}

static int coldroom_dev_uevent(struct device *dev, struct kobj_uevent_env *env)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	int ret;

	ret = add_uevent_var(env, "COLDROOM_MODEL=%s", s->ident.model);
	if (!ret)
		ret = add_uevent_var(env, "COLDROOM_SERIAL=%s", s->ident.serial);
	return ret;
}

static void coldroom_sensor_free(struct coldroom_sensor *s)
{
	if (s->frame_buf)
		coldroom_obj_free(COLDROOM_OBJ_FRAME_BUFFER);
	kfree(s->frame_buf);
	kfree(s);
	coldroom_obj_free(COLDROOM_OBJ_SENSOR);
}

static void coldroom_dev_release(struct device *dev)
{
	coldroom_sensor_free(to_coldroom_sensor(dev));
}

static struct class coldroom_class = {
	.name = "coldroom",
	.owner = THIS_MODULE,
	.dev_groups = coldroom_sensor_groups,
	.dev_uevent = coldroom_dev_uevent,
	.dev_release = coldroom_dev_release,
};

void coldroom_uevent(struct coldroom_sensor *s, const char *event,
		     const char *key1, const char *val1,
		     const char *key2, const char *val2)
{
	char ev[48], kv1[96], kv2[96];
	char *envp[4] = { ev, NULL, NULL, NULL };

	snprintf(ev, sizeof(ev), "COLDROOM_EVENT=%s", event);
	if (key1) {
		snprintf(kv1, sizeof(kv1), "%s=%s", key1, val1);
		envp[1] = kv1;
	}
	if (key2) {
		snprintf(kv2, sizeof(kv2), "%s=%s", key2, val2);
		envp[2] = kv2;
	}
	kobject_uevent_env(&s->dev.kobj, KOBJ_CHANGE, envp);
}

/*
 * Tells every listener that a channel's alarm changed: poll() on the
 * attribute, the uevent, hwmon and the netlink family. Called without
 * s->lock, once per change.
 */
static void coldroom_alarm_changed(struct coldroom_sensor *s, unsigned int ch,
				   bool alarm, s32 temp, u64 seq, u64 ns)
{
	char chan[2] = { '1' + ch, 0 };

	sysfs_notify(&s->dev.kobj, NULL, ch ? "temp2_alarm" : "temp1_alarm");
	coldroom_uevent(s, "alarm", "COLDROOM_CHANNEL", chan,
			"COLDROOM_ALARM", alarm ? "1" : "0");
	coldroom_hwmon_alarm(s, ch);
	coldroom_nl_alarm(s, ch, alarm, temp, seq, ns);
}

void coldroom_set_fw_state(struct coldroom_sensor *s,
			   enum coldroom_fw_state state, const char *error)
{
	bool cleared[COLDROOM_CHANNELS] = { };
	s32 temp[COLDROOM_CHANNELS];
	unsigned int ch;
	bool changed;
	u64 seq;

	mutex_lock(&s->lock);
	changed = s->fw_state != state;
	s->fw_state = state;
	strscpy(s->fw_error, error ? error : "", sizeof(s->fw_error));
	if (state != COLDROOM_FW_READY) {
		/* Readings of an old blob must not outlive it, nor its alarms. */
		s->have_sample = false;
		s->fw_version = 0;
		for (ch = 0; ch < COLDROOM_CHANNELS; ch++) {
			cleared[ch] = s->alarm[ch];
			temp[ch] = s->temp[ch];
			s->alarm[ch] = false;
		}
	}
	seq = s->seq;
	mutex_unlock(&s->lock);

	if (changed) {
		sysfs_notify(&s->dev.kobj, NULL, "firmware_state");
		coldroom_uevent(s, "firmware-state", "COLDROOM_FIRMWARE_STATE",
				coldroom_fw_state_names[state], NULL, NULL);
		coldroom_nl_fw_state(s, state, error);
	}
	/* A listener that saw an alarm raised must see it cleared. */
	for (ch = 0; ch < COLDROOM_CHANNELS; ch++)
		if (cleared[ch])
			coldroom_alarm_changed(s, ch, false, temp[ch], seq,
					       ktime_get_ns());
}

void coldroom_stop_sampling(struct coldroom_sensor *s)
{
	lockdep_assert_held(&s->ops_lock);
	if (!s->sampling)
		return;
	s->ops->stop(s);
	s->sampling = false;
}

struct coldroom_sensor *coldroom_sensor_get(u32 unit)
{
	struct coldroom_sensor *s;

	xa_lock(&coldroom_units);
	s = xa_load(&coldroom_units, unit);
	if (s)
		get_device(&s->dev);
	xa_unlock(&coldroom_units);
	return s;
}

struct coldroom_sensor *coldroom_sensor_get_next(u32 *unit)
{
	unsigned long index = *unit;
	struct coldroom_sensor *s;

	xa_lock(&coldroom_units);
	s = xa_find(&coldroom_units, &index, COLDROOM_UNIT_MAX, XA_PRESENT);
	if (s)
		get_device(&s->dev);
	xa_unlock(&coldroom_units);
	if (s)
		*unit = index;
	return s;
}

void coldroom_sensor_put(struct coldroom_sensor *s)
{
	put_device(&s->dev);
}

void coldroom_sensor_snapshot(struct coldroom_sensor *s,
			      struct coldroom_reading *r)
{
	memset(r, 0, sizeof(*r));
	r->unit = s->id;
	mutex_lock(&s->lock);
	if (s->fw_state == COLDROOM_FW_READY && s->have_sample) {
		r->flags |= COLDROOM_F_READY;
		if (!s->temp_err[0])
			r->flags |= COLDROOM_F_TEMP1_VALID;
		if (!s->temp_err[1])
			r->flags |= COLDROOM_F_TEMP2_VALID;
		if (s->alarm[0])
			r->flags |= COLDROOM_F_TEMP1_ALARM;
		if (s->alarm[1])
			r->flags |= COLDROOM_F_TEMP2_ALARM;
		r->temp1 = s->temp_err[0] ? 0 : s->temp[0];
		r->temp2 = s->temp_err[1] ? 0 : s->temp[1];
		r->seq = s->seq;
		r->timestamp_ns = s->sample_ns;
	}
	mutex_unlock(&s->lock);
}

int coldroom_read_temp(struct coldroom_sensor *s, unsigned int channel,
		       s32 *val)
{
	int ret = 0;

	mutex_lock(&s->lock);
	if (s->fw_state != COLDROOM_FW_READY || !s->have_sample)
		ret = -ENODATA;
	else if (s->temp_err[channel])
		ret = s->temp_err[channel];
	else
		*val = s->temp[channel];
	mutex_unlock(&s->lock);
	return ret;
}

/*
 * Sets one threshold field of a channel if the channel's thresholds with
 * the new value pass coldroom_fw_check_thresholds(), the rule a blob's
 * thresholds pass too (a non-empty clear band among them); else -EINVAL
 * and nothing changes.
 */
int coldroom_set_threshold(struct coldroom_sensor *s, unsigned int channel,
			   int field, s32 val)
{
	struct coldroom_thresholds *thr = &s->thr[channel];
	struct coldroom_fw_thresholds want;
	int ret = 0;

	if (field == COLDROOM_THR_HYST && val < 0)
		return -EINVAL;

	mutex_lock(&s->lock);
	want.min_mdeg = field == COLDROOM_THR_MIN ? val : thr->min;
	want.max_mdeg = field == COLDROOM_THR_MAX ? val : thr->max;
	want.hyst_mdeg = field == COLDROOM_THR_HYST ? val : thr->hyst;
	if (coldroom_fw_check_thresholds(&want) != COLDROOM_FW_OK) {
		ret = -EINVAL;
	} else {
		thr->min = want.min_mdeg;
		thr->max = want.max_mdeg;
		thr->hyst = want.hyst_mdeg;
	}
	mutex_unlock(&s->lock);
	return ret;
}

/* Alarm with hysteresis; returns true when the alarm state changed. */
static bool coldroom_update_alarm(struct coldroom_sensor *s,
				  unsigned int ch, s32 val)
{
	const struct coldroom_thresholds *thr = &s->thr[ch];
	bool alarm = s->alarm[ch];

	if (val > thr->max || val < thr->min)
		alarm = true;
	else if (val >= thr->min + thr->hyst && val <= thr->max - thr->hyst)
		alarm = false;
	if (alarm == s->alarm[ch])
		return false;
	s->alarm[ch] = alarm;
	return true;
}

void coldroom_sensor_sample(struct coldroom_sensor *s)
{
	static const u32 valid_flag[] = {
		COLDROOM_F_TEMP1_VALID, COLDROOM_F_TEMP2_VALID,
	};
	static const u32 alarm_flag[] = {
		COLDROOM_F_TEMP1_ALARM, COLDROOM_F_TEMP2_ALARM,
	};
	bool changed[COLDROOM_CHANNELS] = { };
	bool alarm[COLDROOM_CHANNELS];
	s32 raw[COLDROOM_CHANNELS];
	s32 temp[COLDROOM_CHANNELS] = { };
	int err[COLDROOM_CHANNELS];
	struct coldroom_record rec = { };
	bool have_frame = false;
	unsigned int ch;

	for (ch = 0; ch < COLDROOM_CHANNELS; ch++)
		err[ch] = s->ops->read_raw(s, ch, &raw[ch]);
	/* frame_buf stays put while the unit samples. */
	if (s->frame_buf)
		have_frame = !s->ops->read_frame(s, s->frame_buf,
						 s->frame_width,
						 s->frame_height);

	mutex_lock(&s->lock);
	if (s->fw_state != COLDROOM_FW_READY) {
		mutex_unlock(&s->lock);
		atomic64_inc(&coldroom_counters.samples_dropped);
		return;
	}
	for (ch = 0; ch < COLDROOM_CHANNELS; ch++) {
		if (err[ch]) {
			s->temp_err[ch] = err[ch] == -ENODATA ? -EIO : err[ch];
			continue;
		}
		s->temp_err[ch] = 0;
		s->temp[ch] = coldroom_fw_calibrate(&s->cal[ch], raw[ch]);
		changed[ch] = coldroom_update_alarm(s, ch, s->temp[ch]);
		alarm[ch] = s->alarm[ch];
		temp[ch] = s->temp[ch];
		rec.flags |= valid_flag[ch];
	}
	s->seq++;
	s->sample_ns = ktime_get_ns();
	s->have_sample = true;
	for (ch = 0; ch < COLDROOM_CHANNELS; ch++)
		if (s->alarm[ch])
			rec.flags |= alarm_flag[ch];
	rec.unit = s->id;
	rec.seq = s->seq;
	rec.timestamp_ns = s->sample_ns;
	rec.temp1 = temp[0];
	rec.temp2 = temp[1];
	mutex_unlock(&s->lock);

	coldroom_ring_publish(&rec, have_frame ? s->frame_buf : NULL,
			      s->frame_width, s->frame_height);
	sysfs_notify_dirent(s->seq_kn);
	for (ch = 0; ch < COLDROOM_CHANNELS; ch++)
		if (changed[ch])
			coldroom_alarm_changed(s, ch, alarm[ch], temp[ch],
					       rec.seq, rec.timestamp_ns);
}
EXPORT_SYMBOL_GPL(coldroom_sensor_sample);

void *coldroom_sensor_backend_data(struct coldroom_sensor *sensor)
{
	return sensor->backend_data;
}
EXPORT_SYMBOL_GPL(coldroom_sensor_backend_data);

/* Model and serial become a file name: keep them to a safe alphabet. */
static bool coldroom_id_valid(const char *s)
{
	size_t len = strnlen(s, COLDROOM_ID_LEN + 1);
	size_t i;

	if (len == 0 || len > COLDROOM_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return strcmp(s, ".") && strcmp(s, "..");
}

/* The identity as a hash key: nothing but zeros after each string. */
static void coldroom_id_pad(struct coldroom_identity *id)
{
	size_t len = strlen(id->model);

	memset(id->model + len, 0, sizeof(id->model) - len);
	len = strlen(id->serial);
	memset(id->serial + len, 0, sizeof(id->serial) - len);
}

/*
 * First devres step of removal: no firmware callback runs or will run, and
 * the backend no longer samples, before hwmon and the class device go.
 */
static void coldroom_sensor_quiesce(void *data)
{
	struct coldroom_sensor *s = data;

	coldroom_fw_shutdown(s);

	mutex_lock(&s->ops_lock);
	coldroom_stop_sampling(s);
	mutex_unlock(&s->ops_lock);
}

static void coldroom_sensor_unregister(void *data)
{
	struct coldroom_sensor *s = data;

	xa_erase(&coldroom_units, s->id);
	rhashtable_remove_fast(&coldroom_idents, &s->ident_node,
			       coldroom_ident_params);
	coldroom_nl_unit(s, false);

	sysfs_put(s->seq_kn);
	device_del(&s->dev);
	ida_free(&coldroom_ida, s->id);
	put_device(&s->dev);
}

/**
 * devm_coldroom_sensor_register - make a unit a coldroom sensor
 * @parent: the backend's device; the sensor goes away when it unbinds
 * @ops: backend operations; get_identity, start, stop, read_raw required
 * @backend_data: returned by coldroom_sensor_backend_data()
 *
 * Creates /sys/class/coldroom/sensorN and the hwmon device, then queues the
 * unit's firmware request. Sampling starts once valid firmware is applied.
 *
 * Return: the sensor or an ERR_PTR().
 */
struct coldroom_sensor *
devm_coldroom_sensor_register(struct device *parent,
			      const struct coldroom_sensor_ops *ops,
			      void *backend_data)
{
	struct coldroom_sensor *s;
	unsigned int ch;
	int ret;

	if (!parent || !ops || !ops->get_identity || !ops->start ||
	    !ops->stop || !ops->read_raw)
		return ERR_PTR(-EINVAL);

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	coldroom_obj_alloc(COLDROOM_OBJ_SENSOR);
	s->ops = ops;
	s->backend_data = backend_data;
	mutex_init(&s->ops_lock);
	mutex_init(&s->lock);
	coldroom_fw_init_sensor(s);

	ret = ops->get_identity(s, &s->ident);
	if (!ret && (!coldroom_id_valid(s->ident.model) ||
		     !coldroom_id_valid(s->ident.serial)))
		ret = -EINVAL;
	if (ret) {
		coldroom_sensor_free(s);
		return ERR_PTR(ret);
	}
	coldroom_id_pad(&s->ident);
	snprintf(s->fw_name, sizeof(s->fw_name), "coldroom/%s-%s.fw",
		 s->ident.model, s->ident.serial);
	strscpy(s->label, s->ident.serial, sizeof(s->label));
	s->interval_ms = COLDROOM_DEFAULT_INTERVAL_MS;
	for (ch = 0; ch < COLDROOM_CHANNELS; ch++) {
		s->thr[ch] = coldroom_default_thr[ch];
		s->cal[ch].gain_ppm = 1000000;
	}
	s->fw_state = COLDROOM_FW_PENDING;

	s->id = ida_alloc_max(&coldroom_ida, COLDROOM_UNIT_MAX, GFP_KERNEL);
	if (s->id < 0) {
		ret = s->id;
		coldroom_sensor_free(s);
		return ERR_PTR(ret);
	}

	device_initialize(&s->dev);
	s->dev.class = &coldroom_class;
	s->dev.parent = parent;
	dev_set_drvdata(&s->dev, s);
	ret = dev_set_name(&s->dev, "sensor%d", s->id);
	if (ret)
		goto err_put;
	/* The id is ours alone, so the slot is free. */
	ret = xa_insert(&coldroom_units, s->id, s, GFP_KERNEL);
	if (ret)
		goto err_put;

	/* Claims the identity: of two units alike, exactly one gets here. */
	ret = rhashtable_lookup_insert_fast(&coldroom_idents, &s->ident_node,
					    coldroom_ident_params);
	if (ret) {
		if (ret == -EEXIST)
			dev_err(parent, "a unit %s %s is already registered\n",
				s->ident.model, s->ident.serial);
		goto err_put;
	}
	ret = device_add(&s->dev);
	if (ret) {
		rhashtable_remove_fast(&coldroom_idents, &s->ident_node,
				       coldroom_ident_params);
		goto err_put;
	}

	s->seq_kn = sysfs_get_dirent(s->dev.kobj.sd, "sample_seq");

	ret = devm_add_action_or_reset(parent, coldroom_sensor_unregister, s);
	if (ret)
		return ERR_PTR(ret);

	/* devres undoes these in reverse: quiesce, hwmon, unregister. */
	ret = coldroom_hwmon_register(s, parent);
	if (ret)
		return ERR_PTR(ret);
	ret = devm_add_action_or_reset(parent, coldroom_sensor_quiesce, s);
	if (ret)
		return ERR_PTR(ret);

	coldroom_nl_unit(s, true);
	coldroom_fw_queue(s);
	return s;

err_put:
	xa_erase(&coldroom_units, s->id);
	ida_free(&coldroom_ida, s->id);
	put_device(&s->dev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(devm_coldroom_sensor_register);

/* ---- sysfs ---- */

static ssize_t serial_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", to_coldroom_sensor(dev)->ident.serial);
}
static DEVICE_ATTR_RO(serial);

static ssize_t model_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", to_coldroom_sensor(dev)->ident.model);
}
static DEVICE_ATTR_RO(model);

static ssize_t label_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	ssize_t ret;

	mutex_lock(&s->lock);
	ret = sysfs_emit(buf, "%s\n", s->label);
	mutex_unlock(&s->lock);
	return ret;
}

static ssize_t label_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	char label[COLDROOM_FW_LABEL_MAX + 1];
	size_t len = count;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len > COLDROOM_FW_LABEL_MAX || memchr(buf, '\0', len))
		return -EINVAL;
	memcpy(label, buf, len);
	label[len] = '\0';
	/* The rule a blob's label section is held to. */
	if (coldroom_fw_check_label(label) != COLDROOM_FW_OK)
		return -EINVAL;

	mutex_lock(&s->lock);
	strscpy(s->label, label, sizeof(s->label));
	mutex_unlock(&s->lock);
	return count;
}
static DEVICE_ATTR_RW(label);

/*
 * NAME_show() of one value of the sensor, read under its lock: a 64-bit
 * field is never seen torn, a state never half-changed.
 */
#define COLDROOM_LOCKED_SHOW(name, type, fmt, value)			\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct coldroom_sensor *s = to_coldroom_sensor(dev);		\
	type v;								\
									\
	mutex_lock(&s->lock);						\
	v = (value);							\
	mutex_unlock(&s->lock);						\
	return sysfs_emit(buf, fmt "\n", v);				\
}

COLDROOM_LOCKED_SHOW(sample_seq, u64, "%llu", s->seq)
static DEVICE_ATTR_RO(sample_seq);

/* 0 until the first sample. */
COLDROOM_LOCKED_SHOW(sample_time_ns, u64, "%llu", s->seq ? s->sample_ns : 0)
static DEVICE_ATTR_RO(sample_time_ns);

COLDROOM_LOCKED_SHOW(update_interval_ms, u32, "%u", s->interval_ms)

static ssize_t update_interval_ms_store(struct device *dev,
					struct device_attribute *attr,
					const char *buf, size_t count)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	int ret = 0;
	u32 ms;

	if (kstrtou32(buf, 10, &ms) || ms < COLDROOM_FW_INTERVAL_MIN_MS ||
	    ms > COLDROOM_FW_INTERVAL_MAX_MS)
		return -EINVAL;

	/* Kept only once a sampling unit took it: a refusal changes nothing. */
	mutex_lock(&s->ops_lock);
	if (s->sampling)
		ret = s->ops->start(s, ms);
	if (!ret) {
		mutex_lock(&s->lock);
		s->interval_ms = ms;
		mutex_unlock(&s->lock);
	}
	mutex_unlock(&s->ops_lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(update_interval_ms);

static ssize_t firmware_name_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", to_coldroom_sensor(dev)->fw_name);
}
static DEVICE_ATTR_RO(firmware_name);

COLDROOM_LOCKED_SHOW(firmware_state, const char *, "%s",
		     coldroom_fw_state_names[s->fw_state])
static DEVICE_ATTR_RO(firmware_state);

static ssize_t firmware_error_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	ssize_t ret;

	mutex_lock(&s->lock);
	ret = sysfs_emit(buf, "%s\n", s->fw_error);
	mutex_unlock(&s->lock);
	return ret;
}
static DEVICE_ATTR_RO(firmware_error);

static ssize_t firmware_version_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	ssize_t ret;
	u32 v;

	mutex_lock(&s->lock);
	v = s->fw_version;
	if (s->fw_state == COLDROOM_FW_READY)
		ret = sysfs_emit(buf, "%u.%u.%u\n", v >> 16, (v >> 8) & 0xff,
				 v & 0xff);
	else
		ret = sysfs_emit(buf, "\n");
	mutex_unlock(&s->lock);
	return ret;
}
static DEVICE_ATTR_RO(firmware_version);

static ssize_t firmware_reload_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	unsigned int val;
	int ret;

	if (kstrtouint(buf, 10, &val) || val != 1)
		return -EINVAL;
	ret = coldroom_fw_reload(to_coldroom_sensor(dev));
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(firmware_reload);

/* Per-channel attributes carry their channel and threshold field. */
struct coldroom_chan_attr {
	struct device_attribute dattr;
	unsigned int channel;
	int field;
};

#define to_chan_attr(a) container_of(a, struct coldroom_chan_attr, dattr)

static ssize_t temp_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	s32 val;
	int ret;

	ret = coldroom_read_temp(to_coldroom_sensor(dev),
				 to_chan_attr(attr)->channel, &val);
	return ret ? ret : sysfs_emit(buf, "%d\n", val);
}

static ssize_t alarm_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	bool alarm;

	mutex_lock(&s->lock);
	alarm = s->alarm[to_chan_attr(attr)->channel];
	mutex_unlock(&s->lock);
	return sysfs_emit(buf, "%d\n", alarm);
}

static ssize_t thr_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct coldroom_sensor *s = to_coldroom_sensor(dev);
	struct coldroom_chan_attr *ca = to_chan_attr(attr);
	const struct coldroom_thresholds *thr = &s->thr[ca->channel];
	s32 val;

	mutex_lock(&s->lock);
	val = ca->field == COLDROOM_THR_MIN ? thr->min :
	      ca->field == COLDROOM_THR_MAX ? thr->max : thr->hyst;
	mutex_unlock(&s->lock);
	return sysfs_emit(buf, "%d\n", val);
}

static ssize_t thr_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct coldroom_chan_attr *ca = to_chan_attr(attr);
	s32 val;
	int ret;

	if (kstrtos32(buf, 10, &val))
		return -EINVAL;
	ret = coldroom_set_threshold(to_coldroom_sensor(dev), ca->channel,
				     ca->field, val);
	return ret ? ret : count;
}

#define COLDROOM_CHAN_ATTR(_name, _mode, _show, _store, _ch, _field)	\
	static struct coldroom_chan_attr dev_attr_##_name = {		\
		.dattr = __ATTR(_name, _mode, _show, _store),		\
		.channel = _ch,						\
		.field = _field,					\
	}

COLDROOM_CHAN_ATTR(temp1, 0444, temp_show, NULL, 0, 0);
COLDROOM_CHAN_ATTR(temp2, 0444, temp_show, NULL, 1, 0);
COLDROOM_CHAN_ATTR(temp1_alarm, 0444, alarm_show, NULL, 0, 0);
COLDROOM_CHAN_ATTR(temp2_alarm, 0444, alarm_show, NULL, 1, 0);
COLDROOM_CHAN_ATTR(temp1_min, 0644, thr_show, thr_store, 0, COLDROOM_THR_MIN);
COLDROOM_CHAN_ATTR(temp1_max, 0644, thr_show, thr_store, 0, COLDROOM_THR_MAX);
COLDROOM_CHAN_ATTR(temp1_hyst, 0644, thr_show, thr_store, 0, COLDROOM_THR_HYST);
COLDROOM_CHAN_ATTR(temp2_min, 0644, thr_show, thr_store, 1, COLDROOM_THR_MIN);
COLDROOM_CHAN_ATTR(temp2_max, 0644, thr_show, thr_store, 1, COLDROOM_THR_MAX);
COLDROOM_CHAN_ATTR(temp2_hyst, 0644, thr_show, thr_store, 1, COLDROOM_THR_HYST);

static struct attribute *coldroom_sensor_attrs[] = {
	&dev_attr_serial.attr,
	&dev_attr_model.attr,
	&dev_attr_label.attr,
	&dev_attr_temp1.dattr.attr,
	&dev_attr_temp2.dattr.attr,
	&dev_attr_temp1_alarm.dattr.attr,
	&dev_attr_temp2_alarm.dattr.attr,
	&dev_attr_sample_seq.attr,
	&dev_attr_sample_time_ns.attr,
	&dev_attr_update_interval_ms.attr,
	&dev_attr_temp1_min.dattr.attr,
	&dev_attr_temp1_max.dattr.attr,
	&dev_attr_temp1_hyst.dattr.attr,
	&dev_attr_temp2_min.dattr.attr,
	&dev_attr_temp2_max.dattr.attr,
	&dev_attr_temp2_hyst.dattr.attr,
	&dev_attr_firmware_name.attr,
	&dev_attr_firmware_state.attr,
	&dev_attr_firmware_error.attr,
	&dev_attr_firmware_version.attr,
	&dev_attr_firmware_reload.attr,
	NULL
};

static const struct attribute_group coldroom_sensor_group = {
	.attrs = coldroom_sensor_attrs,
};

const struct attribute_group *coldroom_sensor_groups[] = {
	&coldroom_sensor_group,
	NULL
};

static int __init coldroom_init(void)
{
	int ret;

	ret = rhashtable_init(&coldroom_idents, &coldroom_ident_params);
	if (ret)
		return ret;
	ret = coldroom_fw_init();
	if (ret)
		goto err_idents;
	ret = coldroom_ring_init();
	if (ret)
		goto err_fw;
	ret = class_register(&coldroom_class);
	if (ret)
		goto err_ring;
	ret = coldroom_nl_init();
	if (ret)
		goto err_class;
	ret = coldroom_diag_init();
	if (ret)
		goto err_nl;
	/* Last: from here on user space can open /dev/coldroom. */
	ret = coldroom_chardev_init();
	if (ret)
		goto err_diag;
	return 0;

err_diag:
	coldroom_diag_exit();
err_nl:
	coldroom_nl_exit();
err_class:
	class_unregister(&coldroom_class);
err_ring:
	coldroom_ring_exit();
err_fw:
	coldroom_fw_exit();
err_idents:
	rhashtable_destroy(&coldroom_idents);
	return ret;
}

static void __exit coldroom_exit(void)
{
	coldroom_chardev_exit();
	coldroom_diag_exit();
	coldroom_nl_exit();
	class_unregister(&coldroom_class);
	ida_destroy(&coldroom_ida);
	xa_destroy(&coldroom_units);
	rhashtable_destroy(&coldroom_idents);
	coldroom_ring_exit();
	coldroom_fw_exit();
	coldroom_diag_check_allocated();
}

module_init(coldroom_init);
module_exit(coldroom_exit);

MODULE_DESCRIPTION("Cold-room temperature sensor units: class, sysfs, firmware, hwmon, bulk path, events");
MODULE_LICENSE("GPL");
