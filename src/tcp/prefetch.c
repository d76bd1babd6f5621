/* SPDX-License-Identifier: MIT */
/*
 * Prefetch for the kernel affinity cache: a small probe per anycast
 * service and interval (a SAF SYN to S, exempt from the rewrite, reset as
 * soon as it is connected) whose advert refreshes the cache entry, so the
 * first connect() of any program in the cgroup already goes to the node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pins.h"
#include "saf/clock.h"
#include "saf/sock.h"

#define PROBE_TIMEOUT_MS 3000
#define INTERVAL_MAX_S	 86400u

int saf_tcp_prefetch_parse(const char *s, saf_tcp_prefetch *p, saf_error *err)
{
	char buf[SAF_ADDR_STR_LEN + 16];
	char *comma, *end;
	saf_error e;
	unsigned long iv = 0;

	if (p->n == SAF_TCP_MAX_PAIRS)
		return saf_fail(err, SAF_E_INVAL, "--prefetch: at most %u",
				SAF_TCP_MAX_PAIRS);
	if (strlen(s) >= sizeof(buf))
		return saf_fail(err, SAF_E_INVAL, "--prefetch: too long");
	strcpy(buf, s);
	comma = strrchr(buf, ',');
	if (comma) {
		*comma = '\0';
		errno = 0;
		iv = strtoul(comma + 1, &end, 10);
		if (errno || *end || end == comma + 1 || iv == 0 ||
		    iv > INTERVAL_MAX_S)
			return saf_fail(err, SAF_E_INVAL,
					"--prefetch %s: INTERVAL must be "
					"1..%u seconds",
					s, INTERVAL_MAX_S);
	}
	if (saf_addr_parse(buf, true, &p->service[p->n], &e))
		return saf_fail(err, e.code, "--prefetch %s: %s", s, e.msg);
	p->interval_s[p->n] = (unsigned)iv;
	p->n++;
	return 0;
}

/* One probe: 0 when S answered (its advert, if any, is in the cache). */
static int probe(const saf_addr *s, const char *pin_dir, saf_error *err)
{
	char b[SAF_ADDR_STR_LEN];
	int soerr = 0, rc, fd = saf_sock_open(s, SOCK_STREAM, err);

	if (fd < 0)
		return -1;
	if (saf_tcp_cache_exempt(fd, pin_dir, true)) {
		close(fd);
		return saf_fail(err, SAF_E_INVAL,
				"client program not attached under %s",
				saf_tcp_pin_dir(pin_dir));
	}
	rc = saf_sock_connect_fd(fd, s, PROBE_TIMEOUT_MS, &soerr, NULL);
	/* Reset at once: nothing lingers at the node or here. */
	saf_sock_close_rst(fd);
	if (rc)
		return saf_fail(err, SAF_E_SYS, "probe to %s: %s",
				saf_addr_format(s, b), strerror(soerr));
	return 0;
}

static int join_cgroup(const char *cgroup, saf_error *err)
{
	char p[PATH_BUF];
	FILE *f;
	int bad;

	if ((size_t)snprintf(p, sizeof(p), "%s/cgroup.procs", cgroup) >=
	    sizeof(p))
		return saf_fail(err, SAF_E_INVAL, "cgroup path too long");
	f = fopen(p, "w");
	if (!f)
		return saf_fail(err, SAF_E_SYS, "cannot join %s: %s", cgroup,
				strerror(errno));
	bad = fprintf(f, "%ld\n", (long)getpid()) < 0;
	bad |= fclose(f) != 0;
	if (bad)
		return saf_fail(err, SAF_E_SYS, "cannot join %s: %s", cgroup,
				strerror(errno));
	return 0;
}

int saf_tcp_prefetch_run(const saf_tcp_prefetch *p, const char *cgroup,
			 const char *pin_dir, uint32_t lifetime_s,
			 volatile int *stop, FILE *log, saf_error *err)
{
	uint64_t due[SAF_TCP_MAX_PAIRS] = {0};
	uint32_t life =
		lifetime_s ? lifetime_s : SAF_TCP_CACHE_LIFETIME_DEFAULT;

	if (join_cgroup(cgroup, err))
		return -1;
	while (!*stop) {
		uint64_t now = saf_clock_mono_ms(), next = now + 1000;

		for (size_t i = 0; i < p->n && !*stop; i++) {
			uint64_t iv = p->interval_s[i] ? p->interval_s[i]
						       : (life + 1) / 2;
			saf_error e;

			if (due[i] <= now) {
				if (probe(&p->service[i], pin_dir, &e) && log)
					fprintf(log, "saf: prefetch: %s\n",
						e.msg);
				due[i] = saf_clock_mono_ms() + iv * 1000u;
			}
			if (due[i] < next)
				next = due[i];
		}
		now = saf_clock_mono_ms();
		if (next > now && !*stop) {
			uint64_t ms = next - now;
			struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
					      .tv_nsec = (long)(ms % 1000) *
							 1000000};

			nanosleep(&ts, NULL); /* a signal ends it early */
		}
	}
	return 0;
}
