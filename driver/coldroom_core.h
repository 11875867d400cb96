/* SPDX-License-Identifier: GPL-2.0 */
/* coldroom_core.h - state shared by the files of coldroom.ko */
#ifndef COLDROOM_CORE_H
#define COLDROOM_CORE_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/coldroom.h>

#include "coldroom.h"
#include "coldroom_fw.h"

/* "coldroom/" + model + "-" + serial + ".fw" + NUL */
#define COLDROOM_FW_NAME_LEN	(9 + COLDROOM_ID_LEN + 1 + COLDROOM_ID_LEN + 4)
#define COLDROOM_ERROR_LEN	64

enum coldroom_fw_state {
	COLDROOM_FW_PENDING,
	COLDROOM_FW_LOADING,
	COLDROOM_FW_READY,
	COLDROOM_FW_FAILED,
};

struct coldroom_thresholds {
	s32 min;
	s32 max;
	s32 hyst;
};

struct coldroom_sensor {
	struct device dev;		/* class device sensorN */
	const struct coldroom_sensor_ops *ops;
	void *backend_data;
	int id;
	struct coldroom_identity ident;
	char fw_name[COLDROOM_FW_NAME_LEN];
	struct device *hwmon;
	struct kernfs_node *seq_kn;	/* sample_seq, notified per sample */
	struct rhash_head ident_node;	/* coldroom_idents, keyed by ident */

	/*
	 * Serialises the calls that start, retune or stop the backend and
	 * the "sampling" flag, so that nothing restarts a unit behind the
	 * back of its removal. Taken before fw_queue_lock and ->lock.
	 */
	struct mutex ops_lock;
	bool sampling;

	/* Everything user space reads or writes; never held across ops. */
	struct mutex lock;
	char label[COLDROOM_FW_LABEL_MAX + 1];
	u32 interval_ms;
	struct coldroom_thresholds thr[COLDROOM_CHANNELS];
	struct coldroom_fw_calibration cal[COLDROOM_CHANNELS];
	enum coldroom_fw_state fw_state;
	char fw_error[COLDROOM_ERROR_LEN];
	u32 fw_version;
	bool have_sample;
	s32 temp[COLDROOM_CHANNELS];
	int temp_err[COLDROOM_CHANNELS];
	bool alarm[COLDROOM_CHANNELS];
	u64 seq;
	u64 sample_ns;

	/*
	 * Thermal imager geometry from the blob (0 x 0: none) and the buffer
	 * the backend fills per sample. Changed only while not sampling.
	 */
	u16 frame_width;
	u16 frame_height;
	s16 *frame_buf;

	/* Firmware request bookkeeping, under fw_queue_lock (firmware.c). */
	struct work_struct fw_direct_work;	/* the /lib/firmware step */
	struct list_head fw_node;	/* on fw_queue or fw_waiting (inflight) */
	bool fw_queued;			/* waiting for a fallback slot */
	bool fw_inflight;		/* fallback requested, not called back */
	bool fw_wanted;			/* its answer is to be applied */
	bool fw_dead;			/* unregistering: no new requests */
	int fw_suspends;		/* coldroom_suspends when requested */
};

static inline struct coldroom_sensor *to_coldroom_sensor(struct device *dev)
{
	return container_of(dev, struct coldroom_sensor, dev);
}

extern const struct attribute_group *coldroom_sensor_groups[];

/* The unit with number @unit, with a device reference; NULL if none. */
struct coldroom_sensor *coldroom_sensor_get(u32 unit);
/* The first unit numbered >= *@unit (updated), referenced; NULL at end. */
struct coldroom_sensor *coldroom_sensor_get_next(u32 *unit);
void coldroom_sensor_put(struct coldroom_sensor *s);
/* The unit's latest reading, as the batch ioctl and /proc report it. */
void coldroom_sensor_snapshot(struct coldroom_sensor *s,
			      struct coldroom_reading *r);
const char *coldroom_fw_state_name(enum coldroom_fw_state state);

/* Diagnostics counters, shown in debugfs (diag.c). */
struct coldroom_counters {
	atomic64_t samples_produced;	/* records published */
	atomic64_t samples_dropped;	/* samples of units not ready */
	atomic64_t frames_produced;
	atomic64_t ring_overruns;	/* a read() reader fell behind */
	atomic64_t records_lost;	/* records such readers never saw */
	atomic64_t firmware_loads;	/* blobs applied */
};

extern struct coldroom_counters coldroom_counters;

/*
 * The module's own objects alive now, counted where each is allocated and
 * where it is freed, so that a leak check measures coldroom.ko's memory and
 * not the rest of the kernel's (debugfs "allocated", diag.c).
 */
enum coldroom_object {
	COLDROOM_OBJ_SENSOR,		/* struct coldroom_sensor */
	COLDROOM_OBJ_FRAME_BUFFER,	/* a sensor's thermal frame buffer */
	COLDROOM_OBJ_READER,		/* an open /dev/coldroom */
	COLDROOM_OBJ_CONSUMER_PAGE,	/* a reader's mmap consumer page */
	COLDROOM_OBJ_SUBSCRIPTION,	/* a reader's subscription bitmap */
	COLDROOM_OBJ_NR,
};

extern atomic_t coldroom_allocated[COLDROOM_OBJ_NR];

static inline void coldroom_obj_alloc(enum coldroom_object obj)
{
	atomic_inc(&coldroom_allocated[obj]);
}

static inline void coldroom_obj_free(enum coldroom_object obj)
{
	atomic_dec(&coldroom_allocated[obj]);
}

/* ring.c: the shared ring of records and thermal frames. */
int coldroom_ring_init(void);
void coldroom_ring_exit(void);
void coldroom_ring_publish(struct coldroom_record *rec, const s16 *pixels,
			   u16 width, u16 height);
int coldroom_ring_fetch(u64 pos, struct coldroom_record *rec, u64 *resume);
u64 coldroom_ring_head(void);
u64 coldroom_ring_clamp(u64 pos);
void coldroom_ring_get_info(struct coldroom_ring_info *info);
int coldroom_ring_mmap(struct vm_area_struct *vma);
extern wait_queue_head_t coldroom_ring_wq;

/* chardev.c: /dev/coldroom. */
int coldroom_chardev_init(void);
void coldroom_chardev_exit(void);
/* A record of @unit is in the ring: SIGIO to the readers that want it. */
void coldroom_chardev_notify(u32 unit);
/* /dev/coldroom's device: lives as long as the module. */
struct device *coldroom_chardev_device(void);

/* netlink.c: the "coldroom" generic netlink family. */
int coldroom_nl_init(void);
void coldroom_nl_exit(void);
void coldroom_nl_unit(struct coldroom_sensor *s, bool added);
void coldroom_nl_alarm(struct coldroom_sensor *s, unsigned int channel,
		       bool alarm, s32 temp, u64 seq, u64 ns);
void coldroom_nl_fw_state(struct coldroom_sensor *s,
			  enum coldroom_fw_state state, const char *error);

/* diag.c: /proc/driver/coldroom and debugfs. */
int coldroom_diag_init(void);
void coldroom_diag_exit(void);
/* Logs (as a leak) every kind of object still allocated; at module exit. */
void coldroom_diag_check_allocated(void);

void coldroom_set_fw_state(struct coldroom_sensor *s,
			   enum coldroom_fw_state state, const char *error);
void coldroom_uevent(struct coldroom_sensor *s, const char *event,
		     const char *key1, const char *val1,
		     const char *key2, const char *val2);
void coldroom_stop_sampling(struct coldroom_sensor *s);

int coldroom_fw_init(void);
void coldroom_fw_exit(void);
void coldroom_fw_init_sensor(struct coldroom_sensor *s);
void coldroom_fw_queue(struct coldroom_sensor *s);
int coldroom_fw_reload(struct coldroom_sensor *s);
void coldroom_fw_shutdown(struct coldroom_sensor *s);

int coldroom_hwmon_register(struct coldroom_sensor *s, struct device *parent);
void coldroom_hwmon_alarm(struct coldroom_sensor *s, unsigned int channel);

int coldroom_read_temp(struct coldroom_sensor *s, unsigned int channel,
		       s32 *val);

enum coldroom_thr_field {
	COLDROOM_THR_MIN,
	COLDROOM_THR_MAX,
	COLDROOM_THR_HYST,
};

int coldroom_set_threshold(struct coldroom_sensor *s, unsigned int channel,
			   int field, s32 val);

#endif /* COLDROOM_CORE_H */
