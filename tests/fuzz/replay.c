/* fuzz_replay: run the fuzz target over each file named on the command line. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int n = 0;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		char *buf = NULL;
		size_t len = 0, cap = 0;
		for (;;) {
			if (len == cap) {
				cap = cap ? cap * 2 : 4096;
				buf = xrealloc(buf, cap);
			}
			size_t r = fread(buf + len, 1, cap - len, f);
			if (r == 0)
				break;
			len += r;
		}
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
		n++;
	}
	printf("fuzz_replay: %d inputs, no crash\n", n);
	return 0;
}
