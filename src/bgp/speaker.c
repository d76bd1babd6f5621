/* SPDX-License-Identifier: MIT */
/*
 * The BGP speaker process (ExaBGP) and the two FIFOs saf talks to it over.
 *
 * ExaBGP starts its API helpers itself and talks to them over their stdin
 * and stdout. Our helper is a two-line relay script: it copies the "in"
 * FIFO (saf's commands) to its stdout and its stdin (ExaBGP's messages) to
 * the "out" FIFO. When saf dies its end of "in" closes, the relay's cat
 * sees end of file and exits, and ExaBGP (api.terminate) ends its
 * sessions: the routers withdraw saf's routes at once. PR_SET_PDEATHSIG
 * covers the rest (a speaker stuck before its helper started).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "saf/bgp.h"

struct saf_bgp_speaker {
	pid_t pid;
	int in_fd, out_fd; /* commands to, messages from the speaker */
	char dir[64];
	char rbuf[SAF_BGP_LINE_MAX * 4];
	size_t rlen;
	bool skipping; /* inside an over-long line: drop up to its end */
};

static int write_file(const char *path, mode_t mode, const char *text,
		      saf_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return saf_fail(err, SAF_E_SYS, "bgp speaker: writing %s: %s",
				path, strerror(e));
	}
	close(fd);
	return 0;
}

static int prepare_dir(saf_bgp_speaker *sp, const saf_bgp_speaker_cfg *c,
		       saf_error *err)
{
	char path[128], relay[512];
	FILE *f;
	int rc;

	snprintf(sp->dir, sizeof(sp->dir), "/tmp/saf-bgp-XXXXXX");
	if (!mkdtemp(sp->dir))
		return saf_fail(err, SAF_E_SYS, "bgp speaker: mkdtemp: %s",
				strerror(errno));
	snprintf(path, sizeof(path), "%s/in", sp->dir);
	if (mkfifo(path, 0600))
		return saf_fail(err, SAF_E_SYS, "bgp speaker: mkfifo: %s",
				strerror(errno));
	snprintf(path, sizeof(path), "%s/out", sp->dir);
	if (mkfifo(path, 0600))
		return saf_fail(err, SAF_E_SYS, "bgp speaker: mkfifo: %s",
				strerror(errno));
	/* A background job's stdin is /dev/null in sh: keep the real one
	 * on fd 3 for the copy of ExaBGP's messages. The "in" copy ends
	 * when saf's end closes (saf died, even by SIGKILL): the relay then
	 * removes the directory, which saf could not. */
	snprintf(relay, sizeof(relay),
		 "#!/bin/sh\nexec 3<&0\ncat <&3 >%s/out &\ncat %s/in 3<&-\n"
		 "rm -rf %s\n",
		 sp->dir, sp->dir, sp->dir);
	snprintf(path, sizeof(path), "%s/relay", sp->dir);
	if (write_file(path, 0700, relay, err))
		return -1;
	snprintf(path, sizeof(path), "%s/exabgp.conf", sp->dir);
	f = fopen(path, "wx");
	if (!f)
		return saf_fail(err, SAF_E_SYS, "bgp speaker: %s: %s", path,
				strerror(errno));
	snprintf(relay, sizeof(relay), "%s/relay", sp->dir);
	rc = saf_exabgp_config(c, relay, f, err);
	if (fclose(f) && rc == 0)
		return saf_fail(err, SAF_E_SYS, "bgp speaker: %s: %s", path,
				strerror(errno));
	return rc;
}

static void remove_dir(saf_bgp_speaker *sp)
{
	static const char *const files[] = {"in", "out", "relay", "exabgp.conf",
					    "log"};
	char path[128];

	if (!sp->dir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", sp->dir, files[i]);
		unlink(path);
	}
	rmdir(sp->dir);
	sp->dir[0] = '\0';
}

/* In the child: never returns. */
static void exec_speaker(const saf_bgp_speaker *sp,
			 const saf_bgp_speaker_cfg *c, pid_t parent)
{
	static const char *const env[][2] = {
		{"exabgp.daemon.daemonize", "false"},
		{"exabgp.daemon.user",
		 "root"}, /* no drop: the FIFOs are 0600 */
		{"exabgp.api.cli", "false"},
		{"exabgp.api.ack", "true"},
		{"exabgp.api.respawn", "false"},
		{"exabgp.api.terminate", "true"},
		{"exabgp.tcp.bind", ""}, /* speak only, never listen */
	};
	const char *prog = c->program ? c->program : "exabgp";
	char conf[128];
	int fd;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127); /* the parent died before prctl */
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		setenv(env[i][0], env[i][1], 1);
	/* exabgp.log.enable=false crashes ExaBGP 4.2.21 (logger.py): it
	 * logs to its stdout, the log file or one in the private directory */
	setenv("exabgp.log.destination", "stdout", 1);
	snprintf(conf, sizeof(conf), "%s/log", sp->dir);
	fd = open(c->log_path ? c->log_path : conf,
		  O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	snprintf(conf, sizeof(conf), "%s/exabgp.conf", sp->dir);
	execlp(prog, prog, conf, (char *)NULL);
	fprintf(stderr, "saf: bgp speaker: exec %s: %s\n", prog,
		strerror(errno));
	_exit(127);
}

saf_bgp_speaker *saf_bgp_speaker_start(const saf_bgp_speaker_cfg *c,
				       saf_error *err)
{
	saf_bgp_speaker *sp = calloc(1, sizeof(*sp));
	char path[128];
	pid_t parent = getpid();

	if (!sp) {
		saf_fail(err, SAF_E_NOMEM, "bgp speaker: out of memory");
		return NULL;
	}
	sp->in_fd = sp->out_fd = -1;
	if (prepare_dir(sp, c, err))
		goto fail;
	/* O_RDWR: neither open waits for the relay, and "out" never reads
	 * end of file while the relay restarts its copy. */
	snprintf(path, sizeof(path), "%s/in", sp->dir);
	sp->in_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/out", sp->dir);
	sp->out_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (sp->in_fd < 0 || sp->out_fd < 0) {
		saf_fail(err, SAF_E_SYS, "bgp speaker: opening the FIFOs: %s",
			 strerror(errno));
		goto fail;
	}
	sp->pid = fork();
	if (sp->pid < 0) {
		saf_fail(err, SAF_E_SYS, "bgp speaker: fork: %s",
			 strerror(errno));
		goto fail;
	}
	if (sp->pid == 0)
		exec_speaker(sp, c, parent);
	return sp;
fail:
	if (sp->in_fd >= 0)
		close(sp->in_fd);
	if (sp->out_fd >= 0)
		close(sp->out_fd);
	remove_dir(sp);
	free(sp);
	return NULL;
}

int saf_bgp_speaker_send(saf_bgp_speaker *sp, const char *line, size_t len,
			 saf_error *err)
{
	ssize_t n = write(sp->in_fd, line, len);

	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == EAGAIN)
		return saf_fail(err, SAF_E_NOSPACE,
				"bgp speaker: command FIFO full (the speaker "
				"is not reading)");
	/* a pipe write of at most PIPE_BUF bytes is all or nothing */
	return saf_fail(err, SAF_E_SYS, "bgp speaker: write: %s",
			n < 0 ? strerror(errno) : "short");
}

int saf_bgp_speaker_fd(const saf_bgp_speaker *sp)
{
	return sp->out_fd;
}

pid_t saf_bgp_speaker_pid(const saf_bgp_speaker *sp)
{
	return sp->pid;
}

int saf_bgp_speaker_next(saf_bgp_speaker *sp, saf_exabgp_msg *out,
			 uint64_t *bad)
{
	for (;;) {
		char *nl = memchr(sp->rbuf, '\n', sp->rlen);

		if (nl) {
			size_t len = (size_t)(nl - sp->rbuf);
			bool skip = sp->skipping;
			saf_error err;
			int rc = skip ? -1
				      : saf_exabgp_parse(sp->rbuf, len, out,
							 &err);

			sp->skipping = false;
			memmove(sp->rbuf, nl + 1, sp->rlen - len - 1);
			sp->rlen -= len + 1;
			if (rc == 0)
				return 1;
			if (bad)
				(*bad)++;
			continue;
		}
		if (sp->rlen == sizeof(sp->rbuf)) {
			sp->rlen = 0; /* an over-long line: drop to its end */
			sp->skipping = true;
		}
		ssize_t n = read(sp->out_fd, sp->rbuf + sp->rlen,
				 sizeof(sp->rbuf) - sp->rlen);
		if (n <= 0)
			return 0;
		sp->rlen += (size_t)n;
	}
}

bool saf_bgp_speaker_alive(saf_bgp_speaker *sp)
{
	if (sp->pid <= 0)
		return false;
	if (waitpid(sp->pid, NULL, WNOHANG) == sp->pid) {
		kill(-sp->pid, SIGTERM); /* the relay, if it lingers */
		sp->pid = 0;
		return false;
	}
	return true;
}

void saf_bgp_speaker_stop(saf_bgp_speaker *sp)
{
	if (!sp)
		return;
	if (sp->pid > 0) {
		kill(-sp->pid, SIGTERM);
		for (int i = 0; i < 200; i++) {
			struct timespec ts = {0, 10 * 1000 * 1000};

			if (waitpid(sp->pid, NULL, WNOHANG) == sp->pid) {
				sp->pid = 0;
				break;
			}
			nanosleep(&ts, NULL);
		}
		if (sp->pid > 0) {
			kill(-sp->pid, SIGKILL);
			waitpid(sp->pid, NULL, 0);
		}
	}
	close(sp->in_fd);
	close(sp->out_fd);
	remove_dir(sp);
	free(sp);
}
