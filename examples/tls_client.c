/* SPDX-License-Identifier: MIT */
/*
 * tls_client: stdin to an anycast TLS service and its replies to stdout,
 * over a continuity stream (docs/continuity.md) that starts on the service
 * address at once, moves to the node's unicast address when the token
 * arrives, and survives broken connections. A node without continuity gets
 * the plain TLS variant (migrated once, then one connection).
 *
 *   cc tls_client.c $(pkg-config --cflags --libs saf) -o tls_client
 *   ./tls_client 192.0.2.1:443 ca.pem [server-name] < request
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <saf/saf.h>

static int plain(saf_tls_conn *c) /* the TLS variant without continuity */
{
	char buf[16384];
	ssize_t n;
	int r;

	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (SSL_write(c->ssl, buf, (int)n) <= 0)
			return 1;
	SSL_shutdown(c->ssl); /* TLS 1.3 half-close: replies still come */
	while ((r = SSL_read(c->ssl, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, stdout);
	return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : 1;
}

static int stream(SSL_CTX *ctx, saf_tls_conn *c, const saf_tls_connect_opts *o)
{
	saf_tls_stream_opts so = {.conn = *o};
	saf_error err = {0};
	saf_tls_stream *s = saf_tls_stream_new(ctx, &so, c, &err);
	uint8_t in[16384], out[16384];
	size_t off = 0, len = 0, n;
	bool in_eof = false, shut = false;
	saf_tls_stream_stats st;
	char at[SAF_ADDR_STR_LEN];

	if (!s) {
		fprintf(stderr, "stream: %s\n", err.msg);
		return 1;
	}
	while (!saf_tls_stream_done(s)) {
		struct pollfd p[3] = {
			{.fd = in_eof || len ? -1 : 0, .events = POLLIN}};
		int np, tmo = saf_tls_stream_timeout_ms(s);

		n = saf_tls_stream_write(s, in + off, len);
		off += n, len -= n;
		if (saf_tls_stream_step(s, &err)) { /* lost: says why */
			fprintf(stderr, "%s\n", err.msg);
			break;
		}
		while ((n = saf_tls_stream_read(s, out, sizeof(out))) > 0)
			fwrite(out, 1, n, stdout);
		if (!shut && in_eof && !len) { /* all sent: end our side */
			saf_tls_stream_shutdown(s);
			shut = true;
		}
		np = 1 + saf_tls_stream_pollfds(s, &p[1]);
		if (poll(p, (nfds_t)np, tmo < 0 || tmo > 1000 ? 1000 : tmo) <
			    0 &&
		    errno != EINTR)
			break;
		if (p[0].revents) {
			ssize_t r = read(0, in, sizeof(in));

			in_eof = r <= 0;
			off = 0, len = r > 0 ? (size_t)r : 0;
		}
	}
	saf_tls_stream_stats_get(s, &st);
	fprintf(stderr, "stream %s: on %s, %llu moves, %llu reconnects\n",
		saf_tls_stream_done(s) ? "done" : "lost",
		saf_addr_format(&st.peer, at), (unsigned long long)st.moves,
		(unsigned long long)st.reconnects);
	n = saf_tls_stream_done(s) ? 0 : 1;
	saf_tls_stream_free(s);
	return (int)n;
}

int main(int argc, char **argv)
{
	saf_tls_connect_opts o = {.migrate = true};
	saf_tls_client_config cfg;
	saf_tls_conn c;
	saf_addr s;
	saf_error err = {0};
	SSL_CTX *ctx;
	saf_tls_client *cli;
	int rc;

	if (argc < 3 || saf_addr_parse(argv[1], true, &s, &err)) {
		fprintf(stderr, "usage: %s ADDRESS:PORT CA-FILE [NAME] %s\n",
			argv[0], err.msg);
		return 2;
	}
	o.server_name = argc > 3 ? argv[3] : NULL;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_load_verify_locations(ctx, argv[2], NULL) != 1)
		return fprintf(stderr, "%s: cannot load\n", argv[2]), 1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	saf_tls_client_config_init(&cfg);
	cfg.continuity = true;
	/* Tokens for loopback targets only when the service is loopback. */
	cfg.allow_loopback_targets = saf_addr_classify(&s) == SAF_ADDR_LOOPBACK;
	cli = saf_tls_client_new(ctx, &cfg, &err);
	if (!cli || saf_tls_connect(ctx, &s, &o, &c, &err)) {
		fprintf(stderr, "connect: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "%s: %s\n", saf_tls_outcome_name(c.outcome), c.why);
	rc = c.outcome == SAF_TLS_ON_S_CONTINUITY ? stream(ctx, &c, &o)
						  : plain(&c);
	saf_tls_conn_close(&c);
	saf_tls_client_free(cli);
	SSL_CTX_free(ctx);
	return rc;
}
