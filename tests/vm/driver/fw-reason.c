// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fw-reason: prints the reason the shared parser gives for a blob on a unit,
 * i.e. what the kernel must report in firmware_error.
 *
 *   fw-reason BLOB MODEL SERIAL
 */
#include <stdio.h>
#include <stdlib.h>

#include "coldroom_fw.h"

int main(int argc, char **argv)
{
	static unsigned char buf[COLDROOM_FW_MAX_SIZE + 1];
	struct coldroom_fw_image img;
	enum coldroom_fw_error err;
	size_t len;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: %s BLOB MODEL SERIAL\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);

	err = coldroom_fw_parse(buf, len, &img);
	if (err == COLDROOM_FW_OK)
		err = coldroom_fw_check_target(&img, argv[2], argv[3]);
	printf("%s\n", err == COLDROOM_FW_OK ? "" : coldroom_fw_strerror(err));
	return 0;
}
