/* SPDX-License-Identifier: MIT */
/*
 * The engine <-> TLS pump of a continuity stream (cont_pump.h), one copy
 * for the client's and the node's side.
 */
#include "cont_pump.h"

#include <errno.h>

#include <openssl/err.h>

void saf_tls_cont_pump_reset(saf_tls_cont_pump *p)
{
	p->in_off = p->in_len = 0;
	p->out_off = p->out_len = 0;
	p->want_write = false;
}

int saf_tls_cont_pump_read(saf_tls_cont_pump *p, SSL *ssl, saf_cont *cont,
			   int *ssl_err)
{
	const uint8_t *held;
	int r, e;

	*ssl_err = 0;
	if (p->in_len || saf_cont_readable(cont, &held))
		return 0;
	ERR_clear_error();
	errno = 0;
	r = SSL_read(ssl, p->in, sizeof(p->in));
	if (r > 0) {
		p->in_off = 0;
		p->in_len = (size_t)r;
		return 1;
	}
	p->timed_out = errno == ETIMEDOUT;
	e = SSL_get_error(ssl, r);
	*ssl_err = e;
	if (e == SSL_ERROR_WANT_READ) {
		saf_cont_input_idle(cont);
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		p->want_write = true;
		return 0;
	}
	return -1;
}

int saf_tls_cont_pump_feed(saf_tls_cont_pump *p, saf_cont *cont, size_t *used,
			   saf_error *err)
{
	*used = 0;
	if (!p->in_len)
		return 0;
	if (saf_cont_input(cont, p->in + p->in_off, p->in_len, used, err))
		return -1;
	p->in_off += *used;
	p->in_len -= *used;
	return 0;
}

int saf_tls_cont_pump_write(saf_tls_cont_pump *p, SSL *ssl, saf_cont *cont)
{
	int progress = 0;

	for (;;) {
		int r, e;

		if (p->out_off == p->out_len) {
			p->out_off = 0;
			p->out_len =
				saf_cont_output(cont, p->out, sizeof(p->out));
			if (!p->out_len)
				return progress;
		}
		ERR_clear_error();
		errno = 0;
		r = SSL_write(ssl, p->out + p->out_off,
			      (int)(p->out_len - p->out_off));
		if (r > 0) {
			p->out_off += (size_t)r;
			progress = 1;
			continue;
		}
		p->timed_out = errno == ETIMEDOUT;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			p->want_write = true;
			return progress;
		}
		return -1;
	}
}

bool saf_tls_cont_pump_flushed(const saf_tls_cont_pump *p)
{
	return p->out_off == p->out_len;
}

void saf_tls_cont_send_reset(SSL *ssl, unsigned code)
{
	saf_cont_frame f = {.type = SAF_CONT_RESET, .code = (uint8_t)code};
	uint8_t b[8];
	size_t n = saf_cont_frame_encode(&f, b, sizeof(b));

	ERR_clear_error();
	(void)SSL_write(ssl, b, (int)n);
}
