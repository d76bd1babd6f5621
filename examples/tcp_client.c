/* SPDX-License-Identifier: MIT */
/*
 * tcp_client: connect to an anycast service with saf_tcp_connect, follow
 * the node's advert to its unicast address, send one line, print the reply.
 *
 *   cc tcp_client.c $(pkg-config --cflags --libs saf) -o tcp_client
 *   ./tcp_client 10.99.0.1:7000 "hello"     (run in the client cgroup that
 *                                            `saf tcp client attach` armed)
 *
 * The pin folder of the client program comes from $SAF_BPF_PIN_DIR, or
 * /run/saf/bpf (saf_tcp_pin_dir).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <saf/saf.h>

int main(int argc, char **argv)
{
	saf_addr service;
	saf_tcp_connect_opts opts = {.timeout_ms = 3000};
	saf_tcp_result res;
	saf_error err = {0};
	char where[SAF_ADDR_STR_LEN], reply[512];
	ssize_t n;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s ADDRESS:PORT LINE\n", argv[0]);
		return 2;
	}
	if (saf_addr_parse(argv[1], true, &service, &err)) {
		fprintf(stderr, "%s: %s\n", argv[1], err.msg);
		return 2;
	}
	opts.pin_dir = saf_tcp_pin_dir(NULL);
	fd = saf_tcp_connect(&service, &opts, &res, &err);
	if (fd < 0) {
		fprintf(stderr, "connect: %s\n", err.msg);
		return 1;
	}
	/* MIGRATED: on the advertised unicast address; otherwise still on
	 * the service address, with the reason. */
	fprintf(stderr, "%s: on %s (%s)\n", saf_tcp_outcome_name(res.outcome),
		saf_addr_format(&res.final, where), res.reason);
	if (dprintf(fd, "%s\n", argv[2]) < 0 || shutdown(fd, SHUT_WR) ||
	    (n = read(fd, reply, sizeof(reply) - 1)) < 0) {
		perror("echo");
		close(fd);
		return 1;
	}
	reply[n] = '\0';
	fputs(reply, stdout);
	close(fd);
	return 0;
}
