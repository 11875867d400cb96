// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_record.c - record verify: the record's hash chains walked
 * in a copy of the database, with no bus and no service needed; then the
 * database checked against the chain heads the recorder anchored in the
 * journal, which a consistent rewrite of the file cannot change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include <systemd/sd-journal.h>

#include "coldroomctl.h"
#include "macro.h"
#include "record.h"

enum journal_mode { JOURNAL_AUTO, JOURNAL_ON, JOURNAL_OFF };

struct verify_args {
	enum journal_mode mode;
	const char *directory;
	const char *files[RECORD_JOURNAL_FILES_MAX + 1];
	size_t n_files;
};

static int parse_verify_args(char **args, int n, struct verify_args *a)
{
	enum { OPT_JOURNAL = 0x100, OPT_NO_JOURNAL, OPT_DIRECTORY, OPT_FILE };
	static const struct option options[] = {
		{ "journal", no_argument, NULL, OPT_JOURNAL },
		{ "no-journal", no_argument, NULL, OPT_NO_JOURNAL },
		{ "journal-directory", required_argument, NULL, OPT_DIRECTORY },
		{ "journal-file", required_argument, NULL, OPT_FILE },
		{ 0 }
	};
	char *argv[2 * RECORD_JOURNAL_FILES_MAX + 2] = { "record verify" };
	bool off = false;
	int c;

	if (n > 2 * RECORD_JOURNAL_FILES_MAX)
		return -E2BIG;
	for (int i = 0; i < n; i++)
		argv[i + 1] = args[i];
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(n + 1, argv, "", options, NULL)) >= 0) {
		switch (c) {
		case OPT_JOURNAL:
			a->mode = JOURNAL_ON;
			break;
		case OPT_NO_JOURNAL:
			off = true;
			break;
		case OPT_DIRECTORY:
			a->directory = optarg;
			a->mode = JOURNAL_ON;
			break;
		case OPT_FILE:
			if (a->n_files == RECORD_JOURNAL_FILES_MAX)
				return -E2BIG;
			a->files[a->n_files++] = optarg;
			a->mode = JOURNAL_ON;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < n + 1 || (a->directory && a->n_files) || (off && a->mode == JOURNAL_ON))
		return -EINVAL;
	if (off)
		a->mode = JOURNAL_OFF;
	return 0;
}

/* The journal to check against; NULL with 0 when there is none to read (auto). */
static int open_journal(const struct verify_args *a, sd_journal **j)
{
	int k;

	if (a->directory)
		k = sd_journal_open_directory(j, a->directory, 0);
	else if (a->n_files)
		k = sd_journal_open_files(j, (const char **)a->files, 0);
	else
		k = sd_journal_open(j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (k < 0) {
		*j = NULL;
		if (a->mode == JOURNAL_AUTO)
			return 0;
		fprintf(stderr, "coldroomctl: cannot open the journal %s: %s\n",
			a->directory ? a->directory : a->n_files ? a->files[0] : "", strerror(-k));
		return k;
	}
	return 1;
}

int cmd_record_verify(char **args, int n)
{
	_cleanup_(record_closep) struct record *r = NULL;
	struct verify_args a = { .mode = JOURNAL_AUTO };
	struct record_anchor_report rep = { 0 };
	char err[RECORD_MESSAGE_MAX], real[PATH_MAX];
	struct record_verify v;
	sd_journal *j = NULL;
	bool journal = false;
	struct stat st;
	int k;

	if (parse_verify_args(args, n, &a) < 0) {
		fprintf(stderr, "coldroomctl: record verify: usage: record verify [--journal|--no-journal] "
			"[--journal-directory DIR | --journal-file FILE...]\n");
		return EXIT_USAGE;
	}
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
	if (a.mode != JOURNAL_OFF) {
		/* Anchors name the file by its absolute path; its owner wrote them. */
		if (!realpath(arg_database, real) || stat(real, &st) < 0) {
			fprintf(stderr, "coldroomctl: %s: %s\n", arg_database, strerror(errno));
			return EXIT_FAILURE;
		}
		k = open_journal(&a, &j);
		if (k < 0)
			return EXIT_FAILURE;
		if (k > 0) {
			k = record_check_anchors(r, j, real, st.st_uid, &rep);
			sd_journal_close(j);
			if (k < 0) {
				fprintf(stderr, "coldroomctl: cannot check %s against the journal: %s\n",
					arg_database, k == -EIO ? record_error(r) : strerror(-k));
				return EXIT_FAILURE;
			}
			journal = true;
		}
	}
	if (arg_json) {
		struct json_object *o = jnew(json_object_new_object());

		jset(o, "intact", jbool(v.intact && (!journal || rep.agree)));
		jset(o, "record_rows", jint(v.record_rows));
		jset(o, "audit_rows", jint(v.audit_rows));
		jset(o, "message", jstr(v.message));
		if (journal) {
			struct json_object *jo = jnew(json_object_new_object());
			static const char *const names[2] = { "record_disagree", "audit_disagree" };

			jset(jo, "agree", jbool(rep.agree));
			jset(jo, "anchors", juint(rep.anchors));
			if (rep.anchors) {
				jset(jo, "first_us", juint(rep.first_us));
				jset(jo, "last_us", juint(rep.last_us));
			}
			for (int c = 0; c < 2; c++) {
				struct json_object *l = jnew(json_object_new_array());

				for (size_t i = 0; i < rep.bad[c].n; i++)
					jappend(l, jint(rep.bad[c].seq[i]));
				jset(jo, names[c], l);
			}
			jset(jo, "message", jstr(rep.message));
			jset(o, "journal", jo);
		}
		json_print(o);
	} else {
		printf("%s: %s%s\n", arg_database, v.intact ? "" : "NOT INTACT: ", v.message);
		if (journal)
			printf("%s: journal: %s%s\n", arg_database, rep.agree ? "" : "NOT INTACT: ",
			       rep.message);
		else if (a.mode == JOURNAL_OFF)
			printf("%s: journal: not checked\n", arg_database);
		else
			printf("%s: journal: not checked (no journal to read)\n", arg_database);
	}
	return v.intact && (!journal || rep.agree) ? 0 : EXIT_NOT_INTACT;
}
