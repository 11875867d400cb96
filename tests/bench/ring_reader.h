/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring_reader.h - a consumer of the /dev/coldroom mmap ring, following the
 * protocol documented in include/uapi/linux/coldroom.h. Header-only: the
 * benchmark and the VM tests use the same reader.
 */
#ifndef COLDROOM_RING_READER_H
#define COLDROOM_RING_READER_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/coldroom.h>

struct ring_reader {
	void *map;
	size_t map_size;
	const struct coldroom_ring_ctrl *ctrl;
	const struct coldroom_record *records;
	const uint8_t *frames;
	struct coldroom_ring_consumer *consumer;
	uint32_t nr_records;
	uint32_t nr_frames;
	uint32_t frame_slot_size;
	__u64 tail;		/* next position to consume */
	__u64 lost;		/* records overwritten before consumed */
};

static inline __u64 ring_load_acquire(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Maps the ring and this file's consumer page; starts at the head. */
static inline int ring_reader_open(struct ring_reader *r, int fd)
{
	struct coldroom_ring_info info;
	void *cons;

	memset(r, 0, sizeof(*r));
	if (ioctl(fd, COLDROOM_IOC_RING_INFO, &info))
		return -errno;
	r->map = mmap(NULL, info.ring_size, PROT_READ, MAP_SHARED, fd,
		      (off_t)info.ring_offset);
	if (r->map == MAP_FAILED)
		return -errno;
	cons = mmap(NULL, info.consumer_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, (off_t)info.consumer_offset);
	if (cons == MAP_FAILED) {
		int err = -errno;

		munmap(r->map, info.ring_size);
		return err;
	}
	r->map_size = info.ring_size;
	r->ctrl = r->map;
	r->records = (const void *)((const uint8_t *)r->map + info.records_offset);
	r->frames = (const uint8_t *)r->map + info.frames_offset;
	r->consumer = cons;
	r->nr_records = info.nr_records;
	r->nr_frames = info.nr_frames;
	r->frame_slot_size = info.frame_slot_size;
	r->tail = ring_load_acquire(&r->ctrl->head);
	__atomic_store_n(&r->consumer->tail, r->tail, __ATOMIC_RELEASE);
	return 0;
}

static inline void ring_reader_close(struct ring_reader *r)
{
	munmap(r->consumer, 4096);
	munmap(r->map, r->map_size);
}

/* Tells the kernel (poll()) how far this reader got. */
static inline void ring_reader_commit(struct ring_reader *r)
{
	__atomic_store_n(&r->consumer->tail, r->tail, __ATOMIC_RELEASE);
}

/* 1: *out is the next record; 0: nothing new. Skips (and counts) lost ones. */
static inline int ring_reader_next(struct ring_reader *r,
				   struct coldroom_record *out)
{
	for (;;) {
		__u64 head = ring_load_acquire(&r->ctrl->head);
		const struct coldroom_record *slot;
		__u64 p1, p2;

		if (r->tail == head)
			return 0;
		if (head - r->tail > r->nr_records) {
			r->lost += head - r->nr_records - r->tail;
			r->tail = head - r->nr_records;
		}
		slot = &r->records[r->tail & (r->nr_records - 1)];
		p1 = ring_load_acquire(&slot->pos);
		memcpy(out, slot, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		p2 = __atomic_load_n(&slot->pos, __ATOMIC_RELAXED);
		if (p1 == r->tail && p2 == r->tail) {
			r->tail++;
			return 1;
		}
		/* Overwritten under us: the producer is a lap ahead. */
		r->lost++;
		r->tail++;
	}
}

/*
 * Copies the frame a record names: header into *hdr, pixels into @pixels
 * (room for COLDROOM_FRAME_MAX_PIXELS). -ENOENT: no frame; -ESTALE: the
 * slot was reused before or while it was copied.
 */
static inline int ring_reader_frame(const struct ring_reader *r,
				    const struct coldroom_record *rec,
				    struct coldroom_frame *hdr, int16_t *pixels)
{
	const struct coldroom_frame *slot;
	__u64 p1, p2;
	size_t n;

	if (!(rec->flags & COLDROOM_F_FRAME))
		return -ENOENT;
	slot = (const void *)(r->frames + (size_t)(rec->frame_pos &
				(r->nr_frames - 1)) * r->frame_slot_size);
	p1 = ring_load_acquire(&slot->pos);
	memcpy(hdr, slot, sizeof(*hdr));
	n = (size_t)hdr->width * hdr->height;
	if (n > COLDROOM_FRAME_MAX_PIXELS)
		n = COLDROOM_FRAME_MAX_PIXELS;
	memcpy(pixels, slot->pixels, n * sizeof(int16_t));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	p2 = __atomic_load_n(&slot->pos, __ATOMIC_RELAXED);
	if (p1 != rec->frame_pos || p2 != rec->frame_pos)
		return -ESTALE;
	return 0;
}

#endif /* COLDROOM_RING_READER_H */
