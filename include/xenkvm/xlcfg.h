/* xl.cfg(5) syntax: KEY = VALUE settings, separated by new lines or ';'.
 * A value is a string ('...' or "..." with C escapes), a number (decimal,
 * 0-prefixed octal, 0x hex) or a list [ v, v, ... ] that may span lines,
 * nest and end with a comma. '#' starts a comment; KEY += VALUE appends to
 * a string or list set earlier. As an extension to xl, a backslash at the
 * end of a line continues it. Setting a key twice with '=' in one file is
 * an error; KEY=VALUE overrides from the command line replace. */
#ifndef XENKVM_XLCFG_H
#define XENKVM_XLCFG_H

#include <stddef.h>

enum xlcfg_kind { XLCFG_STRING, XLCFG_NUMBER, XLCFG_LIST };

struct xlcfg_value {
	enum xlcfg_kind kind;
	unsigned line;             /* where it starts; 0 when the source has no lines */
	char *text;                /* STRING: unquoted, unescaped; NUMBER: as written */
	struct xlcfg_value *items; /* LIST */
	size_t nitems;
};

struct xlcfg_setting {
	char *key;
	const char *source; /* the file name, or "command line 'KEY=VALUE'" */
	unsigned line;      /* 0 for command-line overrides */
	struct xlcfg_value value;
};

struct xlcfg {
	struct xlcfg_setting *settings; /* in the order first set */
	size_t n, cap;
	char **owned; /* source names and strings made for the caller */
	size_t nowned;
};

#define XLCFG_MAX_FILE (1u << 20)
#define XLCFG_MAX_DEPTH 16

void xlcfg_init(struct xlcfg *cfg);
void xlcfg_free(struct xlcfg *cfg);

/* Parse text into cfg. Every problem is one line: "SOURCE:LINE: what" (or
 * "SOURCE: what" when numbered is 0). 0, or -1 (cfg may then hold the
 * settings before the bad one: free it). */
int xlcfg_parse(struct xlcfg *cfg, const char *source, int numbered, const char *text,
		size_t len, char *err, size_t errlen);
/* Read and parse a file; the errors name it. */
int xlcfg_read_file(struct xlcfg *cfg, const char *path, char *err, size_t errlen);
/* A command-line KEY=VALUE (or KEY+=VALUE) in the same syntax: '=' replaces
 * any earlier setting of KEY, '+=' appends to it. */
int xlcfg_override(struct xlcfg *cfg, const char *arg, char *err, size_t errlen);

const struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg, const char *key);
/* "FILE:LINE" or the source alone, for messages about a setting. */
const char *xlcfg_where(const struct xlcfg_setting *s, char *buf, size_t len);
/* A string kept until xlcfg_free (NULL when out of memory). */
char *xlcfg_keep(struct xlcfg *cfg, char *s);
const char *xlcfg_kind_name(enum xlcfg_kind kind);

#endif
