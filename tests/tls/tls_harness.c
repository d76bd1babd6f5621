/* SPDX-License-Identifier: MIT */
#include "tls_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

/* Checked even with NDEBUG: a broken harness must stop the test. */
#define need(x)                                                                \
	do {                                                                   \
		if (!(x)) {                                                    \
			fprintf(stderr, "harness: %s failed\n", #x);           \
			abort();                                               \
		}                                                              \
	} while (0)

void harness_init(harness *h)
{
	X509_NAME *name;
	X509_EXTENSION *ext;

	h->key = EVP_EC_gen("P-256");
	h->cert = X509_new();
	need(h->key && h->cert);
	X509_set_version(h->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(h->cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(h->cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(h->cert), 3600);
	X509_set_pubkey(h->cert, h->key);
	name = X509_get_subject_name(h->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"saf.test", -1, -1,
				   0);
	X509_set_issuer_name(h->cert, name);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
				  "DNS:saf.test");
	X509_add_ext(h->cert, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
				  "critical,CA:TRUE");
	X509_add_ext(h->cert, ext, -1);
	X509_EXTENSION_free(ext);
	need(X509_sign(h->cert, h->key, EVP_sha256()) > 0);
}

void harness_free(harness *h)
{
	X509_free(h->cert);
	EVP_PKEY_free(h->key);
}

SSL_CTX *harness_server_ctx(const harness *h)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	need(ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	need(SSL_CTX_use_certificate(ctx, h->cert) == 1);
	need(SSL_CTX_use_PrivateKey(ctx, h->key) == 1);
	return ctx;
}

SSL_CTX *harness_client_ctx(const harness *h)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	need(ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), h->cert);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

bool harness_handshake(SSL *client, SSL *server)
{
	BIO *bc = NULL, *bs = NULL;
	bool cdone = false, sdone = false, cfail = false, sfail = false;

	need(BIO_new_bio_pair(&bc, 0, &bs, 0) == 1);
	SSL_set_bio(client, bc, bc);
	SSL_set_bio(server, bs, bs);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	SSL_set_tlsext_host_name(client, "saf.test");
	SSL_set1_host(client, "saf.test");
	for (int i = 0; i < 50 && !(cdone && sdone) && !(cfail || sfail); i++) {
		if (!cdone) {
			int r = SSL_do_handshake(client);
			if (r == 1)
				cdone = true;
			else if (SSL_get_error(client, r) !=
				 SSL_ERROR_WANT_READ)
				cfail = true;
		}
		if (!sdone) {
			int r = SSL_do_handshake(server);
			if (r == 1)
				sdone = true;
			else if (SSL_get_error(server, r) !=
				 SSL_ERROR_WANT_READ)
				sfail = true;
		}
	}
	if (cfail && !sfail)
		(void)SSL_do_handshake(server); /* let it read the alert */
	if (sfail && !cfail)
		(void)SSL_do_handshake(client);
	return cdone && sdone;
}

void harness_pump(SSL *client, SSL *server)
{
	char c;

	for (int i = 0; i < 4; i++) {
		(void)SSL_do_handshake(server); /* flushes queued tickets */
		(void)SSL_peek(client, &c, 1);
		(void)SSL_peek(server, &c, 1);
	}
}

int harness_listen(const char *ip, saf_addr *out)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	need(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	need(inet_pton(AF_INET, ip, &sin.sin_addr) == 1);
	need(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	need(listen(fd, 8) == 0);
	need(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	need(saf_addr_from_sockaddr((struct sockaddr *)&sin, len, out, NULL) ==
	     0);
	return fd;
}
