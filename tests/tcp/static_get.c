/* SPDX-License-Identifier: MIT */
/*
 * Tests only: the smallest HTTP client a static binary can be, built with
 * `gcc -static` by netns_kcache.sh. It knows nothing of saf and no preload
 * library reaches it: one connect() to ADDR PORT, "GET PATH", the body to
 * stdout. With PAUSE_US it sleeps that long after every 64 KiB read, so a
 * download spans route changes. Prints the peer (getpeername) on stderr.
 * Usage: static_get ADDR PORT PATH [PAUSE_US]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {0}, peer;
	socklen_t pl = sizeof(peer);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	static char buf[65536];
	char req[512], host[64];
	int fd, hdr = 1, n;
	unsigned pause = argc > 4 ? (unsigned)atoi(argv[4]) : 0;
	size_t have = 0;

	if (argc < 4)
		return fprintf(stderr,
			       "usage: static_get ADDR PORT PATH [PAUSE_US]\n"),
		       2;
	if (inet_pton(AF_INET, argv[1], &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(argv[2]));
	} else if (inet_pton(AF_INET6, argv[1], &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(argv[2]));
	} else {
		return fprintf(stderr, "bad address\n"), 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sizeof(ss)) < 0)
		return perror("connect"), 1;
	getpeername(fd, (struct sockaddr *)&peer, &pl);
	inet_ntop(peer.ss_family,
		  peer.ss_family == AF_INET
			  ? (void *)&((struct sockaddr_in *)&peer)->sin_addr
			  : (void *)&((struct sockaddr_in6 *)&peer)->sin6_addr,
		  host, sizeof(host));
	fprintf(stderr, "peer %s\n", host);
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n",
		     argv[3]);
	if (write(fd, req, (size_t)n) != n)
		return perror("write"), 1;
	while ((n = (int)read(fd, buf + have, sizeof(buf) - have)) > 0) {
		char *body = buf;
		size_t len = have + (size_t)n;

		if (hdr) {
			char *e = memmem(buf, len, "\r\n\r\n", 4);

			if (!e) {
				have = len;
				if (have == sizeof(buf))
					return fprintf(stderr,
						       "header too long\n"),
					       1;
				continue;
			}
			hdr = 0;
			body = e + 4;
			len -= (size_t)(body - buf);
			have = 0;
		}
		if (fwrite(body, 1, len, stdout) != len)
			return 1;
		if (pause)
			usleep(pause);
	}
	if (n < 0)
		return perror("read"), 1;
	return hdr ? 1 : 0;
}
