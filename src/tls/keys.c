/* SPDX-License-Identifier: MIT */
/*
 * The key file shared by the nodes of one service (format in tls.h). Key
 * bytes never reach an error message or a log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "saf/hex.h"
#include "saf/keyfile.h"
#include "tls_internal.h"

int saf_tls_keys_generate(saf_tls_keys *out, saf_error *err)
{
	memset(out, 0, sizeof(*out)); /* no previous keys */
	if (RAND_bytes(out->node_key, sizeof(out->node_key)) != 1 ||
	    RAND_bytes(out->ticket_keys, sizeof(out->ticket_keys)) != 1)
		return saf_fail(err, SAF_E_CRYPTO,
				"libcrypto: RAND_bytes failed");
	return 0;
}

void saf_tls_keys_wipe(saf_tls_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

void saf_tls_server_config_use_keys(saf_tls_server_config *cfg,
				    const saf_tls_keys *k)
{
	memcpy(cfg->node_key, k->node_key, sizeof(cfg->node_key));
	memcpy(cfg->ticket_keys, k->ticket_keys, sizeof(cfg->ticket_keys));
	cfg->has_ticket_keys = true;
	memcpy(cfg->prev_node_keys, k->prev, sizeof(cfg->prev_node_keys));
	cfg->n_prev_node_keys = k->n_prev;
}

static int parse_hex(const char *path, unsigned line, const char *name,
		     const char *text, size_t len, uint8_t *out, size_t n,
		     saf_error *err)
{
	if (len != 2 * n)
		return saf_fail(err, SAF_E_FORMAT,
				"%s:%u: %s: expected %zu hex digits, found %zu",
				path, line, name, 2 * n, len);
	for (size_t i = 0; i < n; i++) {
		int v = 0;

		for (size_t j = 0; j < 2; j++) {
			char c = text[2 * i + j];
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d < 0)
				return saf_fail(err, SAF_E_FORMAT,
						"%s:%u: %s: character %zu of "
						"the value is not a hex digit",
						path, line, name,
						2 * i + j + 1);
			v = v * 16 + d;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Reads the next line of f into buf (NUL-terminated, its line end not
 * included). A line ends with LF; a CR is allowed only right before it
 * (CRLF files); the last line may lack its LF. 1: a line, 0: end of
 * file, -1: refused (err names the line; never a byte of it). */
static int read_line(FILE *f, const char *path, unsigned line,
		     char buf[static SAF_TLS_KEYS_LINE_MAX + 1], saf_error *err)
{
	size_t n = 0;
	bool cr = false;
	int c = getc(f);

	if (c == EOF)
		return ferror(f) ? saf_fail(err, SAF_E_SYS, "%s: read failed",
					    path)
				 : 0;
	for (; c != EOF && c != '\n'; c = getc(f)) {
		if (cr)
			break; /* a CR, then not LF */
		if (c == '\r') {
			cr = true;
			continue;
		}
		if (c == '\0')
			return saf_fail(err, SAF_E_FORMAT,
					"%s:%u: column %zu: NUL byte", path,
					line, n + 1);
		if (n == SAF_TLS_KEYS_LINE_MAX)
			return saf_fail(err, SAF_E_FORMAT,
					"%s:%u: line longer than %u bytes",
					path, line, SAF_TLS_KEYS_LINE_MAX);
		buf[n++] = (char)c;
	}
	if (ferror(f))
		return saf_fail(err, SAF_E_SYS, "%s: read failed", path);
	if (cr && c != '\n')
		return saf_fail(
			err, SAF_E_FORMAT,
			"%s:%u: column %zu: CR not followed by LF (a CR "
			"may only end a CRLF line)",
			path, line, n + 1);
	buf[n] = '\0';
	return 1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line: blank, a comment, or "name value" (spaces or tabs around and
 * between). Sets *name and *value (pointing into buf, NUL-terminated) or
 * leaves *name NULL for a line that carries nothing. */
static int split_line(char *buf, const char *path, unsigned line,
		      const char **name, const char **value, size_t *vlen,
		      const char **extra, saf_error *err)
{
	char *p = buf, *end;

	*name = NULL;
	*extra = NULL;
	while (blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*name = p;
	while (*p && !blank(*p))
		p++;
	end = p;
	while (blank(*p))
		p++;
	*end = '\0';
	if (*p == '\0')
		return saf_fail(err, SAF_E_FORMAT,
				"%s:%u: expected 'name hexvalue', found one "
				"field",
				path, line);
	*value = p;
	while (*p && !blank(*p))
		p++;
	*vlen = (size_t)(p - *value);
	while (blank(*p))
		p++;
	/* previous_node_key has a third field, its retire time. */
	if (*p != '\0' && strcmp(*name, "previous_node_key") == 0) {
		*extra = p;
		while (*p && !blank(*p))
			p++;
		end = p;
		while (blank(*p))
			p++;
		*end = '\0';
	}
	if (*p != '\0')
		return saf_fail(err, SAF_E_FORMAT,
				"%s:%u: expected 'name hexvalue', found more "
				"after the value",
				path, line);
	return 0;
}

/* "previous_node_key HEX RETIRE": a node key being rotated out. */
static int parse_previous(const char *path, unsigned line, const char *val,
			  size_t vlen, const char *retire, saf_tls_keys *out,
			  saf_error *err)
{
	saf_tls_prev_node_key *pk;
	unsigned long long t = 0;

	if (out->n_prev == SAF_TLS_PREV_NODE_KEYS)
		return saf_fail(err, SAF_E_RANGE,
				"%s:%u: more than %u previous_node_key lines",
				path, line, SAF_TLS_PREV_NODE_KEYS);
	if (!retire || !*retire)
		return saf_fail(err, SAF_E_FORMAT,
				"%s:%u: previous_node_key needs its retire "
				"time (Unix seconds) after the key",
				path, line);
	for (const char *c = retire; *c; c++) {
		if (*c < '0' || *c > '9' ||
		    t > (UINT64_MAX - (unsigned)(*c - '0')) / 10)
			return saf_fail(err, SAF_E_FORMAT,
					"%s:%u: previous_node_key: retire "
					"time is not a number of seconds",
					path, line);
		t = t * 10 + (unsigned long long)(*c - '0');
	}
	pk = &out->prev[out->n_prev];
	if (parse_hex(path, line, "previous_node_key", val, vlen, pk->node_key,
		      sizeof(pk->node_key), err))
		return -1;
	pk->retire = t;
	out->n_prev++;
	return 0;
}

int saf_tls_keys_load(const char *path, saf_tls_keys *out, saf_error *err)
{
	char buf[SAF_TLS_KEYS_LINE_MAX + 1];
	/* stdio's buffer holds the file's key text too: ours, so it can be
	 * cleansed after fclose (libc's own would be freed as it is). */
	char iobuf[BUFSIZ];
	unsigned line = 0, nk_line = 0, tk_line = 0;
	int rc = -1, r;
	FILE *f;
	/* The one secret-file policy (saf/keyfile.h): a regular file, not a
	 * symbolic link, this user's or root's, owner-only mode. */
	int fd = saf_keyfile_open(path, path, err);

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return -1;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return saf_fail(err, SAF_E_SYS, "%s: %s", path,
				strerror(errno));
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	while ((r = read_line(f, path, ++line, buf, err)) == 1) {
		const char *name, *val = NULL, *extra;
		size_t vlen = 0;

		if (split_line(buf, path, line, &name, &val, &vlen, &extra,
			       err))
			goto out;
		if (!name)
			continue;
		if (strcmp(name, "previous_node_key") == 0) {
			if (parse_previous(path, line, val, vlen, extra, out,
					   err))
				goto out;
		} else if (strcmp(name, "node_key") == 0 && !nk_line) {
			if (parse_hex(path, line, name, val, vlen,
				      out->node_key, sizeof(out->node_key),
				      err))
				goto out;
			nk_line = line;
		} else if (strcmp(name, "ticket_keys") == 0 && !tk_line) {
			if (parse_hex(path, line, name, val, vlen,
				      out->ticket_keys,
				      sizeof(out->ticket_keys), err))
				goto out;
			tk_line = line;
		} else if (strcmp(name, "node_key") == 0 ||
			   strcmp(name, "ticket_keys") == 0) {
			saf_fail(err, SAF_E_FORMAT,
				 "%s:%u: %s repeated (first on line %u)", path,
				 line, name,
				 name[0] == 'n' ? nk_line : tk_line);
			goto out;
		} else {
			/* The name is not echoed: it could be a key pasted
			 * without its name. */
			saf_fail(err, SAF_E_FORMAT,
				 "%s:%u: unknown name (expected node_key, "
				 "ticket_keys or previous_node_key)",
				 path, line);
			goto out;
		}
	}
	if (r < 0)
		goto out;
	if (!nk_line || !tk_line) {
		saf_fail(err, SAF_E_FORMAT, "%s: missing %s", path,
			 nk_line ? "ticket_keys" : "node_key");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
	OPENSSL_cleanse(iobuf, sizeof(iobuf));
	if (rc)
		saf_tls_keys_wipe(out);
	return rc;
}

static void put_hex(FILE *f, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
	fputc('\n', f);
}

int saf_tls_keys_save(const char *path, const saf_tls_keys *k, saf_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char iobuf[BUFSIZ]; /* cleansed after fclose, as in load */
	FILE *f;
	int bad, closed;

	if (fd < 0)
		return saf_fail(err, SAF_E_SYS, "%s: %s", path,
				strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return saf_fail(err, SAF_E_SYS, "%s: %s", path,
				strerror(errno));
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	fputs("# saf tls keys v1 (node key and ticket keys; keep 0600)\n", f);
	fputs("node_key ", f);
	put_hex(f, k->node_key, sizeof(k->node_key));
	fputs("ticket_keys ", f);
	put_hex(f, k->ticket_keys, sizeof(k->ticket_keys));
	for (size_t i = 0; i < k->n_prev && i < SAF_TLS_PREV_NODE_KEYS; i++) {
		fputs("previous_node_key ", f);
		for (size_t j = 0; j < SAF_NODE_KEY_LEN; j++)
			fprintf(f, "%02x", k->prev[i].node_key[j]);
		fprintf(f, " %llu\n", (unsigned long long)k->prev[i].retire);
	}
	bad = ferror(f);
	closed = fclose(f);
	OPENSSL_cleanse(iobuf, sizeof(iobuf));
	if (closed || bad)
		return saf_fail(err, SAF_E_SYS, "%s: write failed", path);
	return 0;
}
