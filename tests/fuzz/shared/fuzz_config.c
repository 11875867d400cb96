// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the settings parser (conf_parser.h) on coldroomd.conf's
 * table, as a whole text (config_parse) and as one file of several
 * (conf_parse_text, its errors named by file and line). Whatever it
 * accepts is within the documented ranges; whatever it refuses leaves the
 * configuration as it was and says why.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

#include "conf_parser.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, before;
	char err[CONFIG_ERROR_MAX];
	bool ok;
	int r;

	if (config_init(&cfg) < 0)
		return 0;
	before = cfg;
	err[0] = '\0';
	ok = config_parse((const char *)data, size, &cfg, err, sizeof(err)) == 0;
	if (ok) {
		fuzz_assert(cfg.batch_ms <= CONFIG_MAX_BATCH_MS);
		fuzz_assert(cfg.fallback_wait_ms >= CONFIG_MIN_FALLBACK_WAIT_MS &&
			    cfg.fallback_wait_ms <= CONFIG_MAX_FALLBACK_WAIT_MS);
		fuzz_assert(cfg.override_dir && cfg.model_dir && cfg.calibration_dir &&
			    cfg.admin_group);
		fuzz_assert(cfg.mkt_dh >= MKT_MIN_DH && cfg.mkt_dh <= MKT_MAX_DH);
	} else {
		fuzz_assert(!memcmp(&cfg, &before, sizeof(cfg)));
		fuzz_assert(err[0] && memchr(err, '\0', sizeof(err)));
	}
	/* As a drop-in over what the text itself gave: the same verdict. */
	r = conf_parse_text(&config_table, "/x.conf", (const char *)data, size, &cfg, err,
			    sizeof(err));
	fuzz_assert((r == 0) == ok);
	if (r < 0)
		fuzz_assert(!strncmp(err, "/x.conf", 7) && memchr(err, '\0', sizeof(err)));
	config_free(&cfg);
	return 0;
}
