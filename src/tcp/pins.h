/* SPDX-License-Identifier: MIT */
/* Internal: pin folder layout, <pin_dir>/<node|client>/<object>. */
#ifndef SAF_TCP_PINS_H
#define SAF_TCP_PINS_H

#include <stdbool.h>
#include <stdio.h>

#include "saf/tcp.h"

#define PATH_BUF 512

/* Ensures dir is a bpffs (mounting one if not) and dir/sub exists; writes
 * dir/sub into out. */
int saf_pins_prepare(const char *dir, const char *sub, char *out, size_t cap,
		     saf_error *err);
int saf_pin_path(char *out, size_t cap, const char *dir, const char *sub,
		 const char *name);

/* Entries in the kernel affinity cache pinned under pin_dir (0 when
 * none or not attached); kcache.c. */
size_t saf_kcache_entries(const char *pin_dir);

#endif
