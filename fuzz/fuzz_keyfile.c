/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the two key file parsers, with the input as the file's
 * contents (a 0600 file in a private temporary folder): saf_tls_keys_load
 * (the service key file, "node_key HEX" / "ticket_keys HEX" lines),
 * saf_sched_key_load (a node agent's key: 64 hex digits and at most one
 * line end) and saf_sched_keys_load (R1's key file: "NAME KEY" lines).
 *
 * An oracle written again from the documented formats (docs/tls.md,
 * docs/sched.md), in another way (the whole buffer at once, memchr for
 * line ends), decides each input: the loader must load exactly what the
 * oracle finds and refuse everything else. What must hold besides: no
 * out-of-bounds access or leak; saving loaded TLS keys and loading them
 * back gives the same keys; no error message holds a run of 8 hex digits
 * from the input (key bytes are never echoed).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saf/sched.h"
#include "saf/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96], saved[96];

static void remove_dir(void)
{
	unlink(path);
	unlink(saved);
	rmdir(dir);
}

static void init_once(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "%s/saf-fuzz-keys-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/keys", dir);
	snprintf(saved, sizeof(saved), "%s/saved", dir);
	if (atexit(remove_dir))
		abort();
}

static void write_file(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || fchmod(fd, 0600) ||
	    (size && write(fd, data, size) != (ssize_t)size) || close(fd))
		abort();
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n bytes from 2n hex digits at p; 0 when one is not a hex digit. */
static int unhex(const uint8_t *p, size_t digits, uint8_t *out, size_t n)
{
	if (digits != 2 * n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return 0;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

static int is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* The TLS key file format: lines end with LF, or CRLF; the last may have
 * none; a line (its end excluded) holds at most SAF_TLS_KEYS_LINE_MAX
 * bytes, no NUL and no other CR; it is blank, a comment ('#' first after
 * blanks) or exactly two fields, "node_key" or "ticket_keys" and the key
 * in hex, each name once and both present. 1 and *out when valid. */
static int oracle_tls(const uint8_t *d, size_t size, saf_tls_keys *out)
{
	int have_nk = 0, have_tk = 0;
	size_t pos = 0;

	while (pos < size) {
		const uint8_t *lf = memchr(d + pos, '\n', size - pos);
		size_t end = lf ? (size_t)(lf - d) : size, next = end + 1;
		const uint8_t *f[3];
		size_t flen[3], nf = 0, i;

		if (lf && end > pos && d[end - 1] == '\r')
			end--;
		if (end - pos > SAF_TLS_KEYS_LINE_MAX)
			return 0;
		for (i = pos; i < end; i++)
			if (d[i] == '\r' || d[i] == '\0')
				return 0;
		for (i = pos; i < end && nf < 3;) {
			size_t j = i;

			if (is_blank(d[i])) {
				i++;
				continue;
			}
			while (j < end && !is_blank(d[j]))
				j++;
			f[nf] = d + i;
			flen[nf++] = j - i;
			i = j;
		}
		pos = next;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf != 2)
			return 0;
		if (flen[0] == 8 && memcmp(f[0], "node_key", 8) == 0 &&
		    !have_nk) {
			if (!unhex(f[1], flen[1], out->node_key,
				   sizeof(out->node_key)))
				return 0;
			have_nk = 1;
		} else if (flen[0] == 11 &&
			   memcmp(f[0], "ticket_keys", 11) == 0 && !have_tk) {
			if (!unhex(f[1], flen[1], out->ticket_keys,
				   sizeof(out->ticket_keys)))
				return 0;
			have_tk = 1;
		} else {
			return 0;
		}
	}
	return have_nk && have_tk;
}

/* The scheduler key file: 64 hex digits, then nothing, LF or CRLF. */
static int oracle_sched(const uint8_t *d, size_t size,
			uint8_t key[SAF_SCHED_KEY_LEN])
{
	const size_t n = 2 * SAF_SCHED_KEY_LEN;

	if (size < n || !unhex(d, n, key, SAF_SCHED_KEY_LEN))
		return 0;
	return size == n || (size == n + 1 && d[n] == '\n') ||
	       (size == n + 2 && d[n] == '\r' && d[n + 1] == '\n');
}

static int name_ok(const uint8_t *p, size_t n)
{
	if (n == 0 || n > SAF_SCHED_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '.' ||
		      p[i] == '_' || p[i] == '-'))
			return 0;
	return 1;
}

/* R1's key file (docs/sched.md): lines end with LF, or CRLF; the last may
 * have none; no NUL and no other CR; a line is blank, a comment ('#' first
 * after blanks) or exactly two blank-separated fields, a node name (1..32
 * of [A-Za-z0-9._-]) and 64 hex digits; each name once; 1..16 keys. */
static int oracle_keys(const uint8_t *d, size_t size, saf_sched_keyring *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	while (pos < size) {
		const uint8_t *lf = memchr(d + pos, '\n', size - pos);
		size_t end = lf ? (size_t)(lf - d) : size, next = end + 1;
		const uint8_t *f[3];
		size_t flen[3], nf = 0, i;

		if (lf && end > pos && d[end - 1] == '\r')
			end--;
		if (memchr(d + pos, '\r', end - pos) ||
		    memchr(d + pos, '\0', end - pos))
			return 0;
		for (i = pos; i < end && nf < 3;) {
			size_t j = i;

			if (is_blank(d[i])) {
				i++;
				continue;
			}
			while (j < end && !is_blank(d[j]))
				j++;
			f[nf] = d + i;
			flen[nf++] = j - i;
			i = j;
		}
		pos = next;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf != 2 || !name_ok(f[0], flen[0]) ||
		    out->n == SAF_SCHED_MAX_NODES)
			return 0;
		for (size_t k = 0; k < out->n; k++)
			if (strlen(out->e[k].name) == flen[0] &&
			    memcmp(out->e[k].name, f[0], flen[0]) == 0)
				return 0;
		if (!unhex(f[1], flen[1], out->e[out->n].key,
			   SAF_SCHED_KEY_LEN))
			return 0;
		memcpy(out->e[out->n].name, f[0], flen[0]);
		out->n++;
	}
	return out->n > 0;
}

/* No run of 8 hex digits of the message is in the input. */
static void no_echo(const char *msg, const uint8_t *data, size_t size)
{
	size_t len = strlen(msg);

	for (size_t i = 0; i + 8 <= len; i++) {
		size_t k = 0;

		while (k < 8 && hexval((uint8_t)msg[i + k]) >= 0)
			k++;
		if (k < 8)
			continue;
		for (size_t j = 0; j + 8 <= size; j++)
			if (memcmp(data + j, msg + i, 8) == 0)
				abort();
	}
}

static void tls_keys(const uint8_t *data, size_t size)
{
	saf_tls_keys k, back, want;
	saf_error err;
	int valid = oracle_tls(data, size, &want);

	if (saf_tls_keys_load(path, &k, &err)) {
		if (valid)
			abort(); /* a valid file refused */
		no_echo(err.msg, data, size);
		return;
	}
	if (!valid || memcmp(&k, &want, sizeof(k)) != 0)
		abort(); /* loaded what is not there */
	unlink(saved);
	if (saf_tls_keys_save(saved, &k, &err) ||
	    saf_tls_keys_load(saved, &back, &err) ||
	    memcmp(&k, &back, sizeof(k)) != 0)
		abort();
	unlink(saved);
}

static void sched_key(const uint8_t *data, size_t size)
{
	uint8_t key[SAF_SCHED_KEY_LEN], want[SAF_SCHED_KEY_LEN];
	saf_error err;
	int valid = oracle_sched(data, size, want);

	if (saf_sched_key_load(path, key, &err)) {
		if (valid)
			abort();
		no_echo(err.msg, data, size);
		return;
	}
	if (!valid || memcmp(key, want, sizeof(key)) != 0)
		abort();
}

static void sched_keys(const uint8_t *data, size_t size)
{
	saf_sched_keyring kr, want;
	saf_error err;
	int valid = size <= SAF_SCHED_KEYS_FILE_MAX &&
		    oracle_keys(data, size, &want);

	if (saf_sched_keys_load(path, &kr, &err)) {
		if (valid)
			abort();
		no_echo(err.msg, data, size);
		return;
	}
	if (!valid || kr.n != want.n)
		abort();
	for (size_t i = 0; i < kr.n; i++)
		if (strcmp(kr.e[i].name, want.e[i].name) != 0 ||
		    memcmp(kr.e[i].key, want.e[i].key, SAF_SCHED_KEY_LEN) != 0)
			abort();
	saf_sched_keyring_wipe(&kr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	write_file(data, size);
	tls_keys(data, size);
	sched_key(data, size);
	sched_keys(data, size);
	return 0;
}
