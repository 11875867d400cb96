// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_json.c - the --json output: values and objects built with
 * json-c, printed one object a line.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "coldroomctl.h"

/*
 * --json output is built with json-c. A failed allocation ends the
 * program: half an object printed would read as a valid answer.
 */
static _Noreturn void oom(void)
{
	fputs("coldroomctl: out of memory\n", stderr);
	exit(EXIT_FAILURE);
}

struct json_object *jnew(struct json_object *v)
{
	if (!v)
		oom();
	return v;
}

struct json_object *jstr(const char *s)
{
	return jnew(json_object_new_string(s));
}

struct json_object *jint(int64_t v)
{
	return jnew(json_object_new_int64(v));
}

struct json_object *juint(uint64_t v)
{
	return jnew(json_object_new_uint64(v));
}

struct json_object *jbool(bool v)
{
	return jnew(json_object_new_boolean(v));
}

/* @v NULL is JSON null. */
void jset(struct json_object *o, const char *key, struct json_object *v)
{
	if (json_object_object_add(o, key, v) < 0)
		oom();
}

void jappend(struct json_object *a, struct json_object *v)
{
	if (json_object_array_add(a, v) < 0)
		oom();
}

/* @o on one line of stdout, compact as before; frees @o. */
void json_print(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s)
		oom();
	puts(s);
	json_object_put(o);
}
