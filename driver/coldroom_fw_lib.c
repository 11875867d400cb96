// SPDX-License-Identifier: GPL-2.0
/* The one firmware blob parser, shared with user space, built into coldroom.ko. */
#include "../firmware/lib/coldroom_fw.c"
