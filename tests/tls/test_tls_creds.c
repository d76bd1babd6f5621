/* SPDX-License-Identifier: MIT */
/*
 * The node's table of early credentials (src/tls/serve_reattach.c): its
 * bounds and refusals, with an injected clock and proofs made on a real
 * TLS 1.3 connection (in-memory handshake): the oldest entry goes when the
 * table is full (counted), an entry expires, a credential is used once,
 * and one that did not start a stream cannot start one before it is
 * linked to a stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/tls.h"
#include "tls/serve_internal.h"
#include "tls/tls_harness.h"
#include "tls/tls_internal.h"

static harness H;
static uint64_t now_s = 1000;

static uint64_t clock_fn(void *arg)
{
	(void)arg;
	return now_s;
}

static void ids(uint8_t id[SAF_REATTACH_ID_LEN], uint8_t key[32], int n)
{
	memset(id, n, SAF_REATTACH_ID_LEN);
	memset(key, 0x40 + n, 32);
}

/* body = id + proof made on ssl with key (the right one, or wrong). */
static void body_for(SSL *ssl, int n, bool right,
		     uint8_t body[SAF_REATTACH_FRAME_BODY])
{
	uint8_t key[32];

	ids(body, key, n);
	if (!right)
		key[0] ^= 1;
	assert_int_equal(saf_tls_reattach_proof(ssl, body, key,
						body + SAF_REATTACH_ID_LEN),
			 0);
}

static void issue(saf_tls_node_creds *c, int n, bool opens)
{
	uint8_t id[SAF_REATTACH_ID_LEN], key[32];

	ids(id, key, n);
	saf_tls_node_creds_issue(c, id, key, opens);
}

/* 1 taken, 0 refused with *why. */
static int take(saf_tls_node_creds *c, SSL *ssl, int n, bool right,
		saf_tls_cred_link *link, const char **why)
{
	uint8_t body[SAF_REATTACH_FRAME_BODY];

	body_for(ssl, n, right, body);
	return saf_tls_node_creds_take(c, ssl, body, link, why);
}

typedef struct conn {
	SSL_CTX *sctx, *cctx;
	SSL *s, *c;
} conn;

static void conn_open(conn *k)
{
	k->sctx = harness_server_ctx(&H);
	k->cctx = harness_client_ctx(&H);
	k->s = SSL_new(k->sctx);
	k->c = SSL_new(k->cctx);
	SSL_set_tlsext_host_name(k->c, "saf.test");
	assert_true(harness_handshake(k->c, k->s));
}

static void conn_close(conn *k)
{
	SSL_free(k->s);
	SSL_free(k->c);
	SSL_CTX_free(k->sctx);
	SSL_CTX_free(k->cctx);
}

static void test_oldest_evicted(void **state)
{
	saf_tls_node_creds *c = saf_tls_node_creds_new(2, 30, clock_fn, NULL);
	saf_tls_node_cred_counters k;
	saf_tls_cred_link link;
	const char *why = "";
	conn t;

	(void)state;
	conn_open(&t);
	issue(c, 1, true);
	now_s++;
	issue(c, 2, true);
	now_s++;
	issue(c, 3, true); /* full: 1, the oldest, goes */
	saf_tls_node_creds_counters(c, &k);
	assert_int_equal(k.issued, 3);
	assert_int_equal(k.evicted, 1);
	assert_int_equal(take(c, t.s, 1, true, &link, &why), 0);
	assert_string_equal(why, "unknown credential (never issued here, or "
				 "evicted)");
	/* 2 and 3 are there: a wrong proof is refused as such. */
	assert_int_equal(take(c, t.s, 2, false, &link, &why), 0);
	assert_string_equal(why, "wrong proof");
	assert_int_equal(take(c, t.s, 3, true, &link, &why), 1);
	saf_tls_node_creds_free(c);
	conn_close(&t);
}

static void test_expiry(void **state)
{
	saf_tls_node_creds *c = saf_tls_node_creds_new(4, 30, clock_fn, NULL);
	saf_tls_cred_link link;
	const char *why = "";
	conn t;

	(void)state;
	conn_open(&t);
	issue(c, 1, true);
	now_s += 29;
	issue(c, 2, true);
	assert_int_equal(take(c, t.s, 2, true, &link, &why), 1);
	now_s += 1; /* 1 is 30 s old */
	assert_int_equal(take(c, t.s, 1, true, &link, &why), 0);
	assert_string_equal(why, "credential expired");
	saf_tls_node_creds_tick(c); /* and then gone */
	assert_int_equal(take(c, t.s, 1, true, &link, &why), 0);
	assert_string_equal(why, "unknown credential (never issued here, or "
				 "evicted)");
	saf_tls_node_creds_free(c);
	conn_close(&t);
}

static void test_once_and_only_first_opens(void **state)
{
	saf_tls_node_creds *c = saf_tls_node_creds_new(4, 30, clock_fn, NULL);
	uint8_t id[SAF_REATTACH_ID_LEN], key[32];
	saf_tls_node_cred_counters k;
	saf_tls_cred_link link = {9, 9};
	const char *why = "";
	conn t;

	(void)state;
	conn_open(&t);
	/* A stream's first handshake, never finished here: it may start
	 * the stream (no link), once. */
	issue(c, 1, true);
	assert_int_equal(take(c, t.s, 1, true, &link, &why), 1);
	assert_true(link.gen == 0);
	ids(id, key, 1);
	assert_true(saf_tls_node_creds_spent(c, id));
	assert_int_equal(take(c, t.s, 1, true, &link, &why), 0);
	assert_string_equal(why, "credential already used");
	/* A move's or a comeback's: refused until its connection carried
	 * a stream, then it names that one. */
	issue(c, 2, false);
	assert_int_equal(take(c, t.s, 2, true, &link, &why), 0);
	assert_string_equal(why, "its connection never carried a stream here");
	ids(id, key, 2);
	saf_tls_node_creds_link(c, id, (saf_tls_cred_link){3, 7});
	assert_int_equal(take(c, t.s, 2, true, &link, &why), 1);
	assert_true(link.idx == 3 && link.gen == 7);
	saf_tls_node_creds_counters(c, &k);
	assert_int_equal(k.reattached, 2);
	assert_int_equal(k.refused, 2);
	saf_tls_node_creds_free(c);
	conn_close(&t);
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
		cmocka_unit_test(test_oldest_evicted),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_once_and_only_first_opens),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
