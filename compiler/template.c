/*
 * template: kiln templates, rendered at compile time. Input: a template
 * file's text. Output: a tree of text, {{ expr }}, {% for %} and {% if %}
 * parts whose expressions are kiln expressions, checked in the scope of the
 * task that uses the template (check.c) and evaluated like any other value
 * (template_render): the plan holds the rendered text, or an expression
 * where the text depends on facts or secrets. So a typo in a template is a
 * compile error with file:line:col, not a failure halfway through a build.
 *
 *   {{ expr }}                       the value's text
 *   {% for x in expr %} ... {% endfor %}     (also: for k, v in map)
 *   {% if expr %} ... {% elif expr %} ... {% else %} ... {% endif %}
 *   {# comment #}
 *
 * A {% %} or {# #} tag alone on its line takes the whole line with it.
 */
#include "template.h"

#include "eval.h"
#include "parse.h"
#include "plan_format.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct tparse {
	struct program *p;
	struct source_file *src;
	uint32_t file;
	uint32_t pos;
	bool failed;
};

static struct tmpl_node *node(struct tparse *tp, enum tmpl_kind kind, uint32_t start, uint32_t end)
{
	struct tmpl_node *n = arena_alloc(tp->p->a, sizeof(*n));
	n->kind = kind;
	n->span = (struct src_span){tp->file, start, end};
	return n;
}

static void error(struct tparse *tp, uint32_t start, uint32_t end, const char *msg,
                  const char *help)
{
	struct diag *d = diag_error(&tp->p->cx->diags, E_TEMPLATE_SYNTAX,
	                            (struct src_span){tp->file, start, end}, "%s", msg);
	if (help)
		diag_help(d, "%s", help);
	tp->failed = true;
}

static const char *find(const char *text, uint32_t from, uint32_t len, const char *what)
{
	size_t n = strlen(what);
	for (uint32_t i = from; i + n <= len; i++)
		if (!memcmp(text + i, what, n))
			return text + i;
	return NULL;
}

/* Is [start, tag) only blanks since the line began, and [end, ...) only blanks to its end? */
static bool alone_on_line(const char *t, uint32_t len, uint32_t line_start, uint32_t start,
                          uint32_t end, uint32_t *ret_after)
{
	for (uint32_t i = line_start; i < start; i++)
		if (t[i] != ' ' && t[i] != '\t')
			return false;
	uint32_t i = end;
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r'))
		i++;
	if (i < len && t[i] != '\n')
		return false;
	*ret_after = i < len ? i + 1 : i;
	return true;
}

struct tag {
	enum { TAG_FOR, TAG_ENDFOR, TAG_IF, TAG_ELIF, TAG_ELSE, TAG_ENDIF, TAG_BAD } kind;
	uint32_t start, end;           /* the whole tag */
	uint32_t expr_start, expr_end; /* its expression */
	const char *var, *var2;
	struct src_span var_span, var2_span;
};

static uint32_t skip_blank(const char *t, uint32_t i, uint32_t end)
{
	while (i < end && isspace((unsigned char)t[i]))
		i++;
	return i;
}

static uint32_t word_end(const char *t, uint32_t i, uint32_t end)
{
	while (i < end && (isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '-'))
		i++;
	return i;
}

static struct tag read_tag(struct tparse *tp, uint32_t start, uint32_t inner, uint32_t close)
{
	const char *t = tp->src->text;
	struct tag g = {.kind = TAG_BAD, .start = start, .end = close + 2};
	uint32_t i = skip_blank(t, inner, close);
	uint32_t w = word_end(t, i, close);
	size_t n = w - i;
	const char *kw = t + i;
	uint32_t rest = skip_blank(t, w, close);
	uint32_t rest_end = close;
	while (rest_end > rest && isspace((unsigned char)t[rest_end - 1]))
		rest_end--;
	if (n == 3 && !memcmp(kw, "for", 3)) {
		uint32_t v = rest, ve = word_end(t, v, close);
		if (ve == v)
			return g;
		g.var = arena_strndup(tp->p->a, t + v, ve - v);
		g.var_span = (struct src_span){tp->file, v, ve};
		uint32_t j = skip_blank(t, ve, close);
		if (j < close && t[j] == ',') {
			uint32_t v2 = skip_blank(t, j + 1, close), v2e = word_end(t, v2, close);
			if (v2e == v2)
				return g;
			g.var2 = arena_strndup(tp->p->a, t + v2, v2e - v2);
			g.var2_span = (struct src_span){tp->file, v2, v2e};
			j = skip_blank(t, v2e, close);
		}
		if (j + 2 > close || memcmp(t + j, "in", 2) || word_end(t, j, close) != j + 2)
			return g;
		g.kind = TAG_FOR;
		g.expr_start = skip_blank(t, j + 2, close);
		g.expr_end = rest_end;
	} else if ((n == 2 && !memcmp(kw, "if", 2)) || (n == 4 && !memcmp(kw, "elif", 4))) {
		g.kind = n == 2 ? TAG_IF : TAG_ELIF;
		g.expr_start = rest;
		g.expr_end = rest_end;
	} else if (rest == rest_end) {
		if (n == 6 && !memcmp(kw, "endfor", 6))
			g.kind = TAG_ENDFOR;
		else if (n == 4 && !memcmp(kw, "else", 4))
			g.kind = TAG_ELSE;
		else if (n == 5 && !memcmp(kw, "endif", 5))
			g.kind = TAG_ENDIF;
	}
	if ((g.kind == TAG_FOR || g.kind == TAG_IF || g.kind == TAG_ELIF) &&
	    g.expr_start >= g.expr_end)
		g.kind = TAG_BAD;
	return g;
}

/*
 * Parse parts up to a closing tag (or the end). Returns the list; *ret_end
 * holds the tag that stopped it (TAG_BAD with start == len at the end).
 */
static struct tmpl_node *parse_parts(struct tparse *tp, int depth, struct tag *ret_end)
{
	const char *t = tp->src->text;
	uint32_t len = tp->src->len;
	struct tmpl_node *head = NULL, **tail = &head;
	uint32_t text_start = tp->pos;
	uint32_t line_start = tp->pos;
	for (uint32_t i = tp->pos; i < len;) {
		if (t[i] == '\n') {
			line_start = ++i;
			continue;
		}
		if (t[i] != '{' || i + 1 >= len ||
		    (t[i + 1] != '{' && t[i + 1] != '%' && t[i + 1] != '#')) {
			i++;
			continue;
		}
		char open = t[i + 1];
		const char *closer = open == '{' ? "}}" : open == '%' ? "%}" : "#}";
		const char *c = find(t, i + 2, len, closer);
		if (!c) {
			error(tp, i, i + 2,
			      open == '{' ? "'{{' is never closed" : "a tag is never closed",
			      open == '{' ? "close it with }}"
			                  : "close it with %} (or #} for a comment)");
			break;
		}
		uint32_t close = (uint32_t)(c - t);
		/* the text before the part; a block tag alone on its line takes the line */
		uint32_t text_end = i, after = close + 2;
		if (open != '{' && alone_on_line(t, len, line_start, i, close + 2, &after))
			text_end = line_start;
		if (text_end > text_start) {
			struct tmpl_node *n = node(tp, TM_TEXT, text_start, text_end);
			n->text = t + text_start;
			n->len = text_end - text_start;
			*tail = n;
			tail = &n->next;
		}
		text_start = after;
		if (open == '#') {
			i = after;
			if (after > close + 2)
				line_start = after;
			continue;
		}
		if (open == '{') {
			struct tmpl_node *n = node(tp, TM_EXPR, i, close + 2);
			n->expr =
			    parse_expr_range(tp->p->a, &tp->p->cx->diags, tp->file, i + 2, close);
			*tail = n;
			tail = &n->next;
			i = after;
			continue;
		}
		struct tag g = read_tag(tp, i, i + 2, close);
		if (after > close + 2)
			line_start = after;
		i = after;
		tp->pos = after;
		if (g.kind == TAG_BAD) {
			error(tp, g.start, g.end, "not a template tag",
			      "the tags are {% for x in LIST %}, {% endfor %}, {% if COND %}, "
			      "{% elif COND %}, {% else %} and {% endif %}");
			continue;
		}
		if (g.kind == TAG_ENDFOR || g.kind == TAG_ELIF || g.kind == TAG_ELSE ||
		    g.kind == TAG_ENDIF) {
			*ret_end = g;
			return head;
		}
		if (depth > 64) {
			error(tp, g.start, g.end, "template blocks nested too deeply", NULL);
			continue;
		}
		struct tmpl_node *n = node(tp, g.kind == TAG_FOR ? TM_FOR : TM_IF, g.start, g.end);
		n->expr = parse_expr_range(tp->p->a, &tp->p->cx->diags, tp->file, g.expr_start,
		                           g.expr_end);
		struct tag end;
		if (g.kind == TAG_FOR) {
			n->var = g.var;
			n->var2 = g.var2;
			n->var_span = g.var_span;
			n->var2_span = g.var2_span;
			n->body = parse_parts(tp, depth + 1, &end);
			if (end.kind != TAG_ENDFOR)
				error(tp, g.start, g.end, "'{% for %}' is never closed",
				      "end it with {% endfor %}");
		} else {
			/* if, then elif/else branches as a chain of TM_IF in ->els */
			struct tmpl_node *branch = n;
			branch->body = parse_parts(tp, depth + 1, &end);
			while (end.kind == TAG_ELIF || end.kind == TAG_ELSE) {
				struct tmpl_node *b = node(tp, TM_IF, end.start, end.end);
				if (end.kind == TAG_ELIF)
					b->expr =
					    parse_expr_range(tp->p->a, &tp->p->cx->diags, tp->file,
					                     end.expr_start, end.expr_end);
				bool was_else = end.kind == TAG_ELSE;
				b->body = parse_parts(tp, depth + 1, &end);
				branch->els = b;
				branch = b;
				if (was_else && (end.kind == TAG_ELIF || end.kind == TAG_ELSE)) {
					error(tp, end.start, end.end,
					      "nothing may follow '{% else %}' but "
					      "'{% endif %}'",
					      NULL);
					break;
				}
			}
			if (end.kind != TAG_ENDIF)
				error(tp, g.start, g.end, "'{% if %}' is never closed",
				      "end it with {% endif %}");
		}
		*tail = n;
		tail = &n->next;
		i = tp->pos;
		text_start = tp->pos;
		line_start = tp->pos;
	}
	if (len > text_start) {
		struct tmpl_node *n = node(tp, TM_TEXT, text_start, len);
		n->text = t + text_start;
		n->len = len - text_start;
		*tail = n;
	}
	tp->pos = len;
	*ret_end = (struct tag){.kind = TAG_BAD, .start = len, .end = len};
	return head;
}

struct tmpl *template_parse(struct program *p, uint32_t file)
{
	struct tparse tp = {.p = p, .src = source_get(&p->cx->sm, file), .file = file};
	struct tag end;
	struct tmpl_node *nodes = parse_parts(&tp, 0, &end);
	if (end.kind != TAG_BAD)
		error(
		    &tp, end.start, end.end, "this tag closes nothing",
		    "a {% endfor %}, {% elif %}, {% else %} or {% endif %} needs its opening tag");
	struct tmpl *t = arena_alloc(p->a, sizeof(*t));
	t->file = file;
	t->nodes = nodes;
	t->failed = tp.failed;
	return t;
}

/* ---- rendering ---------------------------------------------------------- */

struct parts {
	json_t *list; /* plan trees, in order */
	bool deferred, secret, failed;
};

static void add_val(struct parts *ps, struct val v)
{
	if (!v.json) {
		ps->failed = true;
		return;
	}
	ps->deferred |= v.deferred;
	ps->secret |= v.secret;
	json_array_append_new(ps->list, v.deferred ? v.json : json_obj1(PLAN_E_CONST, v.json));
}

static void render(struct program *p, const struct env *env, struct tmpl_node *n,
                   struct parts *out);

/* The parts of a list of nodes as one value (string or concat tree). */
static struct val join(struct parts *ps)
{
	if (ps->failed) {
		json_decref(ps->list);
		return (struct val){NULL, false, false};
	}
	if (ps->deferred)
		return (struct val){json_obj1(PLAN_E_CONCAT, ps->list), true, ps->secret};
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *part;
	json_array_foreach (ps->list, i, part) {
		json_t *c = json_object_get(part, PLAN_E_CONST);
		if (json_is_string(c))
			sb_add(&sb, json_string_value(c), json_string_length(c));
		else if (json_is_integer(c))
			sb_addf(&sb, "%" JSON_INTEGER_FORMAT, json_integer_value(c));
		else if (json_is_boolean(c))
			sb_adds(&sb, json_is_true(c) ? "true" : "false");
	}
	json_decref(ps->list);
	json_t *s = json_stringn(sb.buf ? sb.buf : "", sb.len);
	sb_release(&sb);
	return (struct val){s, false, false};
}

static void render(struct program *p, const struct env *env, struct tmpl_node *n, struct parts *out)
{
	for (; n && !out->failed; n = n->next) {
		switch (n->kind) {
		case TM_TEXT:
			add_val(out, (struct val){json_stringn(n->text, n->len), false, false});
			break;
		case TM_EXPR:
			add_val(out, eval_expr(p, env, n->expr));
			break;
		case TM_FOR: {
			struct val it = eval_expr(p, env, n->expr);
			if (!it.json) {
				out->failed = true;
				break;
			}
			if (it.deferred) {
				diag_help(
				    diag_error(&p->cx->diags, E_NOT_CONSTANT, n->expr->span,
				               "a template's loop must be over a value known "
				               "before the build"),
				    "facts and secrets are known only while the image is built");
				val_release(&it);
				out->failed = true;
				break;
			}
			struct env e1 = {.parent = env, .sym = n->sym},
			           e2 = {.parent = &e1, .sym = n->sym2};
			size_t i;
			const char *k;
			json_t *x;
			if (json_is_array(it.json)) {
				json_array_foreach (it.json, i, x) {
					e1.v =
					    (struct val){n->sym2 ? json_integer((json_int_t)i) : x,
					                 false, it.secret};
					e2.v = (struct val){x, false, it.secret};
					render(p, n->sym2 ? &e2 : &e1, n->body, out);
					if (n->sym2)
						json_decref(e1.v.json);
				}
			} else {
				json_object_foreach (it.json, k, x) {
					e1.v = (struct val){json_string(k), false, it.secret};
					e2.v = (struct val){x, false, it.secret};
					render(p, n->sym2 ? &e2 : &e1, n->body, out);
					json_decref(e1.v.json);
				}
			}
			val_release(&it);
			break;
		}
		case TM_IF: {
			/* the first branch whose condition holds; a deferred condition
			   becomes an "if" tree over the rest of the chain */
			struct tmpl_node *b = n;
			while (b) {
				if (!b->expr) { /* else */
					render(p, env, b->body, out);
					break;
				}
				struct val c = eval_expr(p, env, b->expr);
				if (!c.json) {
					out->failed = true;
					break;
				}
				if (c.deferred) {
					struct parts yes = {json_array(), false, false, false};
					struct parts no = {json_array(), false, false, false};
					render(p, env, b->body, &yes);
					struct tmpl_node rest = {.kind = TM_IF};
					if (b->els) {
						rest = *b->els;
						rest.next = NULL;
						render(p, env, &rest, &no);
					}
					struct val y = join(&yes), z = join(&no);
					if (!y.json || !z.json) {
						val_release(&y);
						val_release(&z);
						val_release(&c);
						out->failed = true;
						break;
					}
					json_t *ty =
					    y.deferred ? y.json : json_obj1(PLAN_E_CONST, y.json);
					json_t *tz =
					    z.deferred ? z.json : json_obj1(PLAN_E_CONST, z.json);
					add_val(out, (struct val){
					                 json_pack("{s:[o,o,o]}", PLAN_E_IF, c.json,
					                           ty, tz),
					                 true, c.secret || y.secret || z.secret});
					break;
				}
				bool holds = json_is_true(c.json);
				val_release(&c);
				if (holds) {
					render(p, env, b->body, out);
					break;
				}
				b = b->els;
			}
			break;
		}
		}
	}
}

struct val template_render(struct program *p, const struct env *env, const struct tmpl *t)
{
	if (t->failed)
		return (struct val){NULL, false, false};
	struct parts ps = {json_array(), false, false, false};
	render(p, env, t->nodes, &ps);
	return join(&ps);
}
