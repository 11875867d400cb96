// SPDX-License-Identifier: GPL-2.0
/* coldroom_sim: the thermal model of one simulated cold room. */

#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>

#include "thermal.h"

/* Time constants in steps of COLDROOM_SIM_STEP_MS. */
#define STEPS_PER_S		(1000 / COLDROOM_SIM_STEP_MS)
#define TAU_COIL_ON		(40 * STEPS_PER_S)	/* coil cools down */
#define TAU_COIL_OFF		(90 * STEPS_PER_S)	/* coil warms to the room */
#define TAU_ROOM_COIL		(300 * STEPS_PER_S)	/* air to coil */
#define TAU_ROOM_LEAK		(3600 * STEPS_PER_S)	/* insulation */
#define TAU_ROOM_DOOR		(180 * STEPS_PER_S)	/* open door */

#define AMBIENT_UDEG		20000000LL
#define COIL_COLD_UDEG		(-32000000LL)
#define SETPOINT_MDEG		(-18000)
#define BAND_UDEG		1500000LL	/* thermostat: setpoint +- band */
#define NOISE_MDEG		40

static u64 splitmix64(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u32 rand_below(u64 *state, u32 bound)
{
	return (u32)(((splitmix64(state) >> 32) * bound) >> 32);
}

static s32 rand_between(u64 *state, s32 lo, s32 hi)
{
	return lo + (s32)rand_below(state, (u32)(hi - lo + 1));
}

void coldroom_sim_model_init(struct coldroom_sim_model *m, u64 seed,
			     const char *serial, u32 door_interval_s)
{
	u64 hash = 0xcbf29ce484222325ULL;	/* FNV-1a of the serial */
	u64 state;

	for (; *serial; serial++)
		hash = (hash ^ (u8)*serial) * 0x100000001b3ULL;
	state = seed ^ hash;

	m->event_rng = splitmix64(&state);
	m->noise_rng = splitmix64(&state);
	m->step = 0;
	m->setpoint_mdeg = SETPOINT_MDEG + rand_between(&state, -1000, 1000);
	m->room_udeg = m->setpoint_mdeg * 1000LL +
		       rand_between(&state, -1500, 1500) * 1000LL;
	m->compressor_on = rand_below(&state, 2);
	m->coil_udeg = m->compressor_on ? COIL_COLD_UDEG + 4000000LL :
			m->room_udeg - 2000000LL;
	m->door_open_ms = 0;
	m->door_mean_gap = min_t(u32, door_interval_s, U32_MAX / STEPS_PER_S) *
			   STEPS_PER_S;
}

void coldroom_sim_model_step(struct coldroom_sim_model *m)
{
	s64 setpoint = m->setpoint_mdeg * 1000LL;
	s64 coil_target;
	s64 room_delta;

	if (m->door_open_ms) {
		m->door_open_ms -= min_t(u32, m->door_open_ms,
					 COLDROOM_SIM_STEP_MS);
	} else if (m->door_mean_gap &&
		   !rand_below(&m->event_rng, m->door_mean_gap)) {
		m->door_open_ms = rand_between(&m->event_rng, 10, 60) * 1000;
	}

	/* Thermostat with a dead band, as a real controller cycles. */
	if (m->room_udeg > setpoint + BAND_UDEG)
		m->compressor_on = true;
	else if (m->room_udeg < setpoint - BAND_UDEG)
		m->compressor_on = false;

	coil_target = m->compressor_on ? COIL_COLD_UDEG : m->room_udeg;
	m->coil_udeg += div_s64(coil_target - m->coil_udeg,
				m->compressor_on ? TAU_COIL_ON : TAU_COIL_OFF);

	room_delta = div_s64(m->coil_udeg - m->room_udeg, TAU_ROOM_COIL) +
		     div_s64(AMBIENT_UDEG - m->room_udeg, TAU_ROOM_LEAK);
	if (m->door_open_ms)
		room_delta += div_s64(AMBIENT_UDEG - m->room_udeg,
				      TAU_ROOM_DOOR);
	m->room_udeg += room_delta;
	m->step++;
}

s32 coldroom_sim_model_read(struct coldroom_sim_model *m, unsigned int channel)
{
	s64 udeg = channel ? m->coil_udeg : m->room_udeg;
	/* Sum of two uniforms: small, centred, mostly near zero. */
	s32 noise = rand_between(&m->noise_rng, -NOISE_MDEG / 2, NOISE_MDEG / 2) +
		    rand_between(&m->noise_rng, -NOISE_MDEG / 2, NOISE_MDEG / 2);

	return (s32)div_s64(udeg, 1000) + noise;
}

void coldroom_sim_model_frame(const struct coldroom_sim_model *m, s16 *pixels,
			      u16 width, u16 height)
{
	s32 room = (s32)div_s64(m->room_udeg, 10000);	/* 0.01 degree */
	s32 coil = (s32)div_s64(m->coil_udeg, 10000);
	s32 door = m->door_open_ms ? room + ((s32)(AMBIENT_UDEG / 10000) - room) / 2 :
		   room + 50;
	u16 coil_rows = max_t(u16, height / 6, 1);
	u32 noise = (u32)(m->step * 2654435761U) | 1;	/* xorshift32 state */
	u16 x, y;

	for (y = 0; y < height; y++) {
		s32 row = y < coil_rows ?
			  coil + (room - coil) * y / coil_rows :
			  room + 30 * y / height;

		for (x = 0; x < width; x++) {
			s32 v = (x < width / 6 && y >= height / 3) ? door : row;

			noise ^= noise << 13;
			noise ^= noise >> 17;
			noise ^= noise << 5;
			v += (s32)(noise % 11) - 5;
			pixels[(u32)y * width + x] = clamp_t(s32, v, S16_MIN, S16_MAX);
		}
	}
}
