// SPDX-License-Identifier: GPL-2.0
/*
 * The simulator's thermal model (driver/sim/thermal.c), on the host: the
 * same source as the module's, against stand-ins for the few kernel headers
 * it uses. Hours of simulated time take milliseconds here, so what the VM
 * cannot wait for is checked: the room held around its setpoint by a
 * cycling compressor, a door that warms the room and the recovery after
 * it, random door openings, sensor noise, reproducible seeds and frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "thermal.h"

#define STEPS_PER_S	(1000 / COLDROOM_SIM_STEP_MS)
#define BAND_MDEG	1500	/* the thermostat's dead band, thermal.c */

static void run(struct coldroom_sim_model *m, unsigned int seconds)
{
	for (unsigned int i = 0; i < seconds * STEPS_PER_S; i++)
		coldroom_sim_model_step(m);
}

static s32 room_mdeg(const struct coldroom_sim_model *m)
{
	return (s32)(m->room_udeg / 1000);
}

static void model(struct coldroom_sim_model *m, const char *serial, u32 door_interval_s)
{
	coldroom_sim_model_init(m, 42, serial, door_interval_s);
	/* Start from a settled room: the first minutes depend on the draw. */
	run(m, 1800);
}

static void test_same_seed_same_trajectory(void **state)
{
	struct coldroom_sim_model a, b, c;

	(void)state;
	model(&a, "SIM-000007", 60);
	model(&b, "SIM-000007", 60);
	model(&c, "SIM-000008", 60);
	for (int i = 0; i < 3600 * STEPS_PER_S; i++) {
		coldroom_sim_model_step(&a);
		coldroom_sim_model_step(&b);
		assert_int_equal(coldroom_sim_model_read(&a, i & 1),
				 coldroom_sim_model_read(&b, i & 1));
	}
	assert_true(a.step == b.step && a.room_udeg == b.room_udeg &&
		    a.coil_udeg == b.coil_udeg && a.compressor_on == b.compressor_on &&
		    a.door_open_ms == b.door_open_ms && a.event_rng == b.event_rng &&
		    a.noise_rng == b.noise_rng);
	/* Another serial is another room. */
	coldroom_sim_model_step(&c);
	assert_true(a.room_udeg != c.room_udeg || a.setpoint_mdeg != c.setpoint_mdeg);
}

static void test_holds_setpoint_with_compressor_cycles(void **state)
{
	struct coldroom_sim_model m;
	unsigned int switches = 0, on_steps = 0;
	s32 lo = INT32_MAX, hi = INT32_MIN;
	bool was_on;

	(void)state;
	model(&m, "SIM-000001", 0);
	assert_true(m.setpoint_mdeg >= -19000 && m.setpoint_mdeg <= -17000);
	was_on = m.compressor_on;
	for (int i = 0; i < 4 * 3600 * STEPS_PER_S; i++) {
		coldroom_sim_model_step(&m);
		lo = room_mdeg(&m) < lo ? room_mdeg(&m) : lo;
		hi = room_mdeg(&m) > hi ? room_mdeg(&m) : hi;
		if (m.compressor_on != was_on)
			switches++;
		was_on = m.compressor_on;
		if (m.compressor_on) {
			on_steps++;
			/* A running compressor's coil is colder than the air it cools. */
			if (on_steps > 60 * STEPS_PER_S)
				assert_true(m.coil_udeg < m.room_udeg);
		} else {
			on_steps = 0;
		}
	}
	print_message("setpoint %d mdeg, room %d..%d mdeg, compressor switched %u times in 4 h\n",
		      m.setpoint_mdeg, lo, hi, switches);
	/* The dead band, plus what the air overshoots while the coil follows. */
	assert_true(lo >= m.setpoint_mdeg - 2 * BAND_MDEG);
	assert_true(hi <= m.setpoint_mdeg + 2 * BAND_MDEG);
	/* Not pinned to one edge: the air swings through most of the band. */
	assert_true(hi - lo >= BAND_MDEG);
	/* A thermostat cycles: several on/off cycles in four hours. */
	assert_true(switches >= 4);
}

static void test_door_warms_the_room_and_it_recovers(void **state)
{
	struct coldroom_sim_model m;
	s32 before, peak, prev;
	unsigned int s;

	(void)state;
	model(&m, "SIM-000002", 0);
	before = room_mdeg(&m);
	m.door_open_ms = 60 * 1000;
	run(&m, 60);
	assert_int_equal(m.door_open_ms, 0);
	peak = room_mdeg(&m);
	print_message("door open 60 s: %d -> %d mdeg\n", before, peak);
	assert_true(peak - before >= 3000);
	assert_true(m.compressor_on);
	/* Closed again: the air cools back without ever warming further. */
	prev = peak;
	for (s = 0; s < 15 * 60; s++) {
		run(&m, 1);
		assert_true(room_mdeg(&m) <= prev + 50);
		prev = room_mdeg(&m);
		if (room_mdeg(&m) <= m.setpoint_mdeg + BAND_MDEG)
			break;
	}
	print_message("back inside the band after %u s\n", s);
	assert_true(s < 15 * 60);
}

static void test_random_doors(void **state)
{
	struct coldroom_sim_model never, often;
	unsigned int openings = 0;
	bool open = false;

	(void)state;
	model(&never, "SIM-000003", 0);
	model(&often, "SIM-000003", 60);
	for (int i = 0; i < 3600 * STEPS_PER_S; i++) {
		coldroom_sim_model_step(&never);
		coldroom_sim_model_step(&often);
		assert_int_equal(never.door_open_ms, 0);
		if (often.door_open_ms && !open)
			openings++;
		open = often.door_open_ms != 0;
	}
	/* A mean gap of 60 s and 10..60 s open: a few dozen in an hour. */
	print_message("%u door openings in 1 h\n", openings);
	assert_in_range(openings, 10, 80);
}

static void test_noise_is_small_and_centred(void **state)
{
	struct coldroom_sim_model m;
	s32 exact, first, v;
	long long sum = 0;
	bool varies = false;
	const int n = 10000;

	(void)state;
	model(&m, "SIM-000004", 0);
	exact = room_mdeg(&m);
	first = coldroom_sim_model_read(&m, 0);
	for (int i = 0; i < n; i++) {
		v = coldroom_sim_model_read(&m, 0);
		assert_true(v >= exact - 40 && v <= exact + 40);
		varies |= v != first;
		sum += v - exact;
	}
	assert_true(varies);
	assert_true(sum / n >= -5 && sum / n <= 5);	/* centred */
}

static void test_frame_shows_the_open_door(void **state)
{
	enum { W = 32, H = 24 };
	struct coldroom_sim_model m;
	s16 closed[W * H], opened[W * H];
	const int door = 20 * W + 1;	/* low on the left edge */
	const int wall = 20 * W + 30;	/* low on the right edge */

	(void)state;
	model(&m, "SIM-000005", 0);
	coldroom_sim_model_frame(&m, closed, W, H);
	m.door_open_ms = 1000;
	coldroom_sim_model_frame(&m, opened, W, H);
	/* 0.01 degree: the open door is degrees warmer than the far wall. */
	assert_true(opened[door] - opened[wall] > 500);
	assert_true(closed[door] - closed[wall] >= -100 && closed[door] - closed[wall] <= 100);
	/* The top rows are the evaporator: colder than the floor while it runs. */
	if (m.compressor_on)
		assert_true(closed[0] < closed[(H - 1) * W]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_trajectory),
		cmocka_unit_test(test_holds_setpoint_with_compressor_cycles),
		cmocka_unit_test(test_door_warms_the_room_and_it_recovers),
		cmocka_unit_test(test_random_doors),
		cmocka_unit_test(test_noise_is_small_and_centred),
		cmocka_unit_test(test_frame_shows_the_open_door),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
