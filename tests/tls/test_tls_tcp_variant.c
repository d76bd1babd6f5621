/* SPDX-License-Identifier: MIT */
/*
 * TLS over saf TCP without the client program (no root, loopback): the
 * option's parser, and the library's fallback when there is no advert map
 * (auto: the seed procedure on the connection to S, the why line saying
 * so; on: an error naming the cause; off: no note). The path with real
 * adverts is tests/tls/tcp_variant.sh (root, eBPF, namespaces).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "saf/tls.h"
#include "tls/tls_harness.h"

static harness H;

static void test_parse(void **state)
{
	static const char *names[] = {"auto", "off", "on"};
	saf_tls_tcp_variant v;
	saf_error e = {0};

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(saf_tls_tcp_variant_parse(names[i], &v, &e),
				 0);
		assert_string_equal(saf_tls_tcp_variant_name(v), names[i]);
	}
	assert_int_equal(SAF_TLS_TCP_AUTO, 0); /* zeroed options: auto */
	v = SAF_TLS_TCP_ON;
	assert_int_equal(saf_tls_tcp_variant_parse("maybe", &v, &e), -1);
	assert_non_null(strstr(e.msg, "'maybe': expected auto, on or off"));
	assert_int_equal(v, SAF_TLS_TCP_ON); /* unchanged */
	assert_int_equal(saf_tls_tcp_variant_parse("", &v, &e), -1);
	assert_int_equal(saf_tls_tcp_variant_parse(NULL, &v, &e), -1);
	assert_int_equal(saf_tls_tcp_variant_parse("ON", &v, &e), -1);
}

/* S: one saf node connection whose tokens name S itself (so the client
 * stays on S, refusing it), echoing what it reads. */
typedef struct s_job {
	int lfd;
	saf_addr self;
} s_job;

static void *s_thread(void *arg)
{
	s_job *j = arg;
	saf_tls_server_config cfg;
	SSL_CTX *ctx = harness_server_ctx(&H);
	saf_tls_server *srv;
	struct timeval tv = {.tv_sec = 5};
	int fd;
	SSL *ssl = NULL;
	char buf[64];
	int n;

	saf_tls_server_config_init(&cfg);
	memset(cfg.node_key, 7, sizeof(cfg.node_key));
	srv = saf_tls_server_new(ctx, &cfg, NULL);
	fd = srv ? accept(j->lfd, NULL, NULL) : -1;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (saf_tls_server_set_target(ssl, &j->self, NULL) == 0 &&
		    SSL_accept(ssl) == 1)
			while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
				SSL_write(ssl, buf, n);
		SSL_free(ssl);
		close(fd);
	}
	SSL_CTX_free(ctx);
	saf_tls_server_free(srv);
	return NULL;
}

/* One saf_tls_connect to a node on loopback with tcp_variant v and a pin
 * folder without any program. Returns its result; conn and e filled. */
static int run(saf_tls_tcp_variant v, saf_tls_conn *conn, saf_error *e)
{
	char pins[] = "/tmp/saf-tt-pins.XXXXXX";
	saf_tls_client_config ccfg;
	saf_tls_connect_opts o = {
		.server_name = "saf.test",
		.ticket_wait_ms = 3000,
		.migrate = true,
		.tcp_variant = v,
	};
	SSL_CTX *ctx = harness_client_ctx(&H);
	saf_tls_client *cli;
	s_job sj;
	pthread_t st;
	int rc;

	assert_non_null(mkdtemp(pins));
	o.tcp_pin_dir = pins;
	saf_tls_client_config_init(&ccfg);
	ccfg.allow_loopback_targets = true;
	cli = saf_tls_client_new(ctx, &ccfg, e);
	assert_non_null(cli);
	sj.lfd = harness_listen("127.0.0.1", &sj.self);
	assert_int_equal(pthread_create(&st, NULL, s_thread, &sj), 0);
	memset(conn, 0, sizeof(*conn));
	rc = saf_tls_connect(ctx, &sj.self, &o, conn, e);
	if (rc == 0) {
		char b = 0;

		assert_int_equal(SSL_write(conn->ssl, "z", 1), 1);
		assert_int_equal(SSL_read(conn->ssl, &b, 1), 1);
		assert_int_equal(b, 'z');
		assert_false(conn->via_tcp_advert);
		assert_true(saf_addr_equal(&conn->peer, &sj.self));
		print_message("%s: %s\n", saf_tls_outcome_name(conn->outcome),
			      conn->why);
		saf_tls_conn_close(conn);
	}
	/* on: the accepted socket is closed without a byte; the thread's
	 * SSL_accept fails and it ends */
	pthread_join(st, NULL);
	close(sj.lfd);
	rmdir(pins);
	saf_tls_client_free(cli);
	SSL_CTX_free(ctx);
	return rc;
}

static void test_auto_falls_back_to_the_seed_procedure(void **state)
{
	saf_tls_conn conn;
	saf_error e = {0};

	(void)state;
	assert_int_equal(run(SAF_TLS_TCP_AUTO, &conn, &e), 0);
	assert_int_equal(conn.outcome, SAF_TLS_STAYED_REFUSED);
	assert_non_null(strstr(conn.why, "the anycast address itself; not via "
					 "TCP advert (no_advert: client "
					 "program not attached (no advert "
					 "map at /tmp/saf-tt-pins."));
}

static void test_on_without_advert_fails(void **state)
{
	saf_tls_conn conn;
	saf_error e = {0};

	(void)state;
	assert_int_equal(run(SAF_TLS_TCP_ON, &conn, &e), -1);
	assert_int_equal(e.code, SAF_E_REFUSED);
	assert_non_null(strstr(e.msg, "tcp variant on: no_advert: client "
				      "program not attached"));
}

static void test_off_says_nothing_of_it(void **state)
{
	saf_tls_conn conn;
	saf_error e = {0};

	(void)state;
	assert_int_equal(run(SAF_TLS_TCP_OFF, &conn, &e), 0);
	assert_int_equal(conn.outcome, SAF_TLS_STAYED_REFUSED);
	assert_null(strstr(conn.why, "TCP advert"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_auto_falls_back_to_the_seed_procedure),
		cmocka_unit_test(test_on_without_advert_fails),
		cmocka_unit_test(test_off_says_nothing_of_it),
	};
	int rc;

	harness_init(&H);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	harness_free(&H);
	return rc;
}
