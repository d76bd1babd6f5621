/* SPDX-License-Identifier: MIT */
/*
 * Errors are values: a code a program can switch on and a one-line message a
 * person can act on ("advert for 224.0.0.1 rejected: multicast").
 *
 * Convention for the whole library: a function that can fail returns int,
 * 0 on success and -1 on failure, and fills the caller's saf_error (which may
 * be NULL when the caller does not care why).
 */
#ifndef SAF_ERROR_H
#define SAF_ERROR_H

#include <stdarg.h>

#include "saf/constants.h"

#define SAF_MUST_CHECK __attribute__((warn_unused_result))

typedef enum saf_errc {
	SAF_OK = 0,
	SAF_E_SHORT,     /* input ended before the structure did */
	SAF_E_TRAILING,  /* bytes left over after an exact structure */
	SAF_E_RANGE,     /* a length or value outside its allowed range */
	SAF_E_FORMAT,    /* not the expected kind/ExID/type/syntax */
	SAF_E_NOSPACE,   /* output buffer (or option space) too small */
	SAF_E_INVAL,     /* bad argument from the caller */
	SAF_E_CRYPTO,    /* libcrypto failed */
	SAF_E_NOMEM,     /* allocation failed */
	SAF_E_SYS,       /* a system call failed; message says which */
	SAF_E_REFUSED,   /* a policy refused the input (address class, ...) */
	SAF_E_TIMEOUT,   /* a bounded wait ran out */
	SAF_E_UNSUPPORTED, /* the kernel or peer lacks what is needed */
} saf_errc;

typedef struct saf_error {
	saf_errc code;
	char msg[SAF_ERROR_MSG_LEN];
} saf_error;

/* Fills *err (when err is not NULL) and returns -1, so that a failure path is
 * one line: `return saf_fail(err, SAF_E_SHORT, "token: %zu bytes", n);`. */
int saf_fail(saf_error *err, saf_errc code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Short stable name of a code ("short", "trailing", ...), for JSON output. */
const char *saf_errc_name(saf_errc code);

#endif /* SAF_ERROR_H */
