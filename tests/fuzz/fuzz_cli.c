/* libFuzzer harness: the command line of `xenkvm run` (cli_parse_run) and
 * the size syntax (cli_parse_size). The input is split at NUL bytes into
 * arguments after "run"; each is its own allocation so a read past its end
 * is caught. Checked beyond the sanitizers: an accepted command line gives
 * values within their documented limits, a refused one a reason (quoting
 * the argument as given: one with a newline makes it two lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_vm.h"
#include "xenkvm/cli.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/vm.h"

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_cli: %s: %s\n", why, detail);
	abort();
}

static void check_config(const struct run_config *c)
{
	if (c->memory < GMEM_MIN_RAM || c->memory > GMEM_MAX_RAM || c->memory % GUEST_PAGE_SIZE)
		fail("memory out of range", "");
	if (c->vcpus < 1 || c->vcpus > VM_MAX_VCPUS)
		fail("vcpus out of range", "");
	if (c->timeout < 0 || c->shutdown_grace <= 0 || c->time_granularity_ns > 1000000000)
		fail("a time out of range", "");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	struct run_config c;
	char err[256];
	uint64_t bytes;
	int rc;

	argv[argc++] = strdup("run");
	for (size_t off = 0; off < size && argc <= MAX_ARGS;) {
		const uint8_t *nul = memchr(data + off, 0, size - off);
		size_t len = nul ? (size_t)(nul - data - off) : size - off;
		char *arg = malloc(len + 1);

		memcpy(arg, data + off, len);
		arg[len] = 0;
		argv[argc++] = arg;
		off += len + 1;
	}
	argv[argc] = NULL;
	err[0] = 0;
	rc = cli_parse_run(argc, argv, &c, err, sizeof(err));
	if (rc == 0)
		check_config(&c);
	else if (rc < 0 && !err[0])
		fail("a refusal without a reason", err);
	cli_release_run(&c);
	for (int i = 1; i < argc; i++)
		if (cli_parse_size(argv[i], &bytes) == 0 && bytes == 0)
			fail("a size of 0 accepted", argv[i]);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
