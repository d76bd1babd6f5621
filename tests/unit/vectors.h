/* SPDX-License-Identifier: MIT */
/*
 * Test vectors as files: tests/vectors/<set>/<name>.hex, each a few
 * "key: value" lines ('#' starts a comment). Binary values are hex.
 */
#ifndef SAF_TEST_VECTORS_H
#define SAF_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#define VEC_MAX_FIELDS 24
#define VEC_KEY_LEN    32
#define VEC_VALUE_LEN  2048
#define VEC_MAX_FILES  64

typedef struct vec_file {
	char path[512];
	size_t n;
	struct {
		char key[VEC_KEY_LEN];
		char value[VEC_VALUE_LEN];
	} f[VEC_MAX_FIELDS];
} vec_file;

/* Loads SAF_TEST_VECTORS/<rel>; fails the test when it cannot. */
void vec_load(const char *rel, vec_file *v);
/* The value of key, or NULL. */
const char *vec_get(const vec_file *v, const char *key);
/* Hex value of key (which must exist) into out; returns its length. */
size_t vec_hex(const vec_file *v, const char *key, uint8_t *out, size_t cap);
/* Sorted names of the *.hex files in SAF_TEST_VECTORS/<set>; returns how
 * many (and fails the test when there are none). names[i] is "set/x.hex". */
size_t vec_list(const char *set, char names[][128], size_t max);

#endif /* SAF_TEST_VECTORS_H */
