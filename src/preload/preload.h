/* SPDX-License-Identifier: MIT */
/*
 * Internal to the preload library (docs/run.md). Everything here runs
 * inside an application's connect(): async-signal-safe (system calls and
 * plain memory only: no malloc, no stdio, no locks), no global mutable
 * state after the constructor.
 */
#ifndef SAF_PRELOAD_H
#define SAF_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "saf/addr.h"

/* ---- text without stdio (fmt.c) ---------------------------------------- */

/* A bounded line being built; writes past the end are dropped. */
typedef struct saf_line {
	char buf[256];
	size_t len;
} saf_line;

void saf_line_str(saf_line *l, const char *s);
void saf_line_uint(saf_line *l, unsigned long v);
/* "1.2.3.4:80" or "[fd00::1]:80" (RFC 5952 zero compression). */
void saf_line_addr(saf_line *l, const saf_addr *a);
/* The errno's name ("ECONNREFUSED"), or its number. */
void saf_line_errno(saf_line *l, int e);
/* Writes the line and a newline to fd 2 with one write(2). */
void saf_line_emit(saf_line *l);

/* ---- socket options copied to the new socket (sockopt.c) --------------- */

#define SAF_SOCKOPT_VAL_MAX 40u
#define SAF_SOCKOPT_COUNT   32u

typedef struct saf_sockopt_val {
	uint8_t len; /* 0: not readable on this socket */
	uint8_t v[SAF_SOCKOPT_VAL_MAX];
} saf_sockopt_val;

/* The application's options, taken before its connect(), plus the local
 * address it bound (if any). */
typedef struct saf_sock_snapshot {
	int domain;
	saf_sockopt_val opt[SAF_SOCKOPT_COUNT];
	struct sockaddr_storage local;
	socklen_t local_len;
	bool bound; /* bound to an address or a port before connect() */
} saf_sock_snapshot;

void saf_sockopt_snapshot(int fd, int domain, saf_sock_snapshot *s);
/* Sets on nfd (fresh, unconnected) every option whose snapshot value
 * differs from nfd's own default, and binds nfd to the snapshot's local
 * address (sharing a bound port with old_fd through SO_REUSEADDR).
 * 0, or -1 with *what naming the option that could not be copied and
 * *e its errno. */
int saf_sockopt_apply(const saf_sock_snapshot *s, int old_fd, int nfd,
		      const char **what, int *e);
/* The name of the i-th option copied ("SO_KEEPALIVE"), in the order of
 * saf_sock_snapshot.opt; NULL past the last. */
const char *saf_sockopt_name(size_t i);

/* ---- the advert of a socket (advert.c) --------------------------------- */

typedef enum saf_advert_rc {
	SAF_ADV_OK = 0,
	SAF_ADV_NO_MAP,	   /* client program not attached */
	SAF_ADV_NOT_SENT,  /* no entry: SAF was not sent */
	SAF_ADV_NONE,	   /* the node sent no advert */
	SAF_ADV_MALFORMED, /* malformed advert ignored */
} saf_advert_rc;

/* Reads fd's advert from the map pinned at map_path (raw bpf(2)). */
saf_advert_rc saf_advert_read(const char *map_path, int fd, uint16_t conn_port,
			      saf_addr *target);

#endif /* SAF_PRELOAD_H */
