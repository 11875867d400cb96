// SPDX-License-Identifier: GPL-2.0
/*
 * coldroom core: the ring every sample goes through on the bulk path.
 *
 * One ring for all units, in one vmalloc_user() area that read() copies
 * from and mmap() maps read-only: a control page, the record slots, the
 * frame slots. The protocol (include/uapi/linux/coldroom.h) is a sequence
 * lock per slot: a slot's pos is COLDROOM_POS_INVALID while it is being
 * written and then the position it holds, so a reader (kernel or user)
 * can tell a stable copy from a torn or overwritten one without a lock.
 * The producer never waits for a reader: a slow reader loses records and
 * is told so.
 */

#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "coldroom_core.h"

static unsigned int ring_records = 65536;
module_param(ring_records, uint, 0444);
MODULE_PARM_DESC(ring_records,
		 "Record slots of the ring, a power of two (default 65536)");

static unsigned int ring_frames = 1024;
module_param(ring_frames, uint, 0444);
MODULE_PARM_DESC(ring_frames,
		 "Thermal frame slots of the ring, a power of two (default 1024)");

#define RING_RECORDS_MIN	64
#define RING_RECORDS_MAX	(1024U * 1024)
#define RING_FRAMES_MIN		16
#define RING_FRAMES_MAX		16384U
#define FRAME_SLOT_SIZE		ALIGN(sizeof(struct coldroom_frame) + \
				      COLDROOM_FRAME_MAX_PIXELS * sizeof(s16), 64)

struct coldroom_ring {
	void *area;
	size_t size;
	struct coldroom_ring_ctrl *ctrl;
	struct coldroom_record *records;
	u8 *frames;
	u32 nr_records;
	u32 nr_frames;
	size_t records_offset;
	size_t frames_offset;

	spinlock_t lock;	/* one producer at a time */
	u64 head;		/* published records, read with acquire */
	u64 frame_head;		/* under lock */
};

static struct coldroom_ring ring;

DECLARE_WAIT_QUEUE_HEAD(coldroom_ring_wq);

static struct coldroom_frame *frame_slot(u64 pos)
{
	return (struct coldroom_frame *)(ring.frames +
		(size_t)(pos & (ring.nr_frames - 1)) * FRAME_SLOT_SIZE);
}

int coldroom_ring_init(void)
{
	size_t records_bytes, frames_bytes;
	u32 i;

	BUILD_BUG_ON(COLDROOM_FRAME_MAX_PIXELS != COLDROOM_FW_FRAME_PIXELS_MAX);
	BUILD_BUG_ON(sizeof(struct coldroom_ring_ctrl) > PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct coldroom_record) != 48);

	if (ring_records < RING_RECORDS_MIN || ring_records > RING_RECORDS_MAX ||
	    !is_power_of_2(ring_records) || ring_frames < RING_FRAMES_MIN ||
	    ring_frames > RING_FRAMES_MAX || !is_power_of_2(ring_frames)) {
		pr_err("coldroom: ring_records must be a power of two in %u..%u and ring_frames one in %u..%u\n",
		       RING_RECORDS_MIN, RING_RECORDS_MAX, RING_FRAMES_MIN,
		       RING_FRAMES_MAX);
		return -EINVAL;
	}

	ring.nr_records = ring_records;
	ring.nr_frames = ring_frames;
	records_bytes = PAGE_ALIGN((size_t)ring.nr_records *
				   sizeof(struct coldroom_record));
	frames_bytes = PAGE_ALIGN((size_t)ring.nr_frames * FRAME_SLOT_SIZE);
	ring.records_offset = PAGE_SIZE;
	ring.frames_offset = PAGE_SIZE + records_bytes;
	ring.size = ring.frames_offset + frames_bytes;
	BUILD_BUG_ON(PAGE_SIZE + PAGE_ALIGN((size_t)RING_RECORDS_MAX * 48) +
		     PAGE_ALIGN((size_t)RING_FRAMES_MAX * FRAME_SLOT_SIZE) >
		     COLDROOM_MMAP_CONSUMER);

	/* Zeroed, and mappable into user space with remap_vmalloc_range(). */
	ring.area = vmalloc_user(ring.size);
	if (!ring.area)
		return -ENOMEM;
	ring.ctrl = ring.area;
	ring.records = ring.area + ring.records_offset;
	ring.frames = ring.area + ring.frames_offset;

	/* Position 0 is a real position: no slot may claim it yet. */
	for (i = 0; i < ring.nr_records; i++)
		ring.records[i].pos = COLDROOM_POS_INVALID;
	for (i = 0; i < ring.nr_frames; i++)
		frame_slot(i)->pos = COLDROOM_POS_INVALID;

	ring.ctrl->abi_version = COLDROOM_ABI_VERSION;
	ring.ctrl->record_size = sizeof(struct coldroom_record);
	ring.ctrl->nr_records = ring.nr_records;
	ring.ctrl->frame_slot_size = FRAME_SLOT_SIZE;
	ring.ctrl->nr_frames = ring.nr_frames;
	ring.ctrl->records_offset = ring.records_offset;
	ring.ctrl->frames_offset = ring.frames_offset;
	spin_lock_init(&ring.lock);
	return 0;
}

/* Open files pin the module, and mappings their file: nobody uses it now. */
void coldroom_ring_exit(void)
{
	vfree(ring.area);
	ring.area = NULL;
}

/**
 * coldroom_ring_publish - append a record (and its thermal frame)
 * @rec: the record; pos, frame_pos and COLDROOM_F_FRAME are filled in
 * @pixels: the frame, or NULL
 * @width: frame width
 * @height: frame height
 *
 * Wakes read()/poll() waiters and signals fasync owners.
 */
void coldroom_ring_publish(struct coldroom_record *rec, const s16 *pixels,
			   u16 width, u16 height)
{
	struct coldroom_record *slot;
	struct coldroom_frame *fs;
	u64 pos;

	spin_lock(&ring.lock);
	if (pixels) {
		pos = ring.frame_head;
		fs = frame_slot(pos);
		WRITE_ONCE(fs->pos, COLDROOM_POS_INVALID);
		smp_wmb();	/* invalid before the slot changes */
		fs->seq = rec->seq;
		fs->timestamp_ns = rec->timestamp_ns;
		fs->unit = rec->unit;
		fs->width = width;
		fs->height = height;
		memcpy(fs->pixels, pixels, (size_t)width * height * sizeof(s16));
		/* The pixels before the slot claims its position... */
		smp_store_release(&fs->pos, pos);
		ring.frame_head = pos + 1;
		/* ...and the slot before the head counts it. */
		smp_store_release(&ring.ctrl->frame_head, pos + 1);
		rec->frame_pos = pos;
		rec->flags |= COLDROOM_F_FRAME;
	} else {
		rec->frame_pos = COLDROOM_POS_INVALID;
		rec->flags &= ~COLDROOM_F_FRAME;
	}

	pos = ring.head;
	slot = &ring.records[pos & (ring.nr_records - 1)];
	WRITE_ONCE(slot->pos, COLDROOM_POS_INVALID);
	smp_wmb();	/* invalid before the slot changes */
	rec->pos = pos;
	slot->seq = rec->seq;
	slot->timestamp_ns = rec->timestamp_ns;
	slot->frame_pos = rec->frame_pos;
	slot->unit = rec->unit;
	slot->flags = rec->flags;
	slot->temp1 = rec->temp1;
	slot->temp2 = rec->temp2;
	/* The fields before the slot claims its position... */
	smp_store_release(&slot->pos, pos);
	/* ...and the slot before the head counts it (kernel and mmap view). */
	smp_store_release(&ring.head, pos + 1);
	/* Pairs with the consumer's load-acquire of ctrl.head. */
	smp_store_release(&ring.ctrl->head, pos + 1);
	spin_unlock(&ring.lock);

	atomic64_inc(&coldroom_counters.samples_produced);
	if (pixels)
		atomic64_inc(&coldroom_counters.frames_produced);
	/* wq_has_sleeper() orders the head store before the waiter check. */
	if (wq_has_sleeper(&coldroom_ring_wq))
		wake_up_interruptible_poll(&coldroom_ring_wq,
					   EPOLLIN | EPOLLRDNORM);
	coldroom_chardev_notify(rec->unit);
}

u64 coldroom_ring_head(void)
{
	/* Pairs with the publisher: slots below head are complete. */
	return smp_load_acquire(&ring.head);
}

/* A position from outside, made one the ring can serve. */
u64 coldroom_ring_clamp(u64 pos)
{
	u64 head = coldroom_ring_head();

	if (pos > head)
		return head;
	if (head - pos > ring.nr_records)
		return head - ring.nr_records;
	return pos;
}

/**
 * coldroom_ring_fetch - copy the record at a ring position
 * @pos: the position
 * @rec: the copy
 * @resume: with -EOVERFLOW, the oldest position still in the ring
 *
 * Return: 0; -EAGAIN when @pos is not written yet; -EOVERFLOW when the
 * record was overwritten (also while being copied).
 */
int coldroom_ring_fetch(u64 pos, struct coldroom_record *rec, u64 *resume)
{
	const struct coldroom_record *slot;
	u64 head = coldroom_ring_head();
	u64 p1, p2;

	if (pos >= head)
		return -EAGAIN;
	if (head - pos > ring.nr_records) {
		*resume = head - ring.nr_records;
		return -EOVERFLOW;
	}
	slot = &ring.records[pos & (ring.nr_records - 1)];
	/* Pairs with the publisher's release of slot->pos. */
	p1 = smp_load_acquire(&slot->pos);
	memcpy(rec, slot, sizeof(*rec));
	smp_rmb();	/* the copy before the second look at pos */
	p2 = READ_ONCE(slot->pos);
	if (p1 == pos && p2 == pos) {
		rec->pos = pos;
		return 0;
	}
	/* The producer is writing position head (or later) into this slot. */
	head = coldroom_ring_head();
	*resume = max(pos + 1, head - ring.nr_records + 1);
	return -EOVERFLOW;
}

void coldroom_ring_get_info(struct coldroom_ring_info *info)
{
	memset(info, 0, sizeof(*info));
	info->record_size = sizeof(struct coldroom_record);
	info->nr_records = ring.nr_records;
	info->frame_slot_size = FRAME_SLOT_SIZE;
	info->nr_frames = ring.nr_frames;
	info->ring_offset = COLDROOM_MMAP_RING;
	info->ring_size = ring.size;
	info->records_offset = ring.records_offset;
	info->frames_offset = ring.frames_offset;
	info->consumer_offset = COLDROOM_MMAP_CONSUMER;
	info->consumer_size = PAGE_SIZE;
}

/* Maps (a prefix of) the ring read-only: nobody but the kernel writes it. */
int coldroom_ring_mmap(struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	if (vma->vm_end - vma->vm_start > ring.size)
		return -EINVAL;
	vma->vm_flags &= ~VM_MAYWRITE;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	return remap_vmalloc_range(vma, ring.area, 0);
}
