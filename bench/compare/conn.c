/* SPDX-License-Identifier: MIT */
/*
 * conn: time to first byte and connection rate, the same way for every
 * system (figures 4 and 5).
 *
 *   conn serve PORT
 *       echo server (MPTCP listener when the kernel allows, else TCP): one
 *       thread, poll; every connection echoes until EOF or RST
 *   conn MODE S:PORT count N | secs SECONDS  [CA NAME]
 *       MODE: plain | mptcp | saf-tcp | saf-tcp-cached | tls | saf-tls |
 *             saf-tls-cont | saf-tls-tcp
 *       one connection after another: open it (with the system's own
 *       procedure), write one byte, read its echo, close with RST (TLS:
 *       close_notify then RST). Time to first byte is from the start of
 *       the procedure to the echoed byte.
 *       saf-tcp-cached: one warm-up connection fills the affinity cache;
 *       the measured ones go straight to the node.
 *       saf-tls: the seed procedure (no continuity, no TCP variant);
 *       saf-tls-cont: the same offering continuity (the byte goes through
 *       the stream, which moves underneath while the connection is held);
 *       saf-tls-tcp: TLS over saf TCP (--tcp-variant on: the advert moves
 *       the client to U before its ClientHello; no advert = failed). Run
 *       it in the client program's cgroup with SAF_BPF_PIN_DIR set.
 *       CONN_HOLD_MS=N in the environment: hold each connection N ms
 *       before the byte goes out (for the exposure window).
 * Prints one JSON line: mode, connections, per_second, median_us, p10_us,
 * p90_us, failed, moved (connections that ended on the node's unicast
 * address).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "saf/tcp.h"

#include "../lab_policy.h"
#ifdef HAVE_SAF_TLS
#include <openssl/ssl.h>
#include "saf/tls.h"
#endif

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#define MAX_SAMPLES 1000000
#define MAX_CONNS 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rst_close(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int serve(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port) };
	static struct pollfd pf[MAX_CONNS];
	int one = 1, zero = 0, n = 1;
	int fd = socket(AF_INET6, SOCK_STREAM, IPPROTO_MPTCP);

	if (fd < 0)
		fd = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
		perror("conn serve");
		return 1;
	}
	pf[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		if (pf[0].revents & POLLIN) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0 && n < MAX_CONNS)
				pf[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
			else if (c >= 0)
				close(c);
		}
		for (int i = 1; i < n; i++) {
			char buf[4096];
			ssize_t r;

			if (!pf[i].revents)
				continue;
			r = recv(pf[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0 && send(pf[i].fd, buf, (size_t)r, MSG_NOSIGNAL) == r)
				continue;
			if (r < 0 && errno == EAGAIN)
				continue;
			close(pf[i].fd);
			pf[i--] = pf[--n];
		}
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* CONN_HOLD_MS: wait this long on the open connection before the byte
 * goes out (figure 3: does the connection still work after the change?). */
static unsigned hold_ms;

static void hold(void)
{
	if (hold_ms)
		usleep(hold_ms * 1000);
}

/* One byte there and back on a plain socket. */
static int echo_fd(int fd)
{
	char c = 'x';

	hold();

	return send(fd, &c, 1, MSG_NOSIGNAL) == 1 && recv(fd, &c, 1, 0) == 1 ? 0 : -1;
}

static int plain_once(const saf_addr *s, int proto)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(s, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, proto);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) || echo_fd(fd)) {
		close(fd);
		return -1;
	}
	rst_close(fd);
	return 0;
}

static int saf_once(const saf_addr *s, const saf_tcp_connect_opts *o,
		    size_t *moved)
{
	saf_tcp_result r;
	saf_error err;
	int fd = saf_tcp_connect(s, o, &r, &err);

	if (fd < 0)
		return -1;
	*moved += r.outcome == SAF_TCP_MIGRATED || r.outcome == SAF_TCP_CACHED;
	if (echo_fd(fd)) {
		close(fd);
		return -1;
	}
	rst_close(fd);
	return 0;
}

#ifdef HAVE_SAF_TLS
static int tls_once(SSL_CTX *ctx, const saf_addr *s,
		    const saf_tls_connect_opts *o, size_t *moved)
{
	saf_tls_conn c;
	saf_error err;
	char b = 'x';
	int ok;

	memset(&c, 0, sizeof(c));
	if (saf_tls_connect(ctx, s, o, &c, &err))
		return -1;
	*moved += c.outcome == SAF_TLS_ON_TARGET || c.via_tcp_advert;
	hold();
	ok = SSL_write(c.ssl, &b, 1) == 1 && SSL_read(c.ssl, &b, 1) == 1;
	{
		struct linger lg = { 1, 0 };

		setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	saf_tls_conn_close(&c);
	return ok ? 0 : -1;
}

/* Continuity: the held connection is driven (a move needs the stream's
 * steps), then one byte goes through the stream and must come back within
 * 10 s. The stream's last connection is reset, as the others. */
static int cont_once(SSL_CTX *ctx, const saf_addr *s,
		     const saf_tls_connect_opts *o, size_t *moved)
{
	saf_tls_stream_opts so = { .conn = *o };
	saf_tls_stream_stats ss;
	saf_tls_stream *st;
	saf_tls_conn c;
	saf_error err;
	uint8_t b = 'x';
	double t_write, end;
	bool sent = false, got = false;
	struct pollfd p[2];
	int np = 0;

	memset(&c, 0, sizeof(c));
	if (saf_tls_connect(ctx, s, o, &c, &err))
		return -1;
	if (c.outcome != SAF_TLS_ON_S_CONTINUITY) {
		saf_tls_conn_close(&c); /* the node did not answer continuity */
		return -1;
	}
	st = saf_tls_stream_new(ctx, &so, &c, &err);
	if (!st) {
		saf_tls_conn_close(&c);
		return -1;
	}
	t_write = now_s() + hold_ms / 1e3;
	end = t_write + 10;
	while (!got && now_s() < end) {
		int tmo;

		if (!sent && now_s() >= t_write)
			sent = saf_tls_stream_write(st, &b, 1) == 1;
		if (saf_tls_stream_step(st, &err))
			break; /* lost */
		got = saf_tls_stream_read(st, &b, 1) == 1;
		np = saf_tls_stream_pollfds(st, p);
		tmo = saf_tls_stream_timeout_ms(st);
		if (got)
			break;
		poll(p, (nfds_t)np, tmo < 0 || tmo > 5 ? 5 : tmo);
	}
	saf_tls_stream_stats_get(st, &ss);
	*moved += got && !saf_addr_same_ip(&ss.peer, s);
	np = saf_tls_stream_pollfds(st, p);
	for (int i = 0; i < np; i++) {
		struct linger lg = { 1, 0 };

		setsockopt(p[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	saf_tls_stream_free(st);
	return got ? 0 : -1;
}
#endif

int main(int argc, char **argv)
{
	static double lat[MAX_SAMPLES];
	saf_tcp_connect_opts o = { .timeout_ms = 3000 };
	saf_target_policy lab_policy;
	saf_addr s;
	saf_error err;
	size_t n = 0, failed = 0, moved = 0, want = 0;
	double t0, end = 0;
	const char *mode;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	saf_bench_lab_policy(&lab_policy);
	o.policy = &lab_policy;
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]));
	if ((argc != 5 && argc != 7) || saf_addr_parse(argv[2], true, &s, &err)) {
		fprintf(stderr, "usage: conn serve PORT | conn MODE S:PORT count N|secs S [CA NAME]\n");
		return 2;
	}
	mode = argv[1];
	if (getenv("CONN_HOLD_MS"))
		hold_ms = (unsigned)atoi(getenv("CONN_HOLD_MS"));
	if (strcmp(argv[3], "count") == 0)
		want = (size_t)atol(argv[4]);
	else
		end = atof(argv[4]);
	if (strcmp(mode, "saf-tcp-cached") == 0) {
		o.cache = saf_affinity_cache_new(16, 600000, &err);
		if (!o.cache || saf_once(&s, &o, &moved)) {
			fprintf(stderr, "conn: warm-up connection failed\n");
			return 1;
		}
		moved = 0;
	}
#ifdef HAVE_SAF_TLS
	SSL_CTX *ctx = NULL;
	saf_tls_client *cli = NULL;
	bool is_cont = strcmp(mode, "saf-tls-cont") == 0;
	saf_tls_connect_opts to = {
		.migrate = strncmp(mode, "saf-tls", 7) == 0,
		/* saf-tls and saf-tls-cont are the seed procedure alone, also
		 * inside the client program's cgroup */
		.tcp_variant = strcmp(mode, "saf-tls-tcp") == 0
				       ? SAF_TLS_TCP_ON
				       : SAF_TLS_TCP_OFF,
	};

	if (strncmp(mode, "tls", 3) == 0 || strncmp(mode, "saf-tls", 7) == 0) {
		saf_tls_client_config cfg;

		if (argc != 7) {
			fprintf(stderr, "conn: TLS needs CA NAME\n");
			return 2;
		}
		to.server_name = argv[6];
		ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (SSL_CTX_load_verify_locations(ctx, argv[5], NULL) != 1) {
			fprintf(stderr, "conn: cannot load %s\n", argv[5]);
			return 1;
		}
		saf_tls_client_config_init(&cfg);
		cfg.policy = &lab_policy;
		cfg.continuity = is_cont;
		cli = saf_tls_client_new(ctx, &cfg, &err);
		if (!cli) {
			fprintf(stderr, "conn: %s\n", err.msg);
			return 1;
		}
	}
#endif
	t0 = now_s();
	end += t0;
	while (n < MAX_SAMPLES && (want ? n + failed < want : now_s() < end)) {
		double a = now_s();
		int rc;

		if (strcmp(mode, "plain") == 0)
			rc = plain_once(&s, 0);
		else if (strcmp(mode, "mptcp") == 0)
			rc = plain_once(&s, IPPROTO_MPTCP);
		else if (strncmp(mode, "saf-tcp", 7) == 0)
			rc = saf_once(&s, &o, &moved);
#ifdef HAVE_SAF_TLS
		else if (ctx && is_cont)
			rc = cont_once(ctx, &s, &to, &moved);
		else if (ctx)
			rc = tls_once(ctx, &s, &to, &moved);
#endif
		else {
			fprintf(stderr, "conn: unknown mode %s\n", mode);
			return 2;
		}
		if (rc)
			failed++;
		else
			lat[n++] = (now_s() - a) * 1e6;
	}
	double total = now_s() - t0;

	qsort(lat, n, sizeof(lat[0]), cmp);
	printf("{\"mode\":\"%s\",\"connections\":%zu,\"per_second\":%.1f,"
	       "\"median_us\":%.1f,\"p10_us\":%.1f,\"p90_us\":%.1f,"
	       "\"failed\":%zu,\"moved\":%zu}\n",
	       mode, n, (double)n / total, n ? lat[n / 2] : 0,
	       n ? lat[n / 10] : 0, n ? lat[n * 9 / 10] : 0, failed, moved);
	saf_affinity_cache_free(o.cache);
#ifdef HAVE_SAF_TLS
	saf_tls_client_free(cli);
	SSL_CTX_free(ctx);
#endif
	return 0;
}
