// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * secrets.c - the password and the TLS key: systemd credentials or files nobody
 * else may read; apart, so that what touches a secret is in one place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "uplink.h"

#define SECRET_MAX		4096

/*
 * The systemd credential @name ($CREDENTIALS_DIRECTORY/@name) if there is
 * one, else @path; in *@used the file it is. A file others may read is
 * refused: the secret is out already, and saying so is the help.
 */
static int secret_path(const char *name, const char *path, char *buf, size_t size,
		       const char **used)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	struct stat st;

	*used = NULL;
	if (dir && *dir) {
		snprintf(buf, size, "%s/%s", dir, name);
		if (access(buf, F_OK) == 0) {
			*used = buf;
			return 0;
		}
	}
	if (!path)
		return 0;
	if (stat(path, &st) < 0) {
		log_error("cannot read %s: %m", path);
		return -errno;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		log_error("%s may be read by every user (mode %04o): refusing to use it; "
			  "chmod o-rwx it, or use LoadCredential=%s:%s", path,
			  (unsigned int)(st.st_mode & 07777), name, path);
		return -EPERM;
	}
	*used = path;
	return 0;
}

int load_secrets(struct uplink *u)
{
	char buf[4096];
	const char *path;
	size_t len;
	int k;

	k = secret_path("mqtt-password", u->cfg.password_file, buf, sizeof(buf), &path);
	if (k < 0)
		return k;
	if (path) {
		if (!u->cfg.username) {
			log_error("a password (%s) but no Username=", path);
			return -EINVAL;
		}
		if (!u->cfg.ca_file && !u->cfg.allow_insecure_password) {
			snprintf(u->state, sizeof(u->state), "a password (%s) without CAFile= would "
				 "be sent in clear: set CAFile= (TLS), or AllowInsecurePassword=yes",
				 path);
			log_error("%s", u->state);
			return -EPERM;
		}
		k = read_file_at(AT_FDCWD, path, SECRET_MAX, &u->password, &len);
		if (k < 0) {
			log_error("cannot read the password from %s: %s", path, strerror(-k));
			return k;
		}
		/* One line: the newline an editor adds is not part of it. */
		u->password[strcspn(u->password, "\r\n")] = '\0';
	}
	k = secret_path("mqtt-key", u->cfg.key_file, u->key_cred, sizeof(u->key_cred), &u->key_path);
	if (k < 0)
		return k;
	if (u->key_path && !u->cfg.cert_file) {
		log_error("a TLS key (%s) but no CertFile=", u->key_path);
		return -EINVAL;
	}
	if (u->cfg.cert_file && !u->key_path) {
		log_error("CertFile= needs its key: KeyFile= or the credential mqtt-key");
		return -EINVAL;
	}
	return 0;
}
