/* SPDX-License-Identifier: MIT */
/* The report/probe datagram: round trips, forged MACs, every truncation,
 * bad fields, key files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saf/sched.h"
#include "lib/key_messages.h"

static const uint8_t key[SAF_SCHED_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

static void test_round_trip_every_type(void **st)
{
	saf_sched_msg in[3] = {
		{.type = SAF_SCHED_REPORT,
		 .node = "n2",
		 .seq = 7,
		 .stamp = 99,
		 .load = 1000,
		 .capacity = 500,
		 .available = true,
		 .mem = 999,
		 .conns = 0xdeadbeefu,
		 .statistics = SAF_CATS_STAT_MAX,
		 .window_ms = 0x01020304u},
		{.type = SAF_SCHED_PROBE,
		 .seq = 8,
		 .stamp = 123456789,
		 .nonce = 0xfedcba9876543210ull},
		{.type = SAF_SCHED_ECHO,
		 .node = "node-with-a-name",
		 .seq = 8,
		 .stamp = 123456789,
		 .nonce = 0xfedcba9876543210ull},
	};
	(void)st;
	for (int i = 0; i < 3; i++) {
		uint8_t buf[SAF_SCHED_MSG_MAX];
		saf_sched_msg out;
		size_t n;
		saf_error err;

		assert_int_equal(saf_sched_msg_encode(&in[i], key, buf,
						      sizeof(buf), &n, &err),
				 0);
		assert_int_equal(saf_sched_msg_decode(buf, n, key, &out, &err),
				 0);
		assert_int_equal(out.type, in[i].type);
		assert_string_equal(out.node, in[i].node);
		assert_int_equal(out.seq, in[i].seq);
		assert_int_equal(out.stamp, in[i].stamp);
		assert_int_equal(out.nonce, in[i].nonce);
		assert_int_equal(out.load, in[i].load);
		assert_int_equal(out.capacity, in[i].capacity);
		assert_int_equal(out.available, in[i].available);
		assert_int_equal(out.mem, in[i].mem);
		assert_int_equal(out.conns, in[i].conns);
		assert_int_equal(out.statistics, in[i].statistics);
		assert_int_equal(out.window_ms, in[i].window_ms);
	}
}

/* Wire version 2 (no CATS level 0 fields) is refused with a message that
 * names the cause; R1 counts it as old_version (test_sched_decide). */
static void test_old_version_refused(void **st)
{
	saf_sched_msg m = {.type = SAF_SCHED_REPORT,
			   .node = "n3",
			   .seq = 1,
			   .capacity = 1000};
	uint8_t buf[SAF_SCHED_MSG_MAX];
	saf_sched_msg out;
	saf_error err;
	size_t n;

	(void)st;
	assert_int_equal(SAF_SCHED_VERSION, 3);
	assert_int_equal(
		saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), 0);
	assert_int_equal(buf[4], 3);
	buf[4] = 2;
	assert_int_equal(saf_sched_msg_parse(buf, n, &out, &err), -1);
	assert_non_null(strstr(err.msg, "old version 2"));
	buf[4] = 4;
	assert_int_equal(saf_sched_msg_parse(buf, n, &out, &err), -1);
	assert_null(strstr(err.msg, "old version"));
}

static void test_forged_and_truncated(void **st)
{
	saf_sched_msg m = {.type = SAF_SCHED_REPORT,
			   .node = "n3",
			   .seq = 1,
			   .load = 10,
			   .capacity = 1000,
			   .available = true};
	uint8_t buf[SAF_SCHED_MSG_MAX], other[SAF_SCHED_KEY_LEN] = {9};
	saf_sched_msg out;
	saf_error err;
	size_t n;

	(void)st;
	assert_int_equal(
		saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), 0);
	/* Another key: refused as forged. */
	assert_int_equal(saf_sched_msg_decode(buf, n, other, &out, &err), -1);
	assert_int_equal(err.code, SAF_E_REFUSED);
	/* Every single flipped bit: refused (MAC or field check). */
	for (size_t i = 0; i < n; i++) {
		buf[i] ^= 0x10;
		assert_int_equal(saf_sched_msg_decode(buf, n, key, &out, &err),
				 -1);
		buf[i] ^= 0x10;
	}
	/* Every truncation and an extra byte. */
	for (size_t len = 0; len < n; len++)
		assert_int_equal(
			saf_sched_msg_decode(buf, len, key, &out, &err), -1);
	buf[n] = 0;
	assert_int_equal(saf_sched_msg_decode(buf, n + 1, key, &out, &err), -1);
	assert_int_equal(saf_sched_msg_decode(buf, n, key, &out, &err), 0);
}

static void test_encode_refuses_bad_fields(void **st)
{
	saf_sched_msg m = {.type = SAF_SCHED_REPORT, .node = "", .seq = 1};
	uint8_t buf[SAF_SCHED_MSG_MAX];
	saf_error err;
	size_t n;

	(void)st;
	assert_int_equal(
		saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), -1);
	strcpy(m.node, "n2");
	m.load = 1001;
	assert_int_equal(
		saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), -1);
	assert_non_null(strstr(err.msg, "permille"));
	m.load = 0;
	m.mem = 1001;
	assert_int_equal(
		saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), -1);
	m.mem = 0;
	m.statistics = 4;
	assert_int_equal(
		saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), -1);
	m.statistics = 0;
	assert_int_equal(saf_sched_msg_encode(&m, key, buf, 20, &n, &err), -1);
}

static void test_key_file(void **st)
{
	char path[] = "/tmp/saf-sched-key-XXXXXX";
	uint8_t k[SAF_SCHED_KEY_LEN];
	saf_error err;
	int fd = mkstemp(path);
	FILE *f;

	(void)st;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	      "\n",
	      f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(saf_sched_key_load(path, k, &err), 0);
	assert_int_equal(k[31], 0x1f);
	chmod(path, 0644);
	assert_int_equal(saf_sched_key_load(path, k, &err), -1);
	assert_non_null(strstr(err.msg, "chmod 600"));
	chmod(path, 0600);
	f = fopen(path, "w");
	fputs("abcd\n", f);
	fclose(f);
	assert_int_equal(saf_sched_key_load(path, k, &err), -1);
	assert_non_null(strstr(err.msg, "64 hex digits"));
	unlink(path);
	assert_int_equal(saf_sched_key_load(path, k, &err), -1);
}

/* Writes n bytes to a 0600 file and loads it as a key; returns what the
 * loader returned, with its message in *err. */
static int load_bytes(const char *bytes, size_t n, uint8_t k[SAF_SCHED_KEY_LEN],
		      saf_error *err)
{
	char path[] = "/tmp/saf-sched-key-XXXXXX";
	int rc, fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	rc = saf_sched_key_load(path, k, err);
	unlink(path);
	return rc;
}

#define KH "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* The file is the key and at most one line end: every other form is
 * refused with the line, the column and what is wrong. */
static void test_key_file_strict(void **st)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *why;
	} bad[] = {
		{"", 0, "empty; expected 64 hex digits"},
		{"\n", 0, "line 1: expected 64 hex digits, found 0"},
		{KH "\n"
		    "\n",
		 0, "line 2: unexpected text after the key"},
		/* the finding: the first 71 bytes were all that was read */
		{KH "\n\n\n\n\n\n\nanything at all", 0,
		 "line 2: unexpected text after the key"},
		{KH "\nnode_key " KH "\n", 0,
		 "line 2: unexpected text after the key"},
		{KH "\r\n"
		    "x",
		 0, "line 2: unexpected text after the key"},
		{KH "\r", 0, "line 1, column 65: CR not followed by LF"},
		{KH "\r\r\n", 0, "line 1, column 65: CR not followed by LF"},
		{KH " ", 0,
		 "line 1, column 65: unexpected character after "
		 "the 64 hex digits"},
		{KH "\0", 65, "line 1, column 65: unexpected character"},
		{KH "0", 0, "line 1: more than 64 hex digits"},
		{KH "00\n", 0, "line 1: more than 64 hex digits"},
		{" " KH, 0, "line 1, column 1: not a hex digit"},
		{"0001020304050607080Z0a0b0c0d0e0f101112131415161718191a1b1c1d1"
		 "e1f",
		 0, "line 1, column 20: not a hex digit"},
		{"00010203040506070809\r\n", 0,
		 "line 1: expected 64 hex digits, found 20"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1"
		 "e1",
		 0, "line 1: expected 64 hex digits, found 63"},
	};
	static const char *const good[] = {
		KH, KH "\n", KH "\r\n",
		"000102030405060708090A0B0C0D0E0F"
		"101112131415161718191A1B1C1D1E1F\n"};
	char dir[] = "/tmp/saf-sched-keydir-XXXXXX", fifo[64];
	uint8_t k[SAF_SCHED_KEY_LEN];
	saf_error err;

	(void)st;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(k, 0xee, sizeof(k));
		assert_int_equal(load_bytes(good[i], strlen(good[i]), k, &err),
				 0);
		for (unsigned j = 0; j < SAF_SCHED_KEY_LEN; j++)
			assert_int_equal(k[j], j);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = bad[i].len ? bad[i].len : strlen(bad[i].text);

		memset(k, 0xee, sizeof(k));
		assert_int_equal(load_bytes(bad[i].text, n, k, &err), -1);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg,
				 bad[i].why);
		assert_int_equal(err.code, SAF_E_FORMAT);
		assert_no_key_material(err.msg);
		for (unsigned j = 0; j < SAF_SCHED_KEY_LEN; j++)
			assert_int_equal(k[j], 0); /* wiped, never half-set */
	}
	/* Not a regular file: a directory, and a FIFO (which must not hang
	 * the open). */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(saf_sched_key_load(dir, k, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(saf_sched_key_load(fifo, k, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	unlink(fifo);
	rmdir(dir);
}

/* R1's key file: one "NAME KEY" line per node, strict, errors with the
 * line and never a byte of the file. */
static void test_keys_file(void **st)
{
	static const char good[] = "# R1's keys\r\n"
				   "\n"
				   "n2 " KH "\n"
				   "  n3\t" KH "  \r\n"
				   "node-4.a_b " KH;
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"", "no keys"},
		{"# only a comment\n", "no keys"},
		{KH "\n",
		 "line 1: expected NAME and 64 hex digits, found one field"},
		{"n2 " KH "\nn2 " KH "\n", "line 2: a second key for the node"},
		{"n2\n",
		 "line 1: expected NAME and 64 hex digits, found one field"},
		{"n2 \n",
		 "line 1: expected NAME and 64 hex digits, found 0 digits"},
		{"n2 abcd\n",
		 "line 1: expected NAME and 64 hex digits, found 4"},
		{"n2 " KH "0\n", "found 65"},
		{"n2 " KH " x\n",
		 "line 1, column 69: unexpected text after the key"},
		{"n2 " KH "\r", "line 1, column 68: CR not followed by LF"},
		{"\nn2\r " KH "\n", "line 2, column 3: CR not followed by LF"},
		{"n/2 " KH "\n", "line 1, column 2: a node name is letters"},
		{"n2 " KH "\n"
		 "n3 0Z" KH "\n",
		 "line 2, column 5: not a hex digit"},
		{"abcdefabcdefabcdefabcdefabcdefabc " KH,
		 "line 1: node name longer than 32"},
	};
	saf_sched_keyring kr;
	saf_error err;

	(void)st;
	assert_int_equal(
		saf_sched_keys_parse("K", good, strlen(good), &kr, &err), 0);
	assert_int_equal(kr.n, 3);
	assert_string_equal(kr.e[0].name, "n2");
	assert_string_equal(kr.e[1].name, "n3");
	assert_string_equal(kr.e[2].name, "node-4.a_b");
	assert_int_equal(kr.e[2].key[31], 0x1f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(saf_sched_keys_parse("K", bad[i].text,
						      strlen(bad[i].text), &kr,
						      &err),
				 -1);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg,
				 bad[i].why);
		assert_no_key_material(err.msg);
		for (size_t j = 0; j < sizeof(kr); j++)
			assert_int_equal(((uint8_t *)&kr)[j], 0); /* wiped */
	}
	/* At most 16 keys. */
	char many[17 * 72 + 1] = "";
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "n%d %s\n", i, KH);
	assert_int_equal(
		saf_sched_keys_parse("K", many, strlen(many), &kr, &err), -1);
	assert_non_null(strstr(err.msg, "line 17: more than 16 keys"));
}

/* Both loaders: a symbolic link is refused (even to a good file), and so
 * is a file owned by neither the running user nor root. */
static void test_key_files_symlink_owner(void **st)
{
	char dir[] = "/tmp/saf-sched-keydir-XXXXXX", file[64], link[64];
	uint8_t k[SAF_SCHED_KEY_LEN];
	saf_sched_keyring kr;
	saf_error err;
	FILE *f;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/keys", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	f = fopen(file, "w");
	fputs("n2 " KH "\n", f);
	fclose(f);
	assert_int_equal(chmod(file, 0600), 0);
	assert_int_equal(saf_sched_keys_load(file, &kr, &err), 0);
	assert_int_equal(kr.n, 1);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(saf_sched_keys_load(link, &kr, &err), -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(saf_sched_key_load(link, k, &err), -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
	if (geteuid() == 0) { /* only root can give a file away */
		assert_int_equal(chown(file, 65534, 65534), 0);
		assert_int_equal(saf_sched_keys_load(file, &kr, &err), -1);
		assert_non_null(strstr(err.msg, "owned by uid 65534"));
		assert_int_equal(saf_sched_key_load(file, k, &err), -1);
		assert_non_null(strstr(err.msg, "neither this user"));
	}
	/* Too large. */
	f = fopen(file, "w");
	for (int i = 0; i < 300; i++)
		fputs("# padding padding padding padding padding padding "
		      "padding\n",
		      f);
	fclose(f);
	assert_int_equal(chown(file, geteuid(), getegid()), 0);
	assert_int_equal(saf_sched_keys_load(file, &kr, &err), -1);
	assert_non_null(strstr(err.msg, "larger than 16384 bytes"));
	unlink(link);
	unlink(file);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_old_version_refused),
		cmocka_unit_test(test_forged_and_truncated),
		cmocka_unit_test(test_encode_refuses_bad_fields),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_file_strict),
		cmocka_unit_test(test_keys_file),
		cmocka_unit_test(test_key_files_symlink_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
