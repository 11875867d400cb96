// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conf_parser.h"
#include "config.h"

int config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->override_dir = strdup(CONFIG_DEFAULT_OVERRIDE_DIR);
	cfg->model_dir = strdup(CONFIG_DEFAULT_MODEL_DIR);
	cfg->calibration_dir = strdup(CONFIG_DEFAULT_CALIBRATION_DIR);
	cfg->admin_group = strdup(CONFIG_DEFAULT_ADMIN_GROUP);
	cfg->operator_group = strdup(CONFIG_DEFAULT_OPERATOR_GROUP);
	cfg->escalate_after_s = CONFIG_DEFAULT_ESCALATE_S;
	cfg->alarm_units = true;
	cfg->silent_intervals = CONFIG_DEFAULT_SILENT_INTERVALS;
	cfg->silent_min_s = CONFIG_DEFAULT_SILENT_MIN_S;
	cfg->stuck_s = CONFIG_DEFAULT_STUCK_S;
	cfg->stuck_band_mdeg = CONFIG_DEFAULT_STUCK_BAND_MDEG;
	cfg->fault_alarms = true;
	cfg->fault_delay_s = CONFIG_DEFAULT_FAULT_DELAY_S;
	cfg->outage_s = CONFIG_DEFAULT_OUTAGE_S;
	cfg->batch_ms = CONFIG_DEFAULT_BATCH_MS;
	cfg->unit_signals = true;
	cfg->fallback_wait_ms = CONFIG_DEFAULT_FALLBACK_WAIT_MS;
	cfg->record_interval_s = CONFIG_DEFAULT_RECORD_INTERVAL_S;
	cfg->raw_hours = CONFIG_DEFAULT_RAW_HOURS;
	cfg->retention_days = CONFIG_DEFAULT_RETENTION_DAYS;
	cfg->mkt_dh = MKT_DEFAULT_DH;
	if (!cfg->override_dir || !cfg->model_dir || !cfg->calibration_dir ||
	    !cfg->admin_group || !cfg->operator_group) {
		config_free(cfg);
		return -ENOMEM;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->override_dir);
	free(cfg->model_dir);
	free(cfg->calibration_dir);
	free(cfg->admin_group);
	free(cfg->operator_group);
	memset(cfg, 0, sizeof(*cfg));
}

static void config_done(void *settings)
{
	config_free(settings);
}

static int config_defaults(void *settings)
{
	return config_init(settings);
}

/* The portable user/group name set of POSIX, plus the empty string. */
static int parse_group(const struct conf_key *key, const char *v, void *settings,
		       const char **why)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		      (*p == '-' && p != v))) {
			*why = "is not a valid group name";
			return -EINVAL;
		}
	if (strlen(v) > 32) {
		*why = "is longer than 32 characters";
		return -EINVAL;
	}
	return conf_set_string(key, v, settings);
}

#define AT(field) offsetof(struct config, field)
#define DIR_KEY(n, field) { .name = n, .parse = conf_parse_dir, .offset = AT(field) }
#define GROUP_KEY(n, field) { .name = n, .parse = parse_group, .offset = AT(field) }
#define BOOL_KEY(n, field) { .name = n, .parse = conf_parse_bool, .offset = AT(field) }
#define UINT_KEY(n, field, lo, hi) \
	{ .name = n, .parse = conf_parse_uint, .offset = AT(field), .min = lo, .max = hi }

static const struct conf_key config_keys[] = {
	DIR_KEY("FirmwareOverrideDir", override_dir),
	DIR_KEY("ModelFirmwareDir", model_dir),
	DIR_KEY("CalibrationDir", calibration_dir),
	GROUP_KEY("AdminGroup", admin_group),
	UINT_KEY("ReadingsBatchMs", batch_ms, 0, CONFIG_MAX_BATCH_MS),
	BOOL_KEY("UnitPropertiesChanged", unit_signals),
	UINT_KEY("FallbackWaitMs", fallback_wait_ms, CONFIG_MIN_FALLBACK_WAIT_MS,
		 CONFIG_MAX_FALLBACK_WAIT_MS),
	UINT_KEY("RecordIntervalSec", record_interval_s, CONFIG_MIN_RECORD_INTERVAL_S,
		 CONFIG_MAX_RECORD_INTERVAL_S),
	UINT_KEY("RawSamplesHours", raw_hours, 1, CONFIG_MAX_RAW_HOURS),
	UINT_KEY("RecordRetentionDays", retention_days, CONFIG_MIN_RETENTION_DAYS,
		 CONFIG_MAX_RETENTION_DAYS),
	UINT_KEY("MKTActivationEnergy", mkt_dh, MKT_MIN_DH, MKT_MAX_DH),
	GROUP_KEY("OperatorGroup", operator_group),
	UINT_KEY("AlarmDelaySec", alarm_delay_s, 0, CONFIG_MAX_ALARM_DELAY_S),
	UINT_KEY("EscalateAfterSec", escalate_after_s, 0, CONFIG_MAX_ESCALATE_S),
	BOOL_KEY("AlarmUnits", alarm_units),
	UINT_KEY("SilentIntervals", silent_intervals, 0, CONFIG_MAX_SILENT_INTERVALS),
	UINT_KEY("SilentMinSec", silent_min_s, 1, CONFIG_MAX_ALARM_DELAY_S),
	UINT_KEY("StuckSec", stuck_s, 0, CONFIG_MAX_STUCK_S),
	UINT_KEY("StuckBandMdeg", stuck_band_mdeg, 0, CONFIG_MAX_STUCK_BAND_MDEG),
	BOOL_KEY("FaultAlarms", fault_alarms),
	UINT_KEY("FaultDelaySec", fault_delay_s, 0, CONFIG_MAX_ALARM_DELAY_S),
	UINT_KEY("OutageSec", outage_s, 0, CONFIG_MAX_OUTAGE_S),
	UINT_KEY("RateLimitMdegPerMin", rate_mdeg_per_min, 0, CONFIG_MAX_RATE_MDEG_PER_MIN),
};

const struct conf_table config_table = {
	.path = COLDROOMD_CONFIG_PATH,
	.keys = config_keys,
	.n_keys = sizeof(config_keys) / sizeof(config_keys[0]),
	.size = sizeof(struct config),
	.init = config_defaults,
	.done = config_done,
};

int config_parse(const char *text, size_t len, struct config *cfg,
		 char *err, size_t err_len)
{
	return conf_parse(&config_table, text, len, cfg, err, err_len);
}

int config_load(const char *path, struct config *cfg, char *err, size_t err_len)
{
	int r = conf_load(&config_table, NULL, path, cfg, err, err_len);

	return r < 0 ? r : 0;
}
