/* Diagnostics go to stderr, so stdout carries only the guest's console. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xenkvm/log.h"

enum log_level log_threshold = LOG_WARN;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (lvl > log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per message keeps lines from different threads whole. */
	fprintf(stderr, "xenkvm: %s: %s\n", level_names[lvl], buf);
}
