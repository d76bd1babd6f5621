/* SPDX-License-Identifier: MIT */
/*
 * saf tls forward: stunnel-style client. Every plain TCP connection
 * accepted on --local is carried over saf TLS to --remote, one thread
 * each, at most --max-conns at once.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_tls.h"
#include "saf/sock.h"

static int listen_on(const saf_addr *a)
{
	saf_error e = {0};
	/* blocking: one thread accepts, each connection gets its own */
	int fd = saf_sock_listen(a, 128, false, &e);

	if (fd < 0 || saf_sock_set_nonblock(fd, false, &e)) {
		fprintf(stderr, "saf: %s\n", e.msg);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

typedef struct fwd_job {
	const saf_tls_client_setup *s;
	int fd;
} fwd_job;

static atomic_uint fwd_live;

static void *fwd_thread(void *arg)
{
	fwd_job *j = arg;
	saf_tls_conn c;
	saf_error e = {0};
	int rc = SAF_EXIT_FAIL;

	if (saf_tls_connect(j->s->ctx, &j->s->remote, &j->s->opts, &c, &e)) {
		fprintf(stderr, "saf tls forward: %s\n", e.msg);
	} else {
		saf_tls_client_report(j->s, &c);
		rc = saf_tls_client_run(j->s, &c, j->fd, j->fd);
		saf_tls_conn_close(&c);
	}
	if (rc != SAF_EXIT_OK) {
		/* What the application received is only part of the
		 * stream: a reset says so, where a FIN would pass it off
		 * as the whole. */
		struct linger rst = {.l_onoff = 1, .l_linger = 0};

		(void)setsockopt(j->fd, SOL_SOCKET, SO_LINGER, &rst,
				 sizeof(rst));
	}
	close(j->fd);
	free(j);
	atomic_fetch_sub(&fwd_live, 1);
	return NULL;
}

int saf_cmd_tls_forward(int argc, char **argv)
{
	saf_tls_client_setup s;
	int lfd, rc = saf_tls_client_parse(argc, argv, true, &s);

	if (rc) {
		saf_tls_client_teardown(&s);
		return rc < 0 ? SAF_EXIT_OK : rc;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(&s.local);
	if (lfd < 0) {
		saf_tls_client_teardown(&s);
		return SAF_EXIT_FAIL;
	}
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;
		fwd_job *j;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (atomic_load(&fwd_live) >= s.max_conns ||
		    !(j = malloc(sizeof(*j)))) {
			close(fd);
			continue;
		}
		j->s = &s;
		j->fd = fd;
		atomic_fetch_add(&fwd_live, 1);
		if (pthread_create(&t, NULL, fwd_thread, j)) {
			atomic_fetch_sub(&fwd_live, 1);
			close(fd);
			free(j);
			continue;
		}
		pthread_detach(t);
	}
	close(lfd);
	saf_tls_client_teardown(&s);
	return SAF_EXIT_FAIL;
}
