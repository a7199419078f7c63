/*
 * lsp: kiln's language server (kiln lsp): the Language Server Protocol over
 * a pair of streams. Diagnostics come from the same checker as kiln lint;
 * formatting is kiln fmt's layout; hover, completion, definition and
 * document symbols read the AST and the stdlib's schemas. docs/lsp.md says
 * what it answers.
 */
#ifndef KILN_LSP_H
#define KILN_LSP_H

#include <stdio.h>

/* Serve until `exit` or the end of input. Returns the exit status: 0 after
   shutdown then exit, 1 when the input ended or exit came without shutdown. */
int lsp_serve(FILE *in, FILE *out);

#endif
