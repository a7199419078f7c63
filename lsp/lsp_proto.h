/*
 * lsp_proto: the Language Server Protocol's wire layer, apart from what the
 * server does: JSON-RPC messages framed by a Content-Length header, and the
 * conversion between byte offsets and LSP positions (0-based line, column in
 * UTF-16 code units).
 */
#ifndef KILN_LSP_PROTO_H
#define KILN_LSP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The largest message body read: a bigger one is a framing error. */
#define LSP_MAX_BODY (256u * 1024u * 1024u)

enum lsp_read {
	LSP_READ_OK,    /* *ret_body holds the body (malloc'd, NUL-terminated) */
	LSP_READ_EOF,   /* end of input before a header */
	LSP_READ_ERROR, /* a broken header or a body cut short: *ret_why says which */
};

/*
 * Read one message: header lines up to an empty line (Content-Length is
 * required, Content-Type is accepted and ignored), then the body.
 */
enum lsp_read lsp_read_message(FILE *in, char **ret_body, size_t *ret_len, const char **ret_why);
/* Write body with its Content-Length header and flush. Returns 0 or -1. */
int lsp_write_message(FILE *out, const char *body, size_t len);

/* UTF-16 code units of the UTF-8 text s[0..n) (an invalid byte counts one). */
uint32_t lsp_utf16_len(const char *s, size_t n);
/*
 * Bytes of s[0..n) that the first `units` UTF-16 code units cover (stops at
 * n, and before a code point that would be cut in half).
 */
size_t lsp_utf16_bytes(const char *s, size_t n, uint32_t units);
/* The byte offset of LSP position (line, character) in text[0..n); past the
   end of a line: the line's end, past the last line: n. */
size_t lsp_offset(const char *text, size_t n, uint32_t line, uint32_t character);
/* The LSP position of byte offset off in text[0..n). */
void lsp_position(const char *text, size_t n, size_t off, uint32_t *ret_line,
                  uint32_t *ret_character);

/* The path of a file:// URI (percent-decoded, malloc'd), or NULL for another scheme. */
char *lsp_uri_to_path(const char *uri);
/* The file:// URI of an absolute path (malloc'd). */
char *lsp_path_to_uri(const char *path);

#endif
