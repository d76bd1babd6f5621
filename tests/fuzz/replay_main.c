/* SPDX-License-Identifier: MIT */
/*
 * Runs a libFuzzer harness over every file of its corpus without libFuzzer:
 * linked with fuzz/fuzz_<name>.c in the ordinary build, so `make test`,
 * the sanitizer build and valgrind replay every input the fuzzers kept
 * (crashes found by fuzzing land in the corpus and stay fixed). The
 * harness aborts on a broken property; this exits 1 on an unreadable
 * corpus.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *dir, const char *name)
{
	char path[1024];
	uint8_t *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	/* One byte more so an empty file still has a buffer. */
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : SAF_FUZZ_CORPUS;
	struct dirent **names;
	int n, runs = 0, rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s\n", dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			if (run_file(dir, names[i]->d_name))
				rc = 1;
			else
				runs++;
		}
		free(names[i]);
	}
	free(names);
	printf("replay: %d inputs from %s\n", runs, dir);
	return rc || runs == 0;
}
