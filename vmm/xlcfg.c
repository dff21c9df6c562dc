/* The xl.cfg(5) syntax: a lexer, a recursive-descent parser and the
 * setting store. Every malformed input is one "SOURCE:LINE: problem". */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xenkvm/xlcfg.h"

enum tok { T_EOF, T_NEWLINE, T_SEMI, T_COMMA, T_EQ, T_PLUSEQ, T_LBRACK, T_RBRACK,
	   T_IDENT, T_NUMBER, T_STRING, T_ERROR };

struct token {
	enum tok t;
	unsigned line;
	char *text; /* IDENT, NUMBER, STRING: malloc'd */
};

struct parser {
	const char *p, *end;
	unsigned line;
	const char *source;
	int numbered;
	char *err;
	size_t errlen;
	int failed;
	struct token tok; /* the lookahead */
};

struct stmt {
	char *key;
	unsigned line;
	int append;
	struct xlcfg_value value;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *ps, unsigned line, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (ps->failed)
		return -1;
	ps->failed = 1;
	if (ps->numbered)
		n = (size_t)snprintf(ps->err, ps->errlen, "%s:%u: ", ps->source, line);
	else
		n = (size_t)snprintf(ps->err, ps->errlen, "%s: ", ps->source);
	if (n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const char *xlcfg_kind_name(enum xlcfg_kind kind)
{
	switch (kind) {
	case XLCFG_STRING: return "a string";
	case XLCFG_NUMBER: return "a number";
	case XLCFG_LIST: return "a list";
	}
	return "?";
}

static void value_free(struct xlcfg_value *v)
{
	for (size_t i = 0; i < v->nitems; i++)
		value_free(&v->items[i]);
	free(v->items);
	free(v->text);
	v->items = NULL;
	v->text = NULL;
	v->nitems = 0;
}

static const char *describe_char(int c, char *buf, size_t len)
{
	if (isprint(c))
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", (unsigned)(unsigned char)c);
	return buf;
}

/* One escape after a backslash in a string: the byte it stands for, or -1. */
static int lex_escape(struct parser *ps, unsigned line)
{
	static const char plain[] = "\\\\''\"\"a\ab\bf\fn\nr\rt\tv\v";
	int c = ps->p < ps->end ? (unsigned char)*ps->p++ : -1;
	unsigned v = 0, digits = 0;
	char what[16];

	for (const char *e = plain; *e; e += 2)
		if (c == e[0])
			return (unsigned char)e[1];
	if (c == 'x') {
		while (digits < 2 && ps->p < ps->end && isxdigit((unsigned char)*ps->p)) {
			int d = (unsigned char)*ps->p++;
			v = v * 16 + (unsigned)(isdigit(d) ? d - '0' : tolower(d) - 'a' + 10);
			digits++;
		}
		if (digits != 2)
			return fail(ps, line, "\\x needs two hex digits in a string");
	} else if (c >= '0' && c <= '7') {
		v = (unsigned)(c - '0');
		while (++digits < 3 && ps->p < ps->end && *ps->p >= '0' && *ps->p <= '7')
			v = v * 8 + (unsigned)(*ps->p++ - '0');
		if (v > 255)
			return fail(ps, line, "octal escape \\%o is above \\377", v);
	} else if (c < 0 || c == '\n') {
		return fail(ps, line, "unterminated string");
	} else {
		return fail(ps, line, "invalid escape: backslash then %s in a string",
			    describe_char(c, what, sizeof(what)));
	}
	if (v == 0)
		return fail(ps, line, "a NUL byte (\\0) cannot be in a string");
	return (int)v;
}

static int lex_string(struct parser *ps, struct token *t)
{
	char quote = *ps->p++;
	char *out = malloc((size_t)(ps->end - ps->p) + 1);
	size_t n = 0;

	if (!out)
		return fail(ps, t->line, "out of memory");
	for (;;) {
		int c;
		if (ps->p >= ps->end || *ps->p == '\n') {
			free(out);
			return fail(ps, t->line, "unterminated string (no closing %c)", quote);
		}
		c = (unsigned char)*ps->p++;
		if (c == quote)
			break;
		if (c == '\\' && (c = lex_escape(ps, t->line)) < 0) {
			free(out);
			return -1;
		}
		if (c == 0) {
			free(out);
			return fail(ps, t->line, "a NUL byte cannot be in a string");
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	t->t = T_STRING;
	t->text = out;
	return 0;
}

static int valid_number(const char *s)
{
	char *end;

	errno = 0;
	(void)strtoull(s, &end, 0);
	return !errno && !*end;
}

static int lex_word(struct parser *ps, struct token *t, int number)
{
	const char *start = ps->p;

	while (ps->p < ps->end && (isalnum((unsigned char)*ps->p) || *ps->p == '_' ||
				   (number && *ps->p == '.')))
		ps->p++;
	t->text = strndup(start, (size_t)(ps->p - start));
	if (!t->text)
		return fail(ps, t->line, "out of memory");
	t->t = number ? T_NUMBER : T_IDENT;
	if (number && !valid_number(t->text))
		return fail(ps, t->line, "bad number '%s' (decimal, 0-prefixed octal or 0x hex; "
			    "quote strings)", t->text);
	return 0;
}

/* Skip blanks, comments and backslash-newline continuations. */
static void skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == ' ' || c == '\t' || c == '\r') {
			ps->p++;
		} else if (c == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
		} else if (c == '\\' && ps->end - ps->p >= 2 &&
			   (ps->p[1] == '\n' || (ps->p[1] == '\r' && ps->end - ps->p >= 3 &&
						  ps->p[2] == '\n'))) {
			ps->p += ps->p[1] == '\n' ? 2 : 3;
			ps->line++;
		} else {
			return;
		}
	}
}

static int lex(struct parser *ps, struct token *t)
{
	char what[16];
	char c;

	*t = (struct token){ .t = T_ERROR };
	skip_blanks(ps);
	t->line = ps->line;
	if (ps->p >= ps->end) {
		t->t = T_EOF;
		return 0;
	}
	c = *ps->p;
	switch (c) {
	case '\n': ps->p++; ps->line++; t->t = T_NEWLINE; return 0;
	case ';': ps->p++; t->t = T_SEMI; return 0;
	case ',': ps->p++; t->t = T_COMMA; return 0;
	case '=': ps->p++; t->t = T_EQ; return 0;
	case '[': ps->p++; t->t = T_LBRACK; return 0;
	case ']': ps->p++; t->t = T_RBRACK; return 0;
	case '"': case '\'': return lex_string(ps, t);
	}
	if (c == '+' && ps->end - ps->p >= 2 && ps->p[1] == '=') {
		ps->p += 2;
		t->t = T_PLUSEQ;
		return 0;
	}
	if (isdigit((unsigned char)c))
		return lex_word(ps, t, 1);
	if (isalpha((unsigned char)c) || c == '_')
		return lex_word(ps, t, 0);
	if (c == '\\')
		return fail(ps, t->line, "stray backslash (only one at the very end of a line "
			    "continues it)");
	return fail(ps, t->line, "unexpected %s", describe_char(c, what, sizeof(what)));
}

static void token_free(struct token *t)
{
	free(t->text);
	t->text = NULL;
}

static int advance(struct parser *ps)
{
	token_free(&ps->tok);
	return lex(ps, &ps->tok);
}

static const char *tok_name(const struct token *t)
{
	switch (t->t) {
	case T_EOF: return "the end of the file";
	case T_NEWLINE: return "the end of the line";
	case T_SEMI: return "';'";
	case T_COMMA: return "','";
	case T_EQ: return "'='";
	case T_PLUSEQ: return "'+='";
	case T_LBRACK: return "'['";
	case T_RBRACK: return "']'";
	case T_IDENT: return "a word";
	case T_NUMBER: return "a number";
	case T_STRING: return "a string";
	case T_ERROR: break;
	}
	return "an error";
}

static int skip_newlines(struct parser *ps)
{
	while (ps->tok.t == T_NEWLINE)
		if (advance(ps) < 0)
			return -1;
	return 0;
}

static int parse_value(struct parser *ps, struct xlcfg_value *v, unsigned depth);

static int list_push(struct parser *ps, struct xlcfg_value *list, size_t *cap)
{
	if (list->nitems == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct xlcfg_value *items = realloc(list->items, ncap * sizeof(*items));
		if (!items)
			return fail(ps, ps->tok.line, "out of memory");
		list->items = items;
		*cap = ncap;
	}
	memset(&list->items[list->nitems], 0, sizeof(list->items[0]));
	return 0;
}

/* After '[': values separated by commas, new lines anywhere, a trailing comma. */
static int parse_list(struct parser *ps, struct xlcfg_value *v, unsigned depth)
{
	size_t cap = 0;
	unsigned open_line = v->line;

	v->kind = XLCFG_LIST;
	if (depth >= XLCFG_MAX_DEPTH)
		return fail(ps, open_line, "lists nested more than %d deep", XLCFG_MAX_DEPTH);
	if (advance(ps) < 0 || skip_newlines(ps) < 0)
		return -1;
	while (ps->tok.t != T_RBRACK) {
		if (ps->tok.t == T_EOF)
			return fail(ps, open_line, "unterminated list (no closing ']')");
		if (list_push(ps, v, &cap) < 0)
			return -1;
		if (parse_value(ps, &v->items[v->nitems], depth + 1) < 0) {
			value_free(&v->items[v->nitems]);
			return -1;
		}
		v->nitems++;
		if (skip_newlines(ps) < 0)
			return -1;
		if (ps->tok.t == T_COMMA) {
			if (advance(ps) < 0 || skip_newlines(ps) < 0)
				return -1;
		} else if (ps->tok.t == T_EOF) {
			return fail(ps, open_line, "unterminated list (no closing ']')");
		} else if (ps->tok.t != T_RBRACK) {
			return fail(ps, ps->tok.line, "expected ',' or ']' in a list, not %s",
				    tok_name(&ps->tok));
		}
	}
	return advance(ps);
}

static int parse_value(struct parser *ps, struct xlcfg_value *v, unsigned depth)
{
	v->line = ps->numbered ? ps->tok.line : 0;
	switch (ps->tok.t) {
	case T_STRING:
	case T_NUMBER:
		v->kind = ps->tok.t == T_STRING ? XLCFG_STRING : XLCFG_NUMBER;
		v->text = ps->tok.text;
		ps->tok.text = NULL;
		return advance(ps);
	case T_LBRACK:
		return parse_list(ps, v, depth);
	case T_IDENT:
		return fail(ps, ps->tok.line, "expected a value, not the bare word '%s' "
			    "(quote strings)", ps->tok.text);
	default:
		return fail(ps, ps->tok.line, "expected a value (a string, number or list), "
			    "not %s", tok_name(&ps->tok));
	}
}

static int parse_stmt(struct parser *ps, struct stmt *s)
{
	char *key;

	if (ps->tok.t != T_IDENT)
		return fail(ps, ps->tok.line, "expected a KEY = VALUE setting, not %s",
			    tok_name(&ps->tok));
	key = ps->tok.text;
	ps->tok.text = NULL;
	*s = (struct stmt){ .key = key, .line = ps->numbered ? ps->tok.line : 0 };
	if (advance(ps) < 0)
		return -1;
	if (ps->tok.t != T_EQ && ps->tok.t != T_PLUSEQ)
		return fail(ps, ps->tok.line, "expected '=' after '%s', not %s", key,
			    tok_name(&ps->tok));
	s->append = ps->tok.t == T_PLUSEQ;
	if (advance(ps) < 0 || parse_value(ps, &s->value, 0) < 0)
		return -1;
	if (ps->tok.t != T_NEWLINE && ps->tok.t != T_SEMI && ps->tok.t != T_EOF)
		return fail(ps, ps->tok.line, "expected a new line or ';' after the value of "
			    "'%s', not %s", key, tok_name(&ps->tok));
	return 0;
}

static void stmts_free(struct stmt *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].key);
		value_free(&s[i].value);
	}
	free(s);
}

/* The whole text into statements, in order. */
static struct stmt *parse_all(struct parser *ps, size_t *count)
{
	struct stmt *s = NULL;
	size_t n = 0, cap = 0;

	if (advance(ps) < 0)
		goto bad;
	while (ps->tok.t != T_EOF) {
		if (ps->tok.t == T_NEWLINE || ps->tok.t == T_SEMI) {
			if (advance(ps) < 0)
				goto bad;
			continue;
		}
		if (n == cap) {
			struct stmt *ns = realloc(s, (cap = cap ? cap * 2 : 16) * sizeof(*s));
			if (!ns) {
				fail(ps, ps->tok.line, "out of memory");
				goto bad;
			}
			s = ns;
		}
		memset(&s[n], 0, sizeof(s[n]));
		if (parse_stmt(ps, &s[n]) < 0) {
			n++;
			goto bad;
		}
		n++;
	}
	token_free(&ps->tok);
	*count = n;
	return s ? s : calloc(1, sizeof(*s));
bad:
	token_free(&ps->tok);
	stmts_free(s, n);
	return NULL;
}

static struct xlcfg_setting *find_mut(struct xlcfg *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->settings[i].key, key) == 0)
			return &cfg->settings[i];
	return NULL;
}

const struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg, const char *key)
{
	return find_mut((struct xlcfg *)cfg, key);
}

const char *xlcfg_where(const struct xlcfg_setting *s, char *buf, size_t len)
{
	if (s->line)
		snprintf(buf, len, "%s:%u", s->source, s->line);
	else
		snprintf(buf, len, "%s", s->source);
	return buf;
}

/* to += v: strings and lists grow (the caller checked the kinds). */
static const char *append_value(struct xlcfg_value *to, struct xlcfg_value *v)
{
	if (to->kind == XLCFG_STRING) {
		size_t a = strlen(to->text), b = strlen(v->text);
		char *t = realloc(to->text, a + b + 1);
		if (!t)
			return "out of memory";
		memcpy(t + a, v->text, b + 1);
		to->text = t;
	} else {
		struct xlcfg_value *items =
			realloc(to->items, (to->nitems + v->nitems + 1) * sizeof(*items));
		if (!items)
			return "out of memory";
		if (v->nitems) /* an empty list has no items array (memcpy from NULL is UB) */
			memcpy(items + to->nitems, v->items, v->nitems * sizeof(*items));
		to->items = items;
		to->nitems += v->nitems;
		free(v->items);
		v->items = NULL;
		v->nitems = 0;
	}
	value_free(v);
	return NULL;
}

static int add_setting(struct xlcfg *cfg, struct stmt *s, const char *source)
{
	if (cfg->n == cfg->cap) {
		size_t ncap = cfg->cap ? cfg->cap * 2 : 16;
		struct xlcfg_setting *ns = realloc(cfg->settings, ncap * sizeof(*ns));
		if (!ns)
			return -1;
		cfg->settings = ns;
		cfg->cap = ncap;
	}
	cfg->settings[cfg->n++] = (struct xlcfg_setting){
		.key = s->key, .source = source, .line = s->line, .value = s->value };
	s->key = NULL;
	memset(&s->value, 0, sizeof(s->value));
	return 0;
}

/* Statements into the store. replace: '=' overrides (the command line);
 * else a key set twice with '=' is an error (a file). */
static int merge(struct xlcfg *cfg, struct parser *ps, struct stmt *s, size_t n, int replace)
{
	for (size_t i = 0; i < n; i++) {
		struct xlcfg_setting *old = find_mut(cfg, s[i].key);
		const char *why;
		if (old && s[i].append) {
			enum xlcfg_kind to = old->value.kind, from = s[i].value.kind;
			if (to != from || to == XLCFG_NUMBER)
				return fail(ps, s[i].line, "%s += cannot append %s to %s", s[i].key,
					    xlcfg_kind_name(from), xlcfg_kind_name(to));
			if ((why = append_value(&old->value, &s[i].value)))
				return fail(ps, s[i].line, "%s", why);
			continue;
		}
		if (old && !replace) {
			char where[300];
			return fail(ps, s[i].line, "duplicate key '%s' (already set at %s; "
				    "use += to append)", s[i].key, xlcfg_where(old, where,
									 sizeof(where)));
		}
		if (old) {
			free(old->key);
			value_free(&old->value);
			old->key = s[i].key;
			old->source = ps->source;
			old->line = s[i].line;
			old->value = s[i].value;
			s[i].key = NULL;
			memset(&s[i].value, 0, sizeof(s[i].value));
		} else if (add_setting(cfg, &s[i], ps->source) < 0) {
			return fail(ps, s[i].line, "out of memory");
		}
	}
	return 0;
}

char *xlcfg_keep(struct xlcfg *cfg, char *s)
{
	char **o;

	if (!s)
		return NULL;
	o = realloc(cfg->owned, (cfg->nowned + 1) * sizeof(*o));
	if (!o) {
		free(s);
		return NULL;
	}
	cfg->owned = o;
	cfg->owned[cfg->nowned++] = s;
	return s;
}

static int parse_into(struct xlcfg *cfg, const char *source, int numbered, const char *text,
		      size_t len, int replace, char *err, size_t errlen)
{
	char *src = xlcfg_keep(cfg, strdup(source));
	struct parser ps = { .p = text, .end = text + len, .line = 1, .source = src ? src : source,
			     .numbered = numbered, .err = err, .errlen = errlen };
	struct stmt *s;
	size_t n = 0;
	int rc;

	if (!src)
		return fail(&ps, 0, "out of memory");
	s = parse_all(&ps, &n);
	if (!s)
		return -1;
	rc = merge(cfg, &ps, s, n, replace);
	stmts_free(s, n);
	return rc;
}

int xlcfg_parse(struct xlcfg *cfg, const char *source, int numbered, const char *text,
		size_t len, char *err, size_t errlen)
{
	return parse_into(cfg, source, numbered, text, len, 0, err, errlen);
}

int xlcfg_override(struct xlcfg *cfg, const char *arg, char *err, size_t errlen)
{
	char source[160];

	snprintf(source, sizeof(source), "command line '%.120s%s'", arg,
		 strlen(arg) > 120 ? "..." : "");
	return parse_into(cfg, source, 0, arg, strlen(arg), 1, err, errlen);
}

int xlcfg_read_file(struct xlcfg *cfg, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int rc = -1, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > XLCFG_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %u KiB", path,
			 XLCFG_MAX_FILE >> 10);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path, n ? strerror(errno) : "short read");
			goto out;
		}
		done += (size_t)n;
	}
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	rc = xlcfg_parse(cfg, path, 1, buf, done, err, errlen);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

void xlcfg_init(struct xlcfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void xlcfg_free(struct xlcfg *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->settings[i].key);
		value_free(&cfg->settings[i].value);
	}
	for (size_t i = 0; i < cfg->nowned; i++)
		free(cfg->owned[i]);
	free(cfg->settings);
	free(cfg->owned);
	xlcfg_init(cfg);
}
