// SPDX-License-Identifier: GPL-2.0
/*
 * Negative control for KASAN: reads one byte past the end of a kmalloc'd
 * buffer. KASAN must report a slab-out-of-bounds read.
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/slab.h>

#define CONTROL_KASAN_SIZE 120

static int __init control_kasan_init(void)
{
	size_t index = CONTROL_KASAN_SIZE;
	char *buf;

	buf = kmalloc(CONTROL_KASAN_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	/* Hide the index from the compiler, which would reject the read. */
	OPTIMIZER_HIDE_VAR(index);
	pr_info("control_kasan: read past the end: %d\n", READ_ONCE(buf[index]));
	kfree(buf);
	return 0;
}

static void __exit control_kasan_exit(void)
{
}

module_init(control_kasan_init);
module_exit(control_kasan_exit);
MODULE_DESCRIPTION("KASAN negative control: a read past a kmalloc'd buffer");
MODULE_LICENSE("GPL");
