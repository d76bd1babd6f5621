/* SPDX-License-Identifier: MIT */
/* The extension table and its registration on an SSL_CTX. */
#include "tls_internal.h"

/* Order matters: OpenSSL parses custom extensions in registration order,
 * so migration_support is known when migration_token is parsed, and adds
 * them in that order, so the token of a ticket precedes migrate_notify. */
static const saf_tls_ext *const table[] = {
	&saf_tls_ext_migration_support,
	&saf_tls_ext_migration_token,
	&saf_tls_ext_migrate_notify,
	&saf_tls_ext_continuity,
	&saf_tls_ext_reattach,
};

int saf_tls_ext_register_all(SSL_CTX *ctx, saf_tls_base *base, saf_error *err)
{
	if (saf_tlsext_codepoints_check(&base->cp, err))
		return -1;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const saf_tls_ext *e = table[i];

		if (SSL_CTX_add_custom_ext(ctx, e->type(&base->cp),
					   e->contexts | SSL_EXT_TLS1_3_ONLY,
					   e->add, NULL, base, e->parse,
					   base) != 1)
			return saf_fail(err, SAF_E_INVAL,
					"tls: cannot register %s (0x%04x): "
					"already registered on this context?",
					e->name, e->type(&base->cp));
	}
	return 0;
}
