/* SPDX-License-Identifier: MIT */
/*
 * saf lab: runs the lab script (network plumbing is `ip` work, and a shell
 * script is its clearest form). Looked up in SAF_LAB_SCRIPT, then the
 * source tree this binary was built from, then the installed copy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef SAF_SOURCE_DIR
#define SAF_SOURCE_DIR "."
#endif

int saf_cmd_lab(int argc, char **argv)
{
	(void)argc; /* argv is NULL-terminated and passed on whole */
	const char *candidates[] = {
		getenv("SAF_LAB_SCRIPT"),
		SAF_SOURCE_DIR "/scripts/lab",
		"/usr/share/saf/lab",
	};

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]);
	     i++) {
		const char *path = candidates[i];

		if (!path || access(path, X_OK) != 0)
			continue;
		argv[0] = (char *)(uintptr_t)path;
		execv(path, argv);
		return saf_cli_fail("cannot run %s", path);
	}
	return saf_cli_fail("lab script not found (set SAF_LAB_SCRIPT)");
}
