/* SPDX-License-Identifier: MIT */
/*
 * TLS over saf TCP (docs/tls.md): the client's TCP connection to S opened
 * with the TCP variant. The node's advert in the SYN-ACK moves the client
 * to the node's unicast address U before its ClientHello, so the whole TLS
 * handshake happens at U and a route change of S after the SYN cannot
 * break the connection (the seed procedure needs S until its ticket
 * arrives, about 2.5 RTT). Without a usable advert the connection to S is
 * kept and the seed procedure runs on it as before: no extra round trip.
 */
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "saf/tcp.h"
#include "tls_internal.h"

const char *saf_tls_tcp_variant_name(saf_tls_tcp_variant v)
{
	switch (v) {
	case SAF_TLS_TCP_AUTO:
		return "auto";
	case SAF_TLS_TCP_OFF:
		return "off";
	case SAF_TLS_TCP_ON:
		return "on";
	}
	return "unknown";
}

int saf_tls_tcp_variant_parse(const char *s, saf_tls_tcp_variant *out,
			      saf_error *err)
{
	static const saf_tls_tcp_variant all[] = {
		SAF_TLS_TCP_AUTO, SAF_TLS_TCP_OFF, SAF_TLS_TCP_ON};

	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, saf_tls_tcp_variant_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return saf_fail(err, SAF_E_INVAL,
			"tcp variant '%s': expected auto, on or off",
			s ? s : "");
}

/* The TLS client's own target policy judges adverts too: an advert is as
 * unauthenticated as a token's target, and one policy for both keeps a
 * deployment's --allow-target meaning one thing. */
static const saf_target_policy *client_policy(SSL_CTX *ctx)
{
	saf_tls_base *base = saf_tls_base_of_ctx(ctx);

	return base && !base->is_server ? &((saf_tls_client *)base)->policy
					: NULL;
}

int saf_tls_tcp_open(SSL_CTX *ctx, const saf_addr *s,
		     const saf_tls_connect_opts *o, unsigned timeout_ms,
		     saf_addr *peer, bool *via, char *note, size_t cap,
		     saf_error *err)
{
	saf_tcp_connect_opts to = {
		.timeout_ms = timeout_ms,
		.pin_dir = o->tcp_pin_dir,
		.policy = client_policy(ctx),
	};
	saf_tcp_result r;
	char a[SAF_ADDR_STR_LEN];
	int fd;

	*via = false;
	*peer = *s;
	note[0] = '\0';
	/* No affinity cache: each connect learns afresh from the advert, so
	 * a node that left is never tried first. (The kernel cache is left
	 * alone: saf_tcp_connect marks its socket to S exempt.) */
	fd = saf_tcp_connect(s, &to, &r, err);
	if (fd < 0)
		return -1;
	if (r.outcome == SAF_TCP_MIGRATED || r.outcome == SAF_TCP_CACHED) {
		*via = true;
		*peer = r.final;
		snprintf(note, cap, "via TCP advert at %s",
			 saf_addr_format(&r.final, a));
	} else if (o->tcp_variant == SAF_TLS_TCP_ON) {
		/* Required and not there: an error, not a quiet S. */
		close(fd);
		return saf_fail(err, SAF_E_REFUSED, "tcp variant on: %s: %s",
				saf_tcp_outcome_name(r.outcome), r.reason);
	} else {
		/* no_advert (none, or refused) or fallback (U did not
		 * answer): the reason says which. */
		snprintf(note, cap, "not via TCP advert (%s: %s)",
			 saf_tcp_outcome_name(r.outcome), r.reason);
	}
	/* As tcp_connect in connect.c: TLS writes whole records, Nagle would
	 * only hold the Finished back by a round trip. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	return fd;
}
