/* `xenkvm run ARGS...` parsed the way main() does, for the unit tests of the
 * command line and xl.cfg keys. The argument strings live until the next
 * parse or cli_args_free(), as cli_parse_run may keep pointers into them. */
#ifndef TESTS_CLI_ARGS_H
#define TESTS_CLI_ARGS_H

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/cli.h"

static char *cli_argv[32];
static int cli_argc;

static void cli_args_free(struct run_config *rc)
{
	cli_release_run(rc);
	for (int i = 0; i < cli_argc; i++)
		free(cli_argv[i]);
	cli_argc = 0;
}

/* "run", then the NULL-terminated arguments from first on. */
static int cli_args_parse(struct run_config *rc, char *err, size_t errlen, const char *first,
			  va_list ap)
{
	cli_args_free(rc);
	cli_argv[cli_argc++] = strdup("run");
	for (const char *a = first; a; a = va_arg(ap, const char *))
		cli_argv[cli_argc++] = strdup(a);
	cli_argv[cli_argc] = NULL;
	return cli_parse_run(cli_argc, cli_argv, rc, err, errlen);
}

#endif
