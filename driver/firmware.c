// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom core: firmware requests, with the public firmware API only.
 *
 * Each unit needs coldroom/<model>-<serial>.fw, in two steps:
 *
 * 1. The direct load: request_firmware_direct() from this module's own
 *    workqueue reads /lib/firmware and never waits for user space, so a
 *    unit whose blob is installed is ready at once, whatever other units
 *    wait for. A missing file is the normal case of a unit served by
 *    coldroomd: this step warns of nothing (step 2's own look at
 *    /lib/firmware does, once: 6.1 has no quiet request_firmware_nowait())
 *    and never turns into the kernel's own fallback, not even with the
 *    force_sysfs_fallback sysctl. It is asked without a device: with one,
 *    the loader would keep the name in its suspend cache. One exception:
 *    while a fallback request of ours for the same name waits, this
 *    request would join that one and wait with it, so then the step is
 *    a partial read into a buffer (request_partial_firmware_into_buf():
 *    never shared, no fallback), which does warn of a missing file.
 * 2. Only if that finds nothing, the sysfs fallback:
 *    request_firmware_nowait(FW_ACTION_NOUEVENT). In 6.1 that sets
 *    FW_OPT_USERHELPER, so the kernel creates
 *    /sys/class/firmware/<name>/{loading,data} without the global
 *    force_sysfs_fallback sysctl and waits, without a timeout, until user
 *    space serves or aborts it. The unit announces the request with its
 *    own uevent so that coldroomd can serve it. Such a wait holds a
 *    system_wq worker, so at most max_fw_requests are issued at a time;
 *    the other units wait in state "pending".
 *
 * The kernel has no call to abort one fallback request, so a request
 * outlives the unit that made it: removal never waits for it. Its
 * fallback device hangs off /dev/coldroom's device, which lives as long as
 * the module, and the request holds the unit's struct device (so the
 * callback finds it) and the module (so rmmod coldroom waits for user
 * space: EBUSY). When it ends, the answer of a unit that is gone, or that
 * loaded its blob directly in the meantime, is dropped. coldroomd aborts
 * the requests no unit waits for.
 *
 * On suspend the loader aborts every waiting request of this kind
 * (kill_pending_fw_fallback_reqs()); a request that ends empty across a
 * suspend is made again after resume, and the unit does not fail.
 */

#include <linux/firmware.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/suspend.h>
#include <linux/vmalloc.h>

#include "coldroom_core.h"

/*
 * Each waiting fallback request holds a system_wq worker: keep most of
 * system_wq's max_active (256) for everyone else.
 */
#define COLDROOM_FW_REQUESTS_MAX	128

static int max_fw_requests_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, COLDROOM_FW_REQUESTS_MAX);
}

static const struct kernel_param_ops max_fw_requests_ops = {
	.set = max_fw_requests_set,
	.get = param_get_uint,
};

static unsigned int max_fw_requests = 32;
module_param_cb(max_fw_requests, &max_fw_requests_ops, &max_fw_requests, 0444);
MODULE_PARM_DESC(max_fw_requests,
		 "Sysfs fallback requests waiting at once, 1..128 (default 32)");

static DEFINE_MUTEX(fw_queue_lock);
static LIST_HEAD(fw_queue);
static unsigned int fw_inflight;	/* fallback requests not yet called back */

/*
 * Ordered: units read /lib/firmware, and queue for fallback slots, in the
 * order they asked. Freezable: a load queued while the system suspends
 * runs after resume, never in the middle of it.
 */
static struct workqueue_struct *coldroom_fw_wq;

/*
 * Where the direct step reads a blob while a fallback request for its
 * name waits: one at a time (the queue is ordered), one byte over
 * COLDROOM_FW_MAX_SIZE to tell a file over the limit.
 */
#define COLDROOM_FW_BUF_SIZE	(COLDROOM_FW_MAX_SIZE + 1)
static void *coldroom_fw_buf;

/* Units whose fallback request was not called back yet, on fw_node. */
static LIST_HEAD(fw_waiting);

/* Bumped before the loader aborts fallback requests for a suspend. */
static atomic_t coldroom_suspends = ATOMIC_INIT(0);

/*
 * Set from the suspend's prepare notifier to its post notifier, under
 * fw_queue_lock: no fallback request is issued in between. A fallback
 * request holds the usermode helper lock for as long as it waits, and
 * the suspend takes that lock for writing before it freezes user space,
 * so a request issued after the loader's abort would hang the suspend
 * until someone served it. Units wait in "pending" and go at resume.
 */
static bool fw_suspending;

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

/*
 * Validates @fw and brings the unit up with it, or leaves it failed and
 * stopped. Called under ops_lock.
 */
static void coldroom_fw_apply(struct coldroom_sensor *s,
			      const struct firmware *fw)
{
	struct coldroom_fw_image img;
	enum coldroom_fw_error err;
	unsigned int ch;
	u32 interval;
	int ret;

	lockdep_assert_held(&s->ops_lock);
	/*
	 * A load queued while the previous one ran finds the unit sampling
	 * with that blob: every outcome starts from a stopped unit, and the
	 * frame buffer changes only while nothing samples into it.
	 */
	coldroom_stop_sampling(s);
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
	if (coldroom_fw_set_frames(s, &img)) {
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

/* Announces a waiting fallback request, for coldroomd to serve. */
static void coldroom_fw_announce(struct coldroom_sensor *s)
{
	char sysfs_path[32 + COLDROOM_FW_NAME_LEN];

	snprintf(sysfs_path, sizeof(sysfs_path), "/sys/class/firmware/%s",
		 s->fw_name);
	strreplace(sysfs_path + strlen("/sys/class/firmware/"), '/', '!');
	coldroom_uevent(s, "firmware-request", "COLDROOM_FIRMWARE", s->fw_name,
			"COLDROOM_FIRMWARE_SYSFS", sysfs_path);
}

static void coldroom_fw_kick(void);

/*
 * Starts a load: the direct step, in state "pending" until it runs. The
 * state is set under fw_queue_lock, the lock under which later steps set
 * theirs, so "pending" never overwrites a newer state.
 */
static void coldroom_fw_start(struct coldroom_sensor *s)
{
	lockdep_assert_held(&fw_queue_lock);
	if (s->fw_dead)
		return;
	coldroom_set_fw_state(s, COLDROOM_FW_PENDING, NULL);
	queue_work(coldroom_fw_wq, &s->fw_direct_work);
}

static void coldroom_fw_done(const struct firmware *fw, void *context)
{
	struct coldroom_sensor *s = context;
	bool wanted, again;

	/* ops_lock orders this against reload, removal and the direct step. */
	mutex_lock(&s->ops_lock);
	mutex_lock(&fw_queue_lock);
	wanted = s->fw_wanted && !s->fw_dead;
	/* Ended empty by a suspend, not by anyone's answer: ask again. */
	again = wanted && !fw &&
		atomic_read(&coldroom_suspends) != s->fw_suspends;
	s->fw_wanted = false;
	list_del_init(&s->fw_node);
	s->fw_inflight = false;
	fw_inflight--;
	if (again)
		coldroom_fw_start(s);
	mutex_unlock(&fw_queue_lock);
	if (wanted && !again)
		coldroom_fw_apply(s, fw);
	mutex_unlock(&s->ops_lock);
	release_firmware(fw);

	if (again)
		dev_info(&s->dev, "firmware %s: request ended by a suspend, asking again\n",
			 s->fw_name);
	coldroom_fw_kick();
	/* The request's reference: s may go away now. */
	coldroom_sensor_put(s);
}

/* Issues one queued fallback request. Called with fw_queue_lock held. */
static void coldroom_fw_issue(struct coldroom_sensor *s)
{
	int ret;

	lockdep_assert_held(&fw_queue_lock);
	list_move_tail(&s->fw_node, &fw_waiting);
	s->fw_queued = false;
	s->fw_inflight = true;
	s->fw_wanted = true;
	s->fw_suspends = atomic_read(&coldroom_suspends);
	fw_inflight++;
	get_device(&s->dev);

	coldroom_set_fw_state(s, COLDROOM_FW_LOADING, NULL);
	ret = request_firmware_nowait(THIS_MODULE, FW_ACTION_NOUEVENT,
				      s->fw_name, coldroom_chardev_device(),
				      GFP_KERNEL, s, coldroom_fw_done);
	if (ret) {
		list_del_init(&s->fw_node);
		s->fw_inflight = false;
		s->fw_wanted = false;
		fw_inflight--;
		put_device(&s->dev);
		coldroom_fw_fail(s, "request failed (%d)", ret);
		return;
	}
	coldroom_fw_announce(s);
}

static void coldroom_fw_kick(void)
{
	mutex_lock(&fw_queue_lock);
	while (!fw_suspending && fw_inflight < max_fw_requests &&
	       !list_empty(&fw_queue))
		coldroom_fw_issue(list_first_entry(&fw_queue,
						   struct coldroom_sensor,
						   fw_node));
	mutex_unlock(&fw_queue_lock);
}

/* Is a fallback request for @name waiting (this unit's or a removed one's)? */
static bool coldroom_fw_name_waiting(const char *name)
{
	struct coldroom_sensor *w;

	lockdep_assert_held(&fw_queue_lock);
	list_for_each_entry(w, &fw_waiting, fw_node)
		if (!strcmp(w->fw_name, name))
			return true;
	return false;
}

/*
 * Reads /lib/firmware, never waiting for user space. Called under ops_lock:
 * no fallback request for this unit's name starts meanwhile (only this
 * unit issues one, and not while its direct step runs).
 */
static int coldroom_fw_read_direct(struct coldroom_sensor *s,
				   const struct firmware **fw)
{
	bool waiting;
	int ret;

	mutex_lock(&fw_queue_lock);
	waiting = coldroom_fw_name_waiting(s->fw_name);
	mutex_unlock(&fw_queue_lock);
	if (waiting)
		ret = request_partial_firmware_into_buf(fw, s->fw_name, &s->dev,
							coldroom_fw_buf,
							COLDROOM_FW_BUF_SIZE, 0);
	else
		ret = request_firmware_direct(fw, s->fw_name, NULL);
	if (!ret && (*fw)->size > COLDROOM_FW_MAX_SIZE) {
		release_firmware(*fw);
		*fw = NULL;
		ret = -EFBIG;
	}
	return ret;
}

/* The direct step; then the fallback if /lib/firmware has nothing. */
static void coldroom_fw_direct(struct work_struct *work)
{
	struct coldroom_sensor *s = container_of(work, struct coldroom_sensor,
						 fw_direct_work);
	const struct firmware *fw;
	bool queued = false;
	int ret;

	mutex_lock(&s->ops_lock);
	if (READ_ONCE(s->fw_dead))
		goto out;
	coldroom_set_fw_state(s, COLDROOM_FW_LOADING, NULL);
	ret = coldroom_fw_read_direct(s, &fw);
	if (ret == -EFBIG) {
		/* There, but over the format's limit: as the parser says. */
		coldroom_fw_fail(s, "%s",
				 coldroom_fw_strerror(COLDROOM_FW_E_TOO_LARGE));
		goto out;
	}
	mutex_lock(&fw_queue_lock);
	if (!ret) {
		/* A fallback still waiting has nothing more to give. */
		s->fw_wanted = false;
	} else if (s->fw_inflight) {
		/* The fallback still waiting is this load's request. */
		s->fw_wanted = true;
		coldroom_fw_announce(s);
	} else if (!s->fw_queued && !s->fw_dead) {
		list_add_tail(&s->fw_node, &fw_queue);
		s->fw_queued = true;
		coldroom_set_fw_state(s, COLDROOM_FW_PENDING, NULL);
		queued = true;
	}
	mutex_unlock(&fw_queue_lock);
	if (!ret) {
		coldroom_fw_apply(s, fw);
		release_firmware(fw);
	}
out:
	mutex_unlock(&s->ops_lock);
	if (queued)
		coldroom_fw_kick();
}

void coldroom_fw_init_sensor(struct coldroom_sensor *s)
{
	INIT_LIST_HEAD(&s->fw_node);
	INIT_WORK(&s->fw_direct_work, coldroom_fw_direct);
}

/* First load of a newly registered unit. */
void coldroom_fw_queue(struct coldroom_sensor *s)
{
	mutex_lock(&fw_queue_lock);
	coldroom_fw_start(s);
	mutex_unlock(&fw_queue_lock);
}

int coldroom_fw_reload(struct coldroom_sensor *s)
{
	int ret = 0;

	mutex_lock(&s->ops_lock);
	/*
	 * Stop first: once ->stop() returns no sample is in flight, so none
	 * raises an alarm after "pending" has cleared it and told listeners.
	 */
	coldroom_stop_sampling(s);
	mutex_lock(&fw_queue_lock);
	if (s->fw_dead) {
		ret = -ENODEV;
	} else {
		/* A unit waiting for a slot tries /lib/firmware first again. */
		if (s->fw_queued) {
			list_del_init(&s->fw_node);
			s->fw_queued = false;
		}
		coldroom_fw_start(s);
	}
	mutex_unlock(&fw_queue_lock);
	mutex_unlock(&s->ops_lock);
	return ret;
}

/*
 * Ends the unit's firmware business for good: dequeues it, waits for a
 * direct step under way (it reads a file, never user space) and drops the
 * answer of a fallback request still waiting. Never waits for user space.
 */
void coldroom_fw_shutdown(struct coldroom_sensor *s)
{
	mutex_lock(&fw_queue_lock);
	s->fw_dead = true;
	s->fw_wanted = false;
	if (s->fw_queued) {
		list_del_init(&s->fw_node);
		s->fw_queued = false;
	}
	mutex_unlock(&fw_queue_lock);
	cancel_work_sync(&s->fw_direct_work);
}

static int coldroom_fw_pm_notify(struct notifier_block *nb,
				 unsigned long mode, void *unused)
{
	switch (mode) {
	case PM_HIBERNATION_PREPARE:
	case PM_SUSPEND_PREPARE:
	case PM_RESTORE_PREPARE:
		mutex_lock(&fw_queue_lock);
		fw_suspending = true;
		atomic_inc(&coldroom_suspends);
		mutex_unlock(&fw_queue_lock);
		break;
	case PM_POST_HIBERNATION:
	case PM_POST_SUSPEND:
	case PM_POST_RESTORE:
		mutex_lock(&fw_queue_lock);
		fw_suspending = false;
		mutex_unlock(&fw_queue_lock);
		coldroom_fw_kick();
		break;
	}
	return NOTIFY_DONE;
}

/* Before the firmware loader's own notifier (priority 0) aborts requests. */
static struct notifier_block coldroom_fw_pm_nb = {
	.notifier_call = coldroom_fw_pm_notify,
	.priority = 1,
};

int coldroom_fw_init(void)
{
	int ret;

	coldroom_fw_buf = vmalloc(COLDROOM_FW_BUF_SIZE);
	if (!coldroom_fw_buf)
		return -ENOMEM;
	coldroom_fw_wq = alloc_ordered_workqueue("coldroom_fw", WQ_FREEZABLE);
	if (!coldroom_fw_wq) {
		vfree(coldroom_fw_buf);
		return -ENOMEM;
	}
	ret = register_pm_notifier(&coldroom_fw_pm_nb);
	if (ret) {
		destroy_workqueue(coldroom_fw_wq);
		vfree(coldroom_fw_buf);
	}
	return ret;
}

void coldroom_fw_exit(void)
{
	unregister_pm_notifier(&coldroom_fw_pm_nb);
	/* Every unit is gone and no request waits: the module was free. */
	destroy_workqueue(coldroom_fw_wq);
	vfree(coldroom_fw_buf);
}
