/* SPDX-License-Identifier: MIT */
/*
 * Continuity's early credentials, the node's table (docs/continuity.md,
 * "Early credential"): every continuity handshake issues one (id, key)
 * once the node has sent its Finished; a connection that comes back with
 * it proves the key bound to itself (REATTACH) and takes the stream over,
 * or, when the first connection never finished its handshake here, gets
 * a new stream that resumes from nothing.
 *
 * Bounded: a fixed number of entries (twice the node's connections), each
 * for the stream linger at most, one use each; when full, the oldest
 * entry makes room (counted). Nothing of it is in a ticket: only this
 * process can honour a credential it issued.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "serve_internal.h"
#include "tls_internal.h"

typedef struct cred_entry {
	bool used, spent;
	bool opens; /* issued by a stream's first handshake */
	uint8_t id[SAF_REATTACH_ID_LEN];
	uint8_t key[SAF_REATTACH_KEY_LEN];
	uint64_t issued, expiry; /* the server's clock, s */
	saf_tls_cred_link link;
} cred_entry;

struct saf_tls_node_creds {
	cred_entry *e;
	unsigned n;
	unsigned ttl_s;
	saf_clock_fn clock;
	void *clock_arg;
	saf_tls_node_cred_counters k;
};

saf_tls_node_creds *saf_tls_node_creds_new(unsigned cap, unsigned ttl_s,
					   saf_clock_fn clock, void *clock_arg)
{
	saf_tls_node_creds *c = calloc(1, sizeof(*c));

	if (c)
		c->e = calloc(cap ? cap : 1u, sizeof(*c->e));
	if (!c || !c->e) {
		free(c);
		return NULL;
	}
	c->n = cap ? cap : 1u;
	c->ttl_s = ttl_s ? ttl_s : 1u;
	c->clock = clock;
	c->clock_arg = clock_arg;
	return c;
}

static void drop(cred_entry *e)
{
	OPENSSL_cleanse(e, sizeof(*e));
}

void saf_tls_node_creds_free(saf_tls_node_creds *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->n; i++)
		drop(&c->e[i]);
	free(c->e);
	free(c);
}

static cred_entry *find(saf_tls_node_creds *c,
			const uint8_t id[SAF_REATTACH_ID_LEN])
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].used &&
		    memcmp(c->e[i].id, id, SAF_REATTACH_ID_LEN) == 0)
			return &c->e[i];
	return NULL;
}

void saf_tls_node_creds_issue(saf_tls_node_creds *c,
			      const uint8_t id[SAF_REATTACH_ID_LEN],
			      const uint8_t key[SAF_REATTACH_KEY_LEN],
			      bool opens)
{
	uint64_t now = c->clock(c->clock_arg);
	cred_entry *slot = NULL, *oldest = NULL;

	for (unsigned i = 0; i < c->n && !slot; i++) {
		cred_entry *e = &c->e[i];

		if (!e->used || now >= e->expiry)
			slot = e;
		else if (!oldest || e->issued < oldest->issued)
			oldest = e;
	}
	if (!slot) {
		slot = oldest;
		c->k.evicted++;
	}
	drop(slot);
	slot->used = true;
	slot->opens = opens;
	memcpy(slot->id, id, SAF_REATTACH_ID_LEN);
	memcpy(slot->key, key, SAF_REATTACH_KEY_LEN);
	slot->issued = now;
	slot->expiry = now + c->ttl_s;
	c->k.issued++;
}

void saf_tls_node_creds_link(saf_tls_node_creds *c,
			     const uint8_t id[SAF_REATTACH_ID_LEN],
			     saf_tls_cred_link link)
{
	cred_entry *e = find(c, id);

	if (e && !e->spent)
		e->link = link;
}

bool saf_tls_node_creds_spent(saf_tls_node_creds *c,
			      const uint8_t id[SAF_REATTACH_ID_LEN])
{
	const cred_entry *e = find(c, id);

	return e && e->spent;
}

int saf_tls_node_creds_take(saf_tls_node_creds *c, SSL *ssl,
			    const uint8_t body[SAF_REATTACH_FRAME_BODY],
			    saf_tls_cred_link *out, const char **why)
{
	const uint8_t *id = body, *proof = body + SAF_REATTACH_ID_LEN;
	uint8_t want[SAF_REATTACH_PROOF_LEN];
	cred_entry *e = find(c, id);
	int ok;

	if (!e || e->spent || c->clock(c->clock_arg) >= e->expiry) {
		*why = !e	  ? "unknown credential (never issued here, or "
				    "evicted)"
		       : e->spent ? "credential already used"
				  : "credential expired";
		c->k.refused++;
		return 0;
	}
	if (saf_tls_reattach_proof(ssl, id, e->key, want)) {
		*why = "proof cannot be computed on this connection";
		c->k.refused++;
		return 0;
	}
	ok = CRYPTO_memcmp(want, proof, sizeof(want)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (!ok) {
		/* Not the client of the handshake that issued it, or a proof
		 * made for another connection: the credential stays. */
		*why = "wrong proof";
		c->k.refused++;
		return 0;
	}
	if (!e->link.gen && !e->opens) {
		/* A move's or a comeback's handshake that never finished
		 * here names no stream, and must not start one: the stream
		 * it was for lives on, with data a new one would not have. */
		*why = "its connection never carried a stream here";
		c->k.refused++;
		return 0;
	}
	*out = e->link;
	/* Spent, not dropped: the first connection, should its handshake
	 * finish after all, must not open a second stream. */
	e->spent = true;
	OPENSSL_cleanse(e->key, sizeof(e->key));
	c->k.reattached++;
	return 1;
}

void saf_tls_node_creds_tick(saf_tls_node_creds *c)
{
	uint64_t now = c->clock(c->clock_arg);

	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].used && now >= c->e[i].expiry)
			drop(&c->e[i]);
}

void saf_tls_node_creds_counters(const saf_tls_node_creds *c,
				 saf_tls_node_cred_counters *out)
{
	*out = c->k;
}
