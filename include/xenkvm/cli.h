/* The command line of `xenkvm run`. */
#ifndef XENKVM_CLI_H
#define XENKVM_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "xenkvm/log.h"
#include "xenkvm/pvdev.h"
#include "xenkvm/xen.h"

struct run_config {
	const char *kernel; /* NULL: the embedded default guest */
	const char *initrd;
	const char *cmdline;
	uint64_t memory;    /* bytes */
	unsigned vcpus;
	enum hcall_transport transport;
	double timeout;     /* seconds; 0: none */
	enum log_level log_level;
	const char *name;   /* the domain's name (XenStore); NULL: xenkvm-<pid> */
	const char *xenstore_socket; /* NULL: the per-VM default path */
	const char *console;  /* "stdio", "pty" or "file:PATH" */
	double shutdown_grace; /* seconds between a graceful request and destroy */
	const char *disks[PV_MAX_DISKS]; /* --disk arguments, in order */
	unsigned ndisks;
	const char *nics[PV_MAX_NICS];   /* --net arguments, in order */
	unsigned nnics;
};

#define DEFAULT_MEMORY (256ULL << 20)

/* Parse `run`'s arguments (argv[0] is "run"). Returns 0, 1 for --help, or -1
 * with a one-line reason in err. */
int cli_parse_run(int argc, char **argv, struct run_config *c, char *err, size_t errlen);
/* A size like xl's memory=: a plain number is MiB; K, M, G, T suffixes. */
int cli_parse_size(const char *s, uint64_t *bytes);
void cli_usage_run(void);

#endif
