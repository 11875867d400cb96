/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thermal.h - the simulated cold room behind one unit: room air (probe 1)
 * held around a setpoint by a cycling compressor, the evaporator coil
 * (probe 2), door openings that let warm air in, and sensor noise.
 *
 * The model advances in fixed steps of COLDROOM_SIM_STEP_MS and draws from
 * two pseudo-random streams seeded from (seed, serial): one per step for
 * the room's events, one per reading for noise. The same seed gives the
 * same trajectory per step and the same noise per reading.
 */
#ifndef COLDROOM_SIM_THERMAL_H
#define COLDROOM_SIM_THERMAL_H

#include <linux/types.h>

#define COLDROOM_SIM_STEP_MS	100

struct coldroom_sim_model {
	u64 event_rng;
	u64 noise_rng;
	u64 step;
	s32 setpoint_mdeg;
	s64 room_udeg;		/* micro-degree Celsius: no rounding drift */
	s64 coil_udeg;
	bool compressor_on;
	u32 door_open_ms;	/* remaining time the door stays open */
	u32 door_mean_gap;	/* steps between random openings, 0: none */
};

void coldroom_sim_model_init(struct coldroom_sim_model *m, u64 seed,
			     const char *serial, u32 door_interval_s);
void coldroom_sim_model_step(struct coldroom_sim_model *m);
/* Probe reading of @channel (0 air, 1 coil) with noise, millidegree C. */
s32 coldroom_sim_model_read(struct coldroom_sim_model *m, unsigned int channel);
/*
 * The imager's view of the room now: @width x @height pixels, row-major,
 * 0.01 degree Celsius. The evaporator along the top rows, the door on the
 * left (warm while open), a slightly warmer floor, a little noise. Draws
 * nothing from the model's random streams, so readings stay the same
 * with or without an imager.
 */
void coldroom_sim_model_frame(const struct coldroom_sim_model *m, s16 *pixels,
			      u16 width, u16 height);

#endif /* COLDROOM_SIM_THERMAL_H */
