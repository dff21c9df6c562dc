/* Parsing `xenkvm run`: every bad value is a one-line error naming it. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/cli.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/vm.h"

void cli_usage_run(void)
{
	printf("usage: xenkvm run [--kernel PATH] [--initrd PATH] [--cmdline STR]\n"
	       "                  [--memory SIZE] [--vcpus N] [--hypercall auto|kvm|page]\n"
	       "                  [--timeout SECS] [--log-level error|warn|info|debug]\n"
	       "                  [--name NAME] [--console stdio|pty|file:PATH]\n"
	       "                  [--xenstore-socket PATH] [--shutdown-grace SECS]\n"
	       "                  [--disk PATH[,ro][,vdev=xvda]]... [--net tap=NAME[,mac=MAC]]...\n"
	       "\n"
	       "Boots a Xen PVH kernel (ELF or bzImage) on KVM; with no --kernel, an\n"
	       "embedded demo guest. The guest console is on stdout.\n"
	       "SIZE is MiB by default, or takes a K, M, G or T suffix (default 256M).\n"
	       "On a terminal the console is raw: Ctrl-] then q destroys the guest, then s\n"
	       "asks it to shut down, then Ctrl-] sends Ctrl-]. SIGTERM asks the guest to\n"
	       "power off (control/shutdown); a second one, or --shutdown-grace seconds\n"
	       "(default 30) without a shutdown, destroys it. XenStore is served on\n"
	       "--xenstore-socket (default $XDG_RUNTIME_DIR/xenkvm/<pid>/xenstored): use\n"
	       "XENSTORED_PATH=<socket> xenstore-ls.\n"
	       "Exit status: 0 poweroff, 1 crash, 2 bad input, 3 reboot, 4 watchdog,\n"
	       "5 suspend, 6 soft reset, 7 triple fault, 8 emulation failure,\n"
	       "124 timeout, 125 VMM error.\n");
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	unsigned shift = 20;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case '\0': break;
	default: return -1;
	}
	if ((*end == 'b' || *end == 'B') && end[1] == '\0')
		end++;
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*bytes = (uint64_t)v << shift;
	return 0;
}

static int parse_transport(const char *s, enum hcall_transport *t)
{
	if (strcmp(s, "auto") == 0)
		*t = TRANSPORT_AUTO;
	else if (strcmp(s, "kvm") == 0)
		*t = TRANSPORT_KVM;
	else if (strcmp(s, "page") == 0)
		*t = TRANSPORT_PAGE;
	else
		return -1;
	return 0;
}

static const struct option run_options[] = {
	{ "kernel", required_argument, 0, 'k' }, { "initrd", required_argument, 0, 'i' },
	{ "cmdline", required_argument, 0, 'c' }, { "memory", required_argument, 0, 'm' },
	{ "vcpus", required_argument, 0, 'v' }, { "hypercall", required_argument, 0, 'h' },
	{ "timeout", required_argument, 0, 't' }, { "log-level", required_argument, 0, 'l' },
	{ "name", required_argument, 0, 'n' }, { "xenstore-socket", required_argument, 0, 's' },
	{ "console", required_argument, 0, 'C' }, { "shutdown-grace", required_argument, 0, 'g' },
	{ "disk", required_argument, 0, 'd' }, { "net", required_argument, 0, 'N' },
	{ "help", no_argument, 0, '?' + 256 }, { 0, 0, 0, 0 },
};

static const char *option_name(int opt)
{
	for (const struct option *o = run_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int parse_option(int opt, const char *arg, struct run_config *c, char *err, size_t errlen)
{
	char *end;

	switch (opt) {
	case 'k': c->kernel = arg; return 0;
	case 'i': c->initrd = arg; return 0;
	case 'c': c->cmdline = arg; return 0;
	case 'm':
		if (cli_parse_size(arg, &c->memory) || c->memory % GUEST_PAGE_SIZE ||
		    c->memory < GMEM_MIN_RAM || c->memory > GMEM_MAX_RAM)
			goto bad;
		return 0;
	case 'v': {
		unsigned long n = strtoul(arg, &end, 10);
		if (*arg == '-' || *end || n < 1 || n > VM_MAX_VCPUS)
			goto bad;
		c->vcpus = (unsigned)n;
		return 0;
	}
	case 'h':
		if (parse_transport(arg, &c->transport) == 0)
			return 0;
		goto bad;
	case 't':
		c->timeout = strtod(arg, &end);
		if (*end || !isfinite(c->timeout) || c->timeout <= 0 || c->timeout > 1e7)
			goto bad;
		return 0;
	case 'l':
		if (log_level_parse(arg, &c->log_level) == 0)
			return 0;
		goto bad;
	case 'n':
		if (!*arg || strlen(arg) > 64 || strchr(arg, '/'))
			goto bad;
		c->name = arg;
		return 0;
	case 's': c->xenstore_socket = arg; return 0;
	case 'd':
		if (c->ndisks >= PV_MAX_DISKS) {
			snprintf(err, errlen, "at most %d --disk options", PV_MAX_DISKS);
			return -1;
		}
		c->disks[c->ndisks++] = arg;
		return 0;
	case 'N':
		if (c->nnics >= PV_MAX_NICS) {
			snprintf(err, errlen, "at most %d --net options", PV_MAX_NICS);
			return -1;
		}
		c->nics[c->nnics++] = arg;
		return 0;
	case 'C':
		if (strcmp(arg, "stdio") && strcmp(arg, "pty") &&
		    (strncmp(arg, "file:", 5) || !arg[5]))
			goto bad;
		c->console = arg;
		return 0;
	case 'g':
		c->shutdown_grace = strtod(arg, &end);
		if (*end || !isfinite(c->shutdown_grace) || c->shutdown_grace <= 0 ||
		    c->shutdown_grace > 1e7)
			goto bad;
		return 0;
	}
	return -1;
bad:
	snprintf(err, errlen, "invalid value '%s' for --%s", arg, option_name(opt));
	if (opt == 'm')
		snprintf(err + strlen(err), errlen - strlen(err),
			 " (a page multiple from 2M to 1T; plain numbers are MiB)");
	else if (opt == 'v')
		snprintf(err + strlen(err), errlen - strlen(err), " (1 to %d)", VM_MAX_VCPUS);
	else if (opt == 'h')
		snprintf(err + strlen(err), errlen - strlen(err), " (auto, kvm or page)");
	return -1;
}

int cli_parse_run(int argc, char **argv, struct run_config *c, char *err, size_t errlen)
{
	int opt;

	*c = (struct run_config){ .memory = DEFAULT_MEMORY, .vcpus = 1,
				  .transport = TRANSPORT_AUTO, .log_level = LOG_WARN,
				  .console = "stdio", .shutdown_grace = 30 };
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", run_options, NULL)) != -1) {
		if (opt == '?' + 256)
			return 1;
		if (opt == '?') {
			snprintf(err, errlen, "unknown or incomplete option '%s' (see xenkvm run --help)",
				 argv[optind - 1]);
			return -1;
		}
		if (parse_option(opt, optarg, c, err, errlen) < 0)
			return -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see xenkvm run --help)",
			 argv[optind]);
		return -1;
	}
	return 0;
}
