/* SPDX-License-Identifier: MIT */
/* src/core/keyfile.c: the one secret-file policy. A good file is read
 * whole (or up to the room given); a symbolic link, a group- or
 * other-readable file, a directory, a FIFO and another user's file are
 * refused with a message naming the label and the cause; a failed read
 * leaves the buffer wiped. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "saf/keyfile.h"

static char dir[64], file[96], link_path[96], fifo[96];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/saf-keyfile-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/key", dir);
	snprintf(link_path, sizeof(link_path), "%s/link", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	f = fopen(file, "w");
	if (!f)
		return -1;
	fputs("0123456789abcdef\n", f);
	fclose(f);
	return chmod(file, 0600) || symlink(file, link_path) ||
	       mkfifo(fifo, 0600);
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	unlink(link_path);
	unlink(fifo);
	rmdir(dir);
	return 0;
}

static void test_reads_good_file(void **state)
{
	char buf[64];
	size_t n = 99;
	saf_error e;

	(void)state;
	assert_int_equal(
		saf_keyfile_read(file, "key file K", buf, sizeof(buf), &n, &e),
		0);
	assert_int_equal(n, 17);
	assert_memory_equal(buf, "0123456789abcdef\n", 17);
	/* Less room than the file: the first cap bytes, no error (the
	 * caller sees *len == cap and decides). */
	assert_int_equal(saf_keyfile_read(file, "K", buf, 4, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "0123", 4);
	int fd = saf_keyfile_open(file, "K", &e);

	assert_true(fd >= 0);
	close(fd);
}

/* Each refusal: -1, the code, the label first, the cause, nothing of the
 * file, the buffer wiped. */
static void refused(const char *path, saf_errc code, const char *why)
{
	char buf[32];
	size_t n = 99;
	saf_error e;

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(
		saf_keyfile_read(path, "key file L", buf, sizeof(buf), &n, &e),
		-1);
	assert_int_equal(e.code, code);
	assert_int_equal(n, 0);
	assert_int_equal(strncmp(e.msg, "key file L: ", 12), 0);
	if (!strstr(e.msg, why))
		fail_msg("'%s' does not say '%s'", e.msg, why);
	assert_null(strstr(e.msg, "0123"));
	assert_int_equal(saf_keyfile_open(path, "key file L", NULL), -1);
}

static void test_refusals(void **state)
{
	(void)state;
	refused(link_path, SAF_E_REFUSED,
		"a symbolic link (refused; name the file itself)");
	refused(dir, SAF_E_REFUSED, "not a regular file");
	refused(fifo, SAF_E_REFUSED, "not a regular file"); /* no hang */
	assert_int_equal(chmod(file, 0640), 0);
	refused(file, SAF_E_REFUSED, "mode 640 lets others read it; chmod 600");
	assert_int_equal(chmod(file, 0604), 0);
	refused(file, SAF_E_REFUSED, "mode 604 lets others read it; chmod 600");
	assert_int_equal(chmod(file, 0400), 0); /* stricter than 0600: fine */
	{
		char b[32];
		size_t n;

		assert_int_equal(
			saf_keyfile_read(file, "K", b, sizeof(b), &n, NULL), 0);
	}
	assert_int_equal(chmod(file, 0600), 0);
	refused("/nonexistent/saf-key", SAF_E_SYS, "No such file");
	if (geteuid() == 0) { /* only root can give a file away */
		char want[96];

		assert_int_equal(chown(file, 65534, 65534), 0);
		snprintf(want, sizeof(want),
			 "owned by uid 65534, neither this user (uid %u) nor "
			 "root",
			 (unsigned)geteuid());
		refused(file, SAF_E_REFUSED, want);
		assert_int_equal(chown(file, 0, 0), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_good_file),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
