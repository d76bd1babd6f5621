/* SPDX-License-Identifier: MIT */
/*
 * Loading, configuring, attaching and pinning the sock_ops programs, and
 * reading them back for status. The skeletons come from src/bpf/.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pins.h"
#include "saf/metrics.h"
#include "saf_bpf.h"
#include "saf_client.skel.h"
#include "saf_node.skel.h"

static void to_mapped(const saf_addr *a, struct saf_bpf_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == 4) {
		out->bytes[10] = 0xff;
		out->bytes[11] = 0xff;
		memcpy(&out->bytes[12], a->bytes, 4);
	} else {
		memcpy(out->bytes, a->bytes, 16);
	}
}

static int open_cgroup(const char *path, saf_error *err)
{
	int fd;

	if (!path)
		return saf_fail(err, SAF_E_INVAL, "--cgroup is required");
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return saf_fail(err, SAF_E_SYS,
				"cgroup %s: %s (create it under a cgroup v2 "
				"mount, e.g. /sys/fs/cgroup/unified)",
				path, strerror(errno));
	return fd;
}

static int check_root(saf_error *err)
{
	if (geteuid() != 0)
		return saf_fail(err, SAF_E_SYS,
				"needs root (CAP_BPF, CAP_NET_ADMIN and "
				"CAP_SYS_ADMIN to load and pin eBPF programs)");
	return 0;
}

static int load_error(const char *what, int rc, saf_error *err)
{
	return saf_fail(err, SAF_E_UNSUPPORTED,
			"cannot load the %s program: %s (does this kernel "
			"have BPF sock_ops with TCP header options, 5.10+?)",
			what, strerror(-rc));
}

static int already(const char *dir, const char *sub, saf_error *err)
{
	char p[PATH_BUF];
	struct stat st;

	if (saf_pin_path(p, sizeof(p), dir, sub, "link") == 0 &&
	    stat(p, &st) == 0)
		return saf_fail(err, SAF_E_INVAL,
				"a %s program is already attached (pinned at "
				"%s); run 'saf tcp detach' first",
				sub, p);
	return 0;
}

/* Pins every map of obj under dir/sub. */
static int pin_maps(struct bpf_object *obj, const char *dir, const char *sub,
		    saf_error *err)
{
	char p[PATH_BUF];
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
	{
		if (bpf_map__is_internal(m))
			continue;
		if (saf_pin_path(p, sizeof(p), dir, sub, bpf_map__name(m)) ||
		    bpf_map__pin(m, p))
			return saf_fail(err, SAF_E_SYS, "cannot pin map %s: %s",
					bpf_map__name(m), strerror(errno));
	}
	return 0;
}

/* Pins every map of obj and the link under dir/sub. */
static int pin_all(struct bpf_object *obj, struct bpf_link *link,
		   const char *dir, const char *sub, saf_error *err)
{
	char p[PATH_BUF];

	if (pin_maps(obj, dir, sub, err))
		return -1;
	if (saf_pin_path(p, sizeof(p), dir, sub, "link") ||
	    bpf_link__pin(link, p))
		return saf_fail(err, SAF_E_SYS, "cannot pin link: %s",
				strerror(errno));
	return 0;
}

static void unpin_all(const char *dir, const char *sub)
{
	char p[PATH_BUF];
	DIR *d;
	struct dirent *e;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, sub) >= sizeof(p))
		return;
	d = opendir(p);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char f[PATH_BUF];

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(f, sizeof(f), "%s/%s", p, e->d_name) <
		    sizeof(f))
			unlink(f);
	}
	closedir(d);
	rmdir(p);
}

static struct saf_bpf_config base_config(uint8_t kind, uint16_t exid)
{
	return (struct saf_bpf_config){
		.kind = kind ? kind : SAF_TCPOPT_KIND_DEFAULT,
		.exid = exid ? exid : SAF_TCPOPT_EXID_DEFAULT,
	};
}

/* Counts listeners on `port` (0: any) in the network namespaces of the
 * processes of the cgroup: they were created before the attach and will
 * never advertise (the program arms listeners when they start listening). */
static int count_old_listeners(const char *cgroup, uint16_t port, FILE *warn)
{
	char p[PATH_BUF], line[512];
	FILE *procs;
	int found = 0;
	long pid;

	if ((size_t)snprintf(p, sizeof(p), "%s/cgroup.procs", cgroup) >=
	    sizeof(p))
		return 0;
	procs = fopen(p, "r");
	if (!procs)
		return 0;
	while (fscanf(procs, "%ld", &pid) == 1) {
		static const char *const files[] = { "tcp", "tcp6" };

		for (size_t f = 0; f < 2; f++) {
			FILE *t;

			snprintf(p, sizeof(p), "/proc/%ld/net/%s", pid,
				 files[f]);
			t = fopen(p, "r");
			if (!t)
				continue;
			while (fgets(line, sizeof(line), t)) {
				char local[64];
				unsigned lport, state;

				if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*s %x",
					   local, &lport, &state) != 3 ||
				    state != 0x0A)
					continue;
				if (port && lport != port)
					continue;
				if (warn)
					fprintf(warn,
						"saf: warning: process %ld "
						"listens on port %u since "
						"before the attach: restart it "
						"to advertise\n",
						pid, lport);
				found++;
			}
			fclose(t);
		}
	}
	fclose(procs);
	return found;
}

/* The keepalive setting with its defaults, within the kernel's limits
 * (bpf_setsockopt would refuse anything else on every connection). */
static int keepalive_config(const saf_tcp_node_config *c,
			    struct saf_bpf_config *cfg, saf_error *err)
{
	uint32_t idle = c->keepalive_idle ? c->keepalive_idle
					  : SAF_TCP_KEEPALIVE_IDLE_DEFAULT;
	uint32_t intvl = c->keepalive_intvl ? c->keepalive_intvl
					    : SAF_TCP_KEEPALIVE_INTVL_DEFAULT;
	uint32_t cnt = c->keepalive_cnt ? c->keepalive_cnt
					: SAF_TCP_KEEPALIVE_CNT_DEFAULT;

	if (idle == SAF_TCP_KEEPALIVE_OFF)
		return 0; /* cfg->keepalive_idle stays 0: off */
	if (idle > SAF_TCP_KEEPALIVE_IDLE_MAX ||
	    intvl > SAF_TCP_KEEPALIVE_INTVL_MAX ||
	    cnt > SAF_TCP_KEEPALIVE_CNT_MAX)
		return saf_fail(err, SAF_E_INVAL,
				"keepalive %u,%u,%u out of range (at most "
				"%u,%u,%u)",
				idle, intvl, cnt, SAF_TCP_KEEPALIVE_IDLE_MAX,
				SAF_TCP_KEEPALIVE_INTVL_MAX,
				SAF_TCP_KEEPALIVE_CNT_MAX);
	cfg->keepalive_idle = (__u16)idle;
	cfg->keepalive_intvl = (__u16)intvl;
	cfg->keepalive_cnt = (__u8)cnt;
	return 0;
}

int saf_tcp_node_attach(const saf_tcp_node_config *c, FILE *warn,
			saf_error *err)
{
	const char *dir = saf_tcp_pin_dir(c->pin_dir);
	struct saf_node_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct saf_bpf_config cfg = base_config(c->kind, c->exid);
	char sub[PATH_BUF];
	int cg = -1, rc = -1, lrc;
	uint32_t zero = 0;

	if (check_root(err))
		return -1;
	if (c->n_pairs == 0)
		return saf_fail(err, SAF_E_INVAL,
				"at least one --anycast/--unicast pair");
	cg = open_cgroup(c->cgroup, err);
	if (cg < 0)
		return -1;
	if (saf_pins_prepare(dir, "node", sub, sizeof(sub), err) ||
	    already(dir, "node", err))
		goto out;
	skel = saf_node_bpf__open();
	if (!skel) {
		saf_fail(err, SAF_E_UNSUPPORTED, "cannot open the node program");
		goto out;
	}
	lrc = saf_node_bpf__load(skel);
	if (lrc) {
		load_error("node", lrc, err);
		goto out;
	}
	cfg.allow_all = c->n_allow == 0;
	cfg.test_bad_len = c->test_bad_len;
	cfg.advert_rate = c->advert_rate == SAF_TCP_RATE_OFF ? 0
			  : c->advert_rate ? c->advert_rate
					   : SAF_TCP_ADVERT_RATE_DEFAULT;
	cfg.advert_burst = c->advert_burst ? c->advert_burst
					   : SAF_TCP_ADVERT_BURST_DEFAULT;
	if (c->advert_rate_v6_prefix > 128) {
		saf_fail(err, SAF_E_RANGE,
			 "advert rate IPv6 prefix /%u: 1..128",
			 c->advert_rate_v6_prefix);
		goto out;
	}
	cfg.rate_v6_prefix = c->advert_rate_v6_prefix
				     ? c->advert_rate_v6_prefix
				     : SAF_TCP_RATE_V6_PREFIX_DEFAULT;
	if (keepalive_config(c, &cfg, err))
		goto out;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.saf_node_config), &zero,
				&cfg, BPF_ANY)) {
		saf_fail(err, SAF_E_SYS, "config map: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < c->n_pairs; i++) {
		struct saf_anycast_key k = { .port = c->anycast[i].has_port
							     ? c->anycast[i].port
							     : 0 };
		struct saf_advert_val v = {
			.port = c->unicast[i].has_port ? c->unicast[i].port : 0,
			.family = c->unicast[i].family,
		};

		to_mapped(&c->anycast[i], &k.addr);
		to_mapped(&c->unicast[i], &v.addr);
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.saf_anycast), &k,
					&v, BPF_ANY)) {
			saf_fail(err, SAF_E_SYS, "anycast map: %s",
				 strerror(errno));
			goto out;
		}
	}
	for (size_t i = 0; i < c->n_allow; i++) {
		struct saf_allow_key k;
		uint8_t one = 1;
		unsigned len = c->allow_len[i];

		to_mapped(&c->allow[i], &k.addr);
		k.prefixlen = c->allow[i].family == 4 ? 96 + len : len;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.saf_allow), &k,
					&one, BPF_ANY)) {
			saf_fail(err, SAF_E_SYS, "allow map: %s",
				 strerror(errno));
			goto out;
		}
	}
	link = bpf_program__attach_cgroup(skel->progs.saf_node, cg);
	if (!link) {
		saf_fail(err, SAF_E_UNSUPPORTED,
			 "cannot attach to cgroup %s: %s", c->cgroup,
			 strerror(errno));
		goto out;
	}
	if (pin_all(skel->obj, link, dir, "node", err)) {
		unpin_all(dir, "node");
		goto out;
	}
	if (warn)
		for (size_t i = 0; i < c->n_pairs; i++)
			count_old_listeners(c->cgroup,
					    c->anycast[i].has_port
						    ? c->anycast[i].port
						    : 0,
					    warn);
	rc = 0;
out:
	bpf_link__destroy(link); /* the pin keeps it attached */
	saf_node_bpf__destroy(skel);
	if (cg >= 0)
		close(cg);
	return rc;
}

/* The client's target policy in its LPM tries: the special-purpose table
 * (deny) and the --allow-target prefixes (allow), per family. */
static int client_policy(struct saf_client_bpf *skel,
			 const saf_tcp_client_config *c, saf_error *err)
{
	const saf_prefix *table;
	size_t n = saf_special_prefixes(&table);

	for (size_t pass = 0; pass < 2; pass++) {
		const saf_prefix *p = pass ? c->allow_target : table;
		size_t np = pass ? c->n_allow_target : n;
		struct bpf_map *m4 = pass ? skel->maps.saf_allow4
					  : skel->maps.saf_deny4;
		struct bpf_map *m6 = pass ? skel->maps.saf_allow6
					  : skel->maps.saf_deny6;

		for (size_t i = 0; i < np; i++) {
			struct saf_lpm4_key k4 = { .prefixlen = p[i].len };
			struct saf_lpm6_key k6 = { .prefixlen = p[i].len };
			uint8_t one = 1;
			int rc;

			if (p[i].addr.family == 4) {
				memcpy(k4.addr, p[i].addr.bytes, 4);
				rc = bpf_map_update_elem(bpf_map__fd(m4), &k4,
							 &one, BPF_ANY);
			} else {
				memcpy(k6.addr, p[i].addr.bytes, 16);
				rc = bpf_map_update_elem(bpf_map__fd(m6), &k6,
							 &one, BPF_ANY);
			}
			if (rc)
				return saf_fail(err, SAF_E_SYS,
						"target policy map: %s",
						strerror(errno));
		}
	}
	return 0;
}

static int client_config(struct saf_client_bpf *skel,
			 const saf_tcp_client_config *c, saf_error *err)
{
	struct saf_bpf_config cfg = base_config(c->kind, c->exid);
	uint32_t zero = 0;

	cfg.all_dests = c->n_anycast == 0;
	cfg.cache_lifetime = c->cache_lifetime == SAF_TCP_CACHE_OFF ? 0
			     : c->cache_lifetime ? c->cache_lifetime
						 : SAF_TCP_CACHE_LIFETIME_DEFAULT;
	cfg.cache_allow_only = c->n_allow_target > 0;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.saf_client_config),
				&zero, &cfg, BPF_ANY))
		return saf_fail(err, SAF_E_SYS, "config map: %s",
				strerror(errno));
	for (size_t i = 0; i < c->n_anycast; i++) {
		struct saf_bpf_addr k;
		uint8_t one = 1;

		to_mapped(&c->anycast[i], &k);
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.saf_client_dests),
					&k, &one, BPF_ANY))
			return saf_fail(err, SAF_E_SYS,
					"destination map: %s", strerror(errno));
	}
	return client_policy(skel, c, err);
}

/* sock_ops, connect4 and connect6 on the cgroup, each link pinned. */
static int client_links(struct saf_client_bpf *skel, int cg,
			const saf_tcp_client_config *c, const char *dir,
			saf_error *err)
{
	struct bpf_program *progs[3] = { skel->progs.saf_client,
					 skel->progs.saf_connect4,
					 skel->progs.saf_connect6 };
	static const char *const names[3] = { "link", "link_connect4",
					      "link_connect6" };

	for (int i = 0; i < 3; i++) {
		struct bpf_link *link = bpf_program__attach_cgroup(progs[i], cg);
		char p[PATH_BUF];
		int rc;

		if (!link)
			return saf_fail(err, SAF_E_UNSUPPORTED,
					"cannot attach %s to cgroup %s: %s",
					bpf_program__name(progs[i]), c->cgroup,
					strerror(errno));
		rc = saf_pin_path(p, sizeof(p), dir, "client", names[i]) ||
		     bpf_link__pin(link, p);
		bpf_link__destroy(link); /* the pin keeps it attached */
		if (rc)
			return saf_fail(err, SAF_E_SYS, "cannot pin link: %s",
					strerror(errno));
	}
	return 0;
}

int saf_tcp_client_attach(const saf_tcp_client_config *c, saf_error *err)
{
	const char *dir = saf_tcp_pin_dir(c->pin_dir);
	struct saf_client_bpf *skel = NULL;
	char sub[PATH_BUF];
	int cg = -1, rc = -1, lrc;
	uint32_t size = c->cache_size ? c->cache_size
				      : SAF_TCP_CACHE_SIZE_DEFAULT;

	if (check_root(err))
		return -1;
	cg = open_cgroup(c->cgroup, err);
	if (cg < 0)
		return -1;
	if (saf_pins_prepare(dir, "client", sub, sizeof(sub), err) ||
	    already(dir, "client", err))
		goto out;
	skel = saf_client_bpf__open();
	if (!skel) {
		saf_fail(err, SAF_E_UNSUPPORTED,
			 "cannot open the client program");
		goto out;
	}
	if (bpf_map__set_max_entries(skel->maps.saf_kcache, size) ||
	    bpf_map__set_max_entries(skel->maps.saf_kcache_rev, size)) {
		saf_fail(err, SAF_E_INVAL, "cache size %u refused", size);
		goto out;
	}
	lrc = saf_client_bpf__load(skel);
	if (lrc) {
		load_error("client", lrc, err);
		goto out;
	}
	if (client_config(skel, c, err))
		goto out;
	if (pin_maps(skel->obj, dir, "client", err) ||
	    client_links(skel, cg, c, dir, err)) {
		unpin_all(dir, "client");
		goto out;
	}
	rc = 0;
out:
	saf_client_bpf__destroy(skel);
	if (cg >= 0)
		close(cg);
	return rc;
}

int saf_tcp_detach(const char *pin_dir, const char *which, saf_error *err)
{
	const char *dir = saf_tcp_pin_dir(pin_dir);
	char p[PATH_BUF];
	struct stat st;
	int found = 0;

	if (check_root(err))
		return -1;
	for (int i = 0; i < 2; i++) {
		const char *sub = i ? "client" : "node";

		if (which && strcmp(which, sub) != 0)
			continue;
		if (saf_pin_path(p, sizeof(p), dir, sub, "link") == 0 &&
		    stat(p, &st) == 0)
			found++;
		unpin_all(dir, sub);
	}
	if (!found)
		return saf_fail(err, SAF_E_INVAL, "nothing attached under %s",
				dir);
	return 0;
}

static const char *const counter_names[SAF_CTR_COUNT] = {
	[SAF_CTR_NODE_SAF_SEEN] = "node_saf_seen",
	[SAF_CTR_NODE_ADVERT_WRITTEN] = "node_adverts_written",
	[SAF_CTR_NODE_ADVERT_SHORT] = "node_adverts_portless",
	[SAF_CTR_NODE_NO_ROOM] = "node_skipped_no_room",
	[SAF_CTR_NODE_NOT_ALLOWED] = "node_skipped_not_allowed",
	[SAF_CTR_NODE_NOT_ANYCAST] = "node_saf_to_non_anycast",
	[SAF_CTR_NODE_PORT_MISMATCH] = "node_skipped_port_needs_room",
	[SAF_CTR_NODE_LISTENERS] = "node_listeners_armed",
	[SAF_CTR_NODE_SAVE_SYN_FAILED] = "node_save_syn_failed",
	[SAF_CTR_NODE_RATE_LIMITED] = "node_skipped_rate_limited",
	[SAF_CTR_NODE_KEEPALIVE_SET] = "node_keepalive_set",
	[SAF_CTR_NODE_KEEPALIVE_FAILED] = "node_keepalive_failed",
	[SAF_CTR_CLIENT_SAF_SENT] = "client_saf_sent",
	[SAF_CTR_CLIENT_ADVERT] = "client_adverts",
	[SAF_CTR_CLIENT_NO_ADVERT] = "client_no_advert",
	[SAF_CTR_CLIENT_MALFORMED] = "client_malformed_ignored",
	[SAF_CTR_CLIENT_NO_ROOM] = "client_saf_no_room",
	[SAF_CTR_CLIENT_CACHE_HIT] = "client_cache_hits",
	[SAF_CTR_CLIENT_CACHE_MISS] = "client_cache_misses",
	[SAF_CTR_CLIENT_CACHE_EXPIRED] = "client_cache_expiries",
	[SAF_CTR_CLIENT_CACHE_INVALID] = "client_cache_invalidations",
	[SAF_CTR_CLIENT_CACHE_STORED] = "client_cache_stored",
	[SAF_CTR_CLIENT_CACHE_REFUSED] = "client_cache_refused_target",
	[SAF_CTR_CLIENT_PREFETCH] = "client_prefetch_probes",
};

/* Sums a pinned per-CPU counter array; -1 when the pin is missing. */
static int read_counters(const char *path, uint64_t out[SAF_CTR_COUNT])
{
	int fd = bpf_obj_get(path);
	int ncpu = libbpf_num_possible_cpus();

	if (fd < 0 || ncpu <= 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	uint64_t *vals = calloc((size_t)ncpu, sizeof(uint64_t));
	if (!vals) {
		close(fd);
		return -1;
	}
	for (uint32_t i = 0; i < SAF_CTR_COUNT; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				out[i] += vals[c];
	}
	free(vals);
	close(fd);
	return 0;
}

/* Prometheus names: saf_tcp_<side>_<what>_total, outcomes as labels; the
 * help text on the first counter of each family. */
static const struct {
	const char *metric, *label, *help;
} prom_names[SAF_CTR_COUNT] = {
	[SAF_CTR_NODE_SAF_SEEN] = { "saf_tcp_node_saf_syns_total", NULL, "SYNs with SAF to an anycast address." },
	[SAF_CTR_NODE_ADVERT_WRITTEN] = { "saf_tcp_node_adverts_total", "form=\"full\"", "Adverts written into SYN-ACKs, by form." },
	[SAF_CTR_NODE_ADVERT_SHORT] = { "saf_tcp_node_adverts_total", "form=\"portless\"", NULL },
	[SAF_CTR_NODE_NO_ROOM] = { "saf_tcp_node_adverts_skipped_total", "reason=\"no_room\"", "Adverts not written, by reason." },
	[SAF_CTR_NODE_NOT_ALLOWED] = { "saf_tcp_node_adverts_skipped_total", "reason=\"not_allowed\"", NULL },
	[SAF_CTR_NODE_NOT_ANYCAST] = { "saf_tcp_node_adverts_skipped_total", "reason=\"not_anycast\"", NULL },
	[SAF_CTR_NODE_PORT_MISMATCH] = { "saf_tcp_node_adverts_skipped_total", "reason=\"port_needs_room\"", NULL },
	[SAF_CTR_NODE_LISTENERS] = { "saf_tcp_node_listeners_armed_total", NULL, "Listeners prepared with TCP_SAVE_SYN." },
	[SAF_CTR_NODE_SAVE_SYN_FAILED] = { "saf_tcp_node_save_syn_failures_total", NULL, "Listeners that refused TCP_SAVE_SYN." },
	[SAF_CTR_NODE_RATE_LIMITED] = { "saf_tcp_node_adverts_skipped_total", "reason=\"rate_limited\"", NULL },
	[SAF_CTR_NODE_KEEPALIVE_SET] = { "saf_tcp_node_keepalive_total", "result=\"set\"", "Connections on S given keepalive, by result." },
	[SAF_CTR_NODE_KEEPALIVE_FAILED] = { "saf_tcp_node_keepalive_total", "result=\"failed\"", NULL },
	[SAF_CTR_CLIENT_SAF_SENT] = { "saf_tcp_client_saf_syns_total", NULL, "SYNs that carried SAF." },
	[SAF_CTR_CLIENT_ADVERT] = { "saf_tcp_client_synacks_total", "advert=\"valid\"", "SYN-ACKs to SAF SYNs, by the advert they carried." },
	[SAF_CTR_CLIENT_NO_ADVERT] = { "saf_tcp_client_synacks_total", "advert=\"none\"", NULL },
	[SAF_CTR_CLIENT_MALFORMED] = { "saf_tcp_client_synacks_total", "advert=\"malformed\"", NULL },
	[SAF_CTR_CLIENT_NO_ROOM] = { "saf_tcp_client_saf_skipped_total", "reason=\"no_room\"", "SYNs that could not carry SAF, by reason." },
	[SAF_CTR_CLIENT_CACHE_HIT] = { "saf_tcp_client_cache_lookups_total", "result=\"hit\"", "Kernel affinity cache lookups, by result." },
	[SAF_CTR_CLIENT_CACHE_MISS] = { "saf_tcp_client_cache_lookups_total", "result=\"miss\"", NULL },
	[SAF_CTR_CLIENT_CACHE_EXPIRED] = { "saf_tcp_client_cache_lookups_total", "result=\"expired\"", NULL },
	[SAF_CTR_CLIENT_CACHE_INVALID] = { "saf_tcp_client_cache_invalidations_total", NULL, "Cache entries dropped because the unicast address failed." },
	[SAF_CTR_CLIENT_CACHE_STORED] = { "saf_tcp_client_cache_stored_total", NULL, "Cache entries created or refreshed." },
	[SAF_CTR_CLIENT_CACHE_REFUSED] = { "saf_tcp_client_cache_refused_total", "reason=\"target_policy\"", "Adverts not cached, by reason." },
	[SAF_CTR_CLIENT_PREFETCH] = { "saf_tcp_client_prefetch_probes_total", NULL, "Prefetch probes sent." },
};

/* Room for one side's samples: its counters, the raw count of full
 * adverts (text and JSON), and the cache's size. */
#define SIDE_METRICS_MAX (SAF_CTR_COUNT + 2)

/* The samples of side s (0 node, 1 client) from its counters ctr; the
 * client's also the cache's size now, a gauge. Returns how many. */
static size_t side_metrics(int s, const uint64_t ctr[SAF_CTR_COUNT],
			   const char *dir, saf_metric m[SIDE_METRICS_MAX])
{
	size_t n = 0;

	for (int i = 0; i < SAF_CTR_COUNT; i++) {
		bool mine = s == 0 ? i < SAF_CTR_CLIENT_SAF_SENT
				   : i >= SAF_CTR_CLIENT_SAF_SENT;

		if (!mine)
			continue;
		m[n++] = (saf_metric){.name = prom_names[i].metric,
				      .labels = prom_names[i].label,
				      .help = prom_names[i].help,
				      .key = counter_names[i],
				      .u = ctr[i]};
		/* Disjoint forms in Prometheus, so a sum over form is the
		 * number of adverts: full = all - portless. Text and JSON
		 * keep the raw count. */
		if (i == SAF_CTR_NODE_ADVERT_WRITTEN) {
			m[n - 1].key = NULL;
			m[n - 1].u = ctr[i] - ctr[SAF_CTR_NODE_ADVERT_SHORT];
			m[n++] = (saf_metric){.key = counter_names[i],
					      .u = ctr[i]};
		}
	}
	if (s == 1)
		m[n++] = (saf_metric){
			.name = "saf_tcp_client_cache_entries",
			.key = "client_cache_entries",
			.help = "Entries in the kernel affinity cache now.",
			.type = SAF_METRIC_GAUGE,
			.u = saf_kcache_entries(dir)};
	return n;
}

int saf_tcp_status(const char *pin_dir, saf_tcp_status_format format,
		   FILE *out, saf_error *err)
{
	const char *dir = saf_tcp_pin_dir(pin_dir);
	static const char *const subs[2] = { "node", "client" };
	static const char *const maps[2] = { "saf_node_counters",
					     "saf_client_counters" };
	static const saf_metrics_format fmts[] = {
		[SAF_TCP_STATUS_TEXT] = SAF_METRICS_TEXT,
		[SAF_TCP_STATUS_JSON] = SAF_METRICS_JSON,
		[SAF_TCP_STATUS_PROMETHEUS] = SAF_METRICS_PROMETHEUS,
	};
	bool json = format == SAF_TCP_STATUS_JSON;
	bool prom = format == SAF_TCP_STATUS_PROMETHEUS;
	char common[PATH_BUF + 16];
	bool any = false;

	saf_metrics_label(common, sizeof(common), "pin_dir", dir);
	if (json)
		fputc('{', out);
	for (int s = 0; s < 2; s++) {
		char p[PATH_BUF];
		uint64_t ctr[SAF_CTR_COUNT];
		saf_metric m[SIDE_METRICS_MAX];
		size_t n;

		if (saf_pin_path(p, sizeof(p), dir, subs[s], maps[s]) ||
		    read_counters(p, ctr))
			continue;
		if (json)
			fprintf(out, "%s\"%s\":", any ? "," : "", subs[s]);
		else if (!prom)
			fprintf(out, "%s program: attached (pins in %s/%s)\n",
				subs[s], dir, subs[s]);
		any = true;
		n = side_metrics(s, ctr, dir, m);
		saf_metrics_write(out, fmts[format], m, n, common);
	}
	if (json)
		fputs("}\n", out);
	if (!any)
		return saf_fail(err, SAF_E_INVAL,
				"nothing attached (no pins under %s)", dir);
	return 0;
}
