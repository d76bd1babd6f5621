/* SPDX-License-Identifier: MIT */
/*
 * Faults during a migration (issue 8), over loopback: the node at the
 * token's target dies in the middle of the resumption handshake (it reads
 * the ClientHello, then its socket is reset), or stops answering (a
 * stopped process: the connection is accepted, nothing comes back). Either
 * way saf_tls_connect must stay on S, say why, and the connection to S
 * must still carry data.
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

#include "saf/tls.h"
#include "tls/tls_harness.h"

static harness H;

static void timeouts(int fd)
{
	struct timeval tv = {.tv_sec = 5};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* ---- S: a saf node whose tickets send clients to `target` -------------- */

typedef struct s_job {
	int lfd;
	saf_addr target;
	saf_tls_server_counters counters;
} s_job;

static void *s_thread(void *arg)
{
	s_job *j = arg;
	saf_tls_server_config cfg;
	SSL_CTX *ctx = harness_server_ctx(&H);
	saf_tls_server *srv;
	saf_error e;
	int fd = -1;
	SSL *ssl = NULL;
	char buf[64];
	int n;

	saf_tls_server_config_init(&cfg);
	memset(cfg.node_key, 7, sizeof(cfg.node_key));
	srv = saf_tls_server_new(ctx, &cfg, &e);
	if (!srv)
		goto out;
	fd = accept(j->lfd, NULL, NULL);
	if (fd < 0)
		goto out;
	timeouts(fd);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (saf_tls_server_set_target(ssl, &j->target, &e) == 0 &&
	    SSL_accept(ssl) == 1) {
		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
			SSL_write(ssl, buf, n);
		SSL_shutdown(ssl);
	}
	saf_tls_server_counters_get(srv, &j->counters);
out:
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	saf_tls_server_free(srv);
	return NULL;
}

/* ---- U: the target node, which fails ------------------------------------ */

typedef enum u_fault {
	U_RESET_AFTER_HELLO, /* killed mid-handshake: RST after the CH */
	U_SILENT,	     /* stopped: accepts, never answers */
} u_fault;

typedef struct u_job {
	int lfd;
	u_fault fault;
	ssize_t hello_bytes; /* what arrived before the fault */
} u_job;

static void *u_thread(void *arg)
{
	u_job *j = arg;
	struct linger rst = {.l_onoff = 1, .l_linger = 0};
	char buf[4096];
	int fd = accept(j->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	timeouts(fd);
	j->hello_bytes = recv(fd, buf, sizeof(buf), 0);
	if (j->fault == U_RESET_AFTER_HELLO) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	} else {
		/* Silent until the client gives up and closes. */
		while (recv(fd, buf, sizeof(buf), 0) > 0)
			;
	}
	close(fd);
	return NULL;
}

/* ---- the client ------------------------------------------------------------
 */

static void run_fault(u_fault fault)
{
	saf_tls_client_config ccfg;
	saf_tls_connect_opts o = {
		.server_name = "saf.test",
		.ticket_wait_ms = 4000,
		/* Bounds the silent target's case; long enough for a full
		 * handshake with S under valgrind on a loaded machine. */
		.handshake_timeout_ms = 2000,
		.migrate = true,
	};
	s_job sj = {0};
	u_job uj = {.fault = fault};
	pthread_t st, ut;
	SSL_CTX *ctx = harness_client_ctx(&H);
	saf_tls_client *cli;
	saf_tls_conn conn;
	saf_addr s;
	saf_error e = {0};
	char b = 0;

	saf_tls_client_config_init(&ccfg);
	ccfg.allow_loopback_targets = true;
	cli = saf_tls_client_new(ctx, &ccfg, &e);
	assert_non_null(cli);
	/* S and the target differ in the address: a token for S's own
	 * address is refused as no migration. */
	sj.lfd = harness_listen("127.0.0.1", &s);
	uj.lfd = harness_listen("127.0.0.2", &sj.target);
	assert_int_equal(pthread_create(&st, NULL, s_thread, &sj), 0);
	assert_int_equal(pthread_create(&ut, NULL, u_thread, &uj), 0);

	memset(&conn, 0, sizeof(conn));
	if (saf_tls_connect(ctx, &s, &o, &conn, &e)) {
		/* Stop both nodes before failing: their threads use this
		 * frame's jobs. shutdown() wakes a thread blocked in accept. */
		shutdown(sj.lfd, SHUT_RDWR);
		shutdown(uj.lfd, SHUT_RDWR);
		pthread_join(st, NULL);
		pthread_join(ut, NULL);
		fail_msg("saf_tls_connect: %s", e.msg);
	}
	assert_int_equal(conn.migrations, 0);
	if (conn.outcome != SAF_TLS_STAYED_REFUSED &&
	    conn.outcome != SAF_TLS_STAYED_UNREACHABLE)
		fail_msg("outcome %s (%s)", saf_tls_outcome_name(conn.outcome),
			 conn.why);
	print_message("%s: %s\n", saf_tls_outcome_name(conn.outcome), conn.why);
	assert_true(saf_addr_equal(&conn.peer, &s));
	assert_true(conn.why[0] != '\0');
	/* The connection to S still carries data both ways. */
	assert_int_equal(SSL_write(conn.ssl, "z", 1), 1);
	assert_int_equal(SSL_read(conn.ssl, &b, 1), 1);
	assert_int_equal(b, 'z');
	saf_tls_conn_close(&conn);

	pthread_join(st, NULL);
	pthread_join(ut, NULL);
	/* It did try the target: a ClientHello reached it. */
	assert_true(uj.hello_bytes > 0);
	/* S issued the token the client tried. */
	assert_true(sj.counters.tokens_issued >= 1);
	close(sj.lfd);
	close(uj.lfd);
	SSL_CTX_free(ctx);
	saf_tls_client_free(cli);
}

static void test_target_killed_mid_handshake(void **state)
{
	(void)state;
	run_fault(U_RESET_AFTER_HELLO);
}

static void test_target_stops_answering(void **state)
{
	(void)state;
	run_fault(U_SILENT);
}

static int setup(void **state)
{
	(void)state;
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
		cmocka_unit_test(test_target_killed_mid_handshake),
		cmocka_unit_test(test_target_stops_answering),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
