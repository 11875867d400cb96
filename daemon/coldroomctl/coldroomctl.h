/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * coldroomctl.h - what the verbs of coldroomctl share: the options, the
 * exit statuses, the bus calls and their failures, the --json output;
 * and each verb, called by main(). Internal to coldroomctl/.
 */
#ifndef COLDROOM_COLDROOMCTL_H
#define COLDROOM_COLDROOMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <json-c/json.h>

#include "unit_client.h"

#ifndef COLDROOM_VERSION
#define COLDROOM_VERSION "0.1.0"
#endif

enum {
	EXIT_USAGE = 2,
	EXIT_NOT_RUNNING = 3,
	EXIT_NO_UNIT = 4,
	EXIT_DENIED = 5,
	EXIT_REJECTED = 6,
	EXIT_NOT_INTACT = 7,
};

/* The options (coldroomctl.c). */
extern bool arg_json;
extern const char *arg_bus;
extern unsigned int arg_count;
extern const char *arg_database;

/* coldroomd and coldroom-recorder over the bus (coldroomctl_bus.c). */
int fail_call(const char *what, const sd_bus_error *e, int r);
int fail_record(const char *what, const sd_bus_error *e, int r);
int fetch_units(sd_bus *bus, struct unit_list *out);
int fetch_unit(sd_bus *bus, const char *key, struct unit_info *u);
void resolve_unit(sd_bus *bus, const char *key, struct unit_info *u);

/*
 * An act's password prompt (coldroomctl_agent.c): with @may_ask, calls on
 * @bus allow interactive authorization and, on a terminal, pkttyagent
 * runs for this process until ask_password_end().
 */
int ask_password_begin(sd_bus *bus, bool may_ask);
void ask_password_end(void);

/* --json (coldroomctl_json.c). */
struct json_object *jnew(struct json_object *v);
struct json_object *jstr(const char *s);
struct json_object *jint(int64_t v);
struct json_object *juint(uint64_t v);
struct json_object *jbool(bool v);
void jset(struct json_object *o, const char *key, struct json_object *v);
void jappend(struct json_object *a, struct json_object *v);
void json_print(struct json_object *o);

/* Times as local text (coldroomctl_time.c). */
void format_time(char *buf, size_t size, uint64_t usec);
void format_local(uint64_t usec, char *buf, size_t size);
void format_duration(uint64_t usec, char *buf, size_t size);

/*
 * A probe's mean kinetic temperature over [@since, @until) from the
 * recorder, the time not written yet (its two open intervals) not counted
 * missing (coldroomctl_history.c).
 */
struct mkt_sum;
struct mkt_result;
#define MKT_ROLLING_US	(30ULL * 86400 * 1000000)
int fetch_mkt(sd_bus *bus, const char *serial, unsigned int probe, uint64_t since,
	      uint64_t until, struct mkt_sum *sum, struct mkt_result *res, sd_bus_error *e);

/* The unit table, for list and watch (coldroomctl_units.c). */
void print_list(const struct unit_list *l);

/* The verbs: 0 or an exit status. */
int cmd_list(sd_bus *bus);
int cmd_show(sd_bus *bus, const char *key);
int cmd_watch(sd_bus *bus);
int cmd_set(sd_bus *bus, const char *key, char **assignments, int n);
int cmd_reload(sd_bus *bus);
int cmd_alarms(sd_bus *bus);
/* [--comment TEXT | -m TEXT | --comment=TEXT] in @args[@from..@n): 0, or -1 for anything else. */
int comment_option(char **args, int from, int n, const char **comment);
int cmd_ack(sd_bus *bus, char **args, int n);
int cmd_sign(sd_bus *bus, char **args, int n);
int cmd_calibrate(sd_bus *bus, char **args, int n);
/* Millidegrees, or degrees with a "C" suffix ("-18.5C") (coldroomctl_set.c). */
int parse_temp(const char *s, int32_t *out);
int cmd_firmware(sd_bus *bus, const char *key, const char *action);
int cmd_frame(sd_bus *bus, const char *key, const char *path);
int cmd_history(sd_bus *bus, char **args, int n);
int cmd_report(sd_bus *bus, char **args, int n);
/* The units of a report: @unit, or every unit coldroomd has. 0 or an exit status. */
int report_units(sd_bus *bus, const char *unit, struct unit_list *l);
int cmd_report_excursions(sd_bus *bus, char **args, int n);
int cmd_record_verify_export(sd_bus *bus, const char *path);
#define RECORD_JOURNAL_FILES_MAX 16
int cmd_record_verify(char **args, int n);

#endif
