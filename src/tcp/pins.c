/* SPDX-License-Identifier: MIT */
/* The bpffs folder where programs and maps are pinned. */
#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "pins.h"

const char *saf_tcp_pin_dir(const char *given)
{
	const char *env = getenv("SAF_BPF_PIN_DIR");

	if (given && *given)
		return given;
	if (env && *env)
		return env;
	return SAF_TCP_PIN_DIR;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_BUF];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -1 : 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int saf_pins_prepare(const char *dir, const char *sub, char *out,
		     size_t cap, saf_error *err)
{
	if (mkdir_p(dir))
		return saf_fail(err, SAF_E_SYS, "cannot create %s: %s", dir,
				strerror(errno));
	if (!is_bpffs(dir)) {
		/* Our own bpffs instance, private to this folder. */
		if (mount("bpf", dir, "bpf", 0, "mode=0700"))
			return saf_fail(err, SAF_E_SYS,
					"cannot mount bpffs on %s: %s%s", dir,
					strerror(errno),
					errno == EPERM ? " (run as root)" : "");
	}
	if ((size_t)snprintf(out, cap, "%s/%s", dir, sub) >= cap)
		return saf_fail(err, SAF_E_INVAL, "pin path too long");
	if (mkdir(out, 0700) && errno != EEXIST)
		return saf_fail(err, SAF_E_SYS, "cannot create %s: %s", out,
				strerror(errno));
	return 0;
}

int saf_pin_path(char *out, size_t cap, const char *dir, const char *sub,
		 const char *name)
{
	return (size_t)snprintf(out, cap, "%s/%s/%s", dir, sub, name) >= cap
		       ? -1
		       : 0;
}
