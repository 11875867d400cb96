// SPDX-License-Identifier: GPL-2.0
/*
 * Negative control for kmemleak: allocates a buffer and forgets the only
 * pointer to it. A forced scan must report it as an unreferenced object.
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static int __init control_kmemleak_init(void)
{
	char *buf;

	buf = kmalloc(200, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	strscpy(buf, "coldroom kmemleak control", 200);
	/* The only pointer dies here, on purpose. */
	OPTIMIZER_HIDE_VAR(buf);
	return 0;
}

static void __exit control_kmemleak_exit(void)
{
}

module_init(control_kmemleak_init);
module_exit(control_kmemleak_exit);
MODULE_DESCRIPTION("kmemleak negative control: a buffer nobody points to");
MODULE_LICENSE("GPL");
