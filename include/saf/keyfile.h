/* SPDX-License-Identifier: MIT */
/*
 * Files that hold secrets (the TLS key file, the scheduler's key files,
 * the token commands' key files), opened and read one way, with one
 * policy: the path itself must be a regular file (a symbolic link, a
 * directory or a FIFO is refused; a FIFO does not hang the open), owned
 * by the running user or root (someone else's file could be swapped for
 * keys of their choice), and readable by its owner only (mode 0600 or
 * stricter, so no other account has read the key).
 *
 * Messages start with the caller's label ("key file /etc/saf/keys", or
 * just the path) and name the cause and the fix; never a byte of the
 * file. Refusals by the policy are SAF_E_REFUSED; an open or read that
 * fails is SAF_E_SYS with the system's reason.
 */
#ifndef SAF_KEYFILE_H
#define SAF_KEYFILE_H

#include <stddef.h>

#include "saf/error.h"

/* Opens path for reading after the checks above: the fd (close-on-exec;
 * the caller closes it), or -1 with err. */
SAF_MUST_CHECK int saf_keyfile_open(const char *path, const char *label,
				    saf_error *err);

/* Opens path with saf_keyfile_open and reads at most cap bytes of it
 * into buf, *len how many. A caller that must know whether the file is
 * larger than it accepts passes one byte more room and checks *len. On
 * failure buf is wiped and *len is 0; on success the caller wipes buf
 * when done (OPENSSL_cleanse). */
SAF_MUST_CHECK int saf_keyfile_read(const char *path, const char *label,
				    void *buf, size_t cap, size_t *len,
				    saf_error *err);

#endif /* SAF_KEYFILE_H */
