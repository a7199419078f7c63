/*
 * fuzz_lsp: kiln lsp's server on arbitrary bytes as its input stream: the
 * framing, the JSON-RPC layer and every request on whatever documents the
 * bytes open. Built as a libFuzzer target (KILN_FUZZ=ON) and, always, as
 * fuzz_lsp_replay over the sessions in tests/fuzz/lsp/.
 */
#include "lsp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	FILE *in = fmemopen((void *)data, size, "r");
	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);
	if (in && out)
		(void)lsp_serve(in, out);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	free(buf);
	return 0;
}
