// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom core: firmware requests.
 *
 * Each unit asks for coldroom/<model>-<serial>.fw with
 * request_firmware_nowait(FW_ACTION_NOUEVENT). In 6.1 that sets
 * FW_OPT_USERHELPER on the request, which (see firmware_loader/fallback.c)
 * makes the kernel try /lib/firmware first and then wait, without a timeout
 * and without the global force_sysfs_fallback sysctl, on the sysfs fallback
 * /sys/class/firmware/<name>/{loading,data}. The unit announces the request
 * with its own uevent so that coldroomd can serve it.
 *
 * A waiting fallback occupies a system_wq worker, so only max_fw_requests
 * are issued at a time; the other units wait in state "pending".
 *
 * The kernel offers no call to abort one fallback request, yet removal and
 * reload must end it: see coldroom_fw_abort_fallback().
 */

#include <linux/firmware.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "coldroom_core.h"

static unsigned int max_fw_requests = 32;
module_param(max_fw_requests, uint, 0444);
MODULE_PARM_DESC(max_fw_requests,
		 "Firmware requests in flight at once (default 32)");

static DEFINE_MUTEX(fw_queue_lock);
static LIST_HEAD(fw_queue);
static unsigned int fw_inflight;

#define COLDROOM_FW_ABORT_RETRY	(HZ / 10)

static int coldroom_fw_match_fallback(struct device *dev, void *name)
{
	return dev->class && !strcmp(dev->class->name, "firmware") &&
	       !strcmp(dev_name(dev), name);
}

static struct device_attribute *coldroom_fw_loading_attr(struct device *fdev)
{
	const struct attribute_group **grp;
	struct attribute **attr;

	for (grp = fdev->groups; grp && *grp; grp++)
		for (attr = (*grp)->attrs; attr && *attr; attr++)
			if (!strcmp((*attr)->name, "loading"))
				return container_of(*attr,
						    struct device_attribute,
						    attr);
	return NULL;
}

/*
 * Aborts the unit's sysfs fallback request, if one is waiting, exactly as
 * "echo -1 > /sys/class/firmware/<name>/loading" would.
 *
 * The fallback device is a child of the device given to
 * request_firmware_nowait(), i.e. of our class device. Its "loading" store
 * dereferences state the loader frees right after device_del() of the
 * fallback device, so it is only called while that device_del() cannot
 * have started: under the device lock, and only when kill_device() says
 * this is the first call, the one device_del() itself makes (and whose
 * result it ignores) as its first step.
 *
 * Returns false when no fallback device exists yet (the request may still
 * be reading /lib/firmware, or not have run at all): call again later.
 */
static bool coldroom_fw_abort_fallback(struct coldroom_sensor *s)
{
	char name[COLDROOM_FW_NAME_LEN];
	struct device_attribute *loading;
	struct device *fdev;

	strscpy(name, s->fw_name, sizeof(name));
	strreplace(name, '/', '!');
	fdev = device_find_child(&s->dev, name, coldroom_fw_match_fallback);
	if (!fdev)
		return false;

	loading = coldroom_fw_loading_attr(fdev);
	device_lock(fdev);
	if (!loading)
		dev_warn_once(&s->dev, "cannot abort firmware fallback %s\n",
			      name);
	else if (kill_device(fdev))
		loading->store(fdev, loading, "-1", 2);
	device_unlock(fdev);
	put_device(fdev);
	return true;
}

static void coldroom_fw_abort_work(struct work_struct *work)
{
	struct coldroom_sensor *s = container_of(to_delayed_work(work),
						 struct coldroom_sensor,
						 fw_abort_work);
	bool wanted;

	mutex_lock(&fw_queue_lock);
	wanted = s->fw_inflight && s->fw_cancel;
	mutex_unlock(&fw_queue_lock);
	if (!wanted)
		return;
	coldroom_fw_abort_fallback(s);
	/* Until the callback clears fw_inflight: it may not have waited yet. */
	schedule_delayed_work(&s->fw_abort_work, COLDROOM_FW_ABORT_RETRY);
}

static __printf(2, 3) void coldroom_fw_fail(struct coldroom_sensor *s,
					   const char *fmt, ...)
{
	char reason[COLDROOM_ERROR_LEN];
	va_list args;

	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	dev_err(&s->dev, "firmware %s: %s\n", s->fw_name, reason);
	coldroom_set_fw_state(s, COLDROOM_FW_FAILED, reason);
}

/*
 * Sizes the thermal frame buffer for the blob's imager (none without a
 * thermal section or a backend that delivers frames). The unit is not
 * sampling, so nothing reads the buffer.
 */
static int coldroom_fw_set_frames(struct coldroom_sensor *s,
				  const struct coldroom_fw_image *img)
{
	s16 *buf = NULL;

	if (img->has_thermal && s->ops->read_frame) {
		buf = kmalloc_array((size_t)img->frame_width * img->frame_height,
				    sizeof(*buf), GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		coldroom_obj_alloc(COLDROOM_OBJ_FRAME_BUFFER);
	}
	if (s->frame_buf)
		coldroom_obj_free(COLDROOM_OBJ_FRAME_BUFFER);
	kfree(s->frame_buf);
	s->frame_buf = buf;
	s->frame_width = buf ? img->frame_width : 0;
	s->frame_height = buf ? img->frame_height : 0;
	return 0;
}

/* Validates @fw and brings the unit up with it. Called under ops_lock. */
static void coldroom_fw_apply(struct coldroom_sensor *s,
			      const struct firmware *fw)
{
	struct coldroom_fw_image img;
	enum coldroom_fw_error err;
	unsigned int ch;
	u32 interval;
	int ret;

	lockdep_assert_held(&s->ops_lock);
	if (!fw) {
		coldroom_fw_fail(s, "firmware not provided");
		return;
	}
	err = coldroom_fw_parse(fw->data, fw->size, &img);
	if (err == COLDROOM_FW_OK)
		err = coldroom_fw_check_target(&img, s->ident.model,
					       s->ident.serial);
	if (err != COLDROOM_FW_OK) {
		coldroom_fw_fail(s, "%s", coldroom_fw_strerror(err));
		return;
	}
	if (s->ops->apply_firmware) {
		ret = s->ops->apply_firmware(s, &img);
		if (ret) {
			coldroom_fw_fail(s, "unit rejected the firmware (%d)",
					 ret);
			return;
		}
	}
	if (WARN_ON_ONCE(s->sampling) || coldroom_fw_set_frames(s, &img)) {
		coldroom_fw_fail(s, "no memory for thermal frames");
		return;
	}

	mutex_lock(&s->lock);
	for (ch = 0; ch < COLDROOM_CHANNELS; ch++) {
		s->cal[ch] = img.cal[ch];
		if (img.has_thresholds[ch]) {
			s->thr[ch].min = img.thr[ch].min_mdeg;
			s->thr[ch].max = img.thr[ch].max_mdeg;
			s->thr[ch].hyst = img.thr[ch].hyst_mdeg;
		}
	}
	if (img.has_interval)
		s->interval_ms = img.interval_ms;
	if (img.has_label)
		strscpy(s->label, img.label, sizeof(s->label));
	interval = s->interval_ms;
	mutex_unlock(&s->lock);

	ret = s->ops->start(s, interval);
	if (ret) {
		coldroom_fw_fail(s, "unit did not start sampling (%d)", ret);
		return;
	}
	s->sampling = true;

	mutex_lock(&s->lock);
	s->fw_version = img.fw_version;
	mutex_unlock(&s->lock);
	coldroom_set_fw_state(s, COLDROOM_FW_READY, NULL);
	atomic64_inc(&coldroom_counters.firmware_loads);
	dev_info(&s->dev, "firmware %s version %u.%u.%u applied\n", s->fw_name,
		 img.fw_version >> 16, (img.fw_version >> 8) & 0xff,
		 img.fw_version & 0xff);
}

static void coldroom_fw_kick(void);

/*
 * Puts the unit on the request queue in state "pending". The state is set
 * before fw_queue_lock is dropped, so that coldroom_fw_issue(), which sets
 * "loading" under the same lock, always comes after it: "pending" never
 * overwrites the state of a request already issued.
 */
static void coldroom_fw_enqueue(struct coldroom_sensor *s)
{
	lockdep_assert_held(&fw_queue_lock);
	list_add_tail(&s->fw_node, &fw_queue);
	s->fw_queued = true;
	coldroom_set_fw_state(s, COLDROOM_FW_PENDING, NULL);
}

static void coldroom_fw_done(const struct firmware *fw, void *context)
{
	struct coldroom_sensor *s = context;
	bool cancel, again;

	/* ops_lock orders this against reload and removal. */
	mutex_lock(&s->ops_lock);
	mutex_lock(&fw_queue_lock);
	cancel = s->fw_cancel || s->fw_dead;
	again = s->fw_again && !s->fw_dead;
	mutex_unlock(&fw_queue_lock);

	if (!cancel)
		coldroom_fw_apply(s, fw);
	release_firmware(fw);

	mutex_lock(&fw_queue_lock);
	s->fw_cancel = false;
	s->fw_again = false;
	s->fw_inflight = false;
	fw_inflight--;
	if (again)
		coldroom_fw_enqueue(s);
	mutex_unlock(&fw_queue_lock);
	mutex_unlock(&s->ops_lock);

	/*
	 * The loader holds a reference to s->dev until this returns, so the
	 * sensor outlives the wake-up even if its removal proceeds at once.
	 */
	wake_up_all(&s->fw_wq);
	coldroom_fw_kick();
}

/* Issues one queued request. Called with fw_queue_lock held. */
static void coldroom_fw_issue(struct coldroom_sensor *s)
{
	char sysfs_path[32 + COLDROOM_FW_NAME_LEN];
	int ret;

	lockdep_assert_held(&fw_queue_lock);
	list_del_init(&s->fw_node);
	s->fw_queued = false;
	s->fw_inflight = true;
	fw_inflight++;

	coldroom_set_fw_state(s, COLDROOM_FW_LOADING, NULL);
	ret = request_firmware_nowait(THIS_MODULE, FW_ACTION_NOUEVENT,
				      s->fw_name, &s->dev, GFP_KERNEL, s,
				      coldroom_fw_done);
	if (ret) {
		s->fw_inflight = false;
		fw_inflight--;
		coldroom_fw_fail(s, "request failed (%d)", ret);
		wake_up_all(&s->fw_wq);
		return;
	}

	snprintf(sysfs_path, sizeof(sysfs_path), "/sys/class/firmware/%s",
		 s->fw_name);
	strreplace(sysfs_path + strlen("/sys/class/firmware/"), '/', '!');
	coldroom_uevent(s, "firmware-request", "COLDROOM_FIRMWARE", s->fw_name,
			"COLDROOM_FIRMWARE_SYSFS", sysfs_path);
}

static void coldroom_fw_kick(void)
{
	mutex_lock(&fw_queue_lock);
	while (fw_inflight < max(max_fw_requests, 1U) && !list_empty(&fw_queue))
		coldroom_fw_issue(list_first_entry(&fw_queue,
						   struct coldroom_sensor,
						   fw_node));
	mutex_unlock(&fw_queue_lock);
}

void coldroom_fw_init_sensor(struct coldroom_sensor *s)
{
	INIT_LIST_HEAD(&s->fw_node);
	init_waitqueue_head(&s->fw_wq);
	INIT_DELAYED_WORK(&s->fw_abort_work, coldroom_fw_abort_work);
}

/* First request of a newly registered unit. */
void coldroom_fw_queue(struct coldroom_sensor *s)
{
	mutex_lock(&fw_queue_lock);
	coldroom_fw_enqueue(s);
	mutex_unlock(&fw_queue_lock);
	coldroom_fw_kick();
}

int coldroom_fw_reload(struct coldroom_sensor *s)
{
	int ret = 0;
	bool queued = false;

	mutex_lock(&s->ops_lock);
	mutex_lock(&fw_queue_lock);
	if (s->fw_dead) {
		ret = -ENODEV;
	} else if (s->fw_inflight) {
		/* Replace it: abort, and request again from the callback. */
		s->fw_cancel = true;
		s->fw_again = true;
		mod_delayed_work(system_wq, &s->fw_abort_work, 0);
	} else if (!s->fw_queued) {
		coldroom_fw_enqueue(s);
		queued = true;
	}
	mutex_unlock(&fw_queue_lock);
	if (!ret)
		coldroom_stop_sampling(s);
	mutex_unlock(&s->ops_lock);
	if (queued)
		coldroom_fw_kick();
	return ret;
}

static bool coldroom_fw_idle(struct coldroom_sensor *s)
{
	return !READ_ONCE(s->fw_inflight);
}

/*
 * Ends the unit's firmware business for good: dequeues it or aborts its
 * request, and waits until the callback has run.
 */
void coldroom_fw_shutdown(struct coldroom_sensor *s)
{
	mutex_lock(&fw_queue_lock);
	s->fw_dead = true;
	if (s->fw_queued) {
		list_del_init(&s->fw_node);
		s->fw_queued = false;
	}
	if (s->fw_inflight)
		s->fw_cancel = true;
	mutex_unlock(&fw_queue_lock);

	while (!coldroom_fw_idle(s)) {
		coldroom_fw_abort_fallback(s);
		wait_event_timeout(s->fw_wq, coldroom_fw_idle(s),
				   COLDROOM_FW_ABORT_RETRY);
	}
	cancel_delayed_work_sync(&s->fw_abort_work);
}
