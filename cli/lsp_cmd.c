/* kiln lsp: serve the Language Server Protocol on standard input and output. */
#include "cli_lsp.h"
#include "lsp.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

const char cli_lsp_usage[] =
    "usage: kiln lsp [--stdio]\n"
    "\n"
    "Serve the Language Server Protocol on standard input and output, for\n"
    "editors: diagnostics as kiln lint gives them, hover, completion, go to\n"
    "definition, references and rename (across the files that import each\n"
    "other), document symbols and formatting (kiln fmt). See docs/lsp.md.\n"
    "\n"
    "  --stdio    the only transport (accepted because clients pass it)\n"
    "\n"
    "exit status: 0 after shutdown and exit, 1 when the input ended first,\n"
    "  2 usage error\n";

int cli_lsp_cmd(const struct command *c, int argc, char **argv)
{
	(void)c;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(cli_lsp_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--stdio")) {
			fprintf(stderr, "kiln: lsp: unknown option '%s'\nTry 'kiln help lsp'.\n",
			        argv[i]);
			return 2;
		}
	}
	/* a client that goes away must not kill the server mid-write */
	signal(SIGPIPE, SIG_IGN);
	return lsp_serve(stdin, stdout);
}
