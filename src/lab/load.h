/* SPDX-License-Identifier: MIT */
/*
 * saf-load's parts (load.c: the runner and main; load_echo.c: the echo
 * server), shared by its two files and nothing else.
 */
#ifndef SAF_LAB_LOAD_H
#define SAF_LAB_LOAD_H

#include <signal.h>
#include <sys/resource.h>

/* Set by on_signal (SIGTERM, SIGINT): both ends stop and report. */
extern volatile sig_atomic_t stop_requested;
void on_signal(int sig);

/* A saf node resets nothing, but the client side holds count + closing
 * sockets and each node's echo server a third of them: the fd limit
 * raised as far as the hard limit allows; the new limit, 0 if not. */
rlim_t raise_nofile(void);

/* saf-load echo ARGS: the echo server (argv[0] is "echo"). */
int cmd_echo(int argc, char **argv);

#endif /* SAF_LAB_LOAD_H */
