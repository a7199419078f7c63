/*
 * Every schema's example is kiln that parses: a module's example is a task
 * (tried inside a stage), an output's an output block (inside an image), a
 * base's or function's a whole top-level item.
 */
#include "check.h"
#include "parse.h"
#include "builtins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_KINDS (SCHEMA_FUNCTION + 1)

static bool parses(const char *text)
{
	struct arena a = ARENA_INIT;
	struct source_map sm = {0};
	struct diag_sink diags;

	diag_sink_init(&diags, &sm, 20);
	uint32_t id = source_add(&sm, "example.img", text, strlen(text));
	parse_source(&a, &diags, id, NULL);
	bool ok = diags.nerrors == 0;
	if (!ok) {
		fprintf(stderr, "does not parse:\n%s\n", text);
		diag_print(&diags, stderr, DIAG_TEXT, false);
	}
	diag_sink_release(&diags);
	source_map_release(&sm);
	arena_release(&a);
	return ok;
}

int main(void)
{
	for (int k = 0; k < N_KINDS; k++) {
		const struct kiln_schema *const *list;
		size_t n = stdlib_all((enum kiln_schema_kind)k, &list);

		for (size_t i = 0; i < n; i++) {
			const char *ex = list[i]->example;
			char text[1024];

			if (k == SCHEMA_MODULE)
				snprintf(text, sizeof(text),
				         "image t from scratch() {\n  stage s {\n    %s\n  }\n}\n",
				         ex);
			else if (k == SCHEMA_OUTPUT)
				snprintf(text, sizeof(text), "image t from scratch() {\n  %s\n}\n",
				         ex);
			else
				snprintf(text, sizeof(text), "%s\n", ex);
			CHECK(parses(text));
		}
	}
	CHECK(!parses("image t from scratch() { stage s { apt \"x\" { name = } } }\n"));
	return CHECK_DONE();
}
