/* SPDX-License-Identifier: MIT */
/*
 * tls_server: a TLS 1.3 echo service that embeds the node side of saf in
 * its own poll loop (no `saf tls serve`): a saf_tls_node listens on the
 * anycast address S and on the node's unicast address U; a connection on
 * S gets tickets whose MigrationToken sends the client to U, where the
 * token is verified (HMAC, expiry, target, replay) when the client
 * resumes. SIGUSR1 sends migrate_notify on every connection made on S.
 * The service itself is this file's echo, on the other end of a socket
 * pair the node opens for each connection (or, with continuity, for each
 * stream: it outlives the client's connections, and the echo never
 * notices a move).
 *
 *   cc tls_server.c $(pkg-config --cflags --libs saf) -o tls_server
 *   ./tls_server S:PORT U:PORT cert.pem key.pem [keyfile [continuity]]
 *
 * The key file (`saf tls keygen`, saf_tls_keys_load) is what sibling
 * nodes share; without it the keys are fresh and only this process can
 * verify its tokens.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <saf/saf.h>

#define MAX_ECHO 64

typedef struct echo {
	int fd; /* -1: free */
	char buf[16384];
	ssize_t off, pending; /* read, not yet written back */
} echo;

static echo echoes[MAX_ECHO];
static saf_addr u;
static volatile sig_atomic_t notify;

static void on_usr1(int sig)
{
	(void)sig, notify = 1;
}

/* The node asks for a backend: one end of a socket pair is its, the other
 * the echo's. Says which handshake asked. */
static int open_echo(void *arg, SSL *ssl, saf_error *err)
{
	saf_tls_conn_info info;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	saf_addr local;
	int sv[2], i = 0;

	(void)arg;
	while (i < MAX_ECHO && echoes[i].fd >= 0)
		i++;
	if (i == MAX_ECHO ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return saf_fail(err, SAF_E_NOMEM, "echo: no room");
	echoes[i] = (echo){.fd = sv[1]};
	if (saf_tls_server_conn_info(ssl, &info) == 0 &&
	    getsockname(SSL_get_fd(ssl), (struct sockaddr *)&ss, &sl) == 0 &&
	    saf_addr_from_sockaddr((struct sockaddr *)&ss, sl, &local, err) ==
		    0)
		fprintf(stderr, "handshake on %s: %s%s\n",
			saf_addr_equal(&local, &u) ? "U" : "S",
			info.migrated ? "migrated" : "fresh",
			info.refusal ? " (token refused)" : "");
	return sv[0];
}

/* Echoes what the node passed on; the end when the node closed its end. */
static void echo_step(echo *e)
{
	ssize_t w;

	if (e->pending == 0) {
		e->off = 0;
		e->pending = read(e->fd, e->buf, sizeof(e->buf));
		if (e->pending == 0 || (e->pending < 0 && errno != EAGAIN)) {
			close(e->fd);
			e->fd = -1;
		}
		if (e->pending < 0)
			e->pending = 0;
	}
	if (e->fd >= 0 && e->pending > 0 &&
	    (w = write(e->fd, e->buf + e->off, (size_t)e->pending)) > 0) {
		e->off += w; /* the rest after POLLOUT */
		e->pending -= w;
	}
}

static void log_line(void *arg, saf_tls_node_log_level level, const char *l)
{
	(void)arg, (void)level;
	fprintf(stderr, "node: %s\n", l);
}

int main(int argc, char **argv)
{
	saf_tls_node_config cfg;
	saf_tls_keys k;
	saf_tls_node *node;
	saf_error err = {0};
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct pollfd *p;

	saf_tls_node_config_init(&cfg);
	if (argc < 5 ||
	    saf_addr_parse(argv[1], true, &cfg.pairs[0].anycast, &err) ||
	    saf_addr_parse(argv[2], true, &u, &err)) {
		fprintf(stderr,
			"usage: %s S:PORT U:PORT CERT KEY [KEYFILE "
			"[continuity]] %s\n",
			argv[0], err.msg);
		return 2;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1)
		return fprintf(stderr, "cannot load %s or %s\n", argv[3],
			       argv[4]),
		       1;
	if (argc > 5 ? saf_tls_keys_load(argv[5], &k, &err)
		     : saf_tls_keys_generate(&k, &err))
		return fprintf(stderr, "keys: %s\n", err.msg), 1;
	saf_tls_server_config_use_keys(&cfg.server, &k);
	cfg.server.has_ticket_keys =
		argc > 5; /* siblings resume each other's tickets */
	saf_tls_keys_wipe(&k);
	cfg.pairs[0].unicast = u;
	cfg.n_pairs = 1;
	cfg.backend_fn = open_echo;
	cfg.continuity = argc > 6 && strcmp(argv[6], "continuity") == 0;
	cfg.log = log_line;
	node = saf_tls_node_new(ctx, &cfg, &err);
	OPENSSL_cleanse(&cfg, sizeof(cfg));
	if (!node)
		return fprintf(stderr, "node: %s\n", err.msg), 1;
	for (int i = 0; i < MAX_ECHO; i++)
		echoes[i].fd = -1;
	p = calloc(saf_tls_node_pollfds_max(node) + MAX_ECHO, sizeof(*p));
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "ready\n");
	for (;;) {
		/* The node's descriptors, then the application's own. */
		size_t np = saf_tls_node_pollfds(node, p);

		for (size_t i = 0; i < MAX_ECHO; i++)
			p[np + i] = (struct pollfd){
				.fd = echoes[i].fd,
				.events = echoes[i].pending ? POLLOUT : POLLIN};
		if (poll(p, np + MAX_ECHO, saf_tls_node_timeout_ms(node)) < 0 &&
		    errno != EINTR)
			return 1;
		if (notify) {
			notify = 0;
			saf_tls_node_notify(node);
		}
		saf_tls_node_step(node, p, np);
		for (size_t i = 0; i < MAX_ECHO; i++)
			if (echoes[i].fd >= 0 && p[np + i].revents)
				echo_step(&echoes[i]);
	}
}
