/* The boot code's one way of reporting failure: a single line for the user. */
#include <stdarg.h>
#include <stdio.h>

#include "xenkvm/boot.h"

int boot_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
