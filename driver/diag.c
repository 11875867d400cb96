// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom core: diagnostics. /proc/driver/coldroom is a table of the
 * units; /sys/kernel/debug/coldroom/ holds the bulk path's counters.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "coldroom_core.h"

struct coldroom_counters coldroom_counters;
atomic_t coldroom_allocated[COLDROOM_OBJ_NR];

static const char * const coldroom_object_names[COLDROOM_OBJ_NR] = {
	[COLDROOM_OBJ_SENSOR] = "sensors",
	[COLDROOM_OBJ_FRAME_BUFFER] = "frame_buffers",
	[COLDROOM_OBJ_READER] = "readers",
	[COLDROOM_OBJ_CONSUMER_PAGE] = "consumer_pages",
	[COLDROOM_OBJ_SUBSCRIPTION] = "subscription_maps",
};

static struct dentry *coldroom_debugfs;

/*
 * Units in unit-number order: position 0 is the header, position N + 1
 * unit N (or the first unit after it). Each step is one xarray lookup and
 * holds a reference, never a lock, so reading the whole table costs O(n).
 */
static void *units_start(struct seq_file *m, loff_t *pos)
{
	u32 unit;
	struct coldroom_sensor *s;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (*pos > (loff_t)COLDROOM_UNIT_MAX + 1)
		return NULL;
	unit = *pos - 1;
	s = coldroom_sensor_get_next(&unit);
	if (s)
		*pos = (loff_t)unit + 1;
	return s;
}

static void *units_next(struct seq_file *m, void *v, loff_t *pos)
{
	if (v != SEQ_START_TOKEN)
		coldroom_sensor_put(v);
	++*pos;
	return units_start(m, pos);
}

static void units_stop(struct seq_file *m, void *v)
{
	if (v && v != SEQ_START_TOKEN)
		coldroom_sensor_put(v);
}

static void units_temp(struct seq_file *m, const struct coldroom_reading *r,
		       u32 valid)
{
	if ((r->flags & COLDROOM_F_READY) && (r->flags & valid))
		seq_printf(m, " %8d", valid == COLDROOM_F_TEMP1_VALID ?
			   r->temp1 : r->temp2);
	else
		seq_printf(m, " %8s", "-");
}

static int units_show(struct seq_file *m, void *v)
{
	struct coldroom_sensor *s;
	struct coldroom_reading r;
	enum coldroom_fw_state state;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "%-12s %-16s %-16s %-8s %10s %8s %8s %s\n",
			   "unit", "model", "serial", "state", "seq", "temp1",
			   "temp2", "alarm");
		return 0;
	}
	s = v;
	coldroom_sensor_snapshot(s, &r);
	mutex_lock(&s->lock);
	state = s->fw_state;
	mutex_unlock(&s->lock);
	seq_printf(m, "%-12s %-16s %-16s %-8s %10llu", dev_name(&s->dev),
		   s->ident.model, s->ident.serial,
		   coldroom_fw_state_name(state), r.seq);
	units_temp(m, &r, COLDROOM_F_TEMP1_VALID);
	units_temp(m, &r, COLDROOM_F_TEMP2_VALID);
	seq_printf(m, " %d%d\n", !!(r.flags & COLDROOM_F_TEMP1_ALARM),
		   !!(r.flags & COLDROOM_F_TEMP2_ALARM));
	return 0;
}

static const struct seq_operations units_seq_ops = {
	.start = units_start,
	.next = units_next,
	.stop = units_stop,
	.show = units_show,
};

static int allocated_show(struct seq_file *m, void *v)
{
	unsigned int i;

	for (i = 0; i < COLDROOM_OBJ_NR; i++)
		seq_printf(m, "%s %d\n", coldroom_object_names[i],
			   atomic_read(&coldroom_allocated[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(allocated);

void coldroom_diag_check_allocated(void)
{
	unsigned int i;
	int n;

	for (i = 0; i < COLDROOM_OBJ_NR; i++) {
		n = atomic_read(&coldroom_allocated[i]);
		if (n)
			pr_err("leak: %d %s still allocated at unload\n",
			       n, coldroom_object_names[i]);
	}
}

static int counter_get(void *data, u64 *val)
{
	*val = atomic64_read(data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(counter_fops, counter_get, NULL, "%llu\n");

int coldroom_diag_init(void)
{
	static const struct {
		const char *name;
		atomic64_t *counter;
	} counters[] = {
		{ "samples_produced", &coldroom_counters.samples_produced },
		{ "samples_dropped", &coldroom_counters.samples_dropped },
		{ "frames_produced", &coldroom_counters.frames_produced },
		{ "ring_overruns", &coldroom_counters.ring_overruns },
		{ "records_lost", &coldroom_counters.records_lost },
		{ "firmware_loads", &coldroom_counters.firmware_loads },
	};
	unsigned int i;

	if (!proc_create_seq("driver/coldroom", 0444, NULL, &units_seq_ops))
		return -ENOMEM;
	coldroom_debugfs = debugfs_create_dir("coldroom", NULL);
	for (i = 0; i < ARRAY_SIZE(counters); i++)
		debugfs_create_file_unsafe(counters[i].name, 0400,
					   coldroom_debugfs,
					   counters[i].counter, &counter_fops);
	debugfs_create_file("allocated", 0400, coldroom_debugfs, NULL,
			    &allocated_fops);
	return 0;
}

void coldroom_diag_exit(void)
{
	debugfs_remove_recursive(coldroom_debugfs);
	remove_proc_entry("driver/coldroom", NULL);
}
