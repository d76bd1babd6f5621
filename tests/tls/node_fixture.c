/* SPDX-License-Identifier: MIT */
/* A saf_tls_node in a thread, for the loopback tests (node_fixture.h). */
#include "node_fixture.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

static uint64_t fake_clock(void *arg)
{
	node_job *j = arg;

	return atomic_load(&j->now_s);
}

/* The node's backend: a socket pair, the other end echoed by the
 * node's thread. */
static int open_echo(void *arg, SSL *ssl, saf_error *err)
{
	node_job *j = arg;
	int sv[2];

	(void)ssl;
	for (int i = 0; i < NODE_MAX_ECHO; i++) {
		if (j->echo[i] >= 0)
			continue;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
			break;
		j->echo[i] = sv[1];
		return sv[0];
	}
	return saf_fail(err, SAF_E_NOMEM, "echo: no room");
}

static void echo_all(node_job *j)
{
	uint8_t b[4096];

	for (int i = 0; i < NODE_MAX_ECHO; i++) {
		ssize_t r;

		if (j->echo[i] < 0)
			continue;
		r = read(j->echo[i], b, sizeof(b));
		/* Small writes into an empty pair: they fit. */
		if (r > 0 && write(j->echo[i], b, (size_t)r) == r)
			continue;
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			close(j->echo[i]);
			j->echo[i] = -1;
		}
	}
}

static void *node_thread(void *arg)
{
	node_job *j = arg;
	saf_error e = {0};

	while (!atomic_load(&j->stop)) {
		if (saf_tls_node_poll(j->n, 20, &e))
			break;
		echo_all(j);
		pthread_mutex_lock(&j->mu);
		saf_tls_node_counters_get(j->n, &j->k);
		pthread_mutex_unlock(&j->mu);
		atomic_fetch_add(&j->rounds, 1);
	}
	return NULL;
}

void node_settle(node_job *j)
{
	unsigned r0 = atomic_load(&j->rounds);

	while (atomic_load(&j->rounds) < r0 + 2u)
		usleep(1000);
}

void node_counters(node_job *j, saf_tls_node_counters *out)
{
	pthread_mutex_lock(&j->mu);
	*out = j->k;
	pthread_mutex_unlock(&j->mu);
}

void node_start(node_job *j, SSL_CTX *ctx, uint32_t lifetime_s)
{
	saf_tls_node_config cfg;
	saf_error e = {0};

	memset(j, 0, sizeof(*j));
	for (int i = 0; i < NODE_MAX_ECHO; i++)
		j->echo[i] = -1;
	pthread_mutex_init(&j->mu, NULL);
	atomic_store(&j->now_s, NODE_T0);
	saf_tls_node_config_init(&cfg);
	memset(cfg.server.node_key, 7, sizeof(cfg.server.node_key));
	cfg.server.token_lifetime_s = lifetime_s;
	cfg.server.clock = fake_clock;
	cfg.server.clock_arg = j;
	assert_int_equal(
		saf_addr_parse("127.0.0.1", false, &cfg.pairs[0].anycast, &e),
		0);
	assert_int_equal(
		saf_addr_parse("127.0.0.2", false, &cfg.pairs[0].unicast, &e),
		0);
	/* Any ports: the kernel's (saf_tls_node_listen_addr). */
	cfg.pairs[0].anycast.has_port = cfg.pairs[0].unicast.has_port = true;
	cfg.n_pairs = 1;
	cfg.backend_fn = open_echo;
	cfg.backend_arg = j;
	j->n = saf_tls_node_new(ctx, &cfg, &e);
	if (!j->n)
		fail_msg("saf_tls_node_new: %s", e.msg);
	assert_int_equal(pthread_create(&j->thread, NULL, node_thread, j), 0);
}

void node_stop(node_job *j)
{
	atomic_store(&j->stop, true);
	pthread_join(j->thread, NULL);
	saf_tls_node_free(j->n);
	for (int i = 0; i < NODE_MAX_ECHO; i++)
		if (j->echo[i] >= 0)
			close(j->echo[i]);
	pthread_mutex_destroy(&j->mu);
}
