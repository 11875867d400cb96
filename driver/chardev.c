// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom core: /dev/coldroom, the bulk path for all units.
 *
 * Each open file is a reader of the one ring with its own position,
 * subscription and overflow accounting. The file pins the module
 * (fops.owner) and a mapping pins its file, so the ring and this code
 * outlive every reader; units may come and go underneath, since readers
 * reach a unit only through a counted reference (coldroom_sensor_get()).
 */

#include <linux/bitmap.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "coldroom_core.h"

/* Records copied to user space per copy_to_user(). */
#define READ_CHUNK	64
#define BATCH_CHUNK	64

struct coldroom_reader {
	/*
	 * read() and the subscription ioctls, held across their copies to
	 * and from user memory, which may wait for as long as a
	 * userfaultfd or FUSE server likes: never taken by poll().
	 */
	struct mutex io_lock;
	/* The fields below; held only briefly, never across a user copy. */
	struct mutex lock;
	u64 pos;			/* next ring position for read() */
	u64 records_read;
	u64 records_lost;
	u64 overflows;
	u64 unreported;			/* lost, overflow record not yet read */

	/*
	 * Subscription: all units, or those set in sub_map. Changed under
	 * rd->io_lock, rd->lock and coldroom_async_lock, so any of them
	 * keeps it still for a reader of it.
	 */
	bool sub_all;
	unsigned long *sub_map;
	u32 sub_bits;

	/* SIGIO with O_ASYNC, for the subscribed units' records only. */
	struct fasync_struct *fasync;
	struct list_head async_node;	/* on coldroom_async_readers */

	struct page *consumer;		/* mmap consumer page, once mapped */
	struct coldroom_record chunk[READ_CHUNK];	/* under io_lock */
};

/* Readers with O_ASYNC set, which coldroom_chardev_notify() signals. */
static LIST_HEAD(coldroom_async_readers);
static DEFINE_SPINLOCK(coldroom_async_lock);

static bool reader_wants(const struct coldroom_reader *rd, u32 unit)
{
	return rd->sub_all || (unit < rd->sub_bits && test_bit(unit, rd->sub_map));
}

static int coldroom_open(struct inode *inode, struct file *file)
{
	struct coldroom_reader *rd;

	rd = kzalloc(sizeof(*rd), GFP_KERNEL);
	if (!rd)
		return -ENOMEM;
	coldroom_obj_alloc(COLDROOM_OBJ_READER);
	mutex_init(&rd->io_lock);
	mutex_init(&rd->lock);
	INIT_LIST_HEAD(&rd->async_node);
	rd->sub_all = true;
	/* A new reader sees what comes next, not history. */
	rd->pos = coldroom_ring_head();
	file->private_data = rd;
	return stream_open(inode, file);
}

static int coldroom_release(struct inode *inode, struct file *file)
{
	struct coldroom_reader *rd = file->private_data;

	/* __fput() has switched O_ASYNC off already; be sure anyway. */
	spin_lock(&coldroom_async_lock);
	list_del_init(&rd->async_node);
	spin_unlock(&coldroom_async_lock);
	if (rd->consumer) {
		put_page(rd->consumer);
		coldroom_obj_free(COLDROOM_OBJ_CONSUMER_PAGE);
	}
	if (rd->sub_map)
		coldroom_obj_free(COLDROOM_OBJ_SUBSCRIPTION);
	kvfree(rd->sub_map);
	kfree(rd);
	coldroom_obj_free(COLDROOM_OBJ_READER);
	return 0;
}

/* Wakes a blocked read(), which then looks for records of its units. */
static bool reader_has_data(struct coldroom_reader *rd)
{
	return READ_ONCE(rd->pos) != coldroom_ring_head() ||
	       READ_ONCE(rd->unreported);
}

/*
 * Is there something for read() to return: a record of a subscribed unit
 * or an overflow to report? Skips (consumes) the records of other units
 * on the way, as read() would, so each record is looked at once however
 * often the file is polled. Called under rd->lock.
 */
static bool reader_has_wanted(struct coldroom_reader *rd)
{
	struct coldroom_record rec;
	u64 resume;

	lockdep_assert_held(&rd->lock);
	if (rd->unreported)
		return true;
	if (rd->sub_all)
		return rd->pos != coldroom_ring_head();
	for (;;) {
		int ret = coldroom_ring_fetch(rd->pos, &rec, &resume);

		if (ret == -EAGAIN)
			return false;
		/* read() accounts for the loss and reports it. */
		if (ret == -EOVERFLOW)
			return true;
		if (reader_wants(rd, rec.unit))
			return true;
		rd->pos++;
	}
}

/*
 * Fills rd->chunk from the ring without committing: returns the records
 * filled and, in *next, the position after the last one looked at. Stops
 * early at the head or at an overflow (*overflow_to set). Called under
 * rd->io_lock and rd->lock.
 */
static unsigned int reader_fill(struct coldroom_reader *rd, unsigned int max,
				u64 *next, u64 *overflow_to)
{
	unsigned int n = 0;
	u64 pos = rd->pos;

	*overflow_to = 0;
	if (rd->unreported) {
		struct coldroom_record *r = &rd->chunk[n++];

		memset(r, 0, sizeof(*r));
		r->pos = pos;
		r->seq = rd->unreported;
		r->frame_pos = COLDROOM_POS_INVALID;
		r->unit = COLDROOM_UNIT_NONE;
		r->flags = COLDROOM_F_OVERFLOW;
	}
	while (n < max) {
		int ret = coldroom_ring_fetch(pos, &rd->chunk[n], overflow_to);

		if (ret == -EAGAIN)
			break;
		if (ret == -EOVERFLOW)
			break;
		pos++;
		if (reader_wants(rd, rd->chunk[n].unit))
			n++;
	}
	*next = pos;
	return n;
}

static ssize_t coldroom_read(struct file *file, char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct coldroom_reader *rd = file->private_data;
	size_t want = count / sizeof(struct coldroom_record);
	size_t done = 0;
	ssize_t ret;

	if (!want)
		return -EINVAL;	/* no room for one whole record */
	if (mutex_lock_interruptible(&rd->io_lock))
		return -ERESTARTSYS;
	for (;;) {
		unsigned int n;
		u64 next, overflow_to;
		bool reported;

		mutex_lock(&rd->lock);
		reported = rd->unreported;
		n = reader_fill(rd, min_t(size_t, want - done, READ_CHUNK),
				&next, &overflow_to);
		mutex_unlock(&rd->lock);
		/*
		 * Without rd->lock: poll() must not wait for a copy that
		 * faults. io_lock keeps other readers of this file out.
		 */
		if (n && copy_to_user(buf + done * sizeof(rd->chunk[0]),
				      rd->chunk, n * sizeof(rd->chunk[0]))) {
			/* Nothing of this chunk is consumed. */
			ret = done ? done * sizeof(rd->chunk[0]) : -EFAULT;
			goto out;
		}
		mutex_lock(&rd->lock);
		/* poll() may have skipped other units' records meanwhile. */
		rd->pos = max(rd->pos, next);
		if (reported) {
			rd->unreported = 0;
			rd->records_read += n - 1;
		} else {
			rd->records_read += n;
		}
		done += n;
		if (overflow_to) {
			u64 lost = overflow_to - next;

			rd->records_lost += lost;
			rd->overflows++;
			rd->unreported += lost;
			rd->pos = overflow_to;
			atomic64_inc(&coldroom_counters.ring_overruns);
			atomic64_add(lost, &coldroom_counters.records_lost);
		}
		mutex_unlock(&rd->lock);
		if (done == want)
			break;
		if (overflow_to || n)
			continue;
		/* At the head. */
		if (done)
			break;
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out;
		}
		mutex_unlock(&rd->io_lock);
		ret = wait_event_interruptible(coldroom_ring_wq,
					       reader_has_data(rd));
		if (ret)
			return ret;
		if (mutex_lock_interruptible(&rd->io_lock))
			return -ERESTARTSYS;
	}
	ret = done * sizeof(rd->chunk[0]);
out:
	mutex_unlock(&rd->io_lock);
	return ret;
}

static __poll_t coldroom_poll(struct file *file, poll_table *wait)
{
	struct coldroom_reader *rd = file->private_data;
	struct page *consumer;
	bool readable;

	poll_wait(file, &coldroom_ring_wq, wait);
	/* Mapped readers poll on their own tail, trusted only when clamped. */
	/* Pairs with the cmpxchg in coldroom_consumer_page(). */
	consumer = smp_load_acquire(&rd->consumer);
	if (consumer) {
		const struct coldroom_ring_consumer *c = page_address(consumer);
		u64 tail = coldroom_ring_clamp(READ_ONCE(c->tail));

		return tail != coldroom_ring_head() ? EPOLLIN | EPOLLRDNORM : 0;
	}
	if (!reader_has_data(rd))
		return 0;
	/*
	 * Readable only if read() would return at once. rd->lock is never
	 * held across a user copy, so this does not wait for one.
	 */
	mutex_lock(&rd->lock);
	readable = reader_has_wanted(rd);
	mutex_unlock(&rd->lock);
	return readable ? EPOLLIN | EPOLLRDNORM : 0;
}

static int coldroom_fasync(int fd, struct file *file, int on)
{
	struct coldroom_reader *rd = file->private_data;
	int ret;

	/* fasync_helper() may sleep; the list follows what it left. */
	ret = fasync_helper(fd, file, on, &rd->fasync);
	if (ret < 0)
		return ret;
	spin_lock(&coldroom_async_lock);
	list_del_init(&rd->async_node);
	if (READ_ONCE(rd->fasync))
		list_add_tail(&rd->async_node, &coldroom_async_readers);
	spin_unlock(&coldroom_async_lock);
	return ret;
}

/*
 * A record was published: SIGIO to the O_ASYNC readers subscribed to its
 * unit. Costs one look at an empty list when nobody asked for signals.
 */
void coldroom_chardev_notify(u32 unit)
{
	struct coldroom_reader *rd;

	if (list_empty_careful(&coldroom_async_readers))
		return;
	spin_lock(&coldroom_async_lock);
	list_for_each_entry(rd, &coldroom_async_readers, async_node)
		if (reader_wants(rd, unit))
			kill_fasync(&rd->fasync, SIGIO, POLL_IN);
	spin_unlock(&coldroom_async_lock);
}

/*
 * The reader's consumer page, allocated by its first mapping. No lock of
 * the reader is taken: ->mmap runs under mmap_lock, and read() and the
 * ioctls hold rd->io_lock while they copy to user memory, which may fault
 * and take mmap_lock. Racing first mappings agree through the cmpxchg.
 */
static struct page *coldroom_consumer_page(struct coldroom_reader *rd)
{
	struct page *page, *old;

	/* Pairs with the cmpxchg below: the page is initialised. */
	page = smp_load_acquire(&rd->consumer);
	if (page)
		return page;
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return NULL;
	((struct coldroom_ring_consumer *)page_address(page))->tail =
		coldroom_ring_head();
	old = cmpxchg(&rd->consumer, NULL, page);
	if (old) {
		__free_page(page);
		/* A failed cmpxchg orders nothing: load it again. */
		return smp_load_acquire(&rd->consumer);
	}
	coldroom_obj_alloc(COLDROOM_OBJ_CONSUMER_PAGE);
	return page;
}

static int coldroom_mmap_consumer(struct file *file,
				  struct vm_area_struct *vma)
{
	struct coldroom_reader *rd = file->private_data;
	struct page *page;

	/*
	 * Only a writer can move the tail; a page mapped through a read-only
	 * file would freeze poll() on a tail nobody can advance.
	 */
	if (!(file->f_mode & FMODE_WRITE))
		return -EACCES;
	if (vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	/* A private copy would keep the tail from the kernel. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	page = coldroom_consumer_page(rd);
	if (!page)
		return -ENOMEM;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	/* The mapping holds its own page reference: munmap never frees it. */
	return vm_insert_page(vma, vma->vm_start, page);
}

static int coldroom_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff == COLDROOM_MMAP_RING >> PAGE_SHIFT)
		return coldroom_ring_mmap(vma);
	if (vma->vm_pgoff == COLDROOM_MMAP_CONSUMER >> PAGE_SHIFT)
		return coldroom_mmap_consumer(file, vma);
	return -EINVAL;
}

/* ---- ioctl ---- */

static long ioctl_version(void __user *arg)
{
	struct coldroom_version v = {
		.abi_version = COLDROOM_ABI_VERSION,
		.record_size = sizeof(struct coldroom_record),
		.reading_size = sizeof(struct coldroom_reading),
		.max_batch = COLDROOM_BATCH_MAX,
		.max_unit = COLDROOM_UNIT_MAX,
		.frame_max_pixels = COLDROOM_FRAME_MAX_PIXELS,
	};

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long ioctl_read_temp(void __user *arg, unsigned int channel)
{
	struct coldroom_sensor *s;
	struct coldroom_temp t;
	int ret;

	if (copy_from_user(&t, arg, sizeof(t)))
		return -EFAULT;
	if (t.unit > COLDROOM_UNIT_MAX)
		return -EINVAL;
	s = coldroom_sensor_get(t.unit);
	if (!s)
		return -ENODEV;
	ret = coldroom_read_temp(s, channel, &t.mdeg);
	coldroom_sensor_put(s);
	if (ret)
		return ret;
	return copy_to_user(arg, &t, sizeof(t)) ? -EFAULT : 0;
}

static long ioctl_read_batch(void __user *arg)
{
	struct coldroom_reading *chunk;
	struct coldroom_reading __user *out;
	struct coldroom_sensor *s;
	struct coldroom_batch b;
	u32 unit, n = 0, filled = 0;
	long ret = 0;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	if (b.flags || b.reserved || b.max_readings == 0 ||
	    b.max_readings > COLDROOM_BATCH_MAX || b.first_unit > COLDROOM_UNIT_MAX)
		return -EINVAL;
	out = u64_to_user_ptr(b.readings);
	if (!access_ok(out, (size_t)b.max_readings * sizeof(*out)))
		return -EFAULT;
	chunk = kmalloc_array(BATCH_CHUNK, sizeof(*chunk), GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;

	unit = b.first_unit;
	b.next_unit = COLDROOM_UNIT_NONE;
	while (filled + n < b.max_readings) {
		s = coldroom_sensor_get_next(&unit);
		if (!s)
			break;
		coldroom_sensor_snapshot(s, &chunk[n++]);
		coldroom_sensor_put(s);
		unit++;
		if (n == BATCH_CHUNK) {
			if (copy_to_user(out + filled, chunk, n * sizeof(*chunk))) {
				ret = -EFAULT;
				goto out;
			}
			filled += n;
			n = 0;
		}
	}
	if (n && copy_to_user(out + filled, chunk, n * sizeof(*chunk))) {
		ret = -EFAULT;
		goto out;
	}
	filled += n;
	/* Is there a unit after the last one returned? */
	if (unit <= COLDROOM_UNIT_MAX) {
		s = coldroom_sensor_get_next(&unit);
		if (s) {
			b.next_unit = unit;
			coldroom_sensor_put(s);
		}
	}
	b.nr_readings = filled;
	if (copy_to_user(arg, &b, sizeof(b)))
		ret = -EFAULT;
out:
	kfree(chunk);
	return ret;
}

static long ioctl_get_subscription(struct coldroom_reader *rd,
				   void __user *arg)
{
	struct coldroom_subscription sub;
	u32 __user *units;
	u32 count = 0;
	unsigned int bit;

	if (copy_from_user(&sub, arg, sizeof(sub)))
		return -EFAULT;
	if (sub.flags)
		return -EINVAL;
	units = u64_to_user_ptr(sub.units);

	/* io_lock keeps the map still across put_user(); poll() goes on. */
	if (mutex_lock_interruptible(&rd->io_lock))
		return -ERESTARTSYS;
	if (rd->sub_all) {
		sub.flags = COLDROOM_SUB_ALL;
	} else {
		for_each_set_bit(bit, rd->sub_map, rd->sub_bits) {
			if (count < sub.nr_units && put_user((u32)bit, units + count)) {
				mutex_unlock(&rd->io_lock);
				return -EFAULT;
			}
			count++;
		}
	}
	mutex_unlock(&rd->io_lock);
	sub.nr_units = count;
	return copy_to_user(arg, &sub, sizeof(sub)) ? -EFAULT : 0;
}

static long ioctl_set_subscription(struct coldroom_reader *rd,
				   void __user *arg)
{
	struct coldroom_subscription sub;
	unsigned long *map = NULL;
	u32 *units = NULL;
	u32 i, bits = 0;

	if (copy_from_user(&sub, arg, sizeof(sub)))
		return -EFAULT;
	if (sub.flags & ~COLDROOM_SUB_ALL)
		return -EINVAL;
	if (sub.flags & COLDROOM_SUB_ALL) {
		if (sub.nr_units || sub.units)
			return -EINVAL;
	} else if (sub.nr_units) {
		if (sub.nr_units > COLDROOM_SUB_MAX_UNITS)
			return -EINVAL;
		/* Sized by the caller: charged to its memory cgroup. */
		units = kvmalloc_array(sub.nr_units, sizeof(u32),
				       GFP_KERNEL_ACCOUNT);
		if (!units)
			return -ENOMEM;
		if (copy_from_user(units, u64_to_user_ptr(sub.units),
				   array_size(sub.nr_units, sizeof(u32)))) {
			kvfree(units);
			return -EFAULT;
		}
		for (i = 0; i < sub.nr_units; i++) {
			if (units[i] > COLDROOM_UNIT_MAX) {
				kvfree(units);
				return -EINVAL;
			}
			bits = max(bits, units[i] + 1);
		}
		map = kvcalloc(BITS_TO_LONGS(bits), sizeof(long),
			       GFP_KERNEL_ACCOUNT);
		if (!map) {
			kvfree(units);
			return -ENOMEM;
		}
		coldroom_obj_alloc(COLDROOM_OBJ_SUBSCRIPTION);
		for (i = 0; i < sub.nr_units; i++)
			__set_bit(units[i], map);
		kvfree(units);
	}

	if (mutex_lock_interruptible(&rd->io_lock)) {
		kvfree(map);
		if (map)
			coldroom_obj_free(COLDROOM_OBJ_SUBSCRIPTION);
		return -ERESTARTSYS;
	}
	mutex_lock(&rd->lock);
	spin_lock(&coldroom_async_lock);
	swap(rd->sub_map, map);
	rd->sub_bits = bits;
	rd->sub_all = sub.flags & COLDROOM_SUB_ALL;
	spin_unlock(&coldroom_async_lock);
	mutex_unlock(&rd->lock);
	mutex_unlock(&rd->io_lock);
	if (map)
		coldroom_obj_free(COLDROOM_OBJ_SUBSCRIPTION);
	kvfree(map);
	return 0;
}

static long ioctl_ring_info(void __user *arg)
{
	struct coldroom_ring_info info;

	coldroom_ring_get_info(&info);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ioctl_stats(struct coldroom_reader *rd, void __user *arg)
{
	struct coldroom_file_stats st = { };

	mutex_lock(&rd->lock);
	st.position = rd->pos;
	st.records_read = rd->records_read;
	st.records_lost = rd->records_lost;
	st.overflows = rd->overflows;
	mutex_unlock(&rd->lock);
	st.head = coldroom_ring_head();
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long coldroom_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct coldroom_reader *rd = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case COLDROOM_IOC_GET_VERSION:
		return ioctl_version(uarg);
	case COLDROOM_IOC_READ_TEMP1:
		return ioctl_read_temp(uarg, 0);
	case COLDROOM_IOC_READ_TEMP2:
		return ioctl_read_temp(uarg, 1);
	case COLDROOM_IOC_READ_BATCH:
		return ioctl_read_batch(uarg);
	case COLDROOM_IOC_GET_SUBSCRIPTION:
		return ioctl_get_subscription(rd, uarg);
	case COLDROOM_IOC_SET_SUBSCRIPTION:
		return ioctl_set_subscription(rd, uarg);
	case COLDROOM_IOC_RING_INFO:
		return ioctl_ring_info(uarg);
	case COLDROOM_IOC_GET_STATS:
		return ioctl_stats(rd, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations coldroom_fops = {
	.owner = THIS_MODULE,
	.open = coldroom_open,
	.release = coldroom_release,
	.read = coldroom_read,
	.poll = coldroom_poll,
	.fasync = coldroom_fasync,
	.mmap = coldroom_mmap,
	.unlocked_ioctl = coldroom_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice coldroom_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "coldroom",
	.fops = &coldroom_fops,
	.mode = 0600,	/* udev rules widen it to the site's group */
};

struct device *coldroom_chardev_device(void)
{
	return coldroom_misc.this_device;
}

int coldroom_chardev_init(void)
{
	return misc_register(&coldroom_misc);
}

void coldroom_chardev_exit(void)
{
	misc_deregister(&coldroom_misc);
}
