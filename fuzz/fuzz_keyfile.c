/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the two key file parsers, with the input as the file's
 * contents (a 0600 file in a private temporary folder): saf_tls_keys_load
 * (the service key file, "node_key HEX" / "ticket_keys HEX" lines) and
 * saf_sched_key_load (64 hex digits).
 *
 * What must hold: no out-of-bounds access or leak; a TLS key file that
 * loads names each loaded key in hex after its keyword, and saving the
 * keys and loading them back gives the same keys; a scheduler key that
 * loads is the hex the file starts with.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* Whether `hex` (lower case) follows `word` and separators somewhere in
 * the input, ignoring case. The loader splits on space, tab and CR (so a
 * CRLF file loads), anywhere in the line. */
static int names(const uint8_t *data, size_t size, const char *word,
		 const char *hex)
{
	size_t wl = strlen(word), hl = strlen(hex);

	for (size_t i = 0; i + wl < size; i++) {
		size_t j;

		if (strncasecmp((const char *)data + i, word, wl) != 0)
			continue;
		j = i + wl;
		while (j < size &&
		       (data[j] == ' ' || data[j] == '\t' || data[j] == '\r'))
			j++;
		if (j + hl <= size &&
		    strncasecmp((const char *)data + j, hex, hl) == 0)
			return 1;
	}
	return 0;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void tls_keys(const uint8_t *data, size_t size)
{
	char hex[2 * SAF_TLS_TICKET_KEYS_LEN + 1];
	saf_tls_keys k, back;
	saf_error err;

	if (saf_tls_keys_load(path, &k, &err))
		return;
	to_hex(k.node_key, sizeof(k.node_key), hex);
	if (!names(data, size, "node_key", hex))
		abort();
	to_hex(k.ticket_keys, sizeof(k.ticket_keys), hex);
	if (!names(data, size, "ticket_keys", hex))
		abort();
	unlink(saved);
	if (saf_tls_keys_save(saved, &k, &err) ||
	    saf_tls_keys_load(saved, &back, &err) ||
	    memcmp(&k, &back, sizeof(k)) != 0)
		abort();
	unlink(saved);
}

static void sched_key(const uint8_t *data, size_t size)
{
	uint8_t key[SAF_SCHED_KEY_LEN];
	char hex[2 * SAF_SCHED_KEY_LEN + 1];
	saf_error err;

	if (saf_sched_key_load(path, key, &err))
		return;
	to_hex(key, sizeof(key), hex);
	if (size < 2 * SAF_SCHED_KEY_LEN ||
	    strncasecmp((const char *)data, hex, 2 * SAF_SCHED_KEY_LEN) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	write_file(data, size);
	tls_keys(data, size);
	sched_key(data, size);
	return 0;
}
