// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: an export's manifest (coldroomctl/manifest.h), which
 * record verify-export reads from a file anyone may have edited. Whatever
 * it accepts is whole and within range, and written again it reads back
 * the same; whatever it refuses leaves nothing allocated and says why.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exc_params pr, again;
	struct exc_report r = { 0 }, r2 = { 0 };
	char sha[HEXSTR_SIZE(HASH_SIZE)] = "", sha2[HEXSTR_SIZE(HASH_SIZE)], err[256] = "";
	char *content = NULL, *content2 = NULL, *text = NULL;
	size_t len = 0;
	FILE *f;

	if (manifest_parse((const char *)data, size, &pr, &r, sha, &content, err,
			   sizeof(err)) < 0) {
		fuzz_assert(!r.units && !r.n_units && !content);
		fuzz_assert(err[0] && memchr(err, 0, sizeof(err)));
		return 0;
	}
	fuzz_assert(pr.since_us < pr.until_us && r.n_units > 0 && content);
	fuzz_assert(pr.dh >= MKT_MIN_DH && pr.dh <= MKT_MAX_DH);
	fuzz_assert(strlen(sha) == 2 * HASH_SIZE);
	for (size_t i = 0; i < r.n_units; i++)
		fuzz_assert(r.units[i].serial[0] && !strchr(r.units[i].serial, '\t') &&
			    !strchr(r.units[i].name, '\t'));
	/* Written again (without its content: the CSV lines come from elsewhere), the same. */
	f = open_memstream(&text, &len);
	fuzz_assert(f);
	manifest_write(f, "x", sha, &pr, &r, NULL);
	fuzz_assert(!fclose(f));
	if (!strpbrk(pr.command, "\n") && !strpbrk(pr.generated, "\n")) {
		fuzz_assert(manifest_parse(text, len, &again, &r2, sha2, &content2, err,
					   sizeof(err)) == 0);
		fuzz_assert(!strcmp(sha, sha2) && r2.n_units == r.n_units);
		fuzz_assert(again.since_us == pr.since_us && again.until_us == pr.until_us &&
			    again.dh == pr.dh && again.format == pr.format &&
			    !memcmp(&again.record, &pr.record, sizeof(pr.record)) &&
			    !memcmp(&again.audit, &pr.audit, sizeof(pr.audit)) &&
			    !strcmp(again.generated, pr.generated));
		for (size_t i = 0; i < r.n_units; i++)
			fuzz_assert(!memcmp(&r.units[i], &r2.units[i], sizeof(r.units[i])));
		free(r2.units);
		free(content2);
	}
	free(text);
	free(r.units);
	free(content);
	return 0;
}
