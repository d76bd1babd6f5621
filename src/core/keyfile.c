/* SPDX-License-Identifier: MIT */
/* Opening and reading files that hold secrets, with one policy
 * (saf/keyfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saf/keyfile.h"

int saf_keyfile_open(const char *path, const char *label, saf_error *err)
{
	struct stat sb;
	/* O_NOFOLLOW: a symbolic link is refused, so the checks below are
	 * about the file itself. O_NONBLOCK: a FIFO must not hang the open
	 * (it is then refused as not a regular file). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0 && errno == ELOOP)
		return saf_fail(err, SAF_E_REFUSED,
				"%s: a symbolic link (refused; name the file "
				"itself)",
				label);
	if (fd < 0)
		return saf_fail(err, SAF_E_SYS, "%s: %s", label,
				strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		saf_fail(err, SAF_E_REFUSED, "%s: not a regular file", label);
	} else if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		saf_fail(err, SAF_E_REFUSED,
			 "%s: owned by uid %u, neither this user (uid %u) nor "
			 "root",
			 label, (unsigned)sb.st_uid, (unsigned)geteuid());
	} else if (sb.st_mode & 077) {
		saf_fail(err, SAF_E_REFUSED,
			 "%s: mode %03o lets others read it; chmod 600", label,
			 (unsigned)(sb.st_mode & 0777));
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

int saf_keyfile_read(const char *path, const char *label, void *buf, size_t cap,
		     size_t *len, saf_error *err)
{
	char *p = buf;
	size_t n = 0;
	ssize_t got = 0;
	int fd = saf_keyfile_open(path, label, err);

	*len = 0;
	if (fd < 0)
		return -1;
	while (n < cap && ((got = read(fd, p + n, cap - n)) > 0 ||
			   (got < 0 && errno == EINTR)))
		n += got > 0 ? (size_t)got : 0u;
	if (got < 0) {
		int e = errno;

		close(fd);
		OPENSSL_cleanse(buf, cap);
		return saf_fail(err, SAF_E_SYS, "%s: %s", label, strerror(e));
	}
	close(fd);
	*len = n;
	return 0;
}
