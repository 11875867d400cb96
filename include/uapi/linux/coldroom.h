/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * coldroom.h - user-space interface of coldroom.ko: the bulk path.
 *
 * /dev/coldroom (one node for all units)
 *   read()   whole struct coldroom_record, never a part of one
 *   poll()   readable when records (or an overflow report) wait
 *   ioctl()  the COLDROOM_IOC_* below
 *   mmap()   the shared ring (read-only) and this file's consumer page
 *
 * Generic netlink family COLDROOM_GENL_NAME, multicast group
 * COLDROOM_GENL_MCGRP_EVENTS: alarm, firmware and unit events.
 *
 * Every struct has a fixed size, explicit padding and the same layout for
 * 32- and 64-bit processes. Reserved fields must be zero on input and are
 * zero on output. Temperatures are millidegree Celsius.
 */
#ifndef _UAPI_LINUX_COLDROOM_H
#define _UAPI_LINUX_COLDROOM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define COLDROOM_ABI_VERSION	1
#define COLDROOM_DEVICE		"/dev/coldroom"

/* Unit numbers are the N of /sys/class/coldroom/sensorN. */
#define COLDROOM_UNIT_MAX	0xfffffU
#define COLDROOM_UNIT_NONE	0xffffffffU

/* Thermal frames: at most 80 x 60 pixels of 0.01 degree Celsius. */
#define COLDROOM_FRAME_MAX_PIXELS	4800

/* Flags of struct coldroom_record and struct coldroom_reading. */
#define COLDROOM_F_TEMP1_VALID	(1U << 0)	/* temp1 holds a reading */
#define COLDROOM_F_TEMP2_VALID	(1U << 1)
#define COLDROOM_F_TEMP1_ALARM	(1U << 2)	/* outside temp1_min..max */
#define COLDROOM_F_TEMP2_ALARM	(1U << 3)
#define COLDROOM_F_FRAME	(1U << 4)	/* frame_pos names a frame */
#define COLDROOM_F_READY	(1U << 5)	/* batch: firmware ready, sampled */
#define COLDROOM_F_OVERFLOW	(1U << 31)	/* read(): records were lost */

/* Ring positions count records (or frames) since the module loaded. */
#define COLDROOM_POS_INVALID	(~(__u64)0)

/*
 * One sample of one unit: what read() returns and what the ring holds.
 *
 * read() also returns an overflow report when this file fell so far
 * behind that the ring overwrote records it had not read: unit
 * COLDROOM_UNIT_NONE, flags COLDROOM_F_OVERFLOW, seq = number of records
 * lost, pos = position of the next record returned.
 */
struct coldroom_record {
	__u64 pos;		/* ring position (see the ring protocol) */
	__u64 seq;		/* the unit's sample_seq */
	__u64 timestamp_ns;	/* CLOCK_MONOTONIC */
	__u64 frame_pos;	/* frame position, with COLDROOM_F_FRAME */
	__u32 unit;
	__u32 flags;		/* COLDROOM_F_* */
	__s32 temp1;		/* only with COLDROOM_F_TEMP1_VALID */
	__s32 temp2;		/* only with COLDROOM_F_TEMP2_VALID */
};

/* One thermal frame slot of the ring: this header, then the pixels. */
struct coldroom_frame {
	__u64 pos;		/* frame position (see the ring protocol) */
	__u64 seq;		/* sample_seq of the record that names it */
	__u64 timestamp_ns;
	__u32 unit;
	__u16 width;
	__u16 height;
	__s16 pixels[];		/* width * height, row-major, 0.01 deg C */
};

/* ---- mmap ring ----
 *
 * mmap(fd, offset COLDROOM_MMAP_RING, PROT_READ, MAP_SHARED) maps the ring
 * (ring_size bytes of struct coldroom_ring_info, or less): the control page
 * (struct coldroom_ring_ctrl), nr_records record slots at records_offset,
 * nr_frames frame slots of frame_slot_size bytes at frames_offset. Slot of
 * position p: p % nr (both counts are powers of two).
 *
 * Producer (the kernel), for each record (frames alike):
 *	slot.pos = COLDROOM_POS_INVALID; write barrier;
 *	slot fields = ...;
 *	store-release slot.pos = p;
 *	store-release ctrl.head = p + 1;
 *
 * Consumer, for position p:
 *	h = load-acquire ctrl.head;		nothing new while p == h
 *	if (h - p > nr_records) p = h - nr_records (h - nr_records - p lost)
 *	p1 = load-acquire slot.pos; copy the slot; read barrier;
 *	p2 = load slot.pos;
 *	the copy is record p only if p1 == p2 == p; else it was overwritten
 *	(lost: skip to the oldest position still in the ring)
 *
 * In C11: __atomic_load_n(&x, __ATOMIC_ACQUIRE) and
 * __atomic_thread_fence(__ATOMIC_ACQUIRE) for the read barrier.
 *
 * The producer never waits for a consumer. A frame is valid only while its
 * slot's pos equals the record's frame_pos, checked the same way.
 *
 * The consumer page: mmap(fd, offset COLDROOM_MMAP_CONSUMER, PROT_READ |
 * PROT_WRITE, MAP_SHARED) of a file opened O_RDWR, one page per open file
 * (the ring itself needs only O_RDONLY). The reader stores its
 * next position in tail (store-release) after consuming; poll() on that
 * file then sleeps until ctrl.head moves past tail. The kernel only ever
 * reads tail, clamped to the ring's range, for poll().
 */
#define COLDROOM_MMAP_RING	0ULL
#define COLDROOM_MMAP_CONSUMER	0x10000000ULL

struct coldroom_ring_ctrl {
	__u32 abi_version;	/* COLDROOM_ABI_VERSION */
	__u32 record_size;	/* sizeof(struct coldroom_record) */
	__u32 nr_records;
	__u32 frame_slot_size;
	__u32 nr_frames;
	__u32 reserved0;
	__u64 records_offset;	/* from the start of the ring mapping */
	__u64 frames_offset;
	__u64 reserved1[3];
	__u64 head;		/* records published (next position) */
	__u64 frame_head;	/* frames published */
};

struct coldroom_ring_consumer {
	__u64 tail;		/* the reader's next record position */
};

/* ---- ioctl ---- */
#define COLDROOM_IOC_MAGIC	0xC7

struct coldroom_version {
	__u32 abi_version;	/* COLDROOM_ABI_VERSION */
	__u32 record_size;	/* sizeof(struct coldroom_record) */
	__u32 reading_size;	/* sizeof(struct coldroom_reading) */
	__u32 max_batch;	/* most readings per COLDROOM_IOC_READ_BATCH */
	__u32 max_unit;		/* COLDROOM_UNIT_MAX */
	__u32 frame_max_pixels;	/* COLDROOM_FRAME_MAX_PIXELS */
	__u32 reserved[2];
};

/* One probe of one unit (the seeds' READ_TEMP_SENSOR_1 / _2). */
struct coldroom_temp {
	__u32 unit;		/* in */
	__s32 mdeg;		/* out */
};

/* The latest reading of a unit, as COLDROOM_IOC_READ_BATCH returns it. */
struct coldroom_reading {
	__u32 unit;
	__u32 flags;		/* COLDROOM_F_* */
	__s32 temp1;
	__s32 temp2;
	__u64 seq;		/* sample_seq, 0 before the first sample */
	__u64 timestamp_ns;	/* CLOCK_MONOTONIC of that sample */
};

#define COLDROOM_BATCH_MAX	65536

/*
 * Latest readings of up to max_readings units, in unit order, starting at
 * the first unit >= first_unit. next_unit is where to continue
 * (COLDROOM_UNIT_NONE: no unit after the last one returned).
 */
struct coldroom_batch {
	__u32 first_unit;	/* in */
	__u32 max_readings;	/* in: 1..COLDROOM_BATCH_MAX */
	__u64 readings;		/* in: user pointer to coldroom_reading[] */
	__u32 nr_readings;	/* out */
	__u32 next_unit;	/* out */
	__u32 flags;		/* in: 0 */
	__u32 reserved;
};

#define COLDROOM_SUB_ALL	(1U << 0)	/* every unit, also future ones */
#define COLDROOM_SUB_MAX_UNITS	65536

/*
 * Which units this file's read() returns (default: all). SET: with
 * COLDROOM_SUB_ALL, nr_units and units are 0; else units points to
 * nr_units unit numbers (nr_units 0: none). GET: units has room for
 * nr_units numbers; nr_units comes back as the subscription's count
 * (ascending numbers, as many as fit).
 */
struct coldroom_subscription {
	__u32 flags;		/* COLDROOM_SUB_* */
	__u32 nr_units;
	__u64 units;		/* user pointer to __u32[] */
};

/* Where the ring is and how it is laid out (also in its control page). */
struct coldroom_ring_info {
	__u32 record_size;
	__u32 nr_records;
	__u32 frame_slot_size;
	__u32 nr_frames;
	__u64 ring_offset;	/* mmap offset: COLDROOM_MMAP_RING */
	__u64 ring_size;	/* bytes */
	__u64 records_offset;	/* within the ring mapping */
	__u64 frames_offset;
	__u64 consumer_offset;	/* mmap offset: COLDROOM_MMAP_CONSUMER */
	__u64 consumer_size;	/* bytes */
};

/* This file's read() accounting. */
struct coldroom_file_stats {
	__u64 position;		/* next ring position read() looks at */
	__u64 head;		/* ring head now */
	__u64 records_read;	/* records returned by read() */
	__u64 records_lost;	/* overwritten before this file read them */
	__u64 overflows;	/* times it fell behind */
	__u64 reserved[3];
};

#define COLDROOM_IOC_GET_VERSION _IOR(COLDROOM_IOC_MAGIC, 0x00, struct coldroom_version)
#define COLDROOM_IOC_READ_TEMP1	_IOWR(COLDROOM_IOC_MAGIC, 0x01, struct coldroom_temp)
#define COLDROOM_IOC_READ_TEMP2	_IOWR(COLDROOM_IOC_MAGIC, 0x02, struct coldroom_temp)
#define COLDROOM_IOC_READ_BATCH	_IOWR(COLDROOM_IOC_MAGIC, 0x03, struct coldroom_batch)
#define COLDROOM_IOC_GET_SUBSCRIPTION _IOWR(COLDROOM_IOC_MAGIC, 0x04, struct coldroom_subscription)
#define COLDROOM_IOC_SET_SUBSCRIPTION _IOW(COLDROOM_IOC_MAGIC, 0x05, struct coldroom_subscription)
#define COLDROOM_IOC_RING_INFO	_IOR(COLDROOM_IOC_MAGIC, 0x06, struct coldroom_ring_info)
#define COLDROOM_IOC_GET_STATS	_IOR(COLDROOM_IOC_MAGIC, 0x07, struct coldroom_file_stats)

/* ---- generic netlink: events ---- */
#define COLDROOM_GENL_NAME		"coldroom"
#define COLDROOM_GENL_VERSION		1
#define COLDROOM_GENL_MCGRP_EVENTS	"events"

enum coldroom_genl_cmd {
	COLDROOM_CMD_UNSPEC,
	COLDROOM_CMD_UNIT_ADDED,	/* UNIT, MODEL, SERIAL */
	COLDROOM_CMD_UNIT_REMOVED,	/* UNIT, MODEL, SERIAL */
	COLDROOM_CMD_ALARM,		/* UNIT, SERIAL, CHANNEL, ALARM, TEMP, SEQ, TIMESTAMP_NS */
	COLDROOM_CMD_FIRMWARE_STATE,	/* UNIT, SERIAL, FW_STATE, FW_STATE_NAME, FW_ERROR */
	__COLDROOM_CMD_MAX,
};

#define COLDROOM_CMD_MAX (__COLDROOM_CMD_MAX - 1)

enum coldroom_genl_attr {
	COLDROOM_ATTR_UNSPEC,
	COLDROOM_ATTR_PAD,
	COLDROOM_ATTR_UNIT,		/* u32 */
	COLDROOM_ATTR_MODEL,		/* string */
	COLDROOM_ATTR_SERIAL,		/* string */
	COLDROOM_ATTR_CHANNEL,		/* u32: 1 (temp1) or 2 (temp2) */
	COLDROOM_ATTR_ALARM,		/* u8: 1 set, 0 cleared */
	COLDROOM_ATTR_TEMP,		/* s32: the reading that changed it */
	COLDROOM_ATTR_SEQ,		/* u64: its sample_seq */
	COLDROOM_ATTR_TIMESTAMP_NS,	/* u64: CLOCK_MONOTONIC */
	COLDROOM_ATTR_FW_STATE,		/* u32: enum coldroom_genl_fw_state */
	COLDROOM_ATTR_FW_STATE_NAME,	/* string, as sysfs firmware_state */
	COLDROOM_ATTR_FW_ERROR,		/* string, as sysfs firmware_error */
	__COLDROOM_ATTR_MAX,
};

#define COLDROOM_ATTR_MAX (__COLDROOM_ATTR_MAX - 1)

enum coldroom_genl_fw_state {
	COLDROOM_GENL_FW_UNKNOWN,
	COLDROOM_GENL_FW_PENDING,
	COLDROOM_GENL_FW_LOADING,
	COLDROOM_GENL_FW_READY,
	COLDROOM_GENL_FW_FAILED,
};

#endif /* _UAPI_LINUX_COLDROOM_H */
