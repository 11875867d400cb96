// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom_sim - simulated cold-room sensor units, in the spirit of
 * netdevsim: units are created at load (units=) and at run time through
 * /sys/bus/platform/drivers/coldroom_sim/{new_device,del_device}, each with
 * a deterministic thermal model (seed=) and debugfs fault injection.
 *
 * Units are platform devices because lm-sensors only lists hwmon chips
 * whose parent sits on a bus it knows. One delayed work drives the
 * sampling of every unit, so thousands of units cost no timers.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/rhashtable.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "coldroom.h"
#include "thermal.h"

#define SIM_DRIVER_NAME		"coldroom_sim"
#define SIM_TICK_MS		COLDROOM_SIM_STEP_MS
#define SIM_STEP_NS		((u64)COLDROOM_SIM_STEP_MS * NSEC_PER_MSEC)
/* A unit idle longer than this skips ahead instead of replaying it all. */
#define SIM_MAX_CATCHUP_STEPS	(3600 * 1000 / COLDROOM_SIM_STEP_MS)
/* Model steps replayed between chances for others to run. */
#define SIM_RESCHED_STEPS	1024
#define SIM_MAX_UNITS		100000

static unsigned int units = 2;
module_param(units, uint, 0444);
MODULE_PARM_DESC(units, "Units created at load (default 2)");

static ulong seed = 1;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "Seed of the simulation (default 1)");

static uint door_interval_s = 900;
module_param(door_interval_s, uint, 0444);
MODULE_PARM_DESC(door_interval_s,
		 "Mean seconds between random door openings, 0 for none (default 900)");

static const char * const sim_models[] = { "CRS-200", "CRS-210T" };

struct sim_pdata {
	char model[COLDROOM_ID_LEN + 1];
	char serial[COLDROOM_ID_LEN + 1];
};

struct sim_unit {
	struct coldroom_identity ident;
	struct coldroom_sensor *sensor;	/* set by ->start() */

	/* Fault injection, written through debugfs. */
	u32 disconnect;			/* bit n: probe n+1 answers nothing */
	u32 stuck;			/* bit n: probe n+1 repeats itself */
	bool reject_firmware;
	bool fail_start;		/* ->start() refuses, changing nothing */
	bool has_imager;		/* model CRS-210T */

	/* Under lock, which the tick takes per unit, never all at once. */
	struct mutex lock;
	struct coldroom_sim_model model;
	s32 last_raw[COLDROOM_CHANNELS];
	u64 last_step_ns;		/* where the model stands */

	/* Under sim_lock. */
	struct list_head active_node;	/* in sim_wheel while active */
	struct list_head due_node;	/* in sim_due until the tick samples it */
	bool busy;			/* the tick samples it, without sim_lock */
	bool active;
	u32 interval_ms;
	u64 next_due_ns;
};

struct sim_dev_entry {
	struct list_head node;		/* sim_devs */
	struct rhash_head serial_node;	/* sim_serials */
	struct platform_device *pdev;
	int id;
	char serial[COLDROOM_ID_LEN + 1];	/* NUL-padded: the hash key */
};

/*
 * Sampling units, on a timing wheel: slot (due tick % SIM_WHEEL_SLOTS)
 * holds the units due at that tick (or whole turns later), so a tick
 * looks at the units due then, not at every unit.
 */
#define SIM_WHEEL_SLOTS		64
static DEFINE_MUTEX(sim_lock);	/* the wheel, sim_due and each unit's busy */
static struct list_head sim_wheel[SIM_WHEEL_SLOTS];
/*
 * Units due at this tick, sampled one at a time without sim_lock: a
 * sample's uevents and netlink messages never hold up start, stop or
 * another unit's firmware. sim_stop() waits on sim_idle_wq for its unit
 * to be neither due nor busy.
 */
static LIST_HEAD(sim_due);
static DECLARE_WAIT_QUEUE_HEAD(sim_idle_wq);
static u64 sim_wheel_tick;	/* the last tick whose slot was looked at */
static unsigned int sim_nr_active;
static struct workqueue_struct *sim_wq;
static void sim_tick(struct work_struct *work);
static DECLARE_DELAYED_WORK(sim_tick_work, sim_tick);

/* Devices this module created, in order and by serial. */
static DEFINE_MUTEX(sim_devs_lock);
static LIST_HEAD(sim_devs);
static struct rhashtable sim_serials;
static const struct rhashtable_params sim_serial_params = {
	.key_len = COLDROOM_ID_LEN + 1,
	.key_offset = offsetof(struct sim_dev_entry, serial),
	.head_offset = offsetof(struct sim_dev_entry, serial_node),
	.automatic_shrinking = true,
};

static DEFINE_IDA(sim_ida);
static unsigned int sim_next_serial;

static struct dentry *sim_debugfs_root;

static struct sim_unit *sim_unit_of(struct coldroom_sensor *sensor)
{
	return coldroom_sensor_backend_data(sensor);
}

/* The first tick at or after @ns: a unit is looked at once it is due. */
static u64 sim_tick_of(u64 ns)
{
	return div64_u64(ns + SIM_STEP_NS - 1, SIM_STEP_NS);
}

static void sim_wheel_add(struct sim_unit *unit)
{
	lockdep_assert_held(&sim_lock);
	list_add_tail(&unit->active_node,
		      &sim_wheel[sim_tick_of(unit->next_due_ns) % SIM_WHEEL_SLOTS]);
}

/* ---- backend ops ---- */

static int sim_get_identity(struct coldroom_sensor *sensor,
			    struct coldroom_identity *id)
{
	*id = sim_unit_of(sensor)->ident;
	return 0;
}

static int sim_apply_firmware(struct coldroom_sensor *sensor,
			      const struct coldroom_fw_image *img)
{
	return READ_ONCE(sim_unit_of(sensor)->reject_firmware) ? -EIO : 0;
}

static int sim_start(struct coldroom_sensor *sensor, u32 interval_ms)
{
	struct sim_unit *unit = sim_unit_of(sensor);
	u64 now = ktime_get_ns();

	if (READ_ONCE(unit->fail_start))
		return -EIO;
	mutex_lock(&sim_lock);
	unit->sensor = sensor;
	unit->interval_ms = interval_ms;
	if (!unit->active) {
		unit->active = true;
		/* Not busy: sim_stop() waited for the last sample. */
		mutex_lock(&unit->lock);
		unit->last_step_ns = now;
		mutex_unlock(&unit->lock);
		if (!sim_nr_active++)
			sim_wheel_tick = div64_u64(now, SIM_STEP_NS);
	} else {
		list_del(&unit->active_node);
	}
	unit->next_due_ns = now + (u64)interval_ms * NSEC_PER_MSEC;
	sim_wheel_add(unit);
	queue_delayed_work(sim_wq, &sim_tick_work,
			   msecs_to_jiffies(SIM_TICK_MS));
	mutex_unlock(&sim_lock);
	return 0;
}

static bool sim_unit_idle(struct sim_unit *unit)
{
	/* Pairs with the release in sim_tick(): its sample is over. */
	return !smp_load_acquire(&unit->busy);
}

static void sim_stop(struct coldroom_sensor *sensor)
{
	struct sim_unit *unit = sim_unit_of(sensor);

	mutex_lock(&sim_lock);
	if (unit->active) {
		list_del(&unit->active_node);
		unit->active = false;
		sim_nr_active--;
	}
	list_del_init(&unit->due_node);
	mutex_unlock(&sim_lock);
	/* At most one sample of this unit is under way: wait for its end. */
	wait_event(sim_idle_wq, sim_unit_idle(unit));
}

/* Called by the core from coldroom_sensor_sample(), i.e. from sim_tick(). */
static int sim_read_raw(struct coldroom_sensor *sensor, unsigned int channel,
			s32 *raw_mdeg)
{
	struct sim_unit *unit = sim_unit_of(sensor);

	if (READ_ONCE(unit->disconnect) & BIT(channel))
		return -EIO;
	mutex_lock(&unit->lock);
	if (!(READ_ONCE(unit->stuck) & BIT(channel)))
		unit->last_raw[channel] = coldroom_sim_model_read(&unit->model,
								  channel);
	*raw_mdeg = unit->last_raw[channel];
	mutex_unlock(&unit->lock);
	return 0;
}

/* Called by the core right after sim_read_raw(); CRS-210T units only. */
static int sim_read_frame(struct coldroom_sensor *sensor, s16 *pixels,
			  u16 width, u16 height)
{
	struct sim_unit *unit = sim_unit_of(sensor);

	if (!unit->has_imager)
		return -EOPNOTSUPP;
	mutex_lock(&unit->lock);
	coldroom_sim_model_frame(&unit->model, pixels, width, height);
	mutex_unlock(&unit->lock);
	return 0;
}

static const struct coldroom_sensor_ops sim_ops = {
	.get_identity = sim_get_identity,
	.apply_firmware = sim_apply_firmware,
	.start = sim_start,
	.stop = sim_stop,
	.read_raw = sim_read_raw,
	.read_frame = sim_read_frame,
};

/* Brings the unit's model up to @now: at most an hour of steps. */
static void sim_advance(struct sim_unit *unit, u64 now)
{
	u64 steps = div64_u64(now - unit->last_step_ns, SIM_STEP_NS);

	lockdep_assert_held(&unit->lock);
	if (steps > SIM_MAX_CATCHUP_STEPS) {
		unit->last_step_ns = now;
		steps = SIM_MAX_CATCHUP_STEPS;
	} else {
		unit->last_step_ns += steps * SIM_STEP_NS;
	}
	while (steps--) {
		coldroom_sim_model_step(&unit->model);
		/* An hour-long interval is 36,000 steps. */
		if (steps % SIM_RESCHED_STEPS == 0)
			cond_resched();
	}
}

static void sim_tick(struct work_struct *work)
{
	struct sim_unit *unit, *next;
	u64 now, now_tick, t, interval_ns;
	LIST_HEAD(due);

	mutex_lock(&sim_lock);
	now = ktime_get_ns();
	now_tick = div64_u64(now, SIM_STEP_NS);
	/* Late by a whole turn or more: every slot once is enough. */
	if (now_tick - sim_wheel_tick > SIM_WHEEL_SLOTS)
		sim_wheel_tick = now_tick - SIM_WHEEL_SLOTS;
	for (t = sim_wheel_tick + 1; t <= now_tick; t++)
		list_for_each_entry_safe(unit, next,
					 &sim_wheel[t % SIM_WHEEL_SLOTS],
					 active_node)
			if (unit->next_due_ns <= now)
				list_move_tail(&unit->active_node, &due);
	sim_wheel_tick = now_tick;

	list_for_each_entry_safe(unit, next, &due, active_node) {
		interval_ns = (u64)unit->interval_ms * NSEC_PER_MSEC;
		unit->next_due_ns += interval_ns;
		if (unit->next_due_ns <= now)
			unit->next_due_ns = now + interval_ns;
		list_del(&unit->active_node);
		sim_wheel_add(unit);
		list_add_tail(&unit->due_node, &sim_due);
	}

	/* sim_stop() takes a unit off sim_due, or waits while it is busy. */
	while (!list_empty(&sim_due)) {
		unit = list_first_entry(&sim_due, struct sim_unit, due_node);
		list_del_init(&unit->due_node);
		unit->busy = true;
		mutex_unlock(&sim_lock);

		mutex_lock(&unit->lock);
		sim_advance(unit, now);
		mutex_unlock(&unit->lock);
		coldroom_sensor_sample(unit->sensor);

		mutex_lock(&sim_lock);
		/* Pairs with the acquire in sim_unit_idle(). */
		smp_store_release(&unit->busy, false);
		wake_up_all(&sim_idle_wq);
		/* Thousands of units: let others run between them. */
		if (need_resched()) {
			mutex_unlock(&sim_lock);
			cond_resched();
			mutex_lock(&sim_lock);
		}
	}
	if (sim_nr_active)
		queue_delayed_work(sim_wq, &sim_tick_work,
				   msecs_to_jiffies(SIM_TICK_MS));
	mutex_unlock(&sim_lock);
}

/* ---- debugfs ---- */

static int sim_door_get(void *data, u64 *val)
{
	struct sim_unit *unit = data;

	mutex_lock(&unit->lock);
	*val = unit->model.door_open_ms;
	mutex_unlock(&unit->lock);
	return 0;
}

static int sim_door_set(void *data, u64 val)
{
	struct sim_unit *unit = data;

	if (val == 0 || val > 3600 * 1000)
		return -EINVAL;
	mutex_lock(&unit->lock);
	unit->model.door_open_ms = val;
	mutex_unlock(&unit->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(sim_door_fops, sim_door_get, sim_door_set, "%llu\n");

static int sim_model_show(struct seq_file *m, void *v)
{
	struct sim_unit *unit = m->private;
	struct coldroom_sim_model state;

	mutex_lock(&unit->lock);
	state = unit->model;
	mutex_unlock(&unit->lock);
	seq_printf(m, "step %llu\nroom %lld\ncoil %lld\ncompressor %d\ndoor_open_ms %u\n",
		   state.step, div_s64(state.room_udeg, 1000),
		   div_s64(state.coil_udeg, 1000),
		   state.compressor_on, state.door_open_ms);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_model);

static void sim_debugfs_remove(void *dir)
{
	debugfs_remove_recursive(dir);
}

static int sim_debugfs_add(struct device *dev, struct sim_unit *unit)
{
	struct dentry *dir;

	dir = debugfs_create_dir(unit->ident.serial, sim_debugfs_root);
	debugfs_create_u32("disconnect", 0600, dir, &unit->disconnect);
	debugfs_create_u32("stuck", 0600, dir, &unit->stuck);
	debugfs_create_bool("fail_start", 0600, dir, &unit->fail_start);
	debugfs_create_bool("reject_firmware", 0600, dir,
			    &unit->reject_firmware);
	debugfs_create_file_unsafe("door_open_ms", 0600, dir, unit,
				   &sim_door_fops);
	debugfs_create_file("model", 0400, dir, unit, &sim_model_fops);
	return devm_add_action_or_reset(dev, sim_debugfs_remove, dir);
}

/* ---- platform driver ---- */

static int sim_probe(struct platform_device *pdev)
{
	const struct sim_pdata *pd = dev_get_platdata(&pdev->dev);
	struct coldroom_sensor *sensor;
	struct sim_unit *unit;
	unsigned int ch;
	int ret;

	if (!pd)
		return -EINVAL;
	unit = devm_kzalloc(&pdev->dev, sizeof(*unit), GFP_KERNEL);
	if (!unit)
		return -ENOMEM;
	strscpy(unit->ident.model, pd->model, sizeof(unit->ident.model));
	strscpy(unit->ident.serial, pd->serial, sizeof(unit->ident.serial));
	unit->has_imager = !strcmp(pd->model, "CRS-210T");
	mutex_init(&unit->lock);
	INIT_LIST_HEAD(&unit->active_node);
	INIT_LIST_HEAD(&unit->due_node);
	coldroom_sim_model_init(&unit->model, seed, unit->ident.serial,
				door_interval_s);
	for (ch = 0; ch < COLDROOM_CHANNELS; ch++)
		unit->last_raw[ch] = coldroom_sim_model_read(&unit->model, ch);

	/* devres order: debugfs goes after the sensor stopped using it. */
	ret = sim_debugfs_add(&pdev->dev, unit);
	if (ret)
		return ret;
	sensor = devm_coldroom_sensor_register(&pdev->dev, &sim_ops, unit);
	return PTR_ERR_OR_ZERO(sensor);
}

static bool sim_serial_valid(const char *s)
{
	size_t len = strlen(s);
	size_t i;

	if (len == 0 || len > COLDROOM_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return strcmp(s, ".") && strcmp(s, "..");
}

static struct sim_dev_entry *sim_find_serial(const char *serial)
{
	char key[COLDROOM_ID_LEN + 1];

	lockdep_assert_held(&sim_devs_lock);
	strscpy_pad(key, serial, sizeof(key));
	return rhashtable_lookup_fast(&sim_serials, key, sim_serial_params);
}

/* Under sim_devs_lock: the serial is known to be free. */
static int sim_add_entry(struct sim_dev_entry *e)
{
	int ret;

	lockdep_assert_held(&sim_devs_lock);
	ret = rhashtable_insert_fast(&sim_serials, &e->serial_node,
				     sim_serial_params);
	if (!ret)
		list_add_tail(&e->node, &sim_devs);
	return ret;
}

static void sim_remove_entry(struct sim_dev_entry *e)
{
	lockdep_assert_held(&sim_devs_lock);
	rhashtable_remove_fast(&sim_serials, &e->serial_node,
			       sim_serial_params);
	list_del(&e->node);
}

/* Creates one unit; @serial NULL picks the next free SIM-NNNNNN. */
static int sim_add_unit(const char *model, const char *serial)
{
	struct platform_device_info info = {
		.name = SIM_DRIVER_NAME,
	};
	struct sim_pdata pd = { };
	struct sim_dev_entry *e;
	int ret;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;

	mutex_lock(&sim_devs_lock);
	if (serial) {
		if (sim_find_serial(serial)) {
			ret = -EEXIST;
			goto err_unlock;
		}
		strscpy(e->serial, serial, sizeof(e->serial));
	} else {
		do {
			snprintf(e->serial, sizeof(e->serial), "SIM-%06u",
				 sim_next_serial++);
		} while (sim_find_serial(e->serial));
	}
	e->id = ida_alloc(&sim_ida, GFP_KERNEL);
	if (e->id < 0) {
		ret = e->id;
		goto err_unlock;
	}

	strscpy(pd.model, model, sizeof(pd.model));
	strscpy(pd.serial, e->serial, sizeof(pd.serial));
	info.id = e->id;
	info.data = &pd;
	info.size_data = sizeof(pd);
	e->pdev = platform_device_register_full(&info);
	if (IS_ERR(e->pdev)) {
		ret = PTR_ERR(e->pdev);
		goto err_ida;
	}
	/* Probing is synchronous: no driver means the unit failed to come up. */
	if (!e->pdev->dev.driver) {
		platform_device_unregister(e->pdev);
		ret = -ENODEV;
		goto err_ida;
	}
	ret = sim_add_entry(e);
	if (ret) {
		platform_device_unregister(e->pdev);
		goto err_ida;
	}
	mutex_unlock(&sim_devs_lock);
	return 0;

err_ida:
	ida_free(&sim_ida, e->id);
err_unlock:
	mutex_unlock(&sim_devs_lock);
	kfree(e);
	return ret;
}

static void sim_del_entry(struct sim_dev_entry *e)
{
	platform_device_unregister(e->pdev);
	ida_free(&sim_ida, e->id);
	kfree(e);
}

static ssize_t new_device_store(struct device_driver *drv, const char *buf,
				size_t count)
{
	char line[2 * COLDROOM_ID_LEN + 3];
	const char *model = NULL;
	char *serial;
	size_t len = count;
	unsigned int i;
	int ret;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len >= sizeof(line))
		return -EINVAL;
	memcpy(line, buf, len);
	line[len] = '\0';

	serial = strchr(line, ' ');
	if (serial) {
		*serial++ = '\0';
		if (!sim_serial_valid(serial))
			return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(sim_models); i++)
		if (!strcmp(line, sim_models[i]))
			model = sim_models[i];
	if (!model)
		return -EINVAL;

	ret = sim_add_unit(model, serial);
	return ret ? ret : count;
}
static DRIVER_ATTR_WO(new_device);

static ssize_t del_device_store(struct device_driver *drv, const char *buf,
				size_t count)
{
	char serial[COLDROOM_ID_LEN + 1];
	struct sim_dev_entry *e;
	size_t len = count;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len >= sizeof(serial))
		return -EINVAL;
	memcpy(serial, buf, len);
	serial[len] = '\0';

	mutex_lock(&sim_devs_lock);
	e = sim_find_serial(serial);
	if (e)
		sim_remove_entry(e);
	mutex_unlock(&sim_devs_lock);
	if (!e)
		return -ENODEV;
	sim_del_entry(e);
	return count;
}
static DRIVER_ATTR_WO(del_device);

static struct attribute *sim_driver_attrs[] = {
	&driver_attr_new_device.attr,
	&driver_attr_del_device.attr,
	NULL
};
ATTRIBUTE_GROUPS(sim_driver);

static struct platform_driver sim_driver = {
	.driver = {
		.name = SIM_DRIVER_NAME,
		.groups = sim_driver_groups,
	},
	.probe = sim_probe,
};

static void sim_del_all(void)
{
	struct sim_dev_entry *e;

	for (;;) {
		mutex_lock(&sim_devs_lock);
		e = list_first_entry_or_null(&sim_devs, struct sim_dev_entry,
					     node);
		if (e)
			sim_remove_entry(e);
		mutex_unlock(&sim_devs_lock);
		if (!e)
			return;
		sim_del_entry(e);
		cond_resched();
	}
}

static void sim_cleanup(void)
{
	/* Unbinding stops every unit, so the tick stops re-arming. */
	platform_driver_unregister(&sim_driver);
	sim_del_all();
	cancel_delayed_work_sync(&sim_tick_work);
	destroy_workqueue(sim_wq);
	debugfs_remove_recursive(sim_debugfs_root);
	rhashtable_destroy(&sim_serials);
}

static int __init sim_init(void)
{
	unsigned int i;
	int ret;

	if (units > SIM_MAX_UNITS) {
		pr_err("units=%u is over %u\n", units, SIM_MAX_UNITS);
		return -EINVAL;
	}
	for (i = 0; i < SIM_WHEEL_SLOTS; i++)
		INIT_LIST_HEAD(&sim_wheel[i]);
	ret = rhashtable_init(&sim_serials, &sim_serial_params);
	if (ret)
		return ret;
	sim_wq = alloc_workqueue(SIM_DRIVER_NAME, WQ_UNBOUND, 1);
	if (!sim_wq) {
		rhashtable_destroy(&sim_serials);
		return -ENOMEM;
	}
	sim_debugfs_root = debugfs_create_dir(SIM_DRIVER_NAME, NULL);
	ret = platform_driver_register(&sim_driver);
	if (ret) {
		debugfs_remove_recursive(sim_debugfs_root);
		destroy_workqueue(sim_wq);
		rhashtable_destroy(&sim_serials);
		return ret;
	}
	for (i = 0; i < units; i++) {
		ret = sim_add_unit(sim_models[i % ARRAY_SIZE(sim_models)], NULL);
		if (ret) {
			pr_err("creating unit %u failed: %d\n", i, ret);
			sim_cleanup();
			return ret;
		}
		cond_resched();
	}
	return 0;
}

static void __exit sim_exit(void)
{
	sim_cleanup();
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("Simulated cold-room sensor units for coldroom");
MODULE_LICENSE("GPL");
