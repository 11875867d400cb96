/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * config.h - /etc/coldroom/coldroomd.conf and its drop-ins, read by
 * coldroomd and coldroom-recorder; the syntax and the precedence of
 * drop-ins are conf_parser.h's. Keys and defaults are listed in
 * daemon/coldroomd/coldroomd.conf.
 */
#ifndef COLDROOMD_CONFIG_H
#define COLDROOMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "mkt.h"

struct conf_table;

#define COLDROOMD_CONFIG_PATH		"/etc/coldroom/coldroomd.conf"
#define CONFIG_DEFAULT_OVERRIDE_DIR	"/etc/coldroom/firmware"
#define CONFIG_DEFAULT_MODEL_DIR	"/usr/lib/firmware/coldroom"
#define CONFIG_DEFAULT_CALIBRATION_DIR	"/etc/coldroom/calibration"
#define CONFIG_DEFAULT_ADMIN_GROUP	"coldroom-admin"
#define CONFIG_DEFAULT_OPERATOR_GROUP	"coldroom-operator"
#define CONFIG_MAX_ALARM_DELAY_S	86400
#define CONFIG_DEFAULT_ESCALATE_S	1800
#define CONFIG_MAX_ESCALATE_S		604800
#define CONFIG_DEFAULT_BATCH_MS		100
#define CONFIG_MAX_BATCH_MS		10000
#define CONFIG_DEFAULT_FALLBACK_WAIT_MS	2000
#define CONFIG_MIN_FALLBACK_WAIT_MS	10
#define CONFIG_MAX_FALLBACK_WAIT_MS	60000
#define CONFIG_ERROR_MAX		512	/* room for a drop-in's path */
/* Probe-health alarms (coldroomd(8), "PROBE HEALTH"). */
#define CONFIG_DEFAULT_SILENT_INTERVALS	10
#define CONFIG_MAX_SILENT_INTERVALS	10000
#define CONFIG_DEFAULT_SILENT_MIN_S	120
#define CONFIG_DEFAULT_STUCK_S		14400
#define CONFIG_MAX_STUCK_S		604800
#define CONFIG_DEFAULT_STUCK_BAND_MDEG	20
#define CONFIG_MAX_STUCK_BAND_MDEG	10000
#define CONFIG_DEFAULT_FAULT_DELAY_S	60
#define CONFIG_DEFAULT_OUTAGE_S		900
#define CONFIG_MAX_OUTAGE_S		604800
#define CONFIG_MAX_RATE_MDEG_PER_MIN	1000000
/* The recorder's (coldroom-recorder(8)). */
#define CONFIG_DEFAULT_RECORD_INTERVAL_S 60
#define CONFIG_MIN_RECORD_INTERVAL_S	10
#define CONFIG_MAX_RECORD_INTERVAL_S	900
#define CONFIG_DEFAULT_RAW_HOURS	48
#define CONFIG_MAX_RAW_HOURS		8760
#define CONFIG_DEFAULT_RETENTION_DAYS	730
#define CONFIG_MIN_RETENTION_DAYS	365
#define CONFIG_MAX_RETENTION_DAYS	36500

struct config {
	char *override_dir;	/* FirmwareOverrideDir */
	char *model_dir;	/* ModelFirmwareDir */
	char *calibration_dir;	/* CalibrationDir */
	char *admin_group;	/* AdminGroup; empty: only root may change things */
	unsigned int batch_ms;	/* ReadingsBatchMs */
	bool unit_signals;	/* UnitPropertiesChanged */
	unsigned int fallback_wait_ms;	/* FallbackWaitMs */
	unsigned int record_interval_s;	/* RecordIntervalSec */
	unsigned int raw_hours;		/* RawSamplesHours */
	unsigned int retention_days;	/* RecordRetentionDays */
	unsigned int mkt_dh;		/* MKTActivationEnergy, J/mol */
	char *operator_group;	/* OperatorGroup: may acknowledge alarms */
	unsigned int alarm_delay_s;	/* AlarmDelaySec: default of every probe */
	unsigned int escalate_after_s;	/* EscalateAfterSec; 0: no second level */
	bool alarm_units;	/* AlarmUnits: start coldroom-alarm@/-escalate@ units */
	unsigned int silent_intervals;	/* SilentIntervals; 0: no silent alarm */
	unsigned int silent_min_s;	/* SilentMinSec: never sooner than this */
	unsigned int stuck_s;		/* StuckSec; 0: no stuck alarm */
	unsigned int stuck_band_mdeg;	/* StuckBandMdeg: noise a frozen probe stays within */
	bool fault_alarms;		/* FaultAlarms */
	unsigned int fault_delay_s;	/* FaultDelaySec */
	unsigned int outage_s;		/* OutageSec; 0: no after-outage alarm */
	unsigned int rate_mdeg_per_min;	/* RateLimitMdegPerMin; 0: no rate alarm */
};

/* Fill @cfg with the defaults. Returns 0 or -ENOMEM. */
int config_init(struct config *cfg);
void config_free(struct config *cfg);

/* The keys of coldroomd.conf, for conf_load() (conf_parser.h). */
extern const struct conf_table config_table;

/*
 * Parse @text onto the defaults. Returns 0, or a negative errno with a
 * message ("line 3: ...") in @err; @cfg is written only on success.
 */
int config_parse(const char *text, size_t len, struct config *cfg,
		 char *err, size_t err_len);

/*
 * Read and parse @path and its drop-ins (conf_load()); no file at all
 * means the defaults. On failure @cfg is untouched and @err says why
 * ("FILE:LINE: ...").
 */
int config_load(const char *path, struct config *cfg, char *err, size_t err_len);

#endif
