/* cli_lsp: kiln lsp, the language server over standard input and output. */
#ifndef KILN_CLI_LSP_H
#define KILN_CLI_LSP_H

struct command;

extern const char cli_lsp_usage[];

/* kiln lsp ARGS (argv[0] is "lsp"): the exit status. */
int cli_lsp_cmd(const struct command *c, int argc, char **argv);

#endif
