// SPDX-License-Identifier: GPL-2.0
/*
 * Negative control for DEBUG_ATOMIC_SLEEP: declares that it may sleep
 * while preemption is off. The kernel must report a sleeping function
 * called from invalid context.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/preempt.h>

static int __init control_atomic_sleep_init(void)
{
	preempt_disable();
	might_sleep();
	preempt_enable();
	return 0;
}

static void __exit control_atomic_sleep_exit(void)
{
}

module_init(control_atomic_sleep_init);
module_exit(control_atomic_sleep_exit);
MODULE_DESCRIPTION("DEBUG_ATOMIC_SLEEP negative control: might_sleep() with preemption off");
MODULE_LICENSE("GPL");
