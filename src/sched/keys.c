/* SPDX-License-Identifier: MIT */
/*
 * Key files of the scheduler: a node agent's own key (64 hex digits) and
 * R1's key file, one "NAME KEY" line per node. Both are read through the
 * one secret-file loader (saf/keyfile.h: regular file, not a symbolic
 * link, owner-only mode, owned by the running user or root) and parsed
 * strictly; errors say the line
 * and what is wrong, never a byte of the file (it could be part of a key).
 * Every buffer that held key bytes is wiped with OPENSSL_cleanse.
 */
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saf/hex.h"
#include "saf/keyfile.h"
#include "saf/sched.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* The file's bytes against its format: 64 hex digits, then at most one
 * line end (LF, or CRLF), nothing else. Messages say where and what, never
 * which byte (it could be part of a key). */
static int key_text(const char *path, char *t, size_t n,
		    uint8_t key[SAF_SCHED_KEY_LEN], saf_error *err)
{
	const size_t want = 2u * SAF_SCHED_KEY_LEN;
	size_t i = 0;

	while (i < n && i < want && is_hex(t[i]))
		i++;
	if (n == 0)
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: empty; expected %zu hex digits",
				path, want);
	if (i < want && i < n && t[i] != '\n' && t[i] != '\r')
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line 1, column %zu: not a hex "
				"digit (expected %zu hex digits)",
				path, i + 1, want);
	if (i < want)
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line 1: expected %zu hex digits, "
				"found %zu",
				path, want, i);
	if (n > want && is_hex(t[want]))
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line 1: more than %zu hex digits",
				path, want);
	if (n > want && t[want] == '\r' &&
	    (n == want + 1 || t[want + 1] != '\n'))
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line 1, column %zu: CR not "
				"followed by LF (a CR may only end a CRLF "
				"line)",
				path, want + 1);
	if (n > want && t[want] != '\n' && t[want] != '\r')
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line 1, column %zu: unexpected "
				"character after the %zu hex digits",
				path, want + 1, want);
	if (n > want + (t[want] == '\r' ? 2u : 1u))
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line 2: unexpected text after "
				"the key (the file holds the key and at most "
				"one line end)",
				path);
	/* Exactly the key's digits now, all hex: the decoder cannot fail
	 * (nor quote a character of the key in an error). */
	size_t klen = 0;

	t[want] = '\0';
	if (saf_hex_decode(t, key, SAF_SCHED_KEY_LEN, &klen, NULL) ||
	    klen != SAF_SCHED_KEY_LEN)
		return saf_fail(err, SAF_E_FORMAT, "key file %s: not a key",
				path);
	return 0;
}

/* Reads a key file of at most cap bytes into buf (cap + 1 bytes of room,
 * to see that nothing follows), through the one secret-file policy of
 * saf/keyfile.h: a regular file, not a symbolic link, owner-only mode,
 * owned by the running user or root. */
static int read_key_file(const char *path, char *buf, size_t cap, size_t *n,
			 saf_error *err)
{
	char label[SAF_ERROR_MSG_LEN];

	snprintf(label, sizeof(label), "key file %s", path);
	return saf_keyfile_read(path, label, buf, cap + 1, n, err);
}

int saf_sched_key_load(const char *path, uint8_t key[SAF_SCHED_KEY_LEN],
		       saf_error *err)
{
	/* The longest valid file (key, CR, LF) and one byte more. */
	char text[2 * SAF_SCHED_KEY_LEN + 3];
	size_t n = 0;
	int rc = read_key_file(path, text, sizeof(text) - 1, &n, err);

	if (rc == 0)
		rc = key_text(path, text, n, key, err);
	OPENSSL_cleanse(text, sizeof(text));
	if (rc)
		OPENSSL_cleanse(key, SAF_SCHED_KEY_LEN);
	return rc;
}

void saf_sched_keyring_wipe(saf_sched_keyring *kr)
{
	OPENSSL_cleanse(kr, sizeof(*kr));
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line of R1's key file, its end excluded ([p, p + n)): blank, a
 * comment, or "NAME KEY". Adds the key to kr. */
static int keys_line(const char *path, size_t line, const char *p, size_t n,
		     saf_sched_keyring *kr, saf_error *err)
{
	const size_t want = 2u * SAF_SCHED_KEY_LEN;
	size_t i = 0, name_at, name_len, key_at, klen = 0;
	char digits[2 * SAF_SCHED_KEY_LEN + 1];
	int rc = 0;

	for (size_t j = 0; j < n; j++)
		if (p[j] == '\0' || p[j] == '\r')
			return saf_fail(err, SAF_E_FORMAT,
					"key file %s: line %zu, column %zu: "
					"%s",
					path, line, j + 1,
					p[j] ? "CR not followed by LF"
					     : "NUL byte");
	while (i < n && blank(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return 0;
	name_at = i;
	while (i < n && name_char(p[i]))
		i++;
	name_len = i - name_at;
	if (i < n && !blank(p[i]))
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line %zu, column %zu: a node "
				"name is letters, digits, '.', '_' and '-', "
				"then blanks and the key",
				path, line, i + 1);
	if (i == n)
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line %zu: expected NAME and %zu "
				"hex digits, found one field",
				path, line, want);
	if (name_len > SAF_SCHED_NAME_MAX)
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line %zu: node name longer than "
				"%u characters",
				path, line, SAF_SCHED_NAME_MAX);
	while (i < n && blank(p[i]))
		i++;
	key_at = i;
	while (i < n && is_hex(p[i]))
		i++;
	if (i < n && !blank(p[i]))
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line %zu, column %zu: not a hex "
				"digit (expected NAME and %zu hex digits)",
				path, line, i + 1, want);
	if (i - key_at != want)
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line %zu: expected NAME and %zu "
				"hex digits, found %zu digits",
				path, line, want, i - key_at);
	while (i < n && blank(p[i]))
		i++;
	if (i < n)
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: line %zu, column %zu: unexpected "
				"text after the key",
				path, line, i + 1);
	for (size_t k = 0; k < kr->n; k++)
		if (strlen(kr->e[k].name) == name_len &&
		    memcmp(kr->e[k].name, p + name_at, name_len) == 0)
			return saf_fail(err, SAF_E_FORMAT,
					"key file %s: line %zu: a second key "
					"for the node of an earlier line",
					path, line);
	if (kr->n == SAF_SCHED_MAX_NODES)
		return saf_fail(err, SAF_E_RANGE,
				"key file %s: line %zu: more than %u keys",
				path, line, SAF_SCHED_MAX_NODES);
	memcpy(kr->e[kr->n].name, p + name_at, name_len);
	kr->e[kr->n].name[name_len] = '\0';
	memcpy(digits, p + key_at, want);
	digits[want] = '\0';
	/* All hex and the right count: the decoder cannot fail. */
	if (saf_hex_decode(digits, kr->e[kr->n].key, SAF_SCHED_KEY_LEN, &klen,
			   NULL) ||
	    klen != SAF_SCHED_KEY_LEN)
		rc = saf_fail(err, SAF_E_FORMAT,
			      "key file %s: line %zu: not a key", path, line);
	else
		kr->n++;
	OPENSSL_cleanse(digits, sizeof(digits));
	return rc;
}

int saf_sched_keys_parse(const char *path, const char *text, size_t n,
			 saf_sched_keyring *kr, saf_error *err)
{
	size_t pos = 0, line = 0;

	memset(kr, 0, sizeof(*kr));
	while (pos < n) {
		const char *lf = memchr(text + pos, '\n', n - pos);
		size_t end = lf ? (size_t)(lf - text) : n;
		size_t len = end - pos;

		line++;
		if (lf && len > 0 && text[end - 1] == '\r')
			len--; /* CRLF */
		if (keys_line(path, line, text + pos, len, kr, err)) {
			saf_sched_keyring_wipe(kr);
			return -1;
		}
		pos = end + 1;
	}
	if (kr->n == 0)
		return saf_fail(err, SAF_E_FORMAT,
				"key file %s: no keys (one 'NAME KEY' line per "
				"node)",
				path);
	return 0;
}

int saf_sched_keys_load(const char *path, saf_sched_keyring *kr, saf_error *err)
{
	char *text = malloc(SAF_SCHED_KEYS_FILE_MAX + 1);
	size_t n = 0;
	int rc;

	memset(kr, 0, sizeof(*kr));
	if (!text)
		return saf_fail(err, SAF_E_NOMEM, "key file %s: out of memory",
				path);
	rc = read_key_file(path, text, SAF_SCHED_KEYS_FILE_MAX, &n, err);
	if (rc == 0 && n > SAF_SCHED_KEYS_FILE_MAX)
		rc = saf_fail(err, SAF_E_RANGE,
			      "key file %s: larger than %u bytes", path,
			      SAF_SCHED_KEYS_FILE_MAX);
	if (rc == 0)
		rc = saf_sched_keys_parse(path, text, n, kr, err);
	OPENSSL_cleanse(text, SAF_SCHED_KEYS_FILE_MAX + 1);
	free(text);
	return rc;
}
