// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_record.c - record verify: the record's hash chains walked
 * in a copy of the database, with no bus and no service needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <json-c/json.h>

#include "coldroomctl.h"
#include "macro.h"
#include "record.h"

/* Walks the record's hash chains; no bus, no coldroomd needed. */
int cmd_record_verify(void)
{
	_cleanup_(record_closep) struct record *r = NULL;
	char err[RECORD_MESSAGE_MAX];
	struct record_verify v;
	int k;

	k = record_open(arg_database, RECORD_READ, &r, err, sizeof(err));
	if (k < 0) {
		/* A file that SQLite or the schema refuses is no intact record either. */
		if (k == -EBADMSG || k == -EIO) {
			fprintf(stderr, "coldroomctl: %s: not intact: %s\n", arg_database, err);
			return EXIT_NOT_INTACT;
		}
		fprintf(stderr, "coldroomctl: cannot open the record: %s\n", err);
		return EXIT_FAILURE;
	}
	k = record_verify(r, &v);
	if (k < 0) {
		fprintf(stderr, "coldroomctl: cannot verify %s: %s\n", arg_database, record_error(r));
		return EXIT_FAILURE;
	}
	if (arg_json) {
		struct json_object *o = jnew(json_object_new_object());

		jset(o, "intact", jbool(v.intact));
		jset(o, "record_rows", jint(v.record_rows));
		jset(o, "audit_rows", jint(v.audit_rows));
		jset(o, "message", jstr(v.message));
		json_print(o);
	} else if (v.intact) {
		printf("%s: %s\n", arg_database, v.message);
	} else {
		printf("%s: NOT INTACT: %s\n", arg_database, v.message);
	}
	return v.intact ? 0 : EXIT_NOT_INTACT;
}
