// SPDX-License-Identifier: GPL-2.0
/*
 * Negative control for UBSAN: indexes a fixed-size array out of its
 * bounds. UBSAN must report an array-index-out-of-bounds.
 */
#include <linux/compiler.h>
#include <linux/module.h>

struct control_ubsan_record {
	int values[4];
	int guard;
};

static struct control_ubsan_record control_record = { .guard = 42 };

static int __init control_ubsan_init(void)
{
	int index = ARRAY_SIZE(control_record.values);
	int value;

	OPTIMIZER_HIDE_VAR(index);
	/*
	 * A plain load: the compiler's bounds check lets an index one past
	 * the end through when only the element's address is taken, as
	 * READ_ONCE() does.
	 */
	value = control_record.values[index];
	pr_info("control_ubsan: index %d of 4: %d\n", index, value);
	return 0;
}

static void __exit control_ubsan_exit(void)
{
}

module_init(control_ubsan_init);
module_exit(control_ubsan_exit);
MODULE_DESCRIPTION("UBSAN negative control: an array index out of bounds");
MODULE_LICENSE("GPL");
