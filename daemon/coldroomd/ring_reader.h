/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ring_reader.h - a consumer of the /dev/coldroom mmap ring, following the
 * protocol documented in include/uapi/linux/coldroom.h. Header-only: one
 * implementation for coldroomd (thermal frames), the benchmark and the VM
 * tests.
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

/*
 * Maps the ring only (read-only; a file opened O_RDONLY will do): enough
 * for ring_reader_frame(). Undone by ring_reader_close().
 */
static inline int ring_reader_map(struct ring_reader *r, int fd)
{
	struct coldroom_ring_info info;

	memset(r, 0, sizeof(*r));
	if (ioctl(fd, COLDROOM_IOC_RING_INFO, &info))
		return -errno;
	/* Power-of-two slot counts, as the ABI promises; else no masks. */
	if (!info.nr_records || (info.nr_records & (info.nr_records - 1)) ||
	    (info.nr_frames & (info.nr_frames - 1)) ||
	    info.frames_offset + (__u64)info.nr_frames * info.frame_slot_size > info.ring_size)
		return -EPROTO;
	r->map = mmap(NULL, info.ring_size, PROT_READ, MAP_SHARED, fd,
		      (off_t)info.ring_offset);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	r->map_size = info.ring_size;
	r->ctrl = r->map;
	r->records = (const void *)((const uint8_t *)r->map + info.records_offset);
	r->frames = (const uint8_t *)r->map + info.frames_offset;
	r->nr_records = info.nr_records;
	r->nr_frames = info.nr_frames;
	r->frame_slot_size = info.frame_slot_size;
	return 0;
}

/* Maps the ring and this file's consumer page; starts at the head. */
static inline int ring_reader_open(struct ring_reader *r, int fd)
{
	struct coldroom_ring_info info;
	void *cons;
	int err;

	err = ring_reader_map(r, fd);
	if (err)
		return err;
	if (ioctl(fd, COLDROOM_IOC_RING_INFO, &info)) {
		err = -errno;
		munmap(r->map, r->map_size);
		return err;
	}
	cons = mmap(NULL, info.consumer_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, (off_t)info.consumer_offset);
	if (cons == MAP_FAILED) {
		err = -errno;
		munmap(r->map, r->map_size);
		return err;
	}
	r->consumer = cons;
	r->tail = ring_load_acquire(&r->ctrl->head);
	__atomic_store_n(&r->consumer->tail, r->tail, __ATOMIC_RELEASE);
	return 0;
}

static inline void ring_reader_close(struct ring_reader *r)
{
	if (r->consumer)
		munmap(r->consumer, 4096);
	if (r->map)
		munmap(r->map, r->map_size);
	r->consumer = NULL;
	r->map = NULL;
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
 * Copies the frame at @frame_pos (a record's, with COLDROOM_F_FRAME):
 * header into *hdr, pixels into @pixels (room for
 * COLDROOM_FRAME_MAX_PIXELS). -ENOENT: no frames in this ring; -ESTALE:
 * the slot was reused before or while it was copied; -EPROTO: a header
 * that does not fit its slot.
 */
static inline int ring_reader_frame(const struct ring_reader *r, __u64 frame_pos,
				    struct coldroom_frame *hdr, int16_t *pixels)
{
	const struct coldroom_frame *slot;
	__u64 p1, p2;
	size_t n;

	if (!r->nr_frames)
		return -ENOENT;
	slot = (const void *)(r->frames + (size_t)(frame_pos & (r->nr_frames - 1)) *
			      r->frame_slot_size);
	p1 = ring_load_acquire(&slot->pos);
	memcpy(hdr, slot, sizeof(*hdr));
	n = (size_t)hdr->width * hdr->height;
	if (n > COLDROOM_FRAME_MAX_PIXELS)
		n = COLDROOM_FRAME_MAX_PIXELS;
	memcpy(pixels, slot->pixels, n * sizeof(int16_t));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	p2 = __atomic_load_n(&slot->pos, __ATOMIC_RELAXED);
	if (p1 != frame_pos || p2 != frame_pos)
		return -ESTALE;
	if (!n || sizeof(*hdr) + n * sizeof(int16_t) > r->frame_slot_size ||
	    (size_t)hdr->width * hdr->height > COLDROOM_FRAME_MAX_PIXELS)
		return -EPROTO;
	return 0;
}

#endif /* COLDROOM_RING_READER_H */
