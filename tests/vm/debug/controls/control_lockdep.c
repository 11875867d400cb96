// SPDX-License-Identifier: GPL-2.0
/*
 * Negative control for lockdep: takes two mutexes in one order, then in
 * the other. One thread never deadlocks on it, but lockdep must report a
 * possible circular locking dependency: it judges the order, not the luck.
 */
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(control_a);
static DEFINE_MUTEX(control_b);

static int __init control_lockdep_init(void)
{
	mutex_lock(&control_a);
	mutex_lock(&control_b);
	mutex_unlock(&control_b);
	mutex_unlock(&control_a);

	mutex_lock(&control_b);
	mutex_lock(&control_a);
	mutex_unlock(&control_a);
	mutex_unlock(&control_b);
	return 0;
}

static void __exit control_lockdep_exit(void)
{
}

module_init(control_lockdep_init);
module_exit(control_lockdep_exit);
MODULE_DESCRIPTION("lockdep negative control: an AB-BA lock order");
MODULE_LICENSE("GPL");
