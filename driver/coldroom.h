/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coldroom.h - the interface between the coldroom core and a hardware
 * backend (today coldroom_sim; tomorrow a real bus driver).
 *
 * A backend registers one sensor per unit from its probe() with
 * devm_coldroom_sensor_register(). The core owns everything user space
 * sees (class device, sysfs, hwmon, firmware) and drives the unit through
 * the ops below. When new readings are available the backend calls
 * coldroom_sensor_sample(), and the core reads them back with ->read_raw()
 * (and ->read_frame() on units with a thermal imager).
 *
 * Locking rules: the core never calls an op with one of its own locks held,
 * so ops may sleep and take backend locks. coldroom_sensor_sample() may be
 * called with backend locks held; it sleeps and calls ->read_raw() and
 * ->read_frame() only.
 * After ->stop() returns the backend must not call coldroom_sensor_sample()
 * for that sensor any more.
 */
#ifndef COLDROOM_H
#define COLDROOM_H

#include <linux/types.h>

#define COLDROOM_CHANNELS	2
#define COLDROOM_ID_LEN		16	/* model and serial, without NUL */

struct device;
struct coldroom_sensor;
struct coldroom_fw_image;

struct coldroom_identity {
	char model[COLDROOM_ID_LEN + 1];
	char serial[COLDROOM_ID_LEN + 1];
};

struct coldroom_sensor_ops {
	/* Fill in model and serial; both [A-Za-z0-9._-], 1..16 chars. */
	int (*get_identity)(struct coldroom_sensor *sensor,
			    struct coldroom_identity *id);
	/*
	 * Hand a validated blob to the unit before it starts sampling
	 * (optional). An error leaves the unit's firmware state failed.
	 */
	int (*apply_firmware)(struct coldroom_sensor *sensor,
			      const struct coldroom_fw_image *img);
	/*
	 * Start sampling every @interval_ms, or change the interval. On an
	 * error the unit must be left as it was (sampling at the old
	 * interval, or not at all).
	 */
	int (*start)(struct coldroom_sensor *sensor, u32 interval_ms);
	/*
	 * Stop sampling: once it returns, no coldroom_sensor_sample() of the
	 * unit runs or is still under way (its events included).
	 */
	void (*stop)(struct coldroom_sensor *sensor);
	/*
	 * Raw reading of @channel (0 or 1) in millidegree Celsius, before
	 * calibration. -EIO when the probe does not answer.
	 */
	int (*read_raw)(struct coldroom_sensor *sensor, unsigned int channel,
			s32 *raw_mdeg);
	/*
	 * Thermal image of the sample being taken (optional; called only
	 * when the unit's blob declares an imager, right after ->read_raw()):
	 * @width x @height pixels, row-major, 0.01 degree Celsius.
	 */
	int (*read_frame)(struct coldroom_sensor *sensor, s16 *pixels,
			  u16 width, u16 height);
};

struct coldroom_sensor *
devm_coldroom_sensor_register(struct device *parent,
			      const struct coldroom_sensor_ops *ops,
			      void *backend_data);

void *coldroom_sensor_backend_data(struct coldroom_sensor *sensor);

/* A new sample is ready: the core reads, calibrates and publishes it. */
void coldroom_sensor_sample(struct coldroom_sensor *sensor);

#endif /* COLDROOM_H */
