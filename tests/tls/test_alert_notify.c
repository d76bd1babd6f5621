/* SPDX-License-Identifier: MIT */
/*
 * migrate_notify, alert form (SPEC 3.5), over loopback: a GnuTLS peer
 * (the only stack here that can send alert 0xF0, gnutls_alert_send) plays
 * a node that asks the client to leave. The client must migrate with its
 * newest valid token to the target where a saf node accepts it; without a
 * token it must return to S.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <openssl/pem.h>

#include "saf/tls.h"
#include "tls/tls_harness.h"

static harness H;

static void timeouts(int fd)
{
	struct timeval tv = {.tv_sec = 5};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* ---- the saf node: echo, tokens for its own address ------------------- */

typedef struct node_job {
	int lfd;
	saf_addr addr;
	int conns;
	saf_tls_server_counters counters;
} node_job;

static void *node_thread(void *arg)
{
	node_job *j = arg;
	saf_tls_server_config cfg;
	SSL_CTX *ctx = harness_server_ctx(&H);
	saf_tls_server *srv;
	saf_error e;

	saf_tls_server_config_init(&cfg);
	memset(cfg.node_key, 7, sizeof(cfg.node_key));
	srv = saf_tls_server_new(ctx, &cfg, &e);
	for (int i = 0; srv && i < j->conns; i++) {
		int fd = accept(j->lfd, NULL, NULL);
		SSL *ssl;
		char buf[64];
		int n;

		if (fd < 0)
			break;
		timeouts(fd);
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (saf_tls_server_set_target(ssl, &j->addr, &e) == 0 &&
		    SSL_accept(ssl) == 1) {
			while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
				SSL_write(ssl, buf, n);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	}
	if (srv)
		saf_tls_server_counters_get(srv, &j->counters);
	SSL_CTX_free(ctx);
	saf_tls_server_free(srv);
	return NULL;
}

/* ---- the GnuTLS peer: echo one byte, then alert 0xF0 ------------------- */

typedef struct gnutls_job {
	int lfd;
	int conns;
	int alerts_sent;
} gnutls_job;

static gnutls_datum_t pem_of(int cert)
{
	BIO *b = BIO_new(BIO_s_mem());
	gnutls_datum_t d;
	char *p;
	long n;

	if (cert)
		PEM_write_bio_X509(b, H.cert);
	else
		PEM_write_bio_PrivateKey(b, H.key, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	d.data = gnutls_malloc((size_t)n);
	memcpy(d.data, p, (size_t)n);
	d.size = (unsigned)n;
	BIO_free(b);
	return d;
}

static void *gnutls_thread(void *arg)
{
	gnutls_job *j = arg;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t c = pem_of(1), k = pem_of(0);

	gnutls_certificate_allocate_credentials(&cred);
	gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
	for (int i = 0; i < j->conns; i++) {
		int fd = accept(j->lfd, NULL, NULL);
		gnutls_session_t s;
		char b;
		int r;

		if (fd < 0)
			break;
		timeouts(fd);
		gnutls_init(&s, GNUTLS_SERVER);
		gnutls_set_default_priority(s);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
		gnutls_transport_set_int(s, fd);
		do {
			r = gnutls_handshake(s);
		} while (r < 0 && !gnutls_error_is_fatal(r));
		if (r == 0 && gnutls_record_recv(s, &b, 1) == 1 &&
		    gnutls_record_send(s, &b, 1) == 1 &&
		    gnutls_alert_send(s, GNUTLS_AL_FATAL,
				      (gnutls_alert_description_t)0xF0) == 0)
			j->alerts_sent++;
		gnutls_deinit(s);
		close(fd);
	}
	gnutls_certificate_free_credentials(cred);
	gnutls_free(c.data);
	gnutls_free(k.data);
	return NULL;
}

/* ---- the client ---------------------------------------------------------- */

static SSL_CTX *cctx;
static saf_tls_client *cli;
static saf_tls_connect_opts opts = {
	.server_name = "saf.test",
	.ticket_wait_ms = 1000,
	.migrate = false,
};

static void echo_once(saf_tls_conn *c, char ch)
{
	char b = 0;

	assert_int_equal(SSL_write(c->ssl, &ch, 1), 1);
	assert_int_equal(SSL_read(c->ssl, &b, 1), 1);
	assert_int_equal(b, ch);
}

/* Reads until the connection ends; it must end with alert 0xF0. */
static void expect_alert(saf_tls_conn *c)
{
	char b;

	assert_true(SSL_read(c->ssl, &b, 1) <= 0);
	assert_int_equal(saf_tls_client_notified(c->ssl), 2);
	assert_int_equal(saf_tls_client_alert_received(c->ssl) & 0xff, 0xF0);
}

static void test_alert_migrates_with_newest_token(void **state)
{
	node_job nj = {.conns = 2};
	gnutls_job gj = {.conns = 3};
	saf_addr g;
	saf_tls_conn a, b;
	saf_error e = {0};
	pthread_t nt, gt;
	char t1[SAF_ADDR_STR_LEN], t2[SAF_ADDR_STR_LEN];

	(void)state;
	nj.lfd = harness_listen("127.0.0.41", &nj.addr);
	gj.lfd = harness_listen("127.0.0.46", &g);
	pthread_create(&nt, NULL, node_thread, &nj);
	pthread_create(&gt, NULL, gnutls_thread, &gj);

	/* An earlier connection to the service left a valid token. */
	assert_int_equal(saf_tls_connect(cctx, &nj.addr, &opts, &a, &e), 0);
	echo_once(&a, 'a');
	assert_int_equal(saf_tls_client_offer(a.ssl, &b.offer), 1);
	saf_tls_offer o = b.offer;
	saf_tls_conn_close(&a);

	/* The connection the alert arrives on. */
	assert_int_equal(saf_tls_connect(cctx, &g, &opts, &b, &e), 0);
	b.offer = o;
	echo_once(&b, 'b');
	expect_alert(&b);
	assert_int_equal(saf_tls_conn_follow_notify(cctx, &opts, &b, &e), 0);
	assert_int_equal(b.outcome, SAF_TLS_ON_TARGET);
	assert_string_equal(saf_addr_format(&b.peer, t1),
			    saf_addr_format(&nj.addr, t2));
	echo_once(&b, 'c');
	saf_tls_conn_close(&b);

	pthread_join(nt, NULL);
	assert_int_equal(nj.counters.migrations_accepted, 1);

	/* No token at all: back to S (the GnuTLS peer again). */
	assert_int_equal(saf_tls_connect(cctx, &g, &opts, &b, &e), 0);
	echo_once(&b, 'd');
	expect_alert(&b);
	assert_int_equal(saf_tls_conn_follow_notify(cctx, &opts, &b, &e), 0);
	assert_int_equal(b.outcome, SAF_TLS_RETURNED_TO_S);
	assert_non_null(strstr(b.why, "without a valid token"));
	saf_tls_conn_close(&b);
	shutdown(gj.lfd, SHUT_RDWR);
	pthread_join(gt, NULL);
	assert_int_equal(gj.alerts_sent, 2);
	close(nj.lfd);
	close(gj.lfd);
}

static int setup(void **state)
{
	saf_tls_client_config cfg;

	(void)state;
	harness_init(&H);
	gnutls_global_init();
	cctx = harness_client_ctx(&H);
	saf_tls_client_config_init(&cfg);
	cfg.allow_loopback_targets = true;
	cli = saf_tls_client_new(cctx, &cfg, NULL);
	return cli ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	SSL_CTX_free(cctx);
	saf_tls_client_free(cli);
	gnutls_global_deinit();
	harness_free(&H);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_migrates_with_newest_token),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
