/*
 * types: see types.h. Assignability is structural; T_ERROR and T_ANY fit
 * everywhere so that one mistake is reported once, not at every use.
 */
#include "types.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const struct type type_error = {.kind = T_ERROR};
const struct type type_any = {.kind = T_ANY};
const struct type type_null = {.kind = T_NULL};
const struct type type_bool = {.kind = T_BOOL};
const struct type type_int = {.kind = T_INT};
const struct type type_string = {.kind = T_STRING};
const struct type type_secret = {.kind = T_SECRET};
const struct type type_path = {.kind = T_PATH};
const struct type type_mode = {.kind = T_MODE};

static struct type *new_type(struct arena *a, enum type_kind kind)
{
	struct type *t = arena_alloc(a, sizeof(*t));
	t->kind = kind;
	return t;
}

const struct type *type_list(struct arena *a, const struct type *elem)
{
	/* lists of scalars are common: one type each, shared */
	static const struct type scalar_lists[] = {
	    [T_ANY] = {.kind = T_LIST, .elem = &type_any},
	    [T_BOOL] = {.kind = T_LIST, .elem = &type_bool},
	    [T_INT] = {.kind = T_LIST, .elem = &type_int},
	    [T_STRING] = {.kind = T_LIST, .elem = &type_string},
	    [T_SECRET] = {.kind = T_LIST, .elem = &type_secret},
	    [T_PATH] = {.kind = T_LIST, .elem = &type_path},
	};
	if (elem->kind < sizeof(scalar_lists) / sizeof(*scalar_lists) &&
	    scalar_lists[elem->kind].elem == elem)
		return &scalar_lists[elem->kind];
	struct type *t = new_type(a, T_LIST);
	t->elem = elem;
	return t;
}

const struct type *type_map(struct arena *a, const struct type *elem)
{
	struct type *t = new_type(a, T_MAP);
	t->elem = elem;
	return t;
}

static int cmp_field(const void *x, const void *y)
{
	return strcmp(((const struct type_field *)x)->name, ((const struct type_field *)y)->name);
}

const struct type *type_object(struct arena *a, const struct type_field *fields, uint32_t n)
{
	struct type *t = new_type(a, T_OBJECT);
	struct type_field *f = arena_alloc(a, (n ? n : 1) * sizeof(*f));
	memcpy(f, fields, n * sizeof(*f));
	qsort(f, n, sizeof(*f), cmp_field);
	t->fields = f;
	t->nfields = n;
	return t;
}

const struct type *type_enum(struct arena *a, const char *const *values, uint32_t n)
{
	struct type *t = new_type(a, T_ENUM);
	const char **v = arena_alloc(a, (n ? n : 1) * sizeof(*v));
	memcpy(v, values, n * sizeof(*v));
	t->values = v;
	t->nvalues = n;
	return t;
}

const struct type *type_union(struct arena *a, const struct type *const *alts, uint32_t n)
{
	struct type *t = new_type(a, T_UNION);
	const struct type **v = arena_alloc(a, (n ? n : 1) * sizeof(*v));
	memcpy(v, alts, n * sizeof(*v));
	t->alts = v;
	t->nalts = n;
	return t;
}

/* ---- parsing the stdlib's type strings ------------------------------- */

struct tparser {
	struct arena *a;
	const char *p;
	bool bad;
};

static void skip_ws(struct tparser *tp)
{
	while (*tp->p == ' ')
		tp->p++;
}

static const char *word(struct tparser *tp)
{
	skip_ws(tp);
	const char *s = tp->p;
	while (isalnum((unsigned char)*tp->p) || *tp->p == '_' || *tp->p == '-')
		tp->p++;
	if (tp->p == s) {
		tp->bad = true;
		return "";
	}
	return arena_strndup(tp->a, s, (size_t)(tp->p - s));
}

static bool eat(struct tparser *tp, char c)
{
	skip_ws(tp);
	if (*tp->p != c)
		return false;
	tp->p++;
	return true;
}

static const struct type *parse_union(struct tparser *tp);

static const struct type *parse_one(struct tparser *tp)
{
	const char *w = word(tp);
	if (tp->bad)
		return &type_error;
	static const struct {
		const char *name;
		const struct type *type;
	} scalars[] = {{"any", &type_any},   {"null", &type_null},     {"bool", &type_bool},
	               {"int", &type_int},   {"string", &type_string}, {"secret", &type_secret},
	               {"path", &type_path}, {"mode", &type_mode}};
	for (size_t i = 0; i < sizeof(scalars) / sizeof(*scalars); i++)
		if (!strcmp(w, scalars[i].name))
			return scalars[i].type;
	if (!strcmp(w, "list") || !strcmp(w, "map")) {
		if (!eat(tp, '<'))
			goto bad;
		const struct type *elem = parse_union(tp);
		if (!eat(tp, '>'))
			goto bad;
		return w[0] == 'l' ? type_list(tp->a, elem) : type_map(tp->a, elem);
	}
	if (!strcmp(w, "enum")) {
		const char *vals[64];
		uint32_t n = 0;
		if (!eat(tp, '('))
			goto bad;
		do {
			if (n == 64)
				goto bad;
			vals[n++] = word(tp);
		} while (eat(tp, ','));
		if (!eat(tp, ')'))
			goto bad;
		return type_enum(tp->a, vals, n);
	}
	if (!strcmp(w, "object")) {
		/* object{ a: T, ... } as the language writes it; object(a: T, ...) too */
		struct type_field fields[64];
		uint32_t n = 0;
		bool brace = eat(tp, '{');
		if (!brace && !eat(tp, '('))
			goto bad;
		do {
			if (n == 64)
				goto bad;
			fields[n].name = word(tp);
			if (!eat(tp, ':'))
				goto bad;
			fields[n++].type = parse_union(tp);
		} while (eat(tp, ','));
		if (!eat(tp, brace ? '}' : ')'))
			goto bad;
		return type_object(tp->a, fields, n);
	}
bad:
	tp->bad = true;
	return &type_error;
}

static const struct type *parse_union(struct tparser *tp)
{
	const struct type *alts[8];
	uint32_t n = 0;
	do {
		if (n == 8) {
			tp->bad = true;
			break;
		}
		alts[n++] = parse_one(tp);
	} while (eat(tp, '|'));
	return n == 1 ? alts[0] : type_union(tp->a, alts, n);
}

const struct type *type_parse(struct arena *a, const char *text)
{
	struct tparser tp = {a, text, false};
	const struct type *t = parse_union(&tp);
	skip_ws(&tp);
	return tp.bad || *tp.p ? NULL : t;
}

/* ---- relations -------------------------------------------------------- */

bool type_is_stringish(const struct type *t)
{
	return t->kind == T_STRING || t->kind == T_SECRET || t->kind == T_PATH;
}

bool type_enum_has(const struct type *t, const char *value)
{
	for (uint32_t i = 0; t->kind == T_ENUM && i < t->nvalues; i++)
		if (!strcmp(t->values[i], value))
			return true;
	return false;
}

const struct type *type_find_enum(const struct type *t)
{
	if (t->kind == T_ENUM)
		return t;
	for (uint32_t i = 0; t->kind == T_UNION && i < t->nalts; i++)
		if (t->alts[i]->kind == T_ENUM)
			return t->alts[i];
	return NULL;
}

const struct type_field *type_field(const struct type *t, const char *name)
{
	if (t->kind != T_OBJECT)
		return NULL;
	uint32_t lo = 0, hi = t->nfields;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = strcmp(name, t->fields[mid].name);
		if (c == 0)
			return &t->fields[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool type_assignable(const struct type *to, const struct type *from)
{
	if (to->kind == T_ERROR || from->kind == T_ERROR || to->kind == T_ANY ||
	    from->kind == T_ANY)
		return true;
	if (from->kind == T_UNION) {
		for (uint32_t i = 0; i < from->nalts; i++)
			if (!type_assignable(to, from->alts[i]))
				return false;
		return true;
	}
	switch (to->kind) {
	case T_UNION:
		for (uint32_t i = 0; i < to->nalts; i++)
			if (type_assignable(to->alts[i], from))
				return true;
		return false;
	case T_NULL:
	case T_BOOL:
	case T_INT:
		return from->kind == to->kind;
	case T_STRING:
	case T_SECRET:
	case T_PATH:
		/* a secret may go where a string goes: the value stays secret */
		return type_is_stringish(from) || from->kind == T_ENUM;
	case T_MODE:
		return from->kind == T_MODE || from->kind == T_INT || type_is_stringish(from);
	case T_ENUM:
		/* literal strings and bare names are checked against the values by the
		   checker; another enum fits when each of its values is one of these */
		if (from->kind == T_ENUM) {
			for (uint32_t i = 0; i < from->nvalues; i++)
				if (!type_enum_has(to, from->values[i]))
					return false;
			return true;
		}
		return from->kind == T_STRING;
	case T_LIST:
		return from->kind == T_LIST && type_assignable(to->elem, from->elem);
	case T_MAP:
		if (from->kind == T_MAP)
			return type_assignable(to->elem, from->elem);
		if (from->kind == T_OBJECT) {
			for (uint32_t i = 0; i < from->nfields; i++)
				if (!type_assignable(to->elem, from->fields[i].type))
					return false;
			return true;
		}
		return false;
	case T_OBJECT:
		if (from->kind == T_MAP)
			return true; /* keys are checked when the value is known */
		if (from->kind != T_OBJECT)
			return false;
		for (uint32_t i = 0; i < from->nfields; i++) {
			const struct type_field *f = type_field(to, from->fields[i].name);
			if (!f || !type_assignable(f->type, from->fields[i].type))
				return false;
		}
		return true;
	default:
		return false;
	}
}

const struct type *type_join(struct arena *a, const struct type *x, const struct type *y)
{
	if (x->kind == T_ERROR || y->kind == T_ERROR)
		return &type_error;
	if (x->kind == T_ANY || y->kind == T_ANY)
		return &type_any;
	if (x->kind == T_NULL)
		return y;
	if (y->kind == T_NULL)
		return x;
	if (type_is_stringish(x) && type_is_stringish(y))
		return x->kind == T_SECRET || y->kind == T_SECRET ? &type_secret : &type_string;
	if (x->kind != y->kind)
		return NULL;
	switch (x->kind) {
	case T_LIST:
	case T_MAP: {
		const struct type *e = type_join(a, x->elem, y->elem);
		if (!e)
			return NULL;
		return x->kind == T_LIST ? type_list(a, e) : type_map(a, e);
	}
	case T_OBJECT: {
		/* objects with different fields join to the union of their fields */
		struct type_field f[128];
		uint32_t n = 0;
		for (uint32_t i = 0; i < x->nfields && n < 128; i++) {
			const struct type_field *o = type_field(y, x->fields[i].name);
			const struct type *t =
			    o ? type_join(a, x->fields[i].type, o->type) : x->fields[i].type;
			if (!t)
				return NULL;
			f[n++] = (struct type_field){x->fields[i].name, t};
		}
		for (uint32_t i = 0; i < y->nfields && n < 128; i++)
			if (!type_field(x, y->fields[i].name))
				f[n++] = y->fields[i];
		return type_object(a, f, n);
	}
	default:
		return x;
	}
}

void type_print(struct strbuf *sb, const struct type *t)
{
	static const char *const names[] = {
	    [T_ERROR] = "<error>", [T_ANY] = "any",   [T_NULL] = "null",
	    [T_BOOL] = "bool",     [T_INT] = "int",   [T_STRING] = "string",
	    [T_SECRET] = "secret", [T_PATH] = "path", [T_MODE] = "mode",
	};
	switch (t->kind) {
	case T_LIST:
	case T_MAP:
		sb_adds(sb, t->kind == T_LIST ? "list<" : "map<");
		type_print(sb, t->elem);
		sb_addc(sb, '>');
		break;
	case T_OBJECT:
		sb_adds(sb, "object{");
		for (uint32_t i = 0; i < t->nfields; i++) {
			sb_adds(sb, i ? ", " : " ");
			sb_addf(sb, "%s: ", t->fields[i].name);
			type_print(sb, t->fields[i].type);
		}
		sb_adds(sb, t->nfields ? " }" : "}");
		break;
	case T_ENUM:
		sb_adds(sb, "enum(");
		for (uint32_t i = 0; i < t->nvalues; i++)
			sb_addf(sb, "%s%s", i ? ", " : "", t->values[i]);
		sb_addc(sb, ')');
		break;
	case T_UNION:
		for (uint32_t i = 0; i < t->nalts; i++) {
			if (i)
				sb_adds(sb, " or ");
			type_print(sb, t->alts[i]);
		}
		break;
	default:
		sb_adds(sb, names[t->kind]);
	}
}

const char *type_str(struct arena *a, const struct type *t)
{
	struct strbuf sb = STRBUF_INIT;
	type_print(&sb, t);
	const char *s = arena_strdup(a, sb.buf ? sb.buf : "");
	sb_release(&sb);
	return s;
}
