/* SPDX-License-Identifier: MIT */
/*
 * tls_server: a TLS 1.3 echo service that embeds the node side of saf in
 * its own poll loop (no `saf tls serve`). It listens on the anycast address
 * S and on the node's unicast address U; a connection on S gets tickets
 * whose MigrationToken sends the client to U, where the token is verified
 * (HMAC, expiry, target, replay) when the client resumes. SIGUSR1 sends
 * migrate_notify (ticket form) on every connection made on S.
 *
 *   cc tls_server.c $(pkg-config --cflags --libs saf) -o tls_server
 *   ./tls_server S:PORT U:PORT cert.pem key.pem [keyfile]
 *
 * The key file (`saf tls keys` format, saf_tls_keys_load) is what sibling
 * nodes share; without it the keys are fresh and only this process can
 * verify its tokens. Continuity (a stream that outlives its connections)
 * is not served here: the node side of it is not in the library yet.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include <saf/saf.h>

#define MAX_CONNS 64

typedef struct conn {
	SSL *ssl; /* NULL: free slot */
	int fd;
	bool on_s, ready;
	char buf[16384];
	int pending; /* bytes read, not yet echoed */
} conn;

static volatile sig_atomic_t notify;
static void on_usr1(int sig)
{
	(void)sig, notify = 1;
}

static int listen_on(const saf_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(a, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		perror("listen");
		return -1;
	}
	return fd;
}

static void drop(conn *c)
{
	SSL_free(c->ssl);
	close(c->fd);
	c->ssl = NULL;
}

/* Handshake, then echo: one step of one connection; -1 when it is over. */
static int step(conn *c)
{
	int r, e;

	ERR_clear_error();
	if (!c->ready) {
		if ((r = SSL_accept(c->ssl)) == 1) {
			saf_tls_conn_info info;

			c->ready = true;
			if (saf_tls_server_conn_info(c->ssl, &info) == 0)
				fprintf(stderr, "handshake on %s: %s%s\n",
					c->on_s ? "S" : "U",
					info.migrated ? "migrated" : "fresh",
					info.refusal ? " (token refused)" : "");
		}
	} else if (c->pending) {
		if ((r = SSL_write(c->ssl, c->buf, c->pending)) > 0)
			c->pending = 0;
	} else if ((r = SSL_read(c->ssl, c->buf, sizeof(c->buf))) > 0) {
		c->pending = r;
		return step(c);
	}
	if (r > 0)
		return 0;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN) /* close_notify: answer it */
		SSL_shutdown(c->ssl);
	return -1;
}

int main(int argc, char **argv)
{
	saf_addr s, u;
	saf_error err = {0};
	saf_tls_server_config cfg;
	saf_tls_keys k;
	saf_tls_server *srv;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	static conn conns[MAX_CONNS];
	int lfd[2];

	if (argc < 5 || saf_addr_parse(argv[1], true, &s, &err) ||
	    saf_addr_parse(argv[2], true, &u, &err)) {
		fprintf(stderr,
			"usage: %s S:PORT U:PORT CERT KEY [KEYFILE] %s\n",
			argv[0], err.msg);
		return 2;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1)
		return fprintf(stderr, "cannot load %s or %s\n", argv[3],
			       argv[4]),
		       1;
	if (argc > 5 ? saf_tls_keys_load(argv[5], &k, &err)
		     : saf_tls_keys_generate(&k, &err))
		return fprintf(stderr, "keys: %s\n", err.msg), 1;
	saf_tls_server_config_init(&cfg);
	memcpy(cfg.node_key, k.node_key, sizeof(cfg.node_key));
	memcpy(cfg.ticket_keys, k.ticket_keys, sizeof(cfg.ticket_keys));
	cfg.has_ticket_keys =
		argc > 5; /* siblings resume each other's tickets */
	saf_tls_keys_wipe(&k);
	srv = saf_tls_server_new(ctx, &cfg, &err);
	OPENSSL_cleanse(&cfg, sizeof(cfg));
	if (!srv)
		return fprintf(stderr, "server: %s\n", err.msg), 1;
	if ((lfd[0] = listen_on(&s)) < 0 || (lfd[1] = listen_on(&u)) < 0)
		return 1;
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "ready\n");
	for (;;) {
		struct pollfd p[2 + MAX_CONNS];

		for (int i = 0; i < 2; i++)
			p[i] = (struct pollfd){.fd = lfd[i], .events = POLLIN};
		for (int i = 0; i < MAX_CONNS; i++)
			p[2 + i] = (struct pollfd){
				.fd = conns[i].ssl ? conns[i].fd : -1,
				.events = POLLIN |
					  (conns[i].pending ? POLLOUT : 0)};
		if (poll(p, 2 + MAX_CONNS, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; notify && i < MAX_CONNS; i++) {
			conn *c = &conns[i];

			if (!c->ssl || !c->ready || !c->on_s)
				continue;
			/* Queued, then sent by SSL_do_handshake (or the next
			 * write): a ticket with migrate_notify and a token. */
			if (saf_tls_server_migrate_notify(c->ssl, &u, &err))
				fprintf(stderr, "notify: %s\n", err.msg);
			else
				(void)SSL_do_handshake(c->ssl);
		}
		notify = 0;
		for (int l = 0; l < 2; l++) {
			int fd = (p[l].revents & POLLIN)
					 ? accept4(lfd[l], NULL, NULL,
						   SOCK_NONBLOCK)
					 : -1;
			conn *c = conns;

			while (fd >= 0 && c < conns + MAX_CONNS && c->ssl)
				c++;
			if (fd < 0 || c == conns + MAX_CONNS) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
				   sizeof(int));
			*c = (conn){
				.ssl = SSL_new(ctx), .fd = fd, .on_s = l == 0};
			SSL_set_fd(c->ssl, fd);
			/* Tokens minted on S send the client to U. */
			if (c->on_s &&
			    saf_tls_server_set_target(c->ssl, &u, &err))
				fprintf(stderr, "target: %s\n", err.msg);
			p[2 + (int)(c - conns)].revents =
				POLLIN; /* step it now */
		}
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].ssl && p[2 + i].revents && step(&conns[i]))
				drop(&conns[i]);
	}
}
