/* SPDX-License-Identifier: MIT */
/*
 * User space of the kernel affinity cache (saf_client.bpf.c): listing and
 * flushing the pinned LRU map, counting its entries for status, and
 * exempting a socket (the library's, a prefetch probe's) from the rewrite.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pins.h"
#include "saf_bpf.h"
#include "saf/clock.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static int open_pinned(const char *pin_dir, const char *name, saf_error *err)
{
	const char *dir = saf_tcp_pin_dir(pin_dir);
	char p[PATH_BUF];
	int fd;

	if (saf_pin_path(p, sizeof(p), dir, "client", name))
		return saf_fail(err, SAF_E_INVAL, "pin path too long");
	fd = bpf_obj_get(p);
	if (fd < 0)
		return saf_fail(err, SAF_E_INVAL,
				"no client program attached (no %s: %s)", p,
				strerror(errno));
	return fd;
}

/* The cookie of the caller's network namespace (0 if unknown). */
static uint64_t own_netns(void)
{
	uint64_t c = 0;
	socklen_t l = sizeof(c);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s >= 0) {
		if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &c, &l))
			c = 0;
		close(s);
	}
	return c;
}

static void from_mapped(const struct saf_bpf_addr *m, uint16_t port,
			saf_addr *out)
{
	static const uint8_t v4m[12] = {0, 0, 0, 0, 0,	  0,
					0, 0, 0, 0, 0xff, 0xff};

	memset(out, 0, sizeof(*out));
	if (memcmp(m->bytes, v4m, 12) == 0) {
		out->family = 4;
		memcpy(out->bytes, &m->bytes[12], 4);
	} else {
		out->family = 6;
		memcpy(out->bytes, m->bytes, 16);
	}
	out->has_port = true;
	out->port = port;
}

size_t saf_kcache_entries(const char *pin_dir)
{
	/* Starts from the all-zero key rather than NULL: no entry has netns
	 * cookie 0, so the kernel answers with the first key all the same,
	 * and valgrind, which takes a NULL key for a bad pointer, stays
	 * quiet. */
	struct saf_kcache_key k = {0}, next;
	saf_error err;
	size_t n = 0;
	int fd = open_pinned(pin_dir, "saf_kcache", &err);

	if (fd < 0)
		return 0;
	while (bpf_map_get_next_key(fd, &k, &next) == 0) {
		k = next;
		n++;
	}
	close(fd);
	return n;
}

int saf_tcp_cache_list(const char *pin_dir, saf_tcp_status_format format,
		       FILE *out, saf_error *err)
{
	struct saf_kcache_key k, next;
	struct saf_kcache_val v;
	bool json = format == SAF_TCP_STATUS_JSON, first = true;
	uint64_t now = saf_clock_mono_ns(), mine = own_netns();
	int fd = open_pinned(pin_dir, "saf_kcache", err);

	if (fd < 0)
		return -1;
	if (json)
		fputc('[', out);
	else
		fprintf(out, "%-20s %-28s %-28s %s\n", "netns", "service",
			"target", "left_s");
	/* From the all-zero key, as in saf_kcache_entries. */
	memset(&k, 0, sizeof(k));
	while (bpf_map_get_next_key(fd, &k, &next) == 0) {
		char a[SAF_ADDR_STR_LEN], b[SAF_ADDR_STR_LEN];
		saf_addr s, t;
		uint64_t left;

		k = next;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue; /* dropped meanwhile */
		from_mapped(&k.addr, k.port, &s);
		from_mapped(&v.addr, v.port, &t);
		left = v.expires_ns > now ? (v.expires_ns - now) / 1000000000u
					  : 0;
		saf_addr_format(&s, a);
		saf_addr_format(&t, b);
		if (json)
			fprintf(out,
				"%s{\"netns\":%" PRIu64 ",\"this_netns\":%s,"
				"\"service\":\"%s\",\"target\":\"%s\","
				"\"left_s\":%" PRIu64 "}",
				first ? "" : ",", (uint64_t)k.netns,
				k.netns == mine ? "true" : "false", a, b, left);
		else
			fprintf(out,
				"%-20" PRIu64 " %-28s %-28s %" PRIu64 "%s\n",
				(uint64_t)k.netns, a, b, left,
				k.netns == mine ? " (this netns)" : "");
		first = false;
	}
	if (json)
		fputs("]\n", out);
	close(fd);
	return 0;
}

int saf_tcp_cache_flush(const char *pin_dir, size_t *n, saf_error *err)
{
	static const struct saf_kcache_key none; /* netns 0: never a key */
	struct saf_kcache_key k;
	size_t done = 0;
	int fd = open_pinned(pin_dir, "saf_kcache", err);

	if (fd < 0)
		return -1;
	/* Always take the first key: each delete changes the order. */
	while (bpf_map_get_next_key(fd, &none, &k) == 0 && done < (1u << 22)) {
		if (bpf_map_delete_elem(fd, &k) == 0)
			done++;
	}
	close(fd);
	if (n)
		*n = done;
	return 0;
}

int saf_tcp_cache_exempt(int fd, const char *pin_dir, bool probe)
{
	struct saf_sk_advert a = {.flags = SAF_SKF_NO_REWRITE};
	saf_error err;
	int map = open_pinned(pin_dir, "saf_adverts", &err);
	int rc;

	if (map < 0)
		return -1;
	if (probe)
		a.flags |= SAF_SKF_PROBE;
	rc = bpf_map_update_elem(map, &fd, &a, BPF_ANY);
	close(map);
	return rc ? -1 : 0;
}
