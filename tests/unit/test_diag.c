/* Unit tests of the source map and diagnostics. */
#include "check.h"
#include "diag.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct source_map sm = {0};
	const char *text = "one\ntw\xC3\xB6\r\nthree";
	uint32_t id = source_add(&sm, "x.img", text, strlen(text));
	struct source_file *f = source_get(&sm, id);
	uint32_t line, col, start, len;
	source_position(f, 0, &line, &col);
	CHECK(line == 1 && col == 1);
	source_position(f, 4, &line, &col);
	CHECK(line == 2 && col == 1);
	source_position(f, 8, &line, &col); /* after the two-byte o-umlaut */
	CHECK(line == 2 && col == 4);
	source_line(f, 2, &start, &len);
	CHECK(start == 4 && len == 4); /* the \r is not part of the line */
	source_position(f, (uint32_t)strlen(text), &line, &col);
	CHECK(line == 3 && col == 6);

	struct diag_sink s;
	diag_sink_init(&s, &sm, 2);
	struct diag *d =
	    diag_error(&s, E_UNEXPECTED_TOKEN, (struct src_span){id, 4, 6}, "bad %s", "x");
	diag_label(d, (struct src_span){id, 0, 3}, "see %d", 1);
	const char *names[] = {"restart_apache", "restart_ssh", "reload"};
	diag_suggest(d, names, 3, "restart_apach");
	CHECK(d->help && !strcmp(d->help, "did you mean 'restart_apache'?"));
	CHECK(diag_closest(names, 3, "zzz") == NULL);
	diag_warning(&s, W_EMPTY_FILE, (struct src_span){id, 0, 0}, "w");
	diag_error(&s, E_BAD_NUMBER, (struct src_span){id, 0, 1}, "second");
	CHECK(diag_too_many(&s));
	struct diag *dropped = diag_error(&s, E_BAD_NUMBER, (struct src_span){id, 0, 1}, "third");
	diag_label(dropped, (struct src_span){id, 0, 1}, "dropped"); /* must be harmless */
	CHECK(s.nerrors == 2 && s.nwarnings == 1 && s.truncated);
	CHECK(!strcmp(diag_code_str(E_UNEXPECTED_TOKEN), "E1001"));

	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);
	diag_print(&s, out, DIAG_TEXT, false);
	fclose(out);
	CHECK(strstr(buf, "x.img:2:1: error[E1001]: bad x\n") != NULL);
	CHECK(strstr(buf, "    2 | tw\xC3\xB6\n      | ^^\n") != NULL);
	CHECK(strstr(buf, "kiln: 2 errors, 1 warning\n") != NULL);
	free(buf);
	out = open_memstream(&buf, &n);
	diag_print(&s, out, DIAG_SHORT, false);
	fclose(out);
	CHECK(strstr(buf, "x.img:2:1: error: bad x [E1001]\n") != NULL);
	free(buf);
	diag_sink_release(&s);
	source_map_release(&sm);
	return CHECK_DONE();
}
