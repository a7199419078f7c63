/*
 * test_plan_json: the streaming plan writer gives jansson's bytes
 * (JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII, then a newline):
 * for every file named on the command line (the compile goldens' plans),
 * for values with every kind of string escape, reals, integer limits, empty
 * containers and objects with many keys, for thousands of random trees, and
 * when the outer containers are streamed with begin/key/end, and for values
 * written to memory and put back into a tree as raw text.
 */
#include "check.h"
#include "plan_json.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FLAGS = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY };

/* What the writer writes for v, through a pipe read back (malloc'd). */
static char *written(const json_t *v, bool stream_outer)
{
	char path[] = "/tmp/test_plan_json.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	struct plan_json *w = malloc(sizeof(*w));
	plan_json_init(w, fd);
	if (stream_outer && json_is_object(v) && json_object_size(v)) {
		/* members in sorted order, arrays among them element by element */
		size_t n = json_object_size(v), i = 0;
		const char **keys = malloc(n * sizeof(*keys));
		const char *k;
		json_t *m;
		json_object_foreach ((json_t *)v, k, m)
			keys[i++] = k;
		for (size_t a = 1; a < n; a++)
			for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
				const char *t = keys[b];
				keys[b] = keys[b - 1];
				keys[b - 1] = t;
			}
		plan_json_begin_object(w);
		for (i = 0; i < n; i++) {
			plan_json_key(w, keys[i]);
			json_t *e = json_object_get(v, keys[i]);
			if (json_is_array(e)) {
				plan_json_begin_array(w);
				for (size_t j = 0; j < json_array_size(e); j++)
					plan_json_value(w, json_array_get(e, j));
				plan_json_end_array(w);
			} else {
				plan_json_value(w, e);
			}
		}
		plan_json_end_object(w);
		free(keys);
	} else {
		plan_json_value(w, v);
	}
	int r = plan_json_finish(w);
	uint64_t n = w->written;
	free(w);
	char *out = malloc(n + 1);
	if (r < 0 || pread(fd, out, n, 0) != (ssize_t)n) {
		close(fd);
		free(out);
		return NULL;
	}
	out[n] = 0;
	close(fd);
	return out;
}

static bool same(const json_t *v)
{
	char *j = json_dumps(v, FLAGS);
	char *want = malloc(strlen(j) + 2);
	strcpy(want, j);
	strcat(want, "\n");
	free(j);
	bool ok = true;
	for (int stream = 0; stream < 2; stream++) {
		char *got = written(v, stream);
		if (!got || strcmp(got, want)) {
			fprintf(stderr, "differs (%s):\n--- jansson\n%s--- plan_json\n%s\n",
			        stream ? "streamed" : "dumped", want, got ? got : "(error)");
			ok = false;
		}
		free(got);
	}
	free(want);
	return ok;
}

static unsigned long long rnd_state = 42;
static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rnd_state >> 33) % n);
}

static json_t *random_string(void)
{
	static const char *const pieces[] = {"a",
	                                     "key",
	                                     "\"",
	                                     "\\",
	                                     "/",
	                                     "\b",
	                                     "\f",
	                                     "\n",
	                                     "\r",
	                                     "\t",
	                                     "\x01",
	                                     "\x1f",
	                                     "\x7f",
	                                     "\xc3\xa9",
	                                     "\xe2\x82\xac",
	                                     "\xf0\x9f\x98\x80",
	                                     "\xef\xbf\xbf",
	                                     "$expr",
	                                     " ",
	                                     "0"};
	char buf[128] = "";
	unsigned n = rnd(6);
	for (unsigned i = 0; i < n; i++)
		strcat(buf, pieces[rnd(sizeof(pieces) / sizeof(*pieces))]);
	return json_string(buf);
}

static json_t *random_value(int depth)
{
	switch (rnd(depth > 4 ? 6 : 8)) {
	case 0:
		return random_string();
	case 1:
		return json_integer((json_int_t)rnd(1000000) - 500000);
	case 2: {
		static const double reals[] = {0.0,  -0.0,        1.5,       0.1,       1e20,
		                               1e-5, 123456789.0, -2.5e-300, 1.0 / 3.0, 1e300};
		return json_real(reals[rnd(10)]);
	}
	case 3:
		return json_true();
	case 4:
		return json_false();
	case 5:
		return json_null();
	case 6: {
		json_t *a = json_array();
		unsigned n = rnd(4);
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		unsigned n = rnd(3) ? rnd(5) : rnd(40);
		for (unsigned i = 0; i < n; i++) {
			json_t *k = random_string();
			json_object_set_new(o, json_string_value(k), random_value(depth + 1));
			json_decref(k);
		}
		return o;
	}
	}
}

int main(int argc, char **argv)
{
	json_t *fixed = json_pack(
	    "{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:[], s:{}, s:[[], {}, [[]]], s:n, s:b}",
	    "esc", "\"\\/\b\f\n\r\t\x01\x1f\x7f", "utf8",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "min", (json_int_t)INT64_MIN, "max",
	    (json_int_t)INT64_MAX, "r1", 1e20, "r2", 1e-5, "r3", 2.0, "r4", -0.5, "ea", "eo",
	    "nest", "nul", "t", 1);
	CHECK(same(fixed));
	json_decref(fixed);
	json_t *many = json_object();
	for (int i = 40; i > 0; i--) {
		char k[16];
		snprintf(k, sizeof(k), "k%02d", i * 7 % 41);
		json_object_set_new(many, k, json_integer(i));
	}
	CHECK(same(many));
	json_decref(many);
	for (int i = 0; i < 3000; i++) {
		json_t *v = random_value(0);
		bool ok = same(v);
		CHECK(ok);
		json_decref(v);
		if (!ok)
			break;
	}
	/* raw values: random subtrees written to text (init_mem) at some depth, put back
	   into the tree in their place (depths 2 and 3), give the bytes of the tree itself */
	for (int i = 0; i < 1000; i++) {
		json_t *v = random_value(0);
		/* laid out at the depth it stands at (elements of "a": 2), or any other */
		unsigned depth = i % 2 ? 2 : (unsigned)rnd(5);
		json_t *tree = json_pack("{s:[O,{s:O}],s:O}", "a", v, "b", v, "c", v);
		struct strbuf sb = STRBUF_INIT;
		struct plan_json *m = malloc(sizeof(*m));
		plan_json_init_mem(m, &sb, depth);
		plan_json_value(m, v);
		plan_json_flush_mem(m);
		free(m);
		json_t *raw = plan_json_raw(sb.buf, sb.len, depth);
		json_t *with_raw = json_pack("{s:[O,{s:O}],s:O}", "a", raw, "b", raw, "c", raw);
		char *j = json_dumps(tree, FLAGS);
		char *got = written(with_raw, false);
		bool ok = got && !strncmp(got, j, strlen(j)) && !strcmp(got + strlen(j), "\n");
		if (!ok)
			fprintf(stderr, "raw differs:\n--- jansson\n%s\n--- plan_json\n%s\n", j,
			        got ? got : "(error)");
		CHECK(ok);
		free(got);
		free(j);
		sb_release(&sb);
		json_decref(raw);
		json_decref(with_raw);
		json_decref(tree);
		json_decref(v);
		if (!ok)
			break;
	}
	for (int i = 1; i < argc; i++) {
		json_error_t err;
		json_t *p = json_load_file(argv[i], 0, &err);
		CHECK(p != NULL);
		if (p) {
			bool ok = same(p);
			CHECK(ok);
			if (!ok)
				fprintf(stderr, "  in %s\n", argv[i]);
		}
		json_decref(p);
	}
	return CHECK_DONE();
}
