/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * manifest.h - an export's manifest (RECORD.md, "Exports and their
 * manifests"): what it was made from and how, written beside it as
 * FILE.manifest and read back by record verify-export. The reading side
 * takes a file anyone may have edited: it accepts only what it wrote.
 */
#ifndef COLDROOM_MANIFEST_H
#define COLDROOM_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hexstr.h"
#include "report.h"

#define HASH_SIZE		32
#define MANIFEST_MAGIC		"coldroom-export-manifest 1"
#define MANIFEST_MAX_UNITS	100000

enum exc_format { EXC_CSV, EXC_PDF };

/* A chain's head, or a row of it: its seq, hash and (audit) time. */
struct chain_at {
	uint64_t seq, time_us;
	uint8_t hash[HASH_SIZE];
};

/* What an export is made of and from: the manifest, less its file and units. */
struct exc_params {
	enum exc_format format;
	uint64_t since_us, until_us;
	struct chain_at record, audit;	/* the heads when it was made */
	uint32_t dh;			/* the MKT's, J/mol, as in force then */
	uint64_t generated_us;
	char generated[160];
	char command[1024];
};

/*
 * Write the manifest of the export @file (its SHA-256 @sha in hex) to @f:
 * @pr, the units of @r and, for a PDF, its content as CSV lines @csv.
 * Strings must hold no control characters (exc_units() sees to it).
 */
void manifest_write(FILE *f, const char *file, const char *sha, const struct exc_params *pr,
		    const struct exc_report *r, const char *csv);

/*
 * Parse @len bytes of @text: @pr, @r's units (serial, name, label, band;
 * malloc()ed), the export's SHA-256 in @sha, the PDF's CSV lines in
 * *@content (malloc()ed, "" for none). 0, or -EBADMSG with @err naming
 * the line, -ENOMEM; on failure nothing is left allocated.
 */
int manifest_parse(const char *text, size_t len, struct exc_params *pr, struct exc_report *r,
		   char sha[HEXSTR_SIZE(HASH_SIZE)], char **content, char *err, size_t err_len);

#endif
