/* SPDX-License-Identifier: MIT */
#include "vectors.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/hex.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
			 e[-1] == '\t'))
		*--e = '\0';
	return s;
}

void vec_load(const char *rel, vec_file *v)
{
	char line[VEC_VALUE_LEN + VEC_KEY_LEN + 8];
	FILE *f;

	memset(v, 0, sizeof(*v));
	snprintf(v->path, sizeof(v->path), "%s/%s", SAF_TEST_VECTORS, rel);
	f = fopen(v->path, "r");
	if (!f)
		fail_msg("cannot open vector %s", v->path);
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *colon;

		if (*s == '\0' || *s == '#')
			continue;
		colon = strchr(s, ':');
		if (!colon || v->n == VEC_MAX_FIELDS)
			fail_msg("%s: bad line '%s'", v->path, s);
		*colon = '\0';
		snprintf(v->f[v->n].key, VEC_KEY_LEN, "%s", trim(s));
		snprintf(v->f[v->n].value, VEC_VALUE_LEN, "%s",
			 trim(colon + 1));
		v->n++;
	}
	fclose(f);
}

const char *vec_get(const vec_file *v, const char *key)
{
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->f[i].key, key) == 0)
			return v->f[i].value;
	}
	return NULL;
}

size_t vec_hex(const vec_file *v, const char *key, uint8_t *out, size_t cap)
{
	const char *text = vec_get(v, key);
	saf_error err;
	size_t n = 0;

	if (!text)
		fail_msg("%s: no '%s'", v->path, key);
	if (saf_hex_decode(text, out, cap, &n, &err))
		fail_msg("%s: %s: %s", v->path, key, err.msg);
	return n;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

size_t vec_list(const char *set, char names[][128], size_t max)
{
	char dir[512];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", SAF_TEST_VECTORS, set);
	d = opendir(dir);
	if (!d)
		fail_msg("cannot open vector folder %s", dir);
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".hex") == 0)
			snprintf(names[n++], 128, "%s/%s", set, e->d_name);
	}
	closedir(d);
	if (n == 0)
		fail_msg("no vectors in %s", dir);
	qsort(names, n, 128, cmp_names);
	return n;
}
