// SPDX-License-Identifier: GPL-2.0 OR MIT
/* manifest.c - see manifest.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

/* A unit line: what coldroomd said of it when the export was made. */
static void manifest_unit(FILE *f, const struct exc_unit *u)
{
	fprintf(f, "unit: %s\t%s\t%d %d %d %d %d\t%s\n", u->serial, u->name, u->has_band,
		u->band_min[0], u->band_max[0], u->band_min[1], u->band_max[1], u->label);
}

void manifest_write(FILE *f, const char *file, const char *sha, const struct exc_params *pr,
		    const struct exc_report *r, const char *csv)
{
	char a[HEXSTR_SIZE(HASH_SIZE)], b[HEXSTR_SIZE(HASH_SIZE)];

	hexstr_encode(pr->record.hash, HASH_SIZE, a);
	hexstr_encode(pr->audit.hash, HASH_SIZE, b);
	fprintf(f, MANIFEST_MAGIC "\nfile: %s\nsha256: %s\nformat: %s\ncommand: %s\n"
		"since_us: %" PRIu64 "\nuntil_us: %" PRIu64 "\n"
		"record_head: %" PRIu64 " %s\naudit_head: %" PRIu64 " %s %" PRIu64 "\n"
		"mkt_dh: %" PRIu32 "\ngenerated_us: %" PRIu64 "\ngenerated: %s\n", file, sha,
		pr->format == EXC_CSV ? "csv" : "pdf", pr->command, pr->since_us, pr->until_us,
		pr->record.seq, a, pr->audit.seq, b, pr->audit.time_us, pr->dh, pr->generated_us,
		pr->generated);
	for (size_t i = 0; i < r->n_units; i++)
		manifest_unit(f, &r->units[i]);
	/* A PDF's content as CSV lines, so that verify-export can name what differs. */
	for (const char *p = csv, *nl; p && *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		fprintf(f, "content: %.*s\n", (int)(nl - p), p);
		if (!*nl)
			break;
	}
}

/* "SERIAL\tNAME\tHAS MIN1 MAX1 MIN2 MAX2\tLABEL" into a new unit of @r. */
static int parse_unit(char *v, struct exc_report *r)
{
	char *serial = v, *name, *band, *label;
	struct exc_unit *u;
	int has, end = 0;

	if (!(name = strchr(serial, '\t')) || !(band = strchr(name + 1, '\t')) ||
	    !(label = strchr(band + 1, '\t')) || r->n_units >= MANIFEST_MAX_UNITS)
		return -EBADMSG;
	*name++ = 0, *band++ = 0, *label++ = 0;
	if (!*serial || strlen(serial) >= sizeof(u->serial) || strlen(name) >= sizeof(u->name) ||
	    strlen(label) >= sizeof(u->label))
		return -EBADMSG;
	u = realloc(r->units, (r->n_units + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	r->units = u;
	u = &r->units[r->n_units];
	memset(u, 0, sizeof(*u));
	if (sscanf(band, "%d %" SCNd32 " %" SCNd32 " %" SCNd32 " %" SCNd32 "%n", &has,
		   &u->band_min[0], &u->band_max[0], &u->band_min[1], &u->band_max[1], &end) != 5 ||
	    band[end] || (has != 0 && has != 1))
		return -EBADMSG;
	strcpy(u->serial, serial);
	strcpy(u->name, name);
	strcpy(u->label, label);
	u->has_band = has;
	r->n_units++;
	return 0;
}

/* "SEQ HEX" (and with @time " TIME"): a chain's head. */
static int parse_head(const char *v, struct chain_at *at, bool time)
{
	char hex[HEXSTR_SIZE(HASH_SIZE) + 1];
	int end = 0, n;

	n = time ? sscanf(v, "%" SCNu64 " %65s %" SCNu64 "%n", &at->seq, hex, &at->time_us, &end) :
		   sscanf(v, "%" SCNu64 " %65s%n", &at->seq, hex, &end);
	if (n != (time ? 3 : 2) || v[end] || hexstr_decode(hex, at->hash, HASH_SIZE) != HASH_SIZE)
		return -EBADMSG;
	return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EBADMSG;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end ? -EBADMSG : 0;
}

/* One "key: value" line; @seen gets the bit of a key that must be there. */
static int parse_line(char *line, struct exc_params *pr, struct exc_report *r, char *sha,
		      FILE *content, unsigned int *seen)
{
	char *v = strchr(line, ':');
	uint64_t dh;

	if (!v || v[1] != ' ')
		return -EBADMSG;
	*v = 0;
	v += 2;
	if (!strcmp(line, "file")) {
		*seen |= 1;
	} else if (!strcmp(line, "sha256")) {
		uint8_t d[HASH_SIZE];

		if (strlen(v) != 2 * HASH_SIZE || hexstr_decode(v, d, sizeof(d)) != HASH_SIZE)
			return -EBADMSG;
		strcpy(sha, v);
		*seen |= 2;
	} else if (!strcmp(line, "format")) {
		if (strcmp(v, "csv") && strcmp(v, "pdf"))
			return -EBADMSG;
		pr->format = strcmp(v, "csv") ? EXC_PDF : EXC_CSV;
		*seen |= 4;
	} else if (!strcmp(line, "command")) {
		snprintf(pr->command, sizeof(pr->command), "%s", v);
	} else if (!strcmp(line, "since_us")) {
		*seen |= 8;
		return parse_u64(v, &pr->since_us);
	} else if (!strcmp(line, "until_us")) {
		*seen |= 16;
		return parse_u64(v, &pr->until_us);
	} else if (!strcmp(line, "record_head")) {
		*seen |= 32;
		return parse_head(v, &pr->record, false);
	} else if (!strcmp(line, "audit_head")) {
		*seen |= 64;
		return parse_head(v, &pr->audit, true);
	} else if (!strcmp(line, "generated_us")) {
		*seen |= 128;
		return parse_u64(v, &pr->generated_us);
	} else if (!strcmp(line, "generated")) {
		if (strlen(v) >= sizeof(pr->generated))
			return -EBADMSG;
		strcpy(pr->generated, v);
		*seen |= 256;
	} else if (!strcmp(line, "mkt_dh")) {
		if (parse_u64(v, &dh) < 0 || dh < MKT_MIN_DH || dh > MKT_MAX_DH)
			return -EBADMSG;
		pr->dh = (uint32_t)dh;
		*seen |= 512;
	} else if (!strcmp(line, "content")) {
		fprintf(content, "%s\n", v);
	} else if (!strcmp(line, "unit")) {
		return parse_unit(v, r);
	} else {
		return -EBADMSG;
	}
	return 0;
}

int manifest_parse(const char *text, size_t len, struct exc_params *pr, struct exc_report *r,
		   char sha[HEXSTR_SIZE(HASH_SIZE)], char **content, char *err, size_t err_len)
{
	char *line = NULL;
	size_t cap = 0, content_len = 0;
	unsigned int seen = 0, lineno = 0;
	FILE *f, *c;
	ssize_t n;
	int k = 0;

	*content = NULL;
	memset(pr, 0, sizeof(*pr));
	if (memchr(text, 0, len)) {
		snprintf(err, err_len, "not an export manifest: it holds a NUL byte");
		return -EBADMSG;
	}
	f = fmemopen((void *)text, len, "r");
	c = open_memstream(content, &content_len);
	if (!f || !c) {
		if (f)
			fclose(f);
		if (c)
			fclose(c);
		free(*content);
		*content = NULL;
		return -ENOMEM;
	}
	while (!k && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (++lineno == 1)
			k = strcmp(line, MANIFEST_MAGIC) ? -EBADMSG : 0;
		else
			k = parse_line(line, pr, r, sha, c, &seen);
	}
	free(line);
	fclose(f);
	if (fclose(c) && !k)
		k = -ENOMEM;
	if (!k && (seen != 1023 || pr->since_us >= pr->until_us || !r->n_units)) {
		k = -EBADMSG;
		lineno = 0;
	}
	if (k) {
		if (k == -EBADMSG && lineno)
			snprintf(err, err_len, "not an export manifest, or damaged (line %u)", lineno);
		else if (k == -EBADMSG)
			snprintf(err, err_len, "not an export manifest, or damaged (a line is missing)");
		else
			snprintf(err, err_len, "%s", strerror(-k));
		free(*content);
		*content = NULL;
		free(r->units);
		r->units = NULL;
		r->n_units = 0;
	}
	return k;
}
