/*
 * test_plan: plan/ on its own. plan_validate on hand-made bad plans (each
 * names its JSON path), plan_binop, plan_has_secret; then every plan file
 * named on the command line (the compile goldens, compiled examples) must
 * read and validate.
 */
#include "check.h"
#include "plan_binop.h"
#include "plan_format.h"
#include "plan_view.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A small good plan: one image from busybox with a copy and an output. */
static const char *const good =
    "{\"format_version\": 1, \"kiln_version\": \"0.1.0\", \"files\": [\"a.img\"],"
    " \"params\": {\"pw\": {\"type\": \"secret\", \"source\": \"env\","
    "   \"secret\": {\"from\": \"env\", \"var\": \"KILN_VAR_pw\"}}},"
    " \"groups\": {}, \"applies\": [],"
    " \"images\": [{\"name\": \"app\", \"source\": \"a.img:1:1\","
    "   \"from\": {\"base\": \"busybox\", \"args\": {}},"
    "   \"stages\": [{\"name\": \"s\", \"source\": \"a.img:2:3\", \"tasks\": ["
    "     {\"id\": \"app.s.0\", \"module\": \"copy\", \"source\": \"a.img:3:5\","
    "      \"args\": {\"src\": \"files/x\", \"dest\": \"/x\", \"mode\": \"0644\"}},"
    "     {\"id\": \"app.s.1\", \"module\": \"file\", \"source\": \"a.img:4:5\","
    "      \"args\": {\"path\": \"/y\", \"mode\": 420, \"content\": {\"$expr\": "
    "        {\"concat\": [{\"const\": \"p=\"}, {\"secret\": \"pw\"}]}}}}]}],"
    "   \"handlers\": [], \"tests\": [],"
    "   \"outputs\": [{\"type\": \"tar\", \"path\": \"out/app.tar\", \"args\": {},"
    "     \"source\": \"a.img:5:3\"}]}]}";

static json_t *good_plan(void)
{
	json_error_t e;
	json_t *p = json_loads(good, 0, &e);
	if (!p)
		fprintf(stderr, "test plan: %s\n", e.text);
	return p;
}

static json_t *task0(json_t *plan)
{
	json_t *img = json_array_get(json_object_get(plan, "images"), 0);
	json_t *stage = json_array_get(json_object_get(img, "stages"), 0);
	return json_array_get(json_object_get(stage, "tasks"), 0);
}

/* Change the good plan with edit, expect plan_validate to refuse it naming want. */
static void expect_bad(void (*edit)(json_t *), const char *want)
{
	json_t *p = good_plan();
	edit(p);
	struct rt_error err = {0};
	int r = plan_validate(p, &err);
	CHECK(r < 0);
	CHECK(strstr(err.msg, want) != NULL);
	if (r >= 0 || !strstr(err.msg, want))
		fprintf(stderr, "  wanted '%s', got '%s'\n", want, err.msg);
	json_decref(p);
}

static void image_name(json_t *p)
{
	json_object_set_new(json_array_get(json_object_get(p, "images"), 0), "name",
	                    json_string("../../x"));
}

static void output_path(json_t *p)
{
	json_t *img = json_array_get(json_object_get(p, "images"), 0);
	json_object_set_new(json_array_get(json_object_get(img, "outputs"), 0), "path",
	                    json_string("../../../tmp/x"));
}

static void stages_string(json_t *p)
{
	json_object_set_new(json_array_get(json_object_get(p, "images"), 0), "stages",
	                    json_string("nope"));
}

static void copy_src(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "src",
	                    json_string("../../../etc/passwd"));
}

static void unnormal_src(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "src", json_string("a/../../b"));
}

static void version(json_t *p)
{
	json_object_set_new(p, "format_version", json_integer(99));
}

static void unknown_module(json_t *p)
{
	json_object_set_new(task0(p), "module", json_string("rm_rf"));
}

static void unknown_arg(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "bogus", json_true());
}

static void wrong_type(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "dest", json_integer(3));
}

static void bad_mode(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "mode", json_integer(010000));
}

static void bad_mode_text(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "mode", json_string("u=rw,go=q"));
}

static void bad_mode_big(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "mode", json_string("0o17777"));
}

static void bad_tree(json_t *p)
{
	json_object_set_new(
	    json_object_get(task0(p), "args"), "dest",
	    json_pack("{s:{s:[s,{s:i},{s:i}]}}", "$expr", "op", "<<", "const", 1, "const", 2));
}

static void unknown_secret(json_t *p)
{
	json_object_set_new(json_object_get(task0(p), "args"), "dest",
	                    json_pack("{s:{s:s}}", "$expr", "secret", "nope"));
}

static void missing_from(json_t *p)
{
	json_object_del(json_array_get(json_object_get(p, "images"), 0), "from");
}

static void bad_parent(json_t *p)
{
	json_object_set_new(json_array_get(json_object_get(p, "images"), 0), "from",
	                    json_pack("{s:s}", "image", "later"));
}

static void bad_notify(json_t *p)
{
	json_object_set_new(task0(p), "notify", json_pack("[s]", "nobody"));
}

static void bad_group(json_t *p)
{
	json_object_set_new(
	    json_object_get(p, "groups"), "a/b",
	    json_pack("{s:{},s:[],s:{},s:s}", "hosts", "children", "vars", "source", "x"));
}

static void host_path(json_t *p)
{
	json_object_set_new(json_object_get(p, "groups"), "web",
	                    json_pack("{s:{s:{}},s:[],s:{},s:s}", "hosts", "../../srv/root",
	                              "children", "vars", "source", "x"));
}

static void base_path(json_t *p)
{
	json_object_set_new(
	    json_array_get(json_object_get(p, "images"), 0), "from",
	    json_pack("{s:s,s:{s:s}}", "base", "tarball", "args", "path", "../../rootfs.tar"));
}

static void unknown_base(json_t *p)
{
	json_object_set_new(json_array_get(json_object_get(p, "images"), 0), "from",
	                    json_pack("{s:s,s:{}}", "base", "alpine", "args"));
}

static void escape_in_name(json_t *p)
{
	json_object_set_new(json_array_get(json_object_get(p, "images"), 0), "name",
	                    json_string("a\033[2Jb"));
}

static void unknown_apply_target(json_t *p)
{
	json_array_append_new(json_object_get(p, "applies"),
	                      json_pack("{s:s,s:s,s:{},s:[],s:[]}", "target", "web", "source", "x",
	                                "connection", "tasks", "handlers"));
}

static void check_validate(void)
{
	json_t *p = good_plan();
	struct rt_error err = {0};
	CHECK(p && plan_validate(p, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "  good plan refused: %s\n", err.msg);
	/* absolute paths the user wrote stay allowed */
	json_object_set_new(json_object_get(task0(p), "args"), "src", json_string("/srv/files/"));
	CHECK(plan_validate(p, &err) == 0);
	/* a test named with a fact: its name is deferred */
	json_object_set_new(json_array_get(json_object_get(p, "images"), 0), "tests",
	                    json_pack("[{s:{s:{s:s}},s:s,s:[]}]", "name", "$expr", "fact",
	                              "os.family", "source", "a.img:9:3", "tasks"));
	CHECK(plan_validate(p, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "  refused: %s\n", err.msg);
	json_decref(p);

	expect_bad(image_name, "images[0].name: '../../x' is not a name");
	expect_bad(output_path, "images[0].outputs[0].path: the path '../../../tmp/x' leads out");
	expect_bad(stages_string, "images[0].stages: expected a list, got a string");
	expect_bad(copy_src,
	           "images[0].stages[0].tasks[0].args.src: the path '../../../etc/passwd'");
	expect_bad(unnormal_src, "args.src: the path 'a/../../b' is not in normal form");
	expect_bad(version, "format_version: format_version 99: this kiln reads plan format 1");
	expect_bad(unknown_module, "tasks[0].module: no module 'rm_rf'");
	expect_bad(unknown_arg, "tasks[0].args.bogus: module 'copy' has no argument 'bogus'");
	expect_bad(wrong_type, "tasks[0].args.dest: expected string, got an int");
	expect_bad(bad_mode, "args.mode: expected mode, got an int");
	expect_bad(bad_mode_text, "args.mode: expected mode, got a string");
	expect_bad(bad_mode_big, "args.mode: expected mode, got a string");
	expect_bad(bad_tree, "args.dest.$expr.op: not an operator");
	expect_bad(unknown_secret, "args.dest.$expr.secret: 'nope' is not a secret param");
	expect_bad(missing_from, "images[0]: the key \"from\" is missing");
	expect_bad(bad_parent, "images[0].from.image: no image 'later' before this one");
	expect_bad(bad_notify, "tasks[0].notify[0]: no handler 'nobody'");
	expect_bad(bad_group, "groups[\"a/b\"]: 'a/b' is not a name");
	expect_bad(host_path,
	           "groups.web.hosts[\"../../srv/root\"]: the path '../../srv/root' leads out");
	expect_bad(base_path, "images[0].from.args.path: the path '../../rootfs.tar' leads out");
	expect_bad(unknown_base, "images[0].from.base: no base 'alpine'");
	expect_bad(escape_in_name, "images[0].name: 'a?[2Jb' is not a name");
	expect_bad(unknown_apply_target, "applies[0].target: no host group 'web'");
}

/* The views read what the plan holds. */
static void check_views(void)
{
	json_t *p = good_plan();
	CHECK(json_array_size(plan_images(p)) == 1 && json_is_object(plan_params(p)));
	CHECK(json_is_object(plan_groups(p)) && json_array_size(plan_applies(p)) == 0);
	struct plan_image iv = plan_image_view(json_array_get(plan_images(p), 0));
	CHECK(!strcmp(iv.name, "app") && !strcmp(iv.source, "a.img:1:1"));
	CHECK(!strcmp(iv.from_base, "busybox") && !iv.from_image && json_is_object(iv.from_args));
	CHECK(json_array_size(iv.stages) == 1 && json_array_size(iv.outputs) == 1 && !iv.config);
	struct plan_block sv = plan_block_view(json_array_get(iv.stages, 0));
	CHECK(!strcmp(sv.name, "s") && !sv.role && json_array_size(sv.tasks) == 2);
	struct plan_task tv = plan_task_view(json_array_get(sv.tasks, 0));
	CHECK(!strcmp(tv.id, "app.s.0") && !strcmp(tv.module, "copy") && !tv.when);
	CHECK(!tv.ignore_errors && !tv.notify && !tv.label && json_object_size(tv.args) == 3);
	struct plan_output ov = plan_output_view(json_array_get(iv.outputs, 0));
	CHECK(!strcmp(ov.type, "tar") && !strcmp(ov.path, "out/app.tar"));
	struct plan_group gv = plan_group_view(plan_groups(p), "nope");
	CHECK(!gv.json && !gv.name && !gv.hosts);
	json_decref(p);
}

static json_t *binop(const char *op, json_t *a, json_t *b, enum plan_binop_status *st)
{
	json_t *r = plan_binop(op, a, b, st);
	json_decref(a);
	json_decref(b);
	return r;
}

static void check_binop(void)
{
	enum plan_binop_status st;
	json_t *r = binop("+", json_integer(2), json_integer(3), &st);
	CHECK(json_integer_value(r) == 5 && st == PLAN_BINOP_OK);
	json_decref(r);
	r = binop("+", json_string("a"), json_string("b"), &st);
	CHECK(r && !strcmp(json_string_value(r), "ab"));
	json_decref(r);
	r = binop("+", json_pack("[i]", 1), json_pack("[i]", 2), &st);
	CHECK(json_array_size(r) == 2);
	json_decref(r);
	r = binop("<=", json_string("a"), json_string("b"), &st);
	CHECK(json_is_true(r));
	json_decref(r);
	r = binop(">", json_integer(1), json_integer(2), &st);
	CHECK(json_is_false(r));
	json_decref(r);
	r = binop("==", json_pack("{s:i}", "a", 1), json_pack("{s:i}", "a", 1), &st);
	CHECK(json_is_true(r));
	json_decref(r);
	r = binop("&&", json_true(), json_false(), &st);
	CHECK(json_is_false(r));
	json_decref(r);
	r = binop("%", json_integer(7), json_integer(-3), &st);
	CHECK(json_integer_value(r) == 1);
	json_decref(r);
	CHECK(!binop("/", json_integer(1), json_integer(0), &st) && st == PLAN_BINOP_DIV_ZERO);
	CHECK(!binop("/", json_integer(INT64_MIN), json_integer(-1), &st) &&
	      st == PLAN_BINOP_OVERFLOW);
	CHECK(!binop("*", json_integer(INT64_MAX), json_integer(2), &st) &&
	      st == PLAN_BINOP_OVERFLOW);
	CHECK(!binop("-", json_string("a"), json_string("b"), &st) && st == PLAN_BINOP_TYPES);
	CHECK(!binop("<", json_integer(1), json_string("b"), &st) && st == PLAN_BINOP_TYPES);
	CHECK(!binop("<<", json_integer(1), json_integer(2), &st) && st == PLAN_BINOP_UNKNOWN);
}

static void check_has_secret(void)
{
	json_t *v = json_pack("{s:{s:{s:[s,{s:s},{s:s}]}}}", "a", "$expr", "op", "==", "fact", "os",
	                      "secret", "pw");
	CHECK(plan_has_secret(v));
	json_decref(v);
	/* a map key named "secret", a constant holding one: not a secret */
	v = json_pack("{s:{s:{s:{s:{s:s}}}}}", "a", "$expr", "map", "secret", "fact", "x");
	CHECK(!plan_has_secret(v));
	json_decref(v);
	v = json_pack("{s:{s:{s:{s:s}}}}", "a", "$expr", "const", "secret", "x");
	CHECK(!plan_has_secret(v));
	json_decref(v);
	v = json_pack("[s,{s:{s:{s:{s:s}}}}]", "x", "$expr", "map", "k", "secret", "pw");
	CHECK(plan_has_secret(v));
	json_decref(v);
}

static void check_identifiers(void)
{
	CHECK(plan_is_identifier("restart-apache") && plan_is_identifier("_a1"));
	CHECK(!plan_is_identifier("") && !plan_is_identifier("1a") && !plan_is_identifier("a.b"));
	CHECK(!plan_is_identifier("a b") && !plan_is_identifier("-a"));
}

/* A random node of v (v itself, or one below it). */
static json_t *random_node(json_t *v, unsigned *seed)
{
	while ((json_is_object(v) || json_is_array(v)) && rand_r(seed) % 4) {
		size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v);
		if (!n)
			break;
		size_t pick = (size_t)rand_r(seed) % n;
		if (json_is_array(v)) {
			v = json_array_get(v, pick);
		} else {
			void *it = json_object_iter(v);
			while (pick--)
				it = json_object_iter_next(v, it);
			v = json_object_iter_value(it);
		}
	}
	return v;
}

/* Damage a good plan at random places: plan_validate never crashes, and refuses or not. */
static void check_mutations(json_t *plan)
{
	static const char *const junk[] = {"null",
	                                   "\"x\"",
	                                   "1",
	                                   "[]",
	                                   "{}",
	                                   "\"../../x\"",
	                                   "{\"$expr\": {}}",
	                                   "{\"$expr\": {\"op\": [1]}}",
	                                   "[{}]",
	                                   "true",
	                                   "-1",
	                                   "\"\""};
	unsigned seed = 42;
	for (int i = 0; i < 300; i++) {
		json_t *p = json_deep_copy(plan);
		json_t *node = random_node(p, &seed);
		json_t *j = json_loads(junk[(size_t)rand_r(&seed) % (sizeof(junk) / sizeof(*junk))],
		                       JSON_DECODE_ANY, NULL);
		if (json_is_object(node) && json_object_size(node)) {
			const char *k = json_object_iter_key(json_object_iter(node));
			json_object_set_new(node, k, j);
		} else if (json_is_array(node) && json_array_size(node)) {
			json_array_set_new(node, 0, j);
		} else {
			json_decref(j);
		}
		struct rt_error err = {0};
		int r = plan_validate(p, &err);
		CHECK(r == 0 || (r == -EINVAL && !strncmp(err.msg, "plan: ", 6)));
		json_decref(p);
	}
}

/* plan_read refuses a key given twice and another format version, naming the file. */
static void check_read(void)
{
	char path[] = "/tmp/kiln-test-plan.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "w");
	fputs("{\"format_version\": 1, \"images\": [], \"images\": [{}]}", f);
	fclose(f);
	char *msg = NULL;
	CHECK(!plan_read(path, &msg) && msg && strstr(msg, "duplicate"));
	free(msg);
	msg = NULL;
	f = fopen(path, "w");
	fputs("{\"format_version\": 2, \"images\": []}", f);
	fclose(f);
	CHECK(!plan_read(path, &msg) && msg && strstr(msg, path) &&
	      strstr(msg, "format_version 2: this kiln reads plan format 1; compile it again"));
	free(msg);
	msg = NULL;
	f = fopen(path, "w");
	fputs("{\"a\": \033[2J}", f);
	fclose(f);
	CHECK(!plan_read(path, &msg) && msg && strstr(msg, "not a plan") && !strchr(msg, '\033'));
	free(msg);
	unlink(path);
}

int main(int argc, char **argv)
{
	check_read();
	check_views();
	check_validate();
	check_binop();
	check_has_secret();
	check_identifiers();
	for (int i = 1; i < argc; i++) {
		char *msg = NULL;
		json_t *p = plan_read(argv[i], &msg);
		struct rt_error err = {0};
		int r = p ? plan_validate(p, &err) : -1;
		CHECK(r == 0);
		if (r)
			fprintf(stderr, "  %s: %s\n", argv[i], p ? err.msg : msg);
		if (p)
			check_mutations(p);
		free(msg);
		json_decref(p);
	}
	return CHECK_DONE();
}
