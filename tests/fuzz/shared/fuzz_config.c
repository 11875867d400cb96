// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: coldroomd.conf (config_parse). Whatever it accepts is
 * within the documented ranges; whatever it refuses leaves the
 * configuration as it was and says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, before;
	char err[CONFIG_ERROR_MAX];

	if (config_init(&cfg) < 0)
		return 0;
	before = cfg;
	err[0] = '\0';
	if (config_parse((const char *)data, size, &cfg, err, sizeof(err)) == 0) {
		fuzz_assert(cfg.batch_ms <= CONFIG_MAX_BATCH_MS);
		fuzz_assert(cfg.fallback_wait_ms >= CONFIG_MIN_FALLBACK_WAIT_MS &&
			    cfg.fallback_wait_ms <= CONFIG_MAX_FALLBACK_WAIT_MS);
		fuzz_assert(cfg.override_dir && cfg.model_dir && cfg.calibration_dir &&
			    cfg.admin_group);
	} else {
		fuzz_assert(!memcmp(&cfg, &before, sizeof(cfg)));
		fuzz_assert(err[0] && memchr(err, '\0', sizeof(err)));
	}
	config_free(&cfg);
	return 0;
}
