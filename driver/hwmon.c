// SPDX-License-Identifier: GPL-2.0
/* coldroom core: the hwmon view of a unit, so that lm-sensors lists it. */

#include <linux/hwmon.h>

#include "coldroom_core.h"

static const char * const coldroom_hwmon_labels[COLDROOM_CHANNELS] = {
	"air", "coil",
};

static umode_t coldroom_hwmon_is_visible(const void *data,
					 enum hwmon_sensor_types type,
					 u32 attr, int channel)
{
	if (type != hwmon_temp)
		return 0;
	switch (attr) {
	case hwmon_temp_input:
	case hwmon_temp_alarm:
	case hwmon_temp_label:
		return 0444;
	case hwmon_temp_min:
	case hwmon_temp_max:
		return 0644;
	default:
		return 0;
	}
}

static int coldroom_hwmon_read(struct device *dev,
			       enum hwmon_sensor_types type, u32 attr,
			       int channel, long *val)
{
	struct coldroom_sensor *s = dev_get_drvdata(dev);
	s32 temp;
	int ret = 0;

	if (type != hwmon_temp)
		return -EOPNOTSUPP;
	if (attr == hwmon_temp_input) {
		ret = coldroom_read_temp(s, channel, &temp);
		if (!ret)
			*val = temp;
		return ret;
	}

	mutex_lock(&s->lock);
	switch (attr) {
	case hwmon_temp_alarm:
		*val = s->alarm[channel];
		break;
	case hwmon_temp_min:
		*val = s->thr[channel].min;
		break;
	case hwmon_temp_max:
		*val = s->thr[channel].max;
		break;
	default:
		ret = -EOPNOTSUPP;
		break;
	}
	mutex_unlock(&s->lock);
	return ret;
}

static int coldroom_hwmon_write(struct device *dev,
				enum hwmon_sensor_types type, u32 attr,
				int channel, long val)
{
	struct coldroom_sensor *s = dev_get_drvdata(dev);

	if (type != hwmon_temp)
		return -EOPNOTSUPP;
	/* A long from user space; coldroom_set_threshold() judges the rest. */
	if (val < COLDROOM_FW_TEMP_MIN_MDEG || val > COLDROOM_FW_TEMP_MAX_MDEG)
		return -EINVAL;
	switch (attr) {
	case hwmon_temp_min:
		return coldroom_set_threshold(s, channel, COLDROOM_THR_MIN, val);
	case hwmon_temp_max:
		return coldroom_set_threshold(s, channel, COLDROOM_THR_MAX, val);
	default:
		return -EOPNOTSUPP;
	}
}

static int coldroom_hwmon_read_string(struct device *dev,
				      enum hwmon_sensor_types type, u32 attr,
				      int channel, const char **str)
{
	if (type != hwmon_temp || attr != hwmon_temp_label)
		return -EOPNOTSUPP;
	*str = coldroom_hwmon_labels[channel];
	return 0;
}

static const struct hwmon_ops coldroom_hwmon_ops = {
	.is_visible = coldroom_hwmon_is_visible,
	.read = coldroom_hwmon_read,
	.write = coldroom_hwmon_write,
	.read_string = coldroom_hwmon_read_string,
};

static const struct hwmon_channel_info *coldroom_hwmon_info[] = {
	HWMON_CHANNEL_INFO(temp,
			   HWMON_T_INPUT | HWMON_T_MIN | HWMON_T_MAX |
			   HWMON_T_ALARM | HWMON_T_LABEL,
			   HWMON_T_INPUT | HWMON_T_MIN | HWMON_T_MAX |
			   HWMON_T_ALARM | HWMON_T_LABEL),
	NULL
};

static const struct hwmon_chip_info coldroom_hwmon_chip = {
	.ops = &coldroom_hwmon_ops,
	.info = coldroom_hwmon_info,
};

/*
 * The hwmon device hangs off the backend's device: lm-sensors lists only
 * chips whose parent sits on a bus it knows, never a class device.
 */
int coldroom_hwmon_register(struct coldroom_sensor *s, struct device *parent)
{
	struct device *hwmon;

	hwmon = devm_hwmon_device_register_with_info(parent, "coldroom", s,
						     &coldroom_hwmon_chip,
						     NULL);
	if (IS_ERR(hwmon))
		return PTR_ERR(hwmon);
	s->hwmon = hwmon;
	return 0;
}

void coldroom_hwmon_alarm(struct coldroom_sensor *s, unsigned int channel)
{
	hwmon_notify_event(s->hwmon, hwmon_temp, hwmon_temp_alarm, channel);
}
