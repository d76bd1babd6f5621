/* SPDX-License-Identifier: MIT */
/*
 * Continuity's early credential (docs/continuity.md, "Early credential")
 * against a real node (saf_tls_node in a thread, node_fixture.h) over
 * loopback: S is 127.0.0.1, U 127.0.0.2.
 *
 * The stream: a client whose first connection breaks after it verified
 * the node's first flight but before any ticket came. A proxy in front of
 * S plays R1 changing its mind: it passes the ClientHello and the node's
 * flight, then either drops the client's Finished (the node never
 * finishes that handshake) or passes it and drops the tickets (the node
 * has the stream), then resets the client. Before the credential such a
 * stream was lost ("broke the connection before a token came: no way
 * back"); now it comes back to U and every byte arrives once.
 *
 * The node's checks, with raw connections that drive the extension and
 * the REATTACH frame themselves: a wrong proof, a proof made for another
 * connection, a credential used twice, an expired one, an unknown one and
 * a comeback that does not start with REATTACH are each refused with
 * RESET (and counted); the right proof resumes the stream; a first
 * handshake that finishes after its client came back is closed, not a
 * second stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "saf/clock.h"
#include "saf/sock.h"
#include "saf/tls.h"
#include "saf/tls_node.h"
#include "tls/node_fixture.h"
#include "tls/tls_harness.h"
#include "tls/tls_internal.h"

#define WAIT_MS 30000u /* ends when met; generous for valgrind */

static harness H;

/* ---- the proxy in front of S ------------------------------------------ */

typedef enum cut_mode {
	CUT_CLIENT_FINISHED, /* drop the client's Finished and all after */
	CUT_TICKETS,	     /* pass it, drop the node's tickets and after */
} cut_mode;

typedef struct proxy {
	int lfd;
	saf_addr addr, node;
	cut_mode mode;
	pthread_t t;
	atomic_bool cut; /* the client was reset */
} proxy;

static void rst_close(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* phase 0: the ClientHello goes; 1: the node's flight comes; 2: the
 * client spoke again (its Finished): the cut, 150 ms later. */
static void *proxy_run(void *arg)
{
	proxy *p = arg;
	int c = accept(p->lfd, NULL, NULL), n, phase = 0;
	uint64_t cut_at = 0;
	uint8_t b[16384];

	if (c < 0)
		return NULL;
	n = saf_sock_connect(&p->node, 3000, NULL);
	if (n < 0 || saf_sock_set_nonblock(n, false, NULL)) {
		close(c);
		return NULL;
	}
	while (!cut_at || saf_clock_mono_ms() < cut_at) {
		struct pollfd f[2] = {{.fd = c, .events = POLLIN},
				      {.fd = n, .events = POLLIN}};
		ssize_t r;

		if (poll(f, 2, 10) < 0)
			break;
		if (f[0].revents) {
			r = read(c, b, sizeof(b));
			if (r <= 0)
				break;
			if (phase == 1) {
				phase = 2;
				cut_at = saf_clock_mono_ms() + 150u;
			}
			if ((phase == 0 || p->mode == CUT_TICKETS) &&
			    write(n, b, (size_t)r) != r)
				break;
		}
		if (f[1].revents) {
			r = read(n, b, sizeof(b));
			if (r <= 0)
				break;
			if (phase == 0)
				phase = 1;
			if (phase == 1 && write(c, b, (size_t)r) != r)
				break;
		}
	}
	rst_close(c);
	rst_close(n);
	atomic_store(&p->cut, true);
	return NULL;
}

static void proxy_start(proxy *p, const saf_addr *node, cut_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->node = *node;
	p->mode = mode;
	p->lfd = harness_listen("127.0.0.1", &p->addr);
	assert_true(p->lfd >= 0);
	assert_int_equal(pthread_create(&p->t, NULL, proxy_run, p), 0);
}

static void proxy_stop(proxy *p)
{
	pthread_join(p->t, NULL);
	close(p->lfd);
}

/* ---- a continuity client through the proxy ---------------------------- */

typedef struct client {
	SSL_CTX *ctx;
	saf_tls_client *cli;
	saf_tls_stream *st;
	uint8_t got[64];
	size_t got_len;
} client;

static SSL_CTX *client_ctx(saf_tls_client **cli)
{
	saf_tls_client_config ccfg;
	SSL_CTX *ctx = harness_client_ctx(&H);
	saf_error e = {0};

	saf_tls_client_config_init(&ccfg);
	ccfg.allow_loopback_targets = true;
	ccfg.continuity = true;
	*cli = saf_tls_client_new(ctx, &ccfg, &e);
	assert_non_null(*cli);
	return ctx;
}

/* Steps the stream until `want` bytes came back or wait_ms pass; the
 * stream must not fail. */
static bool client_until_echo(client *c, size_t want, uint64_t wait_ms)
{
	uint64_t end = saf_clock_mono_ms() + wait_ms;
	saf_error e = {0};

	while (saf_clock_mono_ms() < end) {
		struct pollfd p[2];
		int np;

		if (saf_tls_stream_step(c->st, &e))
			fail_msg("stream: %s", e.msg);
		c->got_len += saf_tls_stream_read(c->st, c->got + c->got_len,
						  sizeof(c->got) - c->got_len);
		if (c->got_len >= want)
			return true;
		np = saf_tls_stream_pollfds(c->st, p);
		(void)poll(p, (nfds_t)np, 20);
	}
	return false;
}

/* A stream started through p (S), "hello" written at once. */
static void client_start(client *c, const proxy *p)
{
	saf_tls_stream_opts so = {
		.conn = {.server_name = "saf.test", .migrate = true},
		.backoff_ms = 20,
	};
	saf_tls_conn conn;
	saf_error e = {0};

	memset(c, 0, sizeof(*c));
	c->ctx = client_ctx(&c->cli);
	memset(&conn, 0, sizeof(conn));
	if (saf_tls_connect(c->ctx, &p->addr, &so.conn, &conn, &e))
		fail_msg("saf_tls_connect: %s", e.msg);
	assert_int_equal(conn.outcome, SAF_TLS_ON_S_CONTINUITY);
	c->st = saf_tls_stream_new(c->ctx, &so, &conn, &e);
	assert_non_null(c->st);
	assert_int_equal(
		saf_tls_stream_write(c->st, (const uint8_t *)"hello", 5), 5);
}

static void client_stop(client *c)
{
	saf_tls_stream_free(c->st);
	SSL_CTX_free(c->ctx);
	saf_tls_client_free(c->cli);
}

/* The first connection is cut (mode) before any ticket reached the
 * client; the stream comes back to U with the credential and "hello"
 * is echoed exactly once. */
static void run_cut(cut_mode mode, saf_tls_node_counters *k)
{
	SSL_CTX *sctx = harness_server_ctx(&H);
	saf_tls_stream_stats st;
	saf_addr s, u;
	node_job j;
	proxy p;
	client c;

	node_start(&j, sctx, 0);
	assert_int_equal(saf_tls_node_listen_addr(j.n, 0, &s), 0);
	assert_int_equal(saf_tls_node_listen_addr(j.n, 1, &u), 0);
	proxy_start(&p, &s, mode);
	client_start(&c, &p);
	assert_true(client_until_echo(&c, 5, WAIT_MS));
	assert_true(atomic_load(&p.cut));
	assert_memory_equal(c.got, "hello", 5);
	/* Once: nothing more arrives. */
	assert_false(client_until_echo(&c, 6, 300));
	assert_int_equal(c.got_len, 5);
	saf_tls_stream_stats_get(c.st, &st);
	assert_true(saf_addr_equal(&st.peer, &u));
	assert_int_equal(st.reattaches, 1);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.moves, 0);
	node_settle(&j);
	node_counters(&j, k);
	client_stop(&c);
	proxy_stop(&p);
	node_stop(&j);
	SSL_CTX_free(sctx);
}

static void test_cut_before_client_finished(void **state)
{
	saf_tls_node_counters k;

	(void)state;
	run_cut(CUT_CLIENT_FINISHED, &k);
	/* The node never finished the first handshake: the comeback got
	 * the one stream, resuming from nothing. */
	assert_int_equal(k.streams.opened, 1);
	assert_int_equal(k.streams.resumed, 0);
	assert_int_equal(k.streams.reattached, 1);
	assert_int_equal(k.streams.creds_refused, 0);
	assert_true(k.streams.creds_issued >= 2);
}

static void test_cut_before_tickets(void **state)
{
	saf_tls_node_counters k;

	(void)state;
	run_cut(CUT_TICKETS, &k);
	/* The node had the stream (and "hello"): the comeback took it
	 * over, and the echo the proxy dropped was sent again. */
	assert_int_equal(k.streams.opened, 1);
	assert_int_equal(k.streams.resumed, 1);
	assert_int_equal(k.streams.reattached, 1);
	assert_int_equal(k.streams.creds_refused, 0);
}

/* ---- raw connections: the node's checks ------------------------------- */

typedef struct raw {
	SSL *ssl;
	int fd;
} raw;

/* A full handshake at a (blocking), with reattach mode when asked. */
static raw raw_connect(SSL_CTX *ctx, const saf_addr *a, bool reattach)
{
	raw r = {0};

	r.fd = saf_sock_connect(a, 3000, NULL);
	assert_true(r.fd >= 0);
	assert_int_equal(saf_sock_set_nonblock(r.fd, false, NULL), 0);
	r.ssl = SSL_new(ctx);
	assert_non_null(r.ssl);
	SSL_set_fd(r.ssl, r.fd);
	saf_tls_ssl_set_name(r.ssl, "saf.test");
	if (reattach)
		assert_int_equal(saf_tls_client_present_reattach(r.ssl), 0);
	assert_int_equal(SSL_connect(r.ssl), 1);
	assert_true(saf_tls_continuity(r.ssl));
	return r;
}

static void raw_close(raw *r)
{
	SSL_free(r->ssl);
	close(r->fd);
}

static void send_frame(raw *r, const saf_cont_frame *f)
{
	uint8_t b[64];
	size_t n = saf_cont_frame_encode(f, b, sizeof(b));

	assert_true(n > 0);
	assert_int_equal(SSL_write(r->ssl, b, (int)n), (int)n);
}

static void send_reattach(raw *r, const uint8_t id[SAF_REATTACH_ID_LEN],
			  const uint8_t proof[SAF_REATTACH_PROOF_LEN])
{
	uint8_t body[SAF_REATTACH_FRAME_BODY];
	saf_cont_frame f = {.type = SAF_CONT_REATTACH,
			    .data = body,
			    .data_len = sizeof(body)};

	memcpy(body, id, SAF_REATTACH_ID_LEN);
	memcpy(body + SAF_REATTACH_ID_LEN, proof, SAF_REATTACH_PROOF_LEN);
	send_frame(r, &f);
}

/* The node's first frame on r (its type; RESET: *code). */
static int first_frame(raw *r, unsigned *code)
{
	uint8_t b[64];
	size_t have = 0, used;
	saf_cont_frame f;

	for (;;) {
		int n = SSL_read(r->ssl, b + have, (int)(sizeof(b) - have));

		if (n <= 0)
			return -1;
		have += (size_t)n;
		if (saf_cont_frame_decode(b, have, &f, &used, NULL) == 1) {
			*code = f.code;
			return (int)f.type;
		}
	}
}

static void expect_reset(raw *r, unsigned code)
{
	unsigned got = 0;

	assert_int_equal(first_frame(r, &got), SAF_CONT_RESET);
	assert_int_equal(got, code);
}

static uint64_t refused(node_job *j)
{
	saf_tls_node_counters k;

	node_settle(j);
	node_counters(j, &k);
	return k.streams.creds_refused;
}

static void test_node_checks(void **state)
{
	SSL_CTX *sctx = harness_server_ctx(&H), *cctx;
	saf_tls_client *cli;
	uint8_t key[SAF_REATTACH_KEY_LEN], proof[SAF_REATTACH_PROOF_LEN],
		bad[SAF_REATTACH_PROOF_LEN], unknown_id[SAF_REATTACH_ID_LEN];
	uint8_t key2[SAF_REATTACH_KEY_LEN];
	saf_reattach_cred cred, cred2;
	saf_tls_node_counters k;
	saf_addr s, u;
	unsigned code = 0;
	node_job j;
	raw first, x, y, z, w, x2;

	(void)state;
	cctx = client_ctx(&cli);
	node_start(&j, sctx, 0);
	assert_int_equal(saf_tls_node_listen_addr(j.n, 0, &s), 0);
	assert_int_equal(saf_tls_node_listen_addr(j.n, 1, &u), 0);

	/* The first connection, to S: a credential for U. */
	first = raw_connect(cctx, &s, false);
	assert_int_equal(saf_tls_client_reattach_cred(first.ssl, &cred), 1);
	assert_true(saf_addr_equal(&cred.target, &u));
	assert_int_equal(saf_tls_reattach_key(first.ssl, cred.id, key), 0);

	/* A wrong proof (the client of another handshake). */
	x = raw_connect(cctx, &u, true);
	assert_int_equal(RAND_bytes(bad, sizeof(bad)), 1);
	send_reattach(&x, cred.id, bad);
	expect_reset(&x, SAF_CONT_RESET_UNKNOWN_SESSION);
	assert_int_equal(refused(&j), 1);

	/* A right proof, but made for another connection (y): refused on
	 * z, then taken on y. */
	y = raw_connect(cctx, &u, true);
	z = raw_connect(cctx, &u, true);
	assert_int_equal(saf_tls_reattach_proof(y.ssl, cred.id, key, proof), 0);
	send_reattach(&z, cred.id, proof);
	expect_reset(&z, SAF_CONT_RESET_UNKNOWN_SESSION);
	assert_int_equal(refused(&j), 2);
	send_reattach(&y, cred.id, proof);
	assert_int_equal(first_frame(&y, &code), SAF_CONT_RESUME);
	node_settle(&j);
	node_counters(&j, &k);
	assert_int_equal(k.streams.reattached, 1);
	assert_int_equal(k.streams.resumed, 1);
	assert_int_equal(k.streams.opened, 1);

	/* Used once: a second comeback with it, right proof and all, is
	 * refused. */
	w = raw_connect(cctx, &u, true);
	assert_int_equal(saf_tls_reattach_proof(w.ssl, cred.id, key, proof), 0);
	send_reattach(&w, cred.id, proof);
	expect_reset(&w, SAF_CONT_RESET_UNKNOWN_SESSION);
	assert_int_equal(refused(&j), 3);
	raw_close(&w);

	/* An id the node never issued. */
	w = raw_connect(cctx, &u, true);
	assert_int_equal(RAND_bytes(unknown_id, sizeof(unknown_id)), 1);
	assert_int_equal(saf_tls_reattach_proof(w.ssl, unknown_id, key, proof),
			 0);
	send_reattach(&w, unknown_id, proof);
	expect_reset(&w, SAF_CONT_RESET_UNKNOWN_SESSION);
	assert_int_equal(refused(&j), 4);
	raw_close(&w);

	/* A comeback that starts with anything but REATTACH. */
	w = raw_connect(cctx, &u, true);
	send_frame(&w, &(saf_cont_frame){.type = SAF_CONT_RESUME});
	expect_reset(&w, SAF_CONT_RESET_PROTOCOL);
	raw_close(&w);

	/* The credential of a comeback whose REATTACH never arrived: its
	 * connection carried no stream, and it must not start one (the
	 * stream it was for may hold data a new one would not have). */
	x2 = raw_connect(cctx, &u, true);
	assert_int_equal(saf_tls_client_reattach_cred(x2.ssl, &cred2), 1);
	assert_int_equal(saf_tls_reattach_key(x2.ssl, cred2.id, key2), 0);
	raw_close(&x2);
	w = raw_connect(cctx, &u, true);
	assert_int_equal(saf_tls_reattach_proof(w.ssl, cred2.id, key2, proof),
			 0);
	send_reattach(&w, cred2.id, proof);
	expect_reset(&w, SAF_CONT_RESET_UNKNOWN_SESSION);
	assert_int_equal(refused(&j), 5);
	node_counters(&j, &k);
	assert_int_equal(k.streams.opened, 1);
	raw_close(&w);

	/* Expired: the stream linger after it was issued. */
	raw_close(&first);
	first = raw_connect(cctx, &s, false);
	assert_int_equal(saf_tls_client_reattach_cred(first.ssl, &cred), 1);
	assert_int_equal(saf_tls_reattach_key(first.ssl, cred.id, key), 0);
	node_settle(&j);
	atomic_fetch_add(&j.now_s, SAF_TLS_NODE_LINGER_S_DEFAULT);
	w = raw_connect(cctx, &u, true);
	assert_int_equal(saf_tls_reattach_proof(w.ssl, cred.id, key, proof), 0);
	send_reattach(&w, cred.id, proof);
	expect_reset(&w, SAF_CONT_RESET_UNKNOWN_SESSION);
	assert_int_equal(refused(&j), 6);
	raw_close(&w);

	raw_close(&first);
	raw_close(&x);
	raw_close(&y);
	raw_close(&z);
	node_stop(&j);
	SSL_CTX_free(cctx);
	saf_tls_client_free(cli);
	SSL_CTX_free(sctx);
}

/* ---- a first handshake that finishes after its client came back ------- */

/* The client's records to the node go through a memory BIO that this
 * test flushes when it wants: its Finished can be held back. */
typedef struct held {
	SSL *ssl;
	int fd;
	BIO *out; /* what the client wrote, not yet sent */
} held;

static void held_flush(held *h)
{
	uint8_t b[16384];
	int n;

	while ((n = BIO_read(h->out, b, sizeof(b))) > 0)
		assert_int_equal(write(h->fd, b, (size_t)n), n);
}

static void test_late_first_handshake(void **state)
{
	SSL_CTX *sctx = harness_server_ctx(&H), *cctx;
	saf_tls_client *cli;
	uint8_t key[SAF_REATTACH_KEY_LEN], proof[SAF_REATTACH_PROOF_LEN], b[64];
	saf_reattach_cred cred;
	saf_tls_node_counters k;
	saf_addr s, u;
	unsigned code = 0;
	node_job j;
	held h;
	raw back;
	int r;

	(void)state;
	cctx = client_ctx(&cli);
	node_start(&j, sctx, 0);
	assert_int_equal(saf_tls_node_listen_addr(j.n, 0, &s), 0);
	assert_int_equal(saf_tls_node_listen_addr(j.n, 1, &u), 0);
	h.fd = saf_sock_connect(&s, 3000, NULL);
	assert_true(h.fd >= 0);
	assert_int_equal(saf_sock_set_nonblock(h.fd, true, NULL), 0);
	h.ssl = SSL_new(cctx);
	h.out = BIO_new(BIO_s_mem());
	SSL_set_bio(h.ssl, BIO_new_socket(h.fd, BIO_NOCLOSE), h.out);
	saf_tls_ssl_set_name(h.ssl, "saf.test");
	/* ClientHello out; the node's flight read; the Finished held. */
	assert_int_equal(SSL_connect(h.ssl), -1);
	held_flush(&h);
	for (r = -1; r != 1;) {
		struct pollfd pf = {.fd = h.fd, .events = POLLIN};

		assert_true(poll(&pf, 1, WAIT_MS) == 1);
		r = SSL_connect(h.ssl);
		assert_true(r == 1 ||
			    SSL_get_error(h.ssl, r) == SSL_ERROR_WANT_READ);
	}
	assert_int_equal(saf_tls_client_reattach_cred(h.ssl, &cred), 1);
	assert_int_equal(saf_tls_reattach_key(h.ssl, cred.id, key), 0);

	/* The comeback: the node never finished the first handshake, so a
	 * new stream starts, resuming from nothing. */
	back = raw_connect(cctx, &u, true);
	assert_int_equal(saf_tls_reattach_proof(back.ssl, cred.id, key, proof),
			 0);
	send_reattach(&back, cred.id, proof);
	assert_int_equal(first_frame(&back, &code), SAF_CONT_RESUME);

	/* Now the first Finished arrives: that connection is closed, no
	 * second stream. */
	held_flush(&h);
	assert_int_equal(saf_sock_set_nonblock(h.fd, false, NULL), 0);
	do
		r = SSL_read(h.ssl, b, sizeof(b));
	while (r > 0);
	node_settle(&j);
	node_counters(&j, &k);
	assert_int_equal(k.streams.opened, 1);
	assert_int_equal(k.streams.reattached, 1);
	assert_int_equal(k.streams.live, 1);

	SSL_free(h.ssl);
	close(h.fd);
	raw_close(&back);
	node_stop(&j);
	SSL_CTX_free(cctx);
	saf_tls_client_free(cli);
	SSL_CTX_free(sctx);
}

/* ---- malformed extension bodies: decode_error ------------------------- */

static int alert_seen = -1; /* the last alert read by a side that logs */

static void note_alert(const SSL *ssl, int where, int ret)
{
	(void)ssl;
	if (where & SSL_CB_READ_ALERT)
		alert_seen = ret & 0xff;
}

static const unsigned char bad_mode[] = {2};	   /* neither 0 nor 1 */
static const unsigned char bad_cred[] = {1, 2, 3}; /* a short id */
/* Which body a context sends (add_raw's argument). */
static int send_mode = 1, send_cred = 2;

static int add_raw(SSL *ssl, unsigned int type, unsigned int context,
		   const unsigned char **out, size_t *outlen, X509 *x,
		   size_t chainidx, int *al, void *arg)
{
	const int *which = arg;

	(void)ssl, (void)type, (void)x, (void)chainidx, (void)al;
	if (context == SSL_EXT_CLIENT_HELLO && which == &send_mode) {
		*out = bad_mode;
		*outlen = sizeof(bad_mode);
		return 1;
	}
	if (context == SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS &&
	    which == &send_cred) {
		*out = bad_cred;
		*outlen = sizeof(bad_cred);
		return 1;
	}
	return 0;
}

static int parse_any(SSL *ssl, unsigned int type, unsigned int context,
		     const unsigned char *in, size_t inlen, X509 *x,
		     size_t chainidx, int *al, void *arg)
{
	(void)ssl, (void)type, (void)context, (void)in, (void)inlen, (void)x,
		(void)chainidx, (void)al, (void)arg;
	return 1;
}

static void raw_ext(SSL_CTX *ctx, int *which)
{
	assert_int_equal(SSL_CTX_add_custom_ext(
				 ctx, SAF_TLSEXT_REATTACH_DEFAULT,
				 SSL_EXT_CLIENT_HELLO |
					 SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS |
					 SSL_EXT_TLS1_3_ONLY,
				 add_raw, NULL, which, parse_any, NULL),
			 1);
}

/* A ClientHello whose reattach mode is 2: the node answers decode_error. */
static void test_malformed_mode_refused(void **state)
{
	SSL_CTX *sctx = harness_server_ctx(&H), *cctx = harness_client_ctx(&H);
	saf_tls_server_config cfg;
	saf_tls_server *srv;
	saf_error e = {0};
	SSL *cs, *ss;

	(void)state;
	saf_tls_server_config_init(&cfg);
	memset(cfg.node_key, 7, sizeof(cfg.node_key));
	cfg.continuity = true;
	srv = saf_tls_server_new(sctx, &cfg, &e);
	assert_non_null(srv);
	raw_ext(cctx, &send_mode);
	SSL_CTX_set_info_callback(cctx, note_alert);
	cs = SSL_new(cctx);
	ss = SSL_new(sctx);
	alert_seen = -1;
	assert_false(harness_handshake(cs, ss));
	assert_int_equal(alert_seen, SSL_AD_DECODE_ERROR);
	SSL_free(cs);
	SSL_free(ss);
	saf_tls_server_free(srv);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/* EncryptedExtensions with a credential of 3 bytes: the client answers
 * decode_error and keeps nothing. */
static void test_malformed_credential_refused(void **state)
{
	SSL_CTX *sctx = harness_server_ctx(&H), *cctx;
	saf_tls_client *cli;
	saf_reattach_cred cred;
	SSL *cs, *ss;

	(void)state;
	cctx = client_ctx(&cli);
	raw_ext(sctx, &send_cred);
	SSL_CTX_set_info_callback(sctx, note_alert);
	cs = SSL_new(cctx);
	ss = SSL_new(sctx);
	alert_seen = -1;
	assert_false(harness_handshake(cs, ss));
	assert_int_equal(alert_seen, SSL_AD_DECODE_ERROR);
	assert_int_equal(saf_tls_client_reattach_cred(cs, &cred), 0);
	SSL_free(cs);
	SSL_free(ss);
	SSL_CTX_free(cctx);
	saf_tls_client_free(cli);
	SSL_CTX_free(sctx);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	harness_init(&H);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_free(&H);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_before_client_finished),
		cmocka_unit_test(test_cut_before_tickets),
		cmocka_unit_test(test_node_checks),
		cmocka_unit_test(test_late_first_handshake),
		cmocka_unit_test(test_malformed_mode_refused),
		cmocka_unit_test(test_malformed_credential_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
