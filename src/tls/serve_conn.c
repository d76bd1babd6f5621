/* SPDX-License-Identifier: MIT */
/*
 * One client connection of the node proxy (saf/tls_node.h): the TLS
 * handshake, then either the plain TLS variant's pump (one backend
 * connection per TLS connection, bytes copied both ways, half-closes
 * passed on) or, when continuity was negotiated, its stream
 * (serve_stream.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "saf/tls.h"
#include "cont_pump.h"
#include "serve_internal.h"
#include "tls_internal.h"

void saf_tls_node_logf(const saf_tls_node_env *env,
		       saf_tls_node_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!env->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	env->log(env->log_arg, level, line);
}

void saf_tls_node_conn_reset(saf_tls_node_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->cfd = c->bfd = -1;
}

void saf_tls_node_conn_close(saf_tls_node_conn *c, saf_tls_server_streams *t)
{
	if (c->sess)
		saf_tls_server_stream_detach(t,
					     c); /* the client may come back */
	if (c->ssl) {
		if (c->hs_done)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->bfd >= 0)
		close(c->bfd);
	saf_tls_node_conn_reset(c);
}

/* A refused migration, in one line (verbose). */
static void log_refusal(SSL *ssl, const saf_tls_node_env *env)
{
	saf_tls_conn_info info;

	if (saf_tls_server_conn_info(ssl, &info) || !info.refusal)
		return;
	saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO, "refused: %s%s%s",
			  saf_tls_refusal_name(info.refusal),
			  info.refusal == SAF_TLS_REFUSE_VERDICT ? " " : "",
			  info.refusal == SAF_TLS_REFUSE_VERDICT
				  ? saf_verdict_name(info.verdict)
				  : "");
}

/* After a failed SSL call, its SSL_get_error e: 0 when it only has to
 * wait (for POLLOUT: want_write), -1 when the connection is gone. */
static int ssl_wait(saf_tls_node_conn *c, int e)
{
	if (e == SSL_ERROR_WANT_WRITE)
		c->want_write = true;
	return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
}

/* The handshake: 1 done (now), 0 not yet, -1 failed. Once the node has
 * sent its Finished (it then waits for the client's in
 * TLS_ST_EARLY_DATA), the early credential it issued enters the table:
 * a client that verified that flight can come back with it even if its
 * own Finished never arrives here. */
static int handshake(saf_tls_node_conn *c, saf_tls_server_streams *t,
		     const saf_tls_node_env *env)
{
	int r, e;

	ERR_clear_error();
	r = SSL_accept(c->ssl);
	if (r == 1) {
		c->hs_done = true;
		return 1;
	}
	e = SSL_get_error(c->ssl, r);
	if (t && e == SSL_ERROR_WANT_READ &&
	    SSL_get_state(c->ssl) == TLS_ST_EARLY_DATA)
		saf_tls_server_streams_issue(t, c);
	if (ssl_wait(c, e) == 0)
		return 0;
	log_refusal(c->ssl, env);
	return -1;
}

/* TLS -> c2b. 1 progress, 0 none, -1 connection gone. */
static int client_read(saf_tls_node_conn *c)
{
	int r, e;

	if (c->c2b_len || c->client_eof)
		return 0;
	/* One thread serves every connection: an error left by another one
	 * must not be read as this one's. */
	ERR_clear_error();
	r = SSL_read(c->ssl, c->c2b, SAF_TLS_NODE_BUF_LEN);
	if (r > 0) {
		c->c2b_off = 0;
		c->c2b_len = (size_t)r;
		c->moved++;
		return 1;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_ZERO_RETURN) {
		/* close_notify: half-close the backend */
		c->client_eof = true;
		shutdown(c->bfd, SHUT_WR);
		return 1;
	}
	return ssl_wait(c, e);
}

/* b2c -> TLS. 1 progress, 0 none, -1 connection gone. */
static int client_write(saf_tls_node_conn *c)
{
	int r;

	if (!c->b2c_len)
		return 0;
	ERR_clear_error();
	r = SSL_write(c->ssl, c->b2c + c->b2c_off, (int)c->b2c_len);
	if (r > 0) {
		c->b2c_off += (size_t)r;
		c->b2c_len -= (size_t)r;
		c->moved++;
		return 1;
	}
	return ssl_wait(c, SSL_get_error(c->ssl, r));
}

/* c2b -> backend, backend -> b2c. 1 progress, 0 none, -1 backend gone. */
static int backend_io(saf_tls_node_conn *c)
{
	int progress = 0;

	if (c->c2b_len) {
		ssize_t n = write(c->bfd, c->c2b + c->c2b_off, c->c2b_len);

		if (n > 0) {
			c->c2b_off += (size_t)n;
			c->c2b_len -= (size_t)n;
			progress = 1;
		} else if (n < 0 && errno != EAGAIN) {
			return -1;
		}
	}
	if (c->b2c_len == 0 && !c->backend_eof) {
		ssize_t n = read(c->bfd, c->b2c, SAF_TLS_NODE_BUF_LEN);

		if (n > 0) {
			c->b2c_off = 0;
			c->b2c_len = (size_t)n;
			progress = 1;
		} else if (n == 0) {
			c->backend_eof = true;
			progress = 1;
		} else if (errno != EAGAIN) {
			return -1;
		}
	}
	return progress;
}

/* The plain TLS variant: copies both ways until neither moves. */
static int pump(saf_tls_node_conn *c)
{
	int progress = 1;

	while (progress) {
		int r1 = client_read(c);
		int r2 = r1 < 0 ? -1 : backend_io(c);
		int r3 = r2 < 0 ? -1 : client_write(c);

		if (r3 < 0)
			return -1;
		progress = r1 | r2 | r3;
	}
	if (c->backend_eof && c->b2c_len == 0)
		return -1; /* backend done: close_notify to the client */
	return 0;
}

/* A connection that came back with an early credential: its first frame,
 * REATTACH, gathered in c2b (the plain pump's buffer, unused here), then
 * the stream it names. 0 not all there yet, -1 close c. */
static int reattach_read(saf_tls_node_conn *c, saf_tls_server_streams *t,
			 const saf_tls_node_env *env)
{
	saf_cont_frame f;
	saf_error e = {0};
	size_t used = 0;
	int r;

	/* Judged on its first byte: anything else is refused at once. */
	while ((r = saf_cont_frame_decode(c->c2b, c->c2b_len, &f, &used, &e)) ==
		       0 &&
	       (c->c2b_len == 0 || c->c2b[0] == SAF_CONT_REATTACH)) {
		ERR_clear_error();
		r = SSL_read(c->ssl, c->c2b + c->c2b_len,
			     (int)(sizeof(c->c2b) - c->c2b_len));
		if (r <= 0)
			return ssl_wait(c, SSL_get_error(c->ssl, r));
		c->c2b_len += (size_t)r;
		c->moved++;
	}
	if (r != 1 || f.type != SAF_CONT_REATTACH) {
		saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO,
				  "continuity: a reattach began without "
				  "REATTACH (%s): RESET protocol_violation",
				  r < 0 ? e.msg : "another frame");
		saf_tls_cont_send_reset(c->ssl, SAF_CONT_RESET_PROTOCOL);
		return -1;
	}
	c->await_reattach = false;
	r = saf_tls_server_stream_reattach(t, c, env, f.data, c->c2b + used,
					   c->c2b_len - used);
	c->c2b_len = 0;
	return r;
}

int saf_tls_node_conn_step(saf_tls_node_conn *c, saf_tls_server_streams *t,
			   const saf_tls_node_env *env)
{
	saf_error e = {0};

	if (c->sess)
		return saf_tls_server_stream_step(t, c, env);
	c->want_write = false;
	if (c->await_reattach)
		return reattach_read(c, t, env);
	if (!c->hs_done) {
		int r = handshake(c, t, env);

		if (r <= 0)
			return r;
		if (t && saf_tls_continuity(c->ssl)) {
			/* Entered at the node's Finished already, unless
			 * the whole handshake ran in one call. */
			saf_tls_server_streams_issue(t, c);
			if (!saf_tls_server_reattach_requested(c->ssl))
				return saf_tls_server_stream_attach(t, c, env);
			c->await_reattach = true;
			return reattach_read(c, t, env);
		}
		c->bfd = env->backend(env->backend_arg, c->ssl, &e);
		if (c->bfd < 0) {
			saf_tls_node_logf(env, SAF_TLS_NODE_LOG_ERROR, "%s",
					  e.msg);
			return -1;
		}
	}
	return pump(c);
}

void saf_tls_node_conn_events(const saf_tls_node_conn *c, struct pollfd *cp,
			      struct pollfd *bp)
{
	if (c->used && c->sess) {
		short cev, bev;
		int bfd;

		saf_tls_server_stream_events(c, &cev, &bfd, &bev);
		*cp = (struct pollfd){.fd = c->cfd, .events = cev};
		*bp = (struct pollfd){.fd = bfd, .events = bev};
		return;
	}
	*cp = (struct pollfd){
		.fd = c->used ? c->cfd : -1,
		.events = (short)(POLLIN | (c->want_write ? POLLOUT : 0))};
	*bp = (struct pollfd){.fd = c->used && c->bfd >= 0 ? c->bfd : -1,
			      .events = (short)((c->b2c_len ? 0 : POLLIN) |
						(c->c2b_len ? POLLOUT : 0))};
}
