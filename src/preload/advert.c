/* SPDX-License-Identifier: MIT */
/*
 * Reads the advert the client program stored for one socket, with the raw
 * bpf(2) system call: libbpf would pull libelf and zlib into every
 * application, and a system call is async-signal-safe where a library
 * might not be. The map is opened for each connection and closed again:
 * an fd kept open across calls could be closed or dup2()ed over by the
 * application (daemons close every fd they do not know).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"
#include "saf_bpf.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

saf_advert_rc saf_advert_read(const char *map_path, int fd, uint16_t conn_port,
			      saf_addr *target)
{
	union bpf_attr attr;
	struct saf_sk_advert a;
	int map, rc, e = errno;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uint64_t)(uintptr_t)map_path;
	attr.file_flags = BPF_F_RDONLY;
	map = (int)sys_bpf(BPF_OBJ_GET, &attr);
	if (map < 0) {
		errno = e;
		return SAF_ADV_NO_MAP;
	}
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)map;
	attr.key = (uint64_t)(uintptr_t)&fd;
	attr.value = (uint64_t)(uintptr_t)&a;
	rc = (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
	close(map);
	errno = e;
	if (rc < 0)
		return SAF_ADV_NOT_SENT;
	if (a.state == SAF_SK_MALFORMED)
		return SAF_ADV_MALFORMED;
	if (a.state != SAF_SK_ADVERT || (a.family != 4 && a.family != 6))
		return SAF_ADV_NONE;
	memset(target, 0, sizeof(*target));
	target->family = a.family;
	memcpy(target->bytes, a.addr, a.family == 4 ? 4 : 16);
	target->has_port = true;
	target->port = a.has_port ? a.port : conn_port;
	return SAF_ADV_OK;
}
