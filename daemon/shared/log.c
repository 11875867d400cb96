// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
	max_level = level;
}

/* systemd sets $JOURNAL_STREAM to "dev:ino" of stderr when it is the journal. */
static int stderr_is_journal(void)
{
	static int cached = -1;
	const char *e;
	unsigned long long dev, ino;
	struct stat st;

	if (cached >= 0)
		return cached;
	cached = 0;
	e = getenv("JOURNAL_STREAM");
	if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    st.st_dev == dev && st.st_ino == ino)
		cached = 1;
	return cached;
}

void log_fields(int priority, const struct log_fields *f, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (priority > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (stderr_is_journal()) {
		char field[6][1100];
		struct iovec iov[6];
		int n = 0;

#define ADD(...) do { \
		snprintf(field[n], sizeof(field[n]), __VA_ARGS__); \
		iov[n].iov_base = field[n]; \
		iov[n].iov_len = strlen(field[n]); \
		n++; \
	} while (0)
		ADD("MESSAGE=%s", msg);
		ADD("PRIORITY=%d", priority);
		if (f && f->unit)
			ADD("COLDROOM_UNIT=%s", f->unit);
		if (f && f->serial)
			ADD("COLDROOM_SERIAL=%s", f->serial);
		if (f && f->firmware)
			ADD("COLDROOM_FIRMWARE=%s", f->firmware);
		if (f && f->outcome)
			ADD("COLDROOM_OUTCOME=%s", f->outcome);
#undef ADD
		if (sd_journal_sendv(iov, n) >= 0)
			return;
	}
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg);
}
