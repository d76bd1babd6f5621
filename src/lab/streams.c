/* SPDX-License-Identifier: MIT */
/*
 * saf-streams: a population of long-lived echo streams whose bytes are
 * checked end to end, for the demo and the lab tests.
 *
 * Each stream sends a deterministic pseudo-random byte sequence (its own
 * seed) in chunks at a steady rate and checks every echoed byte against
 * the same sequence, so a single lost, duplicated or altered byte counts as
 * a mismatch. A running SHA-256 of what was sent and of what came back is
 * reported too. The transport is a plain TCP connection to --target, or a
 * command (`--cmd 'saf tcp connect -v S:PORT'`) whose stdin/stdout carry
 * the stream, so saf's own clients are tested exactly as users run them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "saf/addr.h"
#include "saf/clock.h"
#include "cli/opt.h"
#include "checked_bytes.h"

#define MAX_STREAMS 512

typedef struct stream {
	int wfd, rfd;   /* same socket, or the child's stdin and stdout */
	pid_t pid;      /* child, cmd mode */
	int errfd;      /* child's stderr (read at the end) */
	uint64_t tx_state, rx_state; /* the two PRNG positions */
	uint64_t sent, received, mismatches;
	bool broken, write_closed, done;
	uint64_t broke_at_ms;
	char why[96];
	char ended[64];
	char err_tail[160]; /* the child's last stderr line (cmd mode) */
	EVP_MD_CTX *tx_hash, *rx_hash;
} stream;

static void mark_broken(stream *st, const char *why)
{
	if (st->broken)
		return;
	st->broken = true;
	st->broke_at_ms = saf_clock_wall_ms();
	snprintf(st->why, sizeof(st->why), "%s", why);
}

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static int open_plain(const saf_addr *target, bool mptcp)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(target, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
			mptcp ? IPPROTO_MPTCP : 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int open_cmd(const char *cmd, stream *st)
{
	int in[2], out[2], err[2];

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC))
		return -1;
	st->pid = fork();
	if (st->pid < 0)
		return -1;
	if (st->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	st->wfd = in[1];
	st->rfd = out[0];
	st->errfd = err[0];
	return 0;
}

static void read_echo(stream *st)
{
	uint8_t buf[8192];
	ssize_t n = read(st->rfd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (!st->write_closed)
			mark_broken(st, n == 0 ? "closed by peer"
					       : strerror(errno));
		st->done = true;
		return;
	}
	EVP_DigestUpdate(st->rx_hash, buf, (size_t)n);
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != checked_next_byte(&st->rx_state))
			st->mismatches++;
	st->received += (uint64_t)n;
	if (st->received > st->sent)
		st->mismatches++; /* more came back than went out */
}

static void send_chunk(stream *st, size_t chunk)
{
	uint8_t buf[65536];
	uint64_t save = st->tx_state;
	ssize_t w;

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	for (size_t i = 0; i < chunk; i++)
		buf[i] = checked_next_byte(&st->tx_state);
	w = write(st->wfd, buf, chunk);
	if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
		st->tx_state = save; /* try the same bytes next time */
		return;
	}
	if (w <= 0) {
		mark_broken(st, w == 0 ? "write returned 0" : strerror(errno));
		return;
	}
	/* A short write: rewind the generator to the first unsent byte. */
	st->tx_state = save;
	for (ssize_t i = 0; i < w; i++)
		(void)checked_next_byte(&st->tx_state);
	EVP_DigestUpdate(st->tx_hash, buf, (size_t)w);
	st->sent += (uint64_t)w;
}

static void finish_ended(stream *st, const char *target)
{
	char buf[2048];
	ssize_t n;
	size_t len = 0;

	snprintf(st->ended, sizeof(st->ended), "%s", target);
	if (st->errfd < 0)
		return;
	fcntl(st->errfd, F_SETFL, O_NONBLOCK);
	while (len < sizeof(buf) - 1 &&
	       (n = read(st->errfd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	/* Its last line, for the report: why a broken stream's client ended. */
	char *end = buf + len;
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	char *last = strrchr(buf, '\n');
	size_t k = 0;
	for (const char *q = last ? last + 1 : buf; *q && k < sizeof(st->err_tail) - 1; q++)
		if (*q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
			st->err_tail[k++] = *q;
	st->err_tail[k] = '\0';
	/* saf tls's -v line: "saf tls: OUTCOME at ADDR: why" (the last one
	 * counts: a migrate_notify adds another). */
	char *tls = NULL;
	for (char *p = strstr(buf, "saf tls: "); p; p = strstr(p + 1, "saf tls: "))
		if (strstr(p, " at "))
			tls = p;
	if (tls) {
		char oc[24] = "";
		char *at = strstr(tls, " at ");
		char *colon = at ? strstr(at + 4, ": ") : NULL;

		if (at && colon && colon - (at + 4) < 48 &&
		    sscanf(tls + 9, "%23s", oc) == 1) {
			*colon = '\0';
			snprintf(st->ended, sizeof(st->ended), "%s (%s)", at + 4,
				 oc);
		}
		return;
	}
	/* saf tcp's -v line: "saf: OUTCOME: on ADDR via S (reason)" */
	char *on = strstr(buf, ": on ");
	if (on) {
		char *outcome = strstr(buf, "saf: ");
		char addr[48] = "", oc[16] = "";

		if (sscanf(on + 5, "%47s", addr) == 1 && outcome &&
		    sscanf(outcome + 5, "%15[^:]", oc) == 1)
			snprintf(st->ended, sizeof(st->ended), "%s (%s)", addr,
				 oc);
	}
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static const char usage[] =
	"usage: saf-streams --name NAME --count N --duration S\n"
	"                   (--target ADDR:PORT | --cmd 'COMMAND')\n"
	"                   [--interval MS] [--chunk BYTES] [--json FILE]\n"
	"                   [--progress FILE] [--mptcp]\n"
	"Holds N long-lived echo streams and checks every byte.\n";

typedef struct config {
	const char *name, *cmd, *json, *progress, *target_text;
	long count, interval, chunk;
	uint64_t duration_ms;
	bool mptcp;
	saf_addr target;
} config;

/* Options into *c: 0 to go on, -1 after --help, else the exit code. */
static int parse_args(int argc, char **argv, config *c)
{
	static const struct option lo[] = {
		{ "name", required_argument, 0, 'n' },
		{ "count", required_argument, 0, 'c' },
		{ "duration", required_argument, 0, 'd' },
		{ "target", required_argument, 0, 't' },
		{ "cmd", required_argument, 0, 'C' },
		{ "interval", required_argument, 0, 'i' },
		{ "chunk", required_argument, 0, 'k' },
		{ "json", required_argument, 0, 'j' },
		{ "progress", required_argument, 0, 'p' },
		{ "mptcp", no_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	saf_error err;
	uint64_t v;
	int o;

	*c = (config){ .name = "streams", .count = 10, .interval = 100,
		       .chunk = 256, .duration_ms = 10000 };
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'n': c->name = optarg; break;
		case 'c':
			if (saf_opt_uint("--count", optarg, 10, 1, MAX_STREAMS, &v, &err))
				goto bad;
			c->count = (long)v;
			break;
		case 'd': /* S, or with a unit; at least 1 ms, at most a week */
			if (saf_opt_duration_us("--duration", optarg, "s", 1000u, 604800000000u, &v, &err))
				goto bad;
			c->duration_ms = v / 1000u;
			break;
		case 't': c->target_text = optarg; break;
		case 'C': c->cmd = optarg; break;
		case 'i':
			if (saf_opt_uint("--interval", optarg, 10, 1, 3600000, &v, &err))
				goto bad;
			c->interval = (long)v;
			break;
		case 'k':
			if (saf_opt_uint("--chunk", optarg, 10, 1, 65536, &v, &err))
				goto bad;
			c->chunk = (long)v;
			break;
		case 'j': c->json = optarg; break;
		case 'p': c->progress = optarg; break;
		case 'M': c->mptcp = true; break;
		case 'h': fputs(usage, stdout); return -1;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!c->cmd == !c->target_text) {
		fputs(usage, stderr);
		return 2;
	}
	if (c->target_text &&
	    saf_opt_addr_port("--target", c->target_text, &c->target, &err))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "saf-streams: %s\n", err.msg);
	return 2;
}

static void open_all(const config *c, stream *st)
{
	for (long i = 0; i < c->count; i++) {
		stream *s = &st[i];

		s->errfd = -1;
		s->tx_state = s->rx_state = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		s->tx_hash = EVP_MD_CTX_new();
		s->rx_hash = EVP_MD_CTX_new();
		EVP_DigestInit_ex(s->tx_hash, EVP_sha256(), NULL);
		EVP_DigestInit_ex(s->rx_hash, EVP_sha256(), NULL);
		if (c->cmd) {
			if (open_cmd(c->cmd, s))
				mark_broken(s, "cannot start the command");
		} else {
			s->wfd = s->rfd = open_plain(&c->target, c->mptcp);
			if (s->wfd < 0)
				mark_broken(s, "connect failed");
		}
		if (!s->broken) {
			fcntl(s->rfd, F_SETFL, O_NONBLOCK);
			fcntl(s->wfd, F_SETFL, O_NONBLOCK);
		}
	}
}

/* Stop sending, close the write side, wait for the last echoes. */
static void close_writes(const config *c, stream *st)
{
	for (long i = 0; i < c->count; i++) {
		if (st[i].broken)
			continue;
		st[i].write_closed = true;
		if (st[i].wfd == st[i].rfd)
			shutdown(st[i].wfd, SHUT_WR);
		else
			close(st[i].wfd);
	}
}

static bool all_echoed(const config *c, const stream *st)
{
	for (long i = 0; i < c->count; i++)
		if (!st[i].broken && !st[i].done && st[i].received < st[i].sent)
			return false;
	return true;
}

static void write_progress(const config *c, const stream *st, long alive)
{
	FILE *f = fopen(c->progress, "w");
	uint64_t bytes = 0, mism = 0;

	for (long i = 0; i < c->count; i++)
		bytes += st[i].received, mism += st[i].mismatches;
	if (f) {
		fprintf(f, "%s %ld/%ld alive, %llu bytes verified, %llu mismatches\n",
			c->name, alive, c->count, (unsigned long long)bytes,
			(unsigned long long)mism);
		fclose(f);
	}
}

/* Sends a chunk per stream every --interval for --duration, checking
 * every echo, then drains for up to 3 s. */
static void run(const config *c, stream *st)
{
	uint64_t start = saf_clock_wall_ms(), end = start + c->duration_ms;
	uint64_t next_send = start, next_progress = start;
	bool draining = false;
	uint64_t drain_until = 0;

	for (;;) {
		struct pollfd p[MAX_STREAMS];
		uint64_t t = saf_clock_wall_ms();
		long alive = 0;

		if (!draining && t >= end) {
			draining = true;
			drain_until = t + 3000;
			close_writes(c, st);
		}
		if (draining && (all_echoed(c, st) || t >= drain_until))
			break;
		if (!draining && t >= next_send) {
			for (long i = 0; i < c->count; i++)
				if (!st[i].broken)
					send_chunk(&st[i], (size_t)c->chunk);
			next_send += (uint64_t)c->interval;
		}
		for (long i = 0; i < c->count; i++) {
			p[i].fd = st[i].broken || st[i].done ? -1 : st[i].rfd;
			p[i].events = POLLIN;
			alive += !st[i].broken;
		}
		if (c->progress && t >= next_progress) {
			write_progress(c, st, alive);
			next_progress = t + 500;
		}
		poll(p, (nfds_t)c->count, 20);
		for (long i = 0; i < c->count; i++)
			if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				read_echo(&st[i]);
	}
}

static void report_stream(FILE *out, stream *s, bool first)
{
	unsigned char dtx[32], drx[32];
	char htx[65], hrx[65];
	unsigned n = 0;

	EVP_DigestFinal_ex(s->tx_hash, dtx, &n);
	EVP_DigestFinal_ex(s->rx_hash, drx, &n);
	hex(dtx, 32, htx);
	hex(drx, 32, hrx);
	fprintf(out,
		"%s{\"ok\":%s,\"sent\":%llu,\"received\":%llu,"
		"\"sha256_sent\":\"%s\",\"sha256_echoed\":\"%s\","
		"\"ended\":\"%s\",\"broke_at_ms\":%llu,\"why\":\"%s\",\"stderr\":\"%s\"}",
		first ? "" : ",", s->broken ? "false" : "true",
		(unsigned long long)s->sent,
		(unsigned long long)s->received, htx, hrx, s->ended,
		(unsigned long long)s->broke_at_ms, s->why, s->err_tail);
	EVP_MD_CTX_free(s->tx_hash);
	EVP_MD_CTX_free(s->rx_hash);
}

/* Judges every stream, ends the commands, prints the JSON report.
 * Returns the number of broken streams. */
static long report(const config *c, stream *st)
{
	long survived = 0, broken = 0;
	uint64_t bytes = 0, sent = 0, mism = 0;
	FILE *out = c->json ? fopen(c->json, "w") : stdout;

	if (!out)
		out = stdout;
	for (long i = 0; i < c->count; i++) {
		stream *s = &st[i];

		if (!s->broken && s->received != s->sent)
			mark_broken(s, "echo incomplete at the end");
		if (s->mismatches)
			mark_broken(s, "bytes differ");
		if (c->cmd && s->pid > 0) {
			kill(s->pid, SIGTERM);
			waitpid(s->pid, NULL, 0);
		}
		finish_ended(s, c->target_text ? c->target_text : "?");
		survived += !s->broken;
		broken += s->broken;
		bytes += s->received;
		sent += s->sent;
		mism += s->mismatches;
	}
	fprintf(out, "{\"population\":\"%s\",\"connections\":%ld,\"survived\":%ld,"
		     "\"broken\":%ld,\"bytes_sent\":%llu,\"bytes_verified\":%llu,"
		     "\"mismatches\":%llu,\"streams\":[",
		c->name, c->count, survived, broken, (unsigned long long)sent,
		(unsigned long long)(bytes - mism), (unsigned long long)mism);
	for (long i = 0; i < c->count; i++)
		report_stream(out, &st[i], i == 0);
	fputs("]}\n", out);
	if (out != stdout)
		fclose(out);
	return broken;
}

int main(int argc, char **argv)
{
	static stream st[MAX_STREAMS];
	config c;
	int rc = parse_args(argc, argv, &c);

	if (rc)
		return rc < 0 ? 0 : rc;
	signal(SIGPIPE, SIG_IGN);
	open_all(&c, st);
	run(&c, st);
	return report(&c, st) ? 1 : 0;
}
