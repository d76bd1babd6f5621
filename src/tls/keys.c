/* SPDX-License-Identifier: MIT */
/*
 * The key file shared by the nodes of one service (format in tls.h). Key
 * bytes never reach an error message or a log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "saf/hex.h"
#include "tls_internal.h"

int saf_tls_keys_generate(saf_tls_keys *out, saf_error *err)
{
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

static int parse_hex(const char *path, unsigned line, const char *text,
		     uint8_t *out, size_t n, saf_error *err)
{
	size_t len = strlen(text);

	if (len != 2 * n)
		return saf_fail(err, SAF_E_FORMAT,
				"%s:%u: expected %zu hex digits, got %zu", path,
				line, 2 * n, len);
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
						"%s:%u: not a hex digit", path,
						line);
			v = v * 16 + d;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

int saf_tls_keys_load(const char *path, saf_tls_keys *out, saf_error *err)
{
	char buf[512];
	struct stat sb;
	unsigned line = 0;
	bool have_nk = false, have_tk = false;
	int rc = -1;
	FILE *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return saf_fail(err, SAF_E_SYS, "%s: %s", path,
				strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return saf_fail(err, SAF_E_REFUSED, "%s: not a regular file",
				path);
	}
	if (sb.st_mode & 077) {
		close(fd);
		return saf_fail(err, SAF_E_REFUSED,
				"%s: mode %03o lets others read it; chmod 600",
				path, (unsigned)(sb.st_mode & 0777));
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return saf_fail(err, SAF_E_SYS, "%s: %s", path,
				strerror(errno));
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *key, *val, *save = NULL;

		line++;
		key = strtok_r(buf, " \t\r\n", &save);
		if (!key || key[0] == '#')
			continue;
		val = strtok_r(NULL, " \t\r\n", &save);
		if (!val || strtok_r(NULL, " \t\r\n", &save)) {
			saf_fail(err, SAF_E_FORMAT,
				 "%s:%u: expected 'name hexvalue'", path, line);
			goto out;
		}
		if (strcmp(key, "node_key") == 0 && !have_nk) {
			if (parse_hex(path, line, val, out->node_key,
				      sizeof(out->node_key), err))
				goto out;
			have_nk = true;
		} else if (strcmp(key, "ticket_keys") == 0 && !have_tk) {
			if (parse_hex(path, line, val, out->ticket_keys,
				      sizeof(out->ticket_keys), err))
				goto out;
			have_tk = true;
		} else {
			saf_fail(err, SAF_E_FORMAT,
				 "%s:%u: unknown or repeated '%s'", path, line,
				 key);
			goto out;
		}
	}
	if (!have_nk || !have_tk) {
		saf_fail(err, SAF_E_FORMAT, "%s: missing %s", path,
			 have_nk ? "ticket_keys" : "node_key");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
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
	FILE *f;
	int bad;

	if (fd < 0)
		return saf_fail(err, SAF_E_SYS, "%s: %s", path,
				strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return saf_fail(err, SAF_E_SYS, "%s: %s", path,
				strerror(errno));
	}
	fputs("# saf tls keys v1 (node key and ticket keys; keep 0600)\n", f);
	fputs("node_key ", f);
	put_hex(f, k->node_key, sizeof(k->node_key));
	fputs("ticket_keys ", f);
	put_hex(f, k->ticket_keys, sizeof(k->ticket_keys));
	bad = ferror(f);
	if (fclose(f) || bad)
		return saf_fail(err, SAF_E_SYS, "%s: write failed", path);
	return 0;
}
