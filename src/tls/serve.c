/* SPDX-License-Identifier: MIT */
/*
 * The TLS node proxy (saf/tls_node.h): listeners on anycast/unicast pairs,
 * the admission unit deciding which connection holds a slot, and the poll
 * set an application (or `saf tls serve`) waits on. One connection's work
 * is in serve_conn.c, continuity's in serve_stream.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "saf/clock.h"
#include "saf/sock.h"
#include "serve_internal.h"
#include "tls_internal.h"

/* Accepted per listener per round: drains a flood's backlog quickly while
 * the other listeners and connections still get their turn. */
#define ACCEPT_BATCH 32u
/* How long the kernel keeps a connection that sent nothing out of accept
 * (TCP_DEFER_ACCEPT, seconds; it retransmits the SYN-ACK meanwhile and
 * hands the connection over on the next bare ACK after that). A client
 * sends its ClientHello with the handshake's last ACK, so it is accepted
 * with it: the admission unit sees it speak on its first step, and only
 * silent peers, later, are the ones evicted first. */
#define DEFER_ACCEPT_S 1
#define LISTEN_BACKLOG 128
/* A backend that does not answer its SYN within this long is down: the
 * client's connection is closed rather than the node held. */
#define BACKEND_CONNECT_MS 3000u
/* Streams are looked after once a second: poll waits no longer. */
#define TICK_MS 1000u

struct saf_tls_node {
	saf_tls_server *srv;
	saf_adm *adm;
	saf_tls_server_streams *streams; /* NULL: no continuity */
	SSL_CTX *ctx;
	saf_tls_listener ls[2u * SAF_TLS_NODE_PAIRS_MAX];
	size_t nls;
	saf_tls_node_conn *conns; /* slot i of the admission unit */
	unsigned max_conns;
	size_t live;
	saf_tls_node_env env;
	saf_addr backend, notify;
	bool has_notify;
	saf_tls_node_backend_fn user_backend;
	void *user_backend_arg;
	uint64_t tick_at;   /* the server's clock, s */
	struct pollfd *pfd; /* saf_tls_node_poll's */
};

void saf_tls_node_config_init(saf_tls_node_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	saf_tls_server_config_init(&cfg->server);
	saf_adm_config_init(&cfg->admission);
	cfg->continuity = true;
	cfg->stream_buffer = SAF_CONT_SEND_DEFAULT;
	cfg->stream_linger_s = SAF_TLS_NODE_LINGER_S_DEFAULT;
}

/* The default backend: a connection to cfg->backend. It sits next to the
 * node: a blocking connect, non-blocking after. */
static int backend_connect(void *arg, SSL *ssl, saf_error *err)
{
	const saf_addr *b = arg;
	int soerr = 0, fd = saf_sock_open(b, SOCK_STREAM, err);

	(void)ssl;
	if (fd < 0)
		return -1;
	if (saf_sock_connect_fd(fd, b, BACKEND_CONNECT_MS, &soerr, NULL)) {
		close(fd);
		return saf_fail(err, SAF_E_SYS, "backend: %s", strerror(soerr));
	}
	return fd;
}

/* A user's backend_fn: its socket made non-blocking here. */
static int backend_user(void *arg, SSL *ssl, saf_error *err)
{
	const saf_tls_node *n = arg;
	int fd = n->user_backend(n->user_backend_arg, ssl, err);

	if (fd >= 0 && saf_sock_set_nonblock(fd, true, err)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_on(saf_tls_listener *l, const saf_tls_node_env *env,
		     saf_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char t[SAF_ADDR_STR_LEN];

	l->fd = saf_sock_listen(&l->addr, LISTEN_BACKLOG, false, err);
	if (l->fd < 0)
		return -1;
	/* Port 0: the one the kernel chose. */
	len = sizeof(ss);
	if (getsockname(l->fd, (struct sockaddr *)&ss, &len) ||
	    saf_addr_from_sockaddr((struct sockaddr *)&ss, len, &l->addr, err))
		return saf_fail(err, SAF_E_SYS, "listen %s: no local address",
				saf_addr_format(&l->addr, t));
	if (setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT,
		       &(int){DEFER_ACCEPT_S}, sizeof(int)))
		saf_tls_node_logf(env, SAF_TLS_NODE_LOG_ERROR,
				  "TCP_DEFER_ACCEPT: %s", strerror(errno));
	return 0;
}

/* Anycast i, then its unicast partner unless an earlier pair named it.
 * A unicast address with port 0 gets one from the kernel: the tokens of
 * its anycast partners carry that one. */
static int listen_all(saf_tls_node *n, const saf_tls_node_config *cfg,
		      saf_error *err)
{
	size_t uidx[SAF_TLS_NODE_PAIRS_MAX];

	for (size_t i = 0; i < cfg->n_pairs; i++) {
		size_t a = n->nls++;

		n->ls[a] = (saf_tls_listener){.fd = -1,
					      .addr = cfg->pairs[i].anycast,
					      .anycast = true};
		if (listen_on(&n->ls[a], &n->env, err))
			return -1;
		/* A unicast address may serve several anycast ones. */
		uidx[i] = n->nls;
		for (size_t j = 0; j < i; j++)
			if (saf_addr_equal(&cfg->pairs[j].unicast,
					   &cfg->pairs[i].unicast))
				uidx[i] = uidx[j];
		if (uidx[i] == n->nls) {
			n->ls[n->nls] = (saf_tls_listener){
				.fd = -1, .addr = cfg->pairs[i].unicast};
			if (listen_on(&n->ls[n->nls++], &n->env, err))
				return -1;
		}
		n->ls[a].unicast = n->ls[uidx[i]].addr;
	}
	return 0;
}

/* The TLS server, with continuity's token callback when it is on. */
static int make_server(saf_tls_node *n, SSL_CTX *ctx,
		       const saf_tls_node_config *cfg, saf_error *err)
{
	saf_tls_server_config sc = cfg->server;

	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	sc.continuity = cfg->continuity;
	sc.on_token = cfg->continuity ? saf_tls_server_streams_on_token : NULL;
	sc.on_token_arg = NULL;
	n->srv = saf_tls_server_new(ctx, &sc, err);
	OPENSSL_cleanse(&sc, sizeof(sc));
	if (!n->srv)
		return -1;
	if (!cfg->continuity)
		return 0;
	/* The token lifetime has one source: the server's, its default
	 * applied (a 0 in the config is SAF_TOKEN_LIFETIME_DEFAULT_S for
	 * the tokens minted and for the streams' refresh alike). */
	n->streams = saf_tls_server_streams_new(
		cfg->admission.max_conns,
		cfg->stream_buffer ? cfg->stream_buffer : SAF_CONT_SEND_DEFAULT,
		cfg->stream_linger_s, n->srv->lifetime_s, n->srv->clock,
		n->srv->clock_arg, err);
	return n->streams ? 0 : -1;
}

static int make_admission(saf_tls_node *n, const saf_tls_node_config *cfg,
			  saf_error *err)
{
	saf_adm_config ac = cfg->admission;

	/* A key per process: a peer cannot aim its /64s at one bucket. */
	if (!ac.hash_key[0] && !ac.hash_key[1] &&
	    RAND_bytes((unsigned char *)ac.hash_key, sizeof(ac.hash_key)) != 1)
		return saf_fail(err, SAF_E_CRYPTO,
				"admission: no random bytes for its key");
	n->adm = saf_adm_new(&ac, err);
	if (!n->adm)
		return -1;
	n->max_conns = ac.max_conns;
	n->conns = calloc(n->max_conns, sizeof(*n->conns));
	if (!n->conns)
		return saf_fail(err, SAF_E_NOMEM, "node: out of memory");
	for (unsigned i = 0; i < n->max_conns; i++)
		saf_tls_node_conn_reset(&n->conns[i]);
	return 0;
}

saf_tls_node *saf_tls_node_new(SSL_CTX *ctx, const saf_tls_node_config *cfg,
			       saf_error *err)
{
	saf_tls_node *n;

	if (cfg->n_pairs == 0 || cfg->n_pairs > SAF_TLS_NODE_PAIRS_MAX) {
		saf_fail(err, SAF_E_INVAL, "node: 1..%u anycast/unicast pairs",
			 SAF_TLS_NODE_PAIRS_MAX);
		return NULL;
	}
	if (!cfg->backend_fn && !cfg->backend.has_port) {
		saf_fail(err, SAF_E_INVAL, "node: no backend");
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		saf_fail(err, SAF_E_NOMEM, "node: out of memory");
		return NULL;
	}
	n->ctx = ctx;
	n->backend = cfg->backend;
	n->notify = cfg->notify_target;
	n->has_notify = cfg->has_notify_target;
	n->user_backend = cfg->backend_fn;
	n->user_backend_arg = cfg->backend_arg;
	n->env = (saf_tls_node_env){
		.log = cfg->log,
		.log_arg = cfg->log_arg,
		.backend = cfg->backend_fn ? backend_user : backend_connect,
		.backend_arg = cfg->backend_fn ? (void *)n : &n->backend};
	if (make_admission(n, cfg, err) || make_server(n, ctx, cfg, err) ||
	    listen_all(n, cfg, err)) {
		saf_tls_node_free(n);
		return NULL;
	}
	n->pfd = calloc(saf_tls_node_pollfds_max(n), sizeof(*n->pfd));
	if (!n->pfd) {
		saf_tls_node_free(n);
		saf_fail(err, SAF_E_NOMEM, "node: out of memory");
		return NULL;
	}
	return n;
}

/* conns[i] is closed; release: its slot is still the admission unit's
 * (not when the unit itself timed it out or evicted it). */
static void drop(saf_tls_node *n, unsigned i, bool release)
{
	saf_tls_node_conn_close(&n->conns[i], n->streams);
	if (release)
		saf_adm_release(n->adm, i);
	n->live--;
}

void saf_tls_node_close_all(saf_tls_node *n)
{
	for (unsigned i = 0; n->conns && i < n->max_conns; i++)
		if (n->conns[i].used)
			drop(n, i, true);
}

void saf_tls_node_free(saf_tls_node *n)
{
	if (!n)
		return;
	saf_tls_node_close_all(n);
	for (size_t i = 0; i < n->nls; i++)
		if (n->ls[i].fd >= 0)
			close(n->ls[i].fd);
	saf_tls_server_streams_free(n->streams);
	saf_adm_free(n->adm);
	saf_tls_server_free(n->srv);
	free(n->conns);
	free(n->pfd);
	free(n);
}

int saf_tls_node_listen_addr(const saf_tls_node *n, size_t i, saf_addr *out)
{
	if (i >= n->nls)
		return -1;
	*out = n->ls[i].addr;
	return 0;
}

/* Tells the admission unit what conns[i] did in its last step. */
static void note(saf_tls_node *n, unsigned i, bool was_done, uint64_t moved,
		 uint64_t now)
{
	const saf_tls_node_conn *c = &n->conns[i];

	if (!c->hs_done) {
		/* Past TLS_ST_BEFORE: a ClientHello came, the peer spoke. */
		if (SSL_get_state(c->ssl) != TLS_ST_BEFORE)
			saf_adm_activity(n->adm, i, now);
	} else if (!was_done) {
		saf_adm_established(n->adm, i, c->sess != NULL, now);
	} else if (c->moved != moved) {
		saf_adm_activity(n->adm, i, now);
	}
}

/* A newcomer on l in slot: its SSL, its target, its first step. */
static void start(saf_tls_node *n, unsigned slot, int fd,
		  const saf_tls_listener *l)
{
	saf_tls_node_conn *c = &n->conns[slot];
	saf_error e = {0};

	/* Whole TLS records: no Nagle (tickets then a reply would wait a
	 * round trip for an ACK). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	c->used = true;
	c->cfd = fd;
	c->l = l;
	n->live++;
	c->ssl = SSL_new(n->ctx);
	if (!c->ssl) {
		drop(n, slot, true);
		return;
	}
	SSL_set_fd(c->ssl, fd);
	SSL_set_app_data(c->ssl, c); /* saf_tls_server_streams_on_token */
	if (l->anycast && saf_tls_server_set_target(c->ssl, &l->unicast, &e))
		saf_tls_node_logf(&n->env, SAF_TLS_NODE_LOG_ERROR, "%s", e.msg);
	/* The local address is read back from the socket (getsockname) when
	 * a token arrives. A real client's ClientHello is usually there
	 * already: read it now, so the slot counts as one that spoke before
	 * the rest of this batch looks for silent ones to evict. */
	if (saf_tls_node_conn_step(c, n->streams, &n->env))
		drop(n, slot, true);
	else
		note(n, slot, false, 0, saf_clock_mono_ms());
}

/* Accepts what waits on l, a batch at most. Each newcomer gets a slot from
 * the admission unit (perhaps by evicting a silent handshake or a quiet
 * connection) or is closed at once: listeners are always polled, so peers
 * that hold connections open can never stop accept. */
static void accept_batch(saf_tls_node *n, const saf_tls_listener *l)
{
	for (unsigned b = 0; b < ACCEPT_BATCH; b++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		saf_addr src;
		saf_error e;
		unsigned slot;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (saf_addr_from_sockaddr((struct sockaddr *)&ss, sl, &src,
					   &e)) {
			close(fd);
			continue;
		}
		switch (saf_adm_admit(n->adm, &src, saf_clock_mono_ms(),
				      &slot)) {
		case SAF_ADM_EVICT:
			drop(n, slot, false);
			break;
		case SAF_ADM_ACCEPT:
			break;
		default: /* counted by the unit */
			close(fd);
			continue;
		}
		start(n, slot, fd, l);
	}
}

size_t saf_tls_node_notify(saf_tls_node *n)
{
	size_t told = 0;

	for (unsigned i = 0; i < n->max_conns; i++) {
		saf_tls_node_conn *c = &n->conns[i];
		const saf_addr *to;
		saf_error e = {0};

		/* Continuity streams move on any address (by default to the
		 * one they are on): the move is underneath, nothing is lost.
		 * A plain connection on the unicast address (TLS over saf
		 * TCP lands there) is told only when there is somewhere else
		 * to go: --notify-target drains this node. */
		if (!c->used || !c->hs_done ||
		    (!c->l->anycast && !c->sess && !n->has_notify))
			continue;
		to = n->has_notify   ? &n->notify
		     : c->l->anycast ? &c->l->unicast
				     : &c->l->addr;
		if (saf_tls_server_migrate_notify(c->ssl, to, &e)) {
			saf_tls_node_logf(&n->env, SAF_TLS_NODE_LOG_INFO, "%s",
					  e.msg);
			continue;
		}
		(void)SSL_do_handshake(c->ssl); /* flush */
		told++;
	}
	return told;
}

size_t saf_tls_node_pollfds_max(const saf_tls_node *n)
{
	return n->nls + 2u * n->max_conns;
}

size_t saf_tls_node_pollfds(const saf_tls_node *n, struct pollfd *pfd)
{
	size_t k = 0;

	for (size_t i = 0; i < n->nls; i++)
		pfd[k++] = (struct pollfd){.fd = n->ls[i].fd, .events = POLLIN};
	for (unsigned i = 0; i < n->max_conns; i++, k += 2)
		saf_tls_node_conn_events(&n->conns[i], &pfd[k], &pfd[k + 1]);
	return k;
}

int saf_tls_node_timeout_ms(const saf_tls_node *n)
{
	uint64_t next = saf_adm_next_ms(n->adm, saf_clock_mono_ms());

	return next < TICK_MS ? (int)next : (int)TICK_MS;
}

/* One round over the connections: deadlines first, then what moved. */
static void step_conns(saf_tls_node *n, const struct pollfd *pfd)
{
	uint64_t now = saf_clock_mono_ms();

	for (unsigned i = 0; i < n->max_conns; i++) {
		saf_tls_node_conn *c = &n->conns[i];
		short ev =
			(short)(pfd[2u * i].revents | pfd[2u * i + 1].revents);
		bool was_done = c->hs_done;
		uint64_t moved = c->moved;

		if (!c->used)
			continue;
		if (c->kill) { /* its stream moved to a newer one */
			drop(n, i, true);
			continue;
		}
		if (saf_adm_check(n->adm, i, now) != SAF_ADM_KEEP) {
			drop(n, i, false); /* released and counted */
			continue;
		}
		/* Continuity: records already decrypted need no event. */
		if (c->sess && SSL_pending(c->ssl) > 0)
			ev = POLLIN;
		/* A fresh connection has no events yet: try it. */
		if (!ev && c->hs_done)
			continue;
		if (saf_tls_node_conn_step(c, n->streams, &n->env)) {
			drop(n, i, true);
			continue;
		}
		note(n, i, was_done, moved, now);
	}
}

void saf_tls_node_step(saf_tls_node *n, const struct pollfd *pfd, size_t np)
{
	uint64_t now_s = n->srv->clock(n->srv->clock_arg);

	if (n->streams && now_s != n->tick_at) {
		n->tick_at = now_s;
		saf_tls_server_streams_tick(n->streams);
	}
	if (np < saf_tls_node_pollfds_max(n))
		return; /* not this node's poll set */
	for (size_t i = 0; i < n->nls; i++)
		if (pfd[i].revents & POLLIN)
			accept_batch(n, &n->ls[i]);
	step_conns(n, pfd + n->nls);
}

int saf_tls_node_poll(saf_tls_node *n, int max_ms, saf_error *err)
{
	size_t np = saf_tls_node_pollfds(n, n->pfd);
	int tmo = saf_tls_node_timeout_ms(n);

	if (max_ms >= 0 && max_ms < tmo)
		tmo = max_ms;
	if (poll(n->pfd, np, tmo) < 0) {
		if (errno == EINTR)
			return 0;
		return saf_fail(err, SAF_E_SYS, "poll: %s", strerror(errno));
	}
	saf_tls_node_step(n, n->pfd, np);
	return 0;
}

void saf_tls_node_counters_get(const saf_tls_node *n,
			       saf_tls_node_counters *out)
{
	memset(out, 0, sizeof(*out));
	out->connections = n->live;
	saf_tls_server_counters_get(n->srv, &out->server);
	out->continuity = n->streams != NULL;
	if (n->streams)
		saf_tls_server_streams_counters(n->streams, &out->streams);
	saf_adm_counters_get(n->adm, &out->admission);
}
