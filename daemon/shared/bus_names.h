/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * bus_names.h - every name, object path, interface and error of
 * coldroom-sensor's D-Bus services, in one place for servers and clients.
 * The contracts: coldroomd/DBUS-API.md (Sensors1), recorder/RECORD.md
 * (Recorder1), uplink/MQTT.md (Uplink1); the interface XML beside them.
 */
#ifndef COLDROOM_BUS_NAMES_H
#define COLDROOM_BUS_NAMES_H

/* coldroomd: the units. */
#define SENSORS_BUS_NAME	"org.coldroom.Sensors1"
#define SENSORS_PATH		"/org/coldroom/Sensors1"
#define SENSORS_UNIT_PREFIX	SENSORS_PATH "/unit"
#define SENSORS_MANAGER_IFACE	"org.coldroom.Sensors1.Manager"
#define SENSORS_UNIT_IFACE	"org.coldroom.Sensors1.Unit"
#define SENSORS_ERROR_NO_SUCH_UNIT	"org.coldroom.Sensors1.Error.NoSuchUnit"
#define SENSORS_ERROR_WRITE_FAILED	"org.coldroom.Sensors1.Error.WriteFailed"
#define SENSORS_ERROR_CONFIG_INVALID	"org.coldroom.Sensors1.Error.ConfigInvalid"
#define SENSORS_ERROR_NO_FRAME		"org.coldroom.Sensors1.Error.NoFrame"
#define SENSORS_ERROR_NO_SUCH_ALARM	"org.coldroom.Sensors1.Error.NoSuchAlarm"

/* coldroom-recorder: the record read back. */
#define RECORDER_BUS_NAME	"org.coldroom.Recorder1"
#define RECORDER_PATH		"/org/coldroom/Recorder1"
#define RECORDER_IFACE		"org.coldroom.Recorder1"
#define RECORDER_ERROR_RECORD	"org.coldroom.Recorder1.Error.RecordUnreadable"
/*
 * One call answers at most RECORDER_PAGE_ROWS rows or events, and no more
 * once RECORDER_PAGE_US has passed (BENCHMARKS.md: a row on cold pages
 * costs up to ~25 us): no caller holds the recorder's loop for long.
 * Callers page on (DBUS-API.md).
 */
#define RECORDER_PAGE_ROWS	1000
#define RECORDER_PAGE_US	15000
#define RECORDER_MAX_FOLLOW	10000	/* GetRecordsAfter's, GetAuditAfter's argument */
#define RECORDER_SIGN_COMMENT_MAX	255	/* SignReport's comment */
/* GetMeanKineticTemperaturePage sends sums, not rows: more rows, the same time. */
#define RECORDER_MKT_PAGE_ROWS	10000

/* coldroom-uplink: its state. */
#define UPLINK_BUS_NAME		"org.coldroom.Uplink1"
#define UPLINK_PATH		"/org/coldroom/Uplink1"
#define UPLINK_IFACE		"org.coldroom.Uplink1"

#endif
