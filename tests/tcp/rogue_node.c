/* SPDX-License-Identifier: MIT */
/*
 * Tests only: saf-test-rogue, the loader of rogue_node.bpf.c, and a probe
 * that reads a client socket's advert storage after the whole exchange.
 *
 *   saf-test-rogue attach CGROUP PIN_DIR others|all V4ADDR V6ADDR
 *       load the rogue node (see rogue_node.bpf.c), attach it to CGROUP,
 *       pin it under PIN_DIR/rogue (a bpffs is mounted when needed)
 *   saf-test-rogue detach PIN_DIR
 *   saf-test-rogue probe CLIENT_PIN_DIR S:PORT
 *       connect to S (from the client program's cgroup), send a line,
 *       half-close, read to the end; prints what the client program kept
 *       for the socket right after connect and after the node's data and
 *       FIN: "after_connect=STATE after_fin=STATE echoed=N"
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pins.h"
#include "rogue_node.h"
#include "rogue_node.skel.h"
#include "saf/addr.h"
#include "saf/constants.h"
#include "saf_bpf.h"

static int die(const char *what, const char *detail)
{
	fprintf(stderr, "saf-test-rogue: %s: %s\n", what, detail);
	return 1;
}

static int ip_of(const char *text, int family, uint8_t *out)
{
	saf_addr a;
	saf_error err;

	if (saf_addr_parse(text, false, &a, &err) || a.family != family)
		return -1;
	memcpy(out, a.bytes, family == 4 ? 4 : 16);
	return 0;
}

static int attach(char **argv)
{
	const char *cgroup = argv[0], *dir = argv[1], *mode = argv[2];
	struct rogue_node_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	char sub[PATH_BUF], p[PATH_BUF];
	saf_error err;
	int cg, rc = 1;

	cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return die(cgroup, strerror(errno));
	if (saf_pins_prepare(dir, "rogue", sub, sizeof(sub), &err)) {
		die(dir, err.msg);
		goto out;
	}
	skel = rogue_node_bpf__open();
	if (!skel) {
		die("open", strerror(errno));
		goto out;
	}
	struct rogue_config *c = (struct rogue_config *)&skel->rodata->rogue;
	c->kind = SAF_TCPOPT_KIND_DEFAULT;
	c->exid = SAF_TCPOPT_EXID_DEFAULT;
	c->mode = !strcmp(mode, "hog")	  ? ROGUE_MODE_HOG
		  : !strcmp(mode, "all")	  ? ROGUE_MODE_ALL
		  : !strcmp(mode, "others") ? ROGUE_MODE_OTHERS
					    : 0;
	if (!c->mode || ip_of(argv[3], 4, c->v4) || ip_of(argv[4], 6, c->v6)) {
		die("usage", "attach CGROUP PIN_DIR others|all|hog V4ADDR V6ADDR");
		goto out;
	}
	if (rogue_node_bpf__load(skel)) {
		die("load", strerror(errno));
		goto out;
	}
	link = bpf_program__attach_cgroup(skel->progs.rogue_node, cg);
	if (!link) {
		die("attach", strerror(errno));
		goto out;
	}
	if (saf_pin_path(p, sizeof(p), dir, "rogue", "link") ||
	    bpf_link__pin(link, p)) {
		die("pin", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	bpf_link__destroy(link); /* the pin keeps it attached */
	rogue_node_bpf__destroy(skel);
	close(cg);
	return rc;
}

static int detach(const char *dir)
{
	char p[PATH_BUF];

	if (saf_pin_path(p, sizeof(p), dir, "rogue", "link") == 0)
		unlink(p);
	if ((size_t)snprintf(p, sizeof(p), "%s/rogue", dir) < sizeof(p))
		rmdir(p);
	return 0;
}

static const char *state_of(int map, int fd)
{
	struct saf_sk_advert a;

	if (bpf_map_lookup_elem(map, &fd, &a))
		return "none";
	switch (a.state) {
	case SAF_SK_SENT_SAF:
		return "sent_saf";
	case SAF_SK_ADVERT:
		return "advert";
	case SAF_SK_NO_ADVERT:
		return "no_advert";
	case SAF_SK_MALFORMED:
		return "malformed";
	}
	return "unknown";
}

static int probe(const char *dir, const char *service)
{
	static const char line[] = "probe\n";
	struct sockaddr_storage ss;
	socklen_t len;
	saf_addr s;
	saf_error err;
	char p[PATH_BUF], buf[256];
	const char *first;
	size_t got = 0;
	ssize_t n;
	int map, fd;

	if (saf_addr_parse(service, true, &s, &err))
		return die(service, err.msg);
	if (saf_pin_path(p, sizeof(p), dir, "client", "saf_adverts"))
		return die(dir, "path too long");
	map = bpf_obj_get(p);
	if (map < 0)
		return die(p, strerror(errno));
	len = saf_addr_to_sockaddr(&s, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len))
		return die(service, strerror(errno));
	first = state_of(map, fd);
	if (write(fd, line, sizeof(line) - 1) != (ssize_t)sizeof(line) - 1 ||
	    shutdown(fd, SHUT_WR))
		return die("send", strerror(errno));
	/* To the end: the node's ACKs, its data and its FIN are all in. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += (size_t)n;
	if (n < 0)
		return die("read", strerror(errno));
	printf("after_connect=%s after_fin=%s echoed=%zu\n", first,
	       state_of(map, fd), got);
	close(fd);
	close(map);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "attach"))
		return attach(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return detach(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "probe"))
		return probe(argv[2], argv[3]);
	fprintf(stderr, "usage: saf-test-rogue attach CGROUP PIN_DIR others|all "
			"V4ADDR V6ADDR | detach PIN_DIR | "
			"probe CLIENT_PIN_DIR S:PORT\n");
	return 2;
}
