// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define CONFIG_FILE_MAX (64 * 1024)

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
	cfg->batch_ms = CONFIG_DEFAULT_BATCH_MS;
	cfg->unit_signals = true;
	cfg->fallback_wait_ms = CONFIG_DEFAULT_FALLBACK_WAIT_MS;
	cfg->record_interval_s = CONFIG_DEFAULT_RECORD_INTERVAL_S;
	cfg->raw_hours = CONFIG_DEFAULT_RAW_HOURS;
	cfg->retention_days = CONFIG_DEFAULT_RETENTION_DAYS;
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

static int parse_dir(const char *v, char **out, const char **why)
{
	char *copy;

	if (v[0] != '/') {
		*why = "must be an absolute path";
		return -EINVAL;
	}
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	/* Trailing slashes would only double up in the paths built from it. */
	for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	free(*out);
	*out = copy;
	return 0;
}

static int parse_group(const char *v, char **out, const char **why)
{
	char *copy;

	/* The portable user/group name set of POSIX, plus the empty string. */
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
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	free(*out);
	*out = copy;
	return 0;
}

static int parse_bool(const char *v, bool *out, const char **why)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	*why = "must be yes or no";
	return -EINVAL;
}

static int parse_uint(const char *v, unsigned int min, unsigned int max,
		    unsigned int *out, const char **why)
{
	unsigned long long n;

	if (parse_ull(v, &n) < 0 || n < min || n > max) {
		*why = "is out of range";
		return -EINVAL;
	}
	*out = (unsigned int)n;
	return 0;
}

enum config_key {
	KEY_OVERRIDE_DIR,
	KEY_MODEL_DIR,
	KEY_CALIBRATION_DIR,
	KEY_ADMIN_GROUP,
	KEY_BATCH_MS,
	KEY_UNIT_SIGNALS,
	KEY_FALLBACK_WAIT_MS,
	KEY_RECORD_INTERVAL,
	KEY_RAW_HOURS,
	KEY_RETENTION_DAYS,
	KEY_OPERATOR_GROUP,
	KEY_ALARM_DELAY,
	KEY_ESCALATE_AFTER,
	KEY_ALARM_UNITS,
	KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
	[KEY_OVERRIDE_DIR] = "FirmwareOverrideDir",
	[KEY_MODEL_DIR] = "ModelFirmwareDir",
	[KEY_CALIBRATION_DIR] = "CalibrationDir",
	[KEY_ADMIN_GROUP] = "AdminGroup",
	[KEY_BATCH_MS] = "ReadingsBatchMs",
	[KEY_UNIT_SIGNALS] = "UnitPropertiesChanged",
	[KEY_FALLBACK_WAIT_MS] = "FallbackWaitMs",
	[KEY_RECORD_INTERVAL] = "RecordIntervalSec",
	[KEY_RAW_HOURS] = "RawSamplesHours",
	[KEY_RETENTION_DAYS] = "RecordRetentionDays",
	[KEY_OPERATOR_GROUP] = "OperatorGroup",
	[KEY_ALARM_DELAY] = "AlarmDelaySec",
	[KEY_ESCALATE_AFTER] = "EscalateAfterSec",
	[KEY_ALARM_UNITS] = "AlarmUnits",
};

static int set_key(struct config *c, enum config_key key, const char *v,
		   const char **why)
{
	switch (key) {
	case KEY_OVERRIDE_DIR:
		return parse_dir(v, &c->override_dir, why);
	case KEY_MODEL_DIR:
		return parse_dir(v, &c->model_dir, why);
	case KEY_CALIBRATION_DIR:
		return parse_dir(v, &c->calibration_dir, why);
	case KEY_ADMIN_GROUP:
		return parse_group(v, &c->admin_group, why);
	case KEY_BATCH_MS:
		return parse_uint(v, 0, CONFIG_MAX_BATCH_MS, &c->batch_ms, why);
	case KEY_UNIT_SIGNALS:
		return parse_bool(v, &c->unit_signals, why);
	case KEY_FALLBACK_WAIT_MS:
		return parse_uint(v, CONFIG_MIN_FALLBACK_WAIT_MS,
				CONFIG_MAX_FALLBACK_WAIT_MS,
				&c->fallback_wait_ms, why);
	case KEY_RECORD_INTERVAL:
		return parse_uint(v, CONFIG_MIN_RECORD_INTERVAL_S, CONFIG_MAX_RECORD_INTERVAL_S,
				&c->record_interval_s, why);
	case KEY_RAW_HOURS:
		return parse_uint(v, 1, CONFIG_MAX_RAW_HOURS, &c->raw_hours, why);
	case KEY_RETENTION_DAYS:
		return parse_uint(v, CONFIG_MIN_RETENTION_DAYS, CONFIG_MAX_RETENTION_DAYS,
				&c->retention_days, why);
	case KEY_OPERATOR_GROUP:
		return parse_group(v, &c->operator_group, why);
	case KEY_ALARM_DELAY:
		return parse_uint(v, 0, CONFIG_MAX_ALARM_DELAY_S, &c->alarm_delay_s, why);
	case KEY_ESCALATE_AFTER:
		return parse_uint(v, 0, CONFIG_MAX_ESCALATE_S, &c->escalate_after_s, why);
	case KEY_ALARM_UNITS:
		return parse_bool(v, &c->alarm_units, why);
	default:
		return -EINVAL;
	}
}

static char *strip(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int config_parse(const char *text, size_t len, struct config *cfg,
		 char *err, size_t err_len)
{
	unsigned int seen_line[KEY_COUNT] = { 0 };
	struct config c;
	char *buf, *line, *next;
	unsigned int lineno = 0;
	int r;

	if (memchr(text, '\0', len)) {
		snprintf(err, err_len, "contains a NUL byte");
		return -EINVAL;
	}
	r = config_init(&c);
	if (r < 0)
		return r;
	buf = strndup(text, len);
	if (!buf) {
		config_free(&c);
		return -ENOMEM;
	}
	for (line = buf; line; line = next) {
		const char *why = NULL;
		char *eq, *key, *value;
		int k;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		key = strip(line);
		if (!*key || *key == '#' || *key == ';')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, err_len, "line %u: expected Key=Value", lineno);
			r = -EINVAL;
			goto out;
		}
		*eq = '\0';
		value = strip(eq + 1);
		key = strip(key);
		for (k = 0; k < KEY_COUNT; k++)
			if (!strcmp(key, key_names[k]))
				break;
		if (k == KEY_COUNT) {
			snprintf(err, err_len, "line %u: unknown key '%s'", lineno, key);
			r = -EINVAL;
			goto out;
		}
		if (seen_line[k]) {
			snprintf(err, err_len, "line %u: '%s' given twice (first on line %u)",
				 lineno, key, seen_line[k]);
			r = -EINVAL;
			goto out;
		}
		seen_line[k] = lineno;
		r = set_key(&c, k, value, &why);
		if (r == -EINVAL) {
			snprintf(err, err_len, "line %u: %s=%s %s", lineno, key, value, why);
			goto out;
		}
		if (r < 0)
			goto out;
	}
	config_free(cfg);
	*cfg = c;
	free(buf);
	return 0;
out:
	config_free(&c);
	free(buf);
	return r;
}

int config_load(const char *path, struct config *cfg, char *err, size_t err_len)
{
	char msg[CONFIG_ERROR_MAX];
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, path, CONFIG_FILE_MAX, &text, &len);
	if (r == -ENOENT) {
		struct config c;

		r = config_init(&c);
		if (r < 0)
			return r;
		config_free(cfg);
		*cfg = c;
		return 0;
	}
	if (r < 0) {
		snprintf(err, err_len, "%s: %s", path,
			 r == -EFBIG ? "file too large" : strerror(-r));
		return r;
	}
	r = config_parse(text, len, cfg, msg, sizeof(msg));
	if (r < 0)
		snprintf(err, err_len, "%s: %s", path, r == -ENOMEM ? "out of memory" : msg);
	free(text);
	return r;
}
