/* The command line of `xenkvm run`. */
#ifndef XENKVM_CLI_H
#define XENKVM_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "xenkvm/log.h"
#include "xenkvm/pvdev.h"
#include "xenkvm/xen.h"

struct xlcfg;

/* What to do when the guest powers off, reboots, crashes or its watchdog
 * fires (xl.cfg's on_poweroff, on_reboot, on_crash, on_watchdog). */
enum lifecycle_action {
	ACTION_DESTROY,  /* end the VM; xenkvm exits with the reason's status */
	ACTION_RESTART,  /* boot the same configuration again, in the same process */
	ACTION_PRESERVE, /* keep the VM paused for inspection until destroyed */
};

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
	uint64_t maxmem;      /* bytes the guest may balloon up to; >= memory */
	unsigned max_vcpus;   /* vCPUs created, of which the first vcpus are online at boot */
	char uuid[37];        /* the domain's UUID, lowercase 8-4-4-4-12; "": make one */
	enum lifecycle_action on_poweroff, on_reboot, on_crash, on_watchdog;
	const char *trace;    /* --trace FILE: record every hypercall there; NULL: off */
	struct hcall_policy *policy; /* --hypercall-policy; NULL: allow all */
	uint64_t time_granularity_ns; /* --time-granularity; 0: exact */
	/* --hypercall-rate N[:BURST]: calls per second per vCPU; 0: no limit */
	uint64_t hcall_rate, hcall_burst;
	int no_sandbox;       /* --no-sandbox: no seccomp filters (debugging) */
	const char *config_file; /* the xl.cfg file given, or NULL */
	struct xlcfg *xlcfg;  /* owns the strings the file and KEY=VALUE gave */
};

#define DEFAULT_MEMORY (256ULL << 20)

/* Parse `run`'s arguments (argv[0] is "run"): `run [CONFIG] [KEY=VALUE...]
 * [--flags]`. The xl.cfg file is read, then the KEY=VALUE overrides, then
 * the flags, each overriding the one before. Returns 0, 1 for --help, or -1
 * with a one-line reason in err. Warnings (unknown keys) go to stderr unless
 * --log-level error. After 0, maxmem and max_vcpus are set. */
int cli_parse_run(int argc, char **argv, struct run_config *c, char *err, size_t errlen);
/* Free what cli_parse_run allocated (the strings c points to). */
void cli_release_run(struct run_config *c);

/* Apply the xl.cfg settings in x to c: each key a PVH guest needs, an error
 * naming file, line, key and why for a wrong value, warn() for an unknown
 * key. The strings it makes are kept in x. 0 or -1. */
typedef void cli_warn_fn(void *opaque, const char *msg);
int cli_apply_xlcfg(struct xlcfg *x, struct run_config *c, cli_warn_fn *warn, void *opaque,
		    char *err, size_t errlen);

const char *lifecycle_action_name(enum lifecycle_action a);
/* An xl action name (destroy, restart, preserve; '_' for '-' too): NULL, or
 * why it is refused. */
const char *lifecycle_action_parse(const char *s, enum lifecycle_action *a);
/* A UUID as xl takes it: 8-4-4-4-12 hex digits. NULL (out: lowercase) or why not. */
const char *cli_parse_uuid(const char *s, char out[37]);
/* A size like xl's memory=: a plain number is MiB; K, M, G, T suffixes. */
int cli_parse_size(const char *s, uint64_t *bytes);
/* --time-granularity: a number of ns, or with a ns, us, ms or s suffix, at
 * most 1 s. NULL, or why not. */
const char *cli_parse_granularity(const char *s, uint64_t *ns);
/* A hypercall rate limit, N[:BURST] calls per second per vCPU (0: off).
 * BURST defaults to N/10, at least 1. NULL, or why it is refused. */
const char *cli_parse_rate(const char *s, uint64_t *rate, uint64_t *burst);
void cli_usage_run(void);

#endif
