/* Parsing `xenkvm run`: an xl.cfg file, KEY=VALUE overrides, then flags.
 * Every bad value is a one-line error naming it (and where it came from). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/cli.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/policy.h"
#include "xenkvm/vm.h"
#include "xenkvm/xlcfg.h"

void cli_usage_run(void)
{
	printf("usage: xenkvm run [CONFIG] [KEY=VALUE...] [--kernel PATH] [--initrd PATH]\n"
	       "                  [--cmdline STR] [--memory SIZE] [--maxmem SIZE] [--vcpus N]\n"
	       "                  [--maxvcpus N] [--hypercall auto|kvm|page] [--timeout SECS]\n"
	       "                  [--log-level error|warn|info|debug] [--name NAME] [--uuid UUID]\n"
	       "                  [--console stdio|pty|file:PATH] [--xenstore-socket PATH]\n"
	       "                  [--shutdown-grace SECS] [--on-poweroff ACTION]\n"
	       "                  [--on-reboot ACTION] [--on-crash ACTION] [--on-watchdog ACTION]\n"
	       "                  [--trace FILE] [--hypercall-policy RULES]...\n"
	       "                  [--time-granularity DURATION] [--hypercall-rate N[:BURST]]\n"
	       "                  [--no-sandbox]\n"
	       "                  [--disk PATH[,ro][,vdev=xvda]]... [--net tap=NAME[,mac=MAC]]...\n"
	       "\n"
	       "Boots a Xen PVH kernel (ELF or bzImage) on KVM; with no kernel, an\n"
	       "embedded demo guest. The guest console is on stdout.\n"
	       "CONFIG is an xl.cfg(5) file (name, type=\"pvh\", kernel, ramdisk, cmdline,\n"
	       "root, extra, memory, maxmem, vcpus, maxvcpus, disk, vif, on_poweroff,\n"
	       "on_reboot, on_crash, on_watchdog, uuid, serial, and xenkvm's own\n"
	       "xenkvm_hypercall_policy and xenkvm_time_granularity); KEY=VALUE arguments\n"
	       "override it in the same syntax (e.g. memory=512 'extra=\"quiet\"'), and\n"
	       "flags override both (--disk and --net replace the file's lists).\n"
	       "SIZE is MiB by default, or takes a K, M, G or T suffix (default 256M);\n"
	       "--maxmem (default: --memory) is what the guest may balloon up to.\n"
	       "--maxvcpus (default: --vcpus) vCPUs are created, --vcpus of them online.\n"
	       "ACTION is destroy (exit with the reason's status), restart (boot again)\n"
	       "or preserve (keep the VM paused until `xenkvm destroy`). Without CONFIG\n"
	       "every action is destroy; with one, xl's defaults (on_reboot=restart).\n"
	       "--trace FILE records every hypercall (see xenkvm trace-stats FILE).\n"
	       "--hypercall-policy RULES: comma-separated default=allow|deny,\n"
	       "allow=TARGET and deny=TARGET, TARGET a hypercall (memory_op, sched_op...)\n"
	       "or hypercall:sub-op (memory_op:decrease_reservation, hvm_op:10); a denied\n"
	       "call gets -EPERM and is counted in xenkvm stats.\n"
	       "--time-granularity DURATION (ns, or a ns/us/ms/s suffix, at most 1s)\n"
	       "coarsens the time hypercalls return (HVMOP_get_time, the wallclock,\n"
	       "runstate times); the TSC-based pvclock is not affected.\n"
	       "--hypercall-rate N[:BURST] lets each vCPU make N hypercalls a second, in\n"
	       "bursts of BURST (default N/10): a vCPU over it sleeps (default: no limit;\n"
	       "xl.cfg key xenkvm_hypercall_rate).\n"
	       "After setup each thread may make only the system calls it needs (a\n"
	       "seccomp sandbox; a forbidden call stops xenkvm, naming it, with status\n"
	       "125); --no-sandbox turns that off, for debugging.\n"
	       "On a terminal the console is raw: Ctrl-] then q destroys the guest, then s\n"
	       "asks it to shut down, then Ctrl-] sends Ctrl-]. SIGTERM asks the guest to\n"
	       "power off (control/shutdown); a second one, or --shutdown-grace seconds\n"
	       "(default 30) without a shutdown, destroys it. XenStore is served on\n"
	       "--xenstore-socket (default $XDG_RUNTIME_DIR/xenkvm/<pid>/xenstored): use\n"
	       "XENSTORED_PATH=<socket> xenstore-ls.\n"
	       "Exit status: 0 poweroff, 1 crash, 2 bad input, 3 reboot, 4 watchdog,\n"
	       "5 suspend, 6 soft reset, 7 triple fault, 8 emulation failure,\n"
	       "124 timeout, 125 VMM error. See xenkvm(1).\n");
}

/* Rates past a billion a second could not be told from no limit at all. */
#define MAX_HCALL_RATE 1000000000ULL

static const char *parse_count(const char *s, char **end, uint64_t *out)
{
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return "not a whole number";
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno || v > MAX_HCALL_RATE)
		return "more than 1000000000";
	*out = v;
	return NULL;
}

const char *cli_parse_rate(const char *s, uint64_t *rate, uint64_t *burst)
{
	const char *why;
	char *end;
	uint64_t r, b;

	if ((why = parse_count(s, &end, &r)))
		return why;
	b = r / 10 ? r / 10 : 1;
	if (*end == ':') {
		if ((why = parse_count(end + 1, &end, &b)))
			return why;
		if (b == 0)
			return "a burst of 0 calls";
	}
	if (*end)
		return "not N or N:BURST";
	*rate = r;
	*burst = r ? b : 0;
	return NULL;
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

const char *cli_parse_granularity(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = { { "", 1 }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		      { "s", 1000000000 } };
	const char *why = "not a duration (a number of ns, or with a ns, us, ms or s suffix)";
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return why;
	errno = 0;
	v = strtoull(s, &end, 10);
	for (size_t i = 0; !errno && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > 1000000000ULL / units[i].ns)
			return "more than 1 s";
		*ns = v * units[i].ns;
		return NULL;
	}
	return why;
}

static int memory_ok(uint64_t bytes)
{
	return bytes % GUEST_PAGE_SIZE == 0 && bytes >= GMEM_MIN_RAM && bytes <= GMEM_MAX_RAM;
}

static int name_ok(const char *s)
{
	return *s && strlen(s) <= 64 && !strchr(s, '/');
}

static const char *const action_names[] = {
	[ACTION_DESTROY] = "destroy", [ACTION_RESTART] = "restart", [ACTION_PRESERVE] = "preserve",
};

const char *lifecycle_action_name(enum lifecycle_action a)
{
	return (unsigned)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

const char *lifecycle_action_parse(const char *s, enum lifecycle_action *a)
{
	char name[32];
	size_t i;

	/* libxl spells them with '_', xl.cfg(5) with '-': take both. */
	for (i = 0; s[i] && i < sizeof(name) - 1; i++)
		name[i] = s[i] == '_' ? '-' : s[i];
	name[i] = '\0';
	for (unsigned k = 0; k < sizeof(action_names) / sizeof(action_names[0]); k++) {
		if (strcmp(name, action_names[k]) == 0) {
			*a = (enum lifecycle_action)k;
			return NULL;
		}
	}
	if (strcmp(name, "rename-restart") == 0)
		return "rename-restart is not supported: one xenkvm process runs one VM under one "
		       "name (use restart)";
	if (strcmp(name, "coredump-destroy") == 0 || strcmp(name, "coredump-restart") == 0)
		return "guest core dumps are not supported yet (use destroy, restart or preserve)";
	if (strcmp(name, "soft-reset") == 0)
		return "soft-reset is not supported as an action (use destroy, restart or preserve)";
	return "not an action (destroy, restart or preserve)";
}

const char *cli_parse_uuid(const char *s, char out[37])
{
	static const unsigned dash[] = { 8, 13, 18, 23 };

	if (strlen(s) != 36)
		return "not a UUID (8-4-4-4-12 hex digits, e.g. from uuidgen)";
	for (unsigned i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return "not a UUID (8-4-4-4-12 hex digits, e.g. from uuidgen)";
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return "not a UUID (8-4-4-4-12 hex digits, e.g. from uuidgen)";
		}
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[36] = '\0';
	return NULL;
}

/* ---- xl.cfg keys ---- */

struct cfg_ctx {
	struct xlcfg *x;
	struct run_config *c;
	cli_warn_fn *warn;
	void *opaque;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int key_error(struct cfg_ctx *cx, const struct xlcfg_setting *s, const char *fmt, ...)
{
	char where[300];
	va_list ap;
	size_t n = (size_t)snprintf(cx->err, cx->errlen, "%s: %s: ",
				    xlcfg_where(s, where, sizeof(where)), s->key);

	if (n < cx->errlen) {
		va_start(ap, fmt);
		vsnprintf(cx->err + n, cx->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

__attribute__((format(printf, 3, 4)))
static void key_warn(struct cfg_ctx *cx, const struct xlcfg_setting *s, const char *fmt, ...)
{
	char where[300], msg[600];
	va_list ap;
	size_t n = (size_t)snprintf(msg, sizeof(msg), "%s: ", xlcfg_where(s, where, sizeof(where)));

	if (n < sizeof(msg)) {
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
		va_end(ap);
	}
	if (cx->warn)
		cx->warn(cx->opaque, msg);
}

/* As in xl, a number may be written as a string and the other way round. */
static int want_string(struct cfg_ctx *cx, const struct xlcfg_setting *s, const char **out)
{
	*out = "";
	if (s->value.kind == XLCFG_LIST)
		return key_error(cx, s, "expected a string, not a list");
	*out = s->value.text;
	return 0;
}

static int want_number(struct cfg_ctx *cx, const struct xlcfg_setting *s, const char *unit,
		       unsigned long long min, unsigned long long max, unsigned long long *out)
{
	const char *t;
	char *end;

	if (want_string(cx, s, &t) < 0)
		return -1;
	errno = 0;
	*out = strtoull(t, &end, 0);
	if (!*t || !isdigit((unsigned char)*t) || *end || errno)
		return key_error(cx, s, "'%s' is not a whole number of %s", t, unit);
	if (*out < min || *out > max)
		return key_error(cx, s, "%s %s is out of range (%llu to %llu)", t, unit, min, max);
	return 0;
}

static int want_string_list(struct cfg_ctx *cx, const struct xlcfg_setting *s, const char **arr,
			    unsigned max, unsigned *n)
{
	const struct xlcfg_value *v = &s->value;

	if (v->kind != XLCFG_LIST)
		return key_error(cx, s, "expected a list of strings, like %s = [ '...', '...' ]",
				 s->key);
	if (v->nitems > max)
		return key_error(cx, s, "%zu entries; at most %u are supported", v->nitems, max);
	for (size_t i = 0; i < v->nitems; i++) {
		if (v->items[i].kind == XLCFG_LIST)
			return key_error(cx, s, "entry %zu is a list, expected a string", i + 1);
		arr[i] = v->items[i].text;
	}
	*n = (unsigned)v->nitems;
	return 0;
}

static int key_name(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	const char *t;

	if (want_string(cx, s, &t) < 0)
		return -1;
	if (!name_ok(t))
		return key_error(cx, s, "'%s' is not a domain name (1 to 64 characters, no '/')", t);
	cx->c->name = t;
	return 0;
}

static int guest_type(struct cfg_ctx *cx, const struct xlcfg_setting *s, const char *t)
{
	if (strcmp(t, "pvh") == 0)
		return 0;
	if (strcmp(t, "pv") == 0 || strcmp(t, "generic") == 0)
		return key_error(cx, s, "classic PV guests are not supported yet: xenkvm runs PVH "
				 "guests (type = \"pvh\", with a kernel built with CONFIG_XEN_PVH)");
	if (strcmp(t, "hvm") == 0)
		return key_error(cx, s, "HVM guests are not supported: xenkvm has no device model "
				 "(type = \"pvh\" boots a PVH-capable kernel directly)");
	return key_error(cx, s, "unknown guest type '%s' (xenkvm runs type = \"pvh\")", t);
}

static int key_type(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	const char *t;

	return want_string(cx, s, &t) < 0 ? -1 : guest_type(cx, s, t);
}

static int key_path(struct cfg_ctx *cx, const struct xlcfg_setting *s, const char **field)
{
	const char *t;

	if (want_string(cx, s, &t) < 0)
		return -1;
	if (!*t)
		return key_error(cx, s, "empty path");
	*field = t;
	return 0;
}

static int key_kernel(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	return key_path(cx, s, &cx->c->kernel);
}

static int key_ramdisk(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	return key_path(cx, s, &cx->c->initrd);
}

static int want_mib(struct cfg_ctx *cx, const struct xlcfg_setting *s, uint64_t *bytes)
{
	unsigned long long mib;

	if (want_number(cx, s, "MiB", GMEM_MIN_RAM >> 20, GMEM_MAX_RAM >> 20, &mib) < 0)
		return -1;
	*bytes = (uint64_t)mib << 20;
	return 0;
}

static int key_memory(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	return want_mib(cx, s, &cx->c->memory);
}

static int key_maxmem(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	return want_mib(cx, s, &cx->c->maxmem);
}

static int key_vcpus(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	unsigned long long n;

	if (want_number(cx, s, "vCPUs", 1, VM_MAX_VCPUS, &n) < 0)
		return -1;
	cx->c->vcpus = (unsigned)n;
	return 0;
}

static int key_maxvcpus(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	unsigned long long n;

	if (want_number(cx, s, "vCPUs", 1, VM_MAX_VCPUS, &n) < 0)
		return -1;
	cx->c->max_vcpus = (unsigned)n;
	return 0;
}

static int key_disk(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	return want_string_list(cx, s, cx->c->disks, PV_MAX_DISKS, &cx->c->ndisks);
}

static int key_vif(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	return want_string_list(cx, s, cx->c->nics, PV_MAX_NICS, &cx->c->nnics);
}

static int key_action(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	struct run_config *c = cx->c;
	enum lifecycle_action *field = !strcmp(s->key, "on_poweroff") ? &c->on_poweroff :
				       !strcmp(s->key, "on_reboot")   ? &c->on_reboot :
				       !strcmp(s->key, "on_crash")    ? &c->on_crash :
									&c->on_watchdog;
	const char *t, *why;

	if (want_string(cx, s, &t) < 0)
		return -1;
	if ((why = lifecycle_action_parse(t, field)))
		return key_error(cx, s, "'%s': %s", t, why);
	return 0;
}

/* xenkvm's own key (not xl's): --hypercall-rate in a config file. */
static int key_hypercall_rate(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	const char *t, *why;

	if (want_string(cx, s, &t) < 0)
		return -1;
	if ((why = cli_parse_rate(t, &cx->c->hcall_rate, &cx->c->hcall_burst)))
		return key_error(cx, s, "'%s' is %s", t, why);
	return 0;
}

static int key_uuid(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	const char *t, *why;

	if (want_string(cx, s, &t) < 0)
		return -1;
	if ((why = cli_parse_uuid(t, cx->c->uuid)))
		return key_error(cx, s, "'%s' is %s", t, why);
	return 0;
}

/* A PVH guest has no emulated UART: its console is the PV console, which
 * xenkvm puts on stdio, a pty or a file. serial= picks among those. */
static int key_serial(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	const struct xlcfg_value *v = &s->value;
	const char *t;

	if (v->kind == XLCFG_LIST) {
		if (v->nitems != 1 || v->items[0].kind == XLCFG_LIST)
			return key_error(cx, s, "xenkvm gives a PVH guest one console: expected "
					 "one device");
		t = v->items[0].text;
	} else {
		t = v->text;
	}
	if (strcmp(t, "pty") == 0 || strcmp(t, "stdio") == 0 || strcmp(t, "mon:stdio") == 0)
		cx->c->console = t[0] == 'p' ? "pty" : "stdio";
	else if (strcmp(t, "null") == 0 || strcmp(t, "none") == 0)
		cx->c->console = "file:/dev/null";
	else if (strncmp(t, "file:", 5) == 0 && t[5])
		cx->c->console = t;
	else
		return key_error(cx, s, "'%s' is not supported: a PVH guest has no emulated serial "
				 "port and its PV console goes to pty, stdio, file:PATH or null", t);
	return 0;
}

/* xenkvm_hypercall_policy = [ "default=deny", "allow=xen_version", ... ]
 * (or one string): the rules of --hypercall-policy, which replaces them. */
static int key_policy(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	const struct xlcfg_value *v = &s->value;
	char why[256];

	policy_free(cx->c->policy);
	if (!(cx->c->policy = policy_create()))
		return key_error(cx, s, "out of memory");
	for (size_t i = 0; i < (v->kind == XLCFG_LIST ? v->nitems : 1); i++) {
		const struct xlcfg_value *item = v->kind == XLCFG_LIST ? &v->items[i] : v;
		if (item->kind == XLCFG_LIST)
			return key_error(cx, s, "entry %zu is a list, expected a string", i + 1);
		if (policy_add(cx->c->policy, item->text, why, sizeof(why)) < 0)
			return key_error(cx, s, "'%s': %s", item->text, why);
	}
	return 0;
}

static int key_time_granularity(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	const char *t, *why;

	if (want_string(cx, s, &t) < 0)
		return -1;
	if ((why = cli_parse_granularity(t, &cx->c->time_granularity_ns)))
		return key_error(cx, s, "'%s' is %s", t, why);
	return 0;
}

/* Keys xl knows that mean nothing, or nothing yet, under xenkvm. */
static const struct {
	const char *key, *why;
} ignored_keys[] = {
	{ "bootloader", "xenkvm boots kernel= directly" },
	{ "bootloader_args", "xenkvm boots kernel= directly" },
	{ "on_soft_reset", "a soft reset ends xenkvm with exit status 6" },
	{ "cpus", "vCPU placement is the host's (taskset, cgroups)" },
	{ "cpus_soft", "vCPU placement is the host's (taskset, cgroups)" },
	{ "pool", "there are no CPU pools" },
	{ "cpu_weight", "vCPU threads are scheduled by Linux" },
	{ "cap", "vCPU threads are scheduled by Linux" },
	{ "vnc", "there is no graphical console" },
	{ "sdl", "there is no graphical console" },
	{ "vfb", "there is no graphical console" },
	{ "pci", "PCI passthrough is not supported" },
	{ "vtpm", "vTPMs are not supported" },
	{ "seclabel", "there is no XSM" },
};

static const struct {
	const char *key;
	int (*apply)(struct cfg_ctx *cx, const struct xlcfg_setting *s);
} key_handlers[] = {
	{ "name", key_name }, { "type", key_type }, { "kernel", key_kernel },
	{ "ramdisk", key_ramdisk }, { "memory", key_memory }, { "maxmem", key_maxmem },
	{ "vcpus", key_vcpus }, { "maxvcpus", key_maxvcpus }, { "disk", key_disk },
	{ "vif", key_vif }, { "on_poweroff", key_action }, { "on_reboot", key_action },
	{ "on_crash", key_action }, { "on_watchdog", key_action }, { "uuid", key_uuid },
	{ "serial", key_serial }, { "xenkvm_hypercall_policy", key_policy },
	{ "xenkvm_time_granularity", key_time_granularity },
	{ "xenkvm_hypercall_rate", key_hypercall_rate },
};

/* builder= is type='s deprecated spelling (type= wins); cmdline, root and
 * extra are combined afterwards. */
static int key_known_elsewhere(const char *key)
{
	return !strcmp(key, "cmdline") || !strcmp(key, "root") || !strcmp(key, "extra") ||
	       !strcmp(key, "builder");
}

static int apply_setting(struct cfg_ctx *cx, const struct xlcfg_setting *s)
{
	for (size_t i = 0; i < sizeof(key_handlers) / sizeof(key_handlers[0]); i++)
		if (strcmp(s->key, key_handlers[i].key) == 0)
			return key_handlers[i].apply(cx, s);
	if (key_known_elsewhere(s->key))
		return 0;
	for (size_t i = 0; i < sizeof(ignored_keys) / sizeof(ignored_keys[0]); i++) {
		if (strcmp(s->key, ignored_keys[i].key) == 0) {
			key_warn(cx, s, "'%s' ignored: %s", s->key, ignored_keys[i].why);
			return 0;
		}
	}
	key_warn(cx, s, "unknown key '%s' ignored", s->key);
	return 0;
}

/* xl's rule: cmdline= wins over root= and extra=; else "root=ROOT EXTRA". */
static int compose_cmdline(struct cfg_ctx *cx)
{
	const struct xlcfg_setting *cmd = xlcfg_find(cx->x, "cmdline"),
				   *root = xlcfg_find(cx->x, "root"),
				   *extra = xlcfg_find(cx->x, "extra");
	const char *r = NULL, *e = NULL;
	char *s = NULL;

	if (cmd) {
		if (root || extra)
			key_warn(cx, root ? root : extra,
				 "ignoring root= and extra= in favour of cmdline=");
		return want_string(cx, cmd, &cx->c->cmdline);
	}
	if ((root && want_string(cx, root, &r) < 0) || (extra && want_string(cx, extra, &e) < 0))
		return -1;
	if (!r) {
		if (e)
			cx->c->cmdline = e;
		return 0;
	}
	if (asprintf(&s, e ? "root=%s %s" : "root=%s", r, e) < 0 || !xlcfg_keep(cx->x, s)) {
		snprintf(cx->err, cx->errlen, "out of memory");
		return -1;
	}
	cx->c->cmdline = s;
	return 0;
}

int cli_apply_xlcfg(struct xlcfg *x, struct run_config *c, cli_warn_fn *warn, void *opaque,
		    char *err, size_t errlen)
{
	struct cfg_ctx cx = { .x = x, .c = c, .warn = warn, .opaque = opaque, .err = err,
			      .errlen = errlen };
	const struct xlcfg_setting *builder = xlcfg_find(x, "builder");
	const char *t;

	for (size_t i = 0; i < x->n; i++)
		if (apply_setting(&cx, &x->settings[i]) < 0)
			return -1;
	if (builder && !xlcfg_find(x, "type") && (want_string(&cx, builder, &t) < 0 ||
			guest_type(&cx, builder, strcmp(t, "hvm") ? "pv" : "hvm") < 0))
		return -1;
	if (c->config_file && !xlcfg_find(x, "type")) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s: no type= (xl's default is pv): booting the kernel "
			 "as PVH", c->config_file);
		if (warn)
			warn(opaque, msg);
	}
	return compose_cmdline(&cx);
}

/* ---- the command line ---- */

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

enum { OPT_HELP = 256, OPT_MAXMEM, OPT_MAXVCPUS, OPT_UUID, OPT_ON_POWEROFF, OPT_ON_REBOOT,
       OPT_ON_CRASH, OPT_ON_WATCHDOG, OPT_TRACE, OPT_HYPERCALL_POLICY, OPT_TIME_GRANULARITY,
       OPT_HCALL_RATE, OPT_NO_SANDBOX };

static const struct option run_options[] = {
	{ "kernel", required_argument, 0, 'k' }, { "initrd", required_argument, 0, 'i' },
	{ "cmdline", required_argument, 0, 'c' }, { "memory", required_argument, 0, 'm' },
	{ "vcpus", required_argument, 0, 'v' }, { "hypercall", required_argument, 0, 'h' },
	{ "timeout", required_argument, 0, 't' }, { "log-level", required_argument, 0, 'l' },
	{ "name", required_argument, 0, 'n' }, { "xenstore-socket", required_argument, 0, 's' },
	{ "console", required_argument, 0, 'C' }, { "shutdown-grace", required_argument, 0, 'g' },
	{ "disk", required_argument, 0, 'd' }, { "net", required_argument, 0, 'N' },
	{ "maxmem", required_argument, 0, OPT_MAXMEM },
	{ "maxvcpus", required_argument, 0, OPT_MAXVCPUS },
	{ "uuid", required_argument, 0, OPT_UUID },
	{ "on-poweroff", required_argument, 0, OPT_ON_POWEROFF },
	{ "on-reboot", required_argument, 0, OPT_ON_REBOOT },
	{ "on-crash", required_argument, 0, OPT_ON_CRASH },
	{ "on-watchdog", required_argument, 0, OPT_ON_WATCHDOG },
	{ "trace", required_argument, 0, OPT_TRACE },
	{ "hypercall-policy", required_argument, 0, OPT_HYPERCALL_POLICY },
	{ "time-granularity", required_argument, 0, OPT_TIME_GRANULARITY },
	{ "hypercall-rate", required_argument, 0, OPT_HCALL_RATE },
	{ "no-sandbox", no_argument, 0, OPT_NO_SANDBOX },
	{ "help", no_argument, 0, OPT_HELP }, { 0, 0, 0, 0 },
};

static const char *option_name(int opt)
{
	for (const struct option *o = run_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/* Flags override the file: the first --disk (or --net) replaces its list. */
struct flag_state {
	int disks_seen, nics_seen, policy_seen;
};

static enum lifecycle_action *action_field(int opt, struct run_config *c)
{
	switch (opt) {
	case OPT_ON_POWEROFF: return &c->on_poweroff;
	case OPT_ON_REBOOT: return &c->on_reboot;
	case OPT_ON_CRASH: return &c->on_crash;
	default: return &c->on_watchdog;
	}
}

static int parse_vcpus(const char *arg, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*arg == '-' || !*arg || *end || n < 1 || n > VM_MAX_VCPUS)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int parse_option(int opt, const char *arg, struct run_config *c, struct flag_state *fs,
			char *err, size_t errlen)
{
	const char *why = NULL;
	char *end, reason[256];

	switch (opt) {
	case 'k': c->kernel = arg; return 0;
	case 'i': c->initrd = arg; return 0;
	case 'c': c->cmdline = arg; return 0;
	case 'm':
		if (cli_parse_size(arg, &c->memory) || !memory_ok(c->memory))
			goto bad;
		return 0;
	case OPT_MAXMEM:
		if (cli_parse_size(arg, &c->maxmem) || !memory_ok(c->maxmem))
			goto bad;
		return 0;
	case 'v':
		if (parse_vcpus(arg, &c->vcpus) < 0)
			goto bad;
		return 0;
	case OPT_MAXVCPUS:
		if (parse_vcpus(arg, &c->max_vcpus) < 0)
			goto bad;
		return 0;
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
		if (!name_ok(arg))
			goto bad;
		c->name = arg;
		return 0;
	case OPT_UUID:
		if ((why = cli_parse_uuid(arg, c->uuid)))
			goto bad;
		return 0;
	case OPT_ON_POWEROFF: case OPT_ON_REBOOT: case OPT_ON_CRASH: case OPT_ON_WATCHDOG:
		if ((why = lifecycle_action_parse(arg, action_field(opt, c))))
			goto bad;
		return 0;
	case 's': c->xenstore_socket = arg; return 0;
	case OPT_HCALL_RATE:
		if ((why = cli_parse_rate(arg, &c->hcall_rate, &c->hcall_burst)))
			goto bad;
		return 0;
	case OPT_TRACE:
		if (!*arg)
			goto bad;
		c->trace = arg;
		return 0;
	case OPT_HYPERCALL_POLICY:
		/* The first flag replaces the file's rules; more flags add to them. */
		if (!fs->policy_seen++) {
			policy_free(c->policy);
			c->policy = NULL;
		}
		if (!c->policy && !(c->policy = policy_create())) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (policy_add(c->policy, arg, reason, sizeof(reason)) < 0) {
			why = reason;
			goto bad;
		}
		return 0;
	case OPT_TIME_GRANULARITY:
		if ((why = cli_parse_granularity(arg, &c->time_granularity_ns)))
			goto bad;
		return 0;
	case OPT_NO_SANDBOX: c->no_sandbox = 1; return 0;
	case 'd':
		if (!fs->disks_seen++)
			c->ndisks = 0;
		if (c->ndisks >= PV_MAX_DISKS) {
			snprintf(err, errlen, "at most %d --disk options", PV_MAX_DISKS);
			return -1;
		}
		c->disks[c->ndisks++] = arg;
		return 0;
	case 'N':
		if (!fs->nics_seen++)
			c->nnics = 0;
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
	if (why)
		snprintf(err + strlen(err), errlen - strlen(err), " (%s)", why);
	else if (opt == 'm' || opt == OPT_MAXMEM)
		snprintf(err + strlen(err), errlen - strlen(err),
			 " (a page multiple from 2M to 1T; plain numbers are MiB)");
	else if (opt == 'v' || opt == OPT_MAXVCPUS)
		snprintf(err + strlen(err), errlen - strlen(err), " (1 to %d)", VM_MAX_VCPUS);
	else if (opt == 'h')
		snprintf(err + strlen(err), errlen - strlen(err), " (auto, kvm or page)");
	return -1;
}

/* KEY=VALUE or KEY+=VALUE (an override), as opposed to a file name. */
static int is_override(const char *arg)
{
	const char *p = arg;

	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=' || (p[0] == '+' && p[1] == '=');
}

/* The strings a run_config points to live until cli_release_run, or for
 * the life of the process: this keeps them reachable until then. */
static struct xlcfg *live_config;

static void print_warning(void *opaque, const char *msg)
{
	const struct run_config *c = opaque;

	if (c->log_level >= LOG_WARN)
		fprintf(stderr, "xenkvm: warn: %s\n", msg);
}

static int read_config(int nargs, char **args, struct run_config *c, char *err, size_t errlen)
{
	int i = 0;

	c->xlcfg = live_config = calloc(1, sizeof(*c->xlcfg));
	if (!c->xlcfg) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	xlcfg_init(c->xlcfg);
	if (!is_override(args[0])) {
		c->config_file = args[i++];
		/* xl's defaults once there is an xl.cfg: a reboot restarts. */
		c->on_reboot = ACTION_RESTART;
		if (xlcfg_read_file(c->xlcfg, c->config_file, err, errlen) < 0)
			return -1;
	}
	for (; i < nargs; i++) {
		if (!is_override(args[i])) {
			snprintf(err, errlen, "unexpected argument '%s' (after the configuration "
				 "file, only KEY=VALUE overrides; see xenkvm run --help)", args[i]);
			return -1;
		}
		if (xlcfg_override(c->xlcfg, args[i], err, errlen) < 0)
			return -1;
	}
	return cli_apply_xlcfg(c->xlcfg, c, print_warning, c, err, errlen);
}

/* What only makes sense once every source has spoken. */
static int finish(struct run_config *c, char *err, size_t errlen)
{
	char why[256];

	if (c->config_file && !c->kernel) {
		snprintf(err, errlen, "%s: no kernel= (xenkvm boots a PVH kernel directly; "
			 "bootloader= and firmware= are not supported)", c->config_file);
		return -1;
	}
	if (!c->maxmem)
		c->maxmem = c->memory;
	if (!c->max_vcpus)
		c->max_vcpus = c->vcpus;
	if (c->maxmem < c->memory) {
		snprintf(err, errlen, "maxmem (%llu MiB) is below memory (%llu MiB)",
			 (unsigned long long)(c->maxmem >> 20), (unsigned long long)(c->memory >> 20));
		return -1;
	}
	if (c->max_vcpus < c->vcpus) {
		snprintf(err, errlen, "maxvcpus (%u) is below vcpus (%u)", c->max_vcpus, c->vcpus);
		return -1;
	}
	if (c->policy && policy_validate(c->policy, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "hypercall policy: %s", why);
		return -1;
	}
	return 0;
}

struct flag {
	int opt;
	const char *arg;
};

/* getopt into flags[] (applied after the file, so that they win). */
static int collect_flags(int argc, char **argv, struct flag *flags, int *nflags,
			 struct run_config *c, char *err, size_t errlen)
{
	int opt;

	optind = 1;
	opterr = 0;
	*nflags = 0;
	while ((opt = getopt_long(argc, argv, "", run_options, NULL)) != -1) {
		if (opt == OPT_HELP)
			return 1;
		if (opt == '?') {
			snprintf(err, errlen, "unknown or incomplete option '%s' (see xenkvm run --help)",
				 argv[optind - 1]);
			return -1;
		}
		/* The log level first: it says whether the file's warnings are shown. */
		if (opt == 'l' && log_level_parse(optarg, &c->log_level) < 0)
			return parse_option(opt, optarg, c, NULL, err, errlen);
		flags[(*nflags)++] = (struct flag){ opt, optarg };
	}
	return 0;
}

int cli_parse_run(int argc, char **argv, struct run_config *c, char *err, size_t errlen)
{
	struct flag_state fs = { 0 };
	struct flag *flags = calloc((size_t)argc + 1, sizeof(*flags));
	int nflags, rc;

	*c = (struct run_config){ .memory = DEFAULT_MEMORY, .vcpus = 1,
				  .transport = TRANSPORT_AUTO, .log_level = LOG_WARN,
				  .console = "stdio", .shutdown_grace = 30 };
	if (!flags) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = collect_flags(argc, argv, flags, &nflags, c, err, errlen);
	if (rc == 0 && optind < argc)
		rc = read_config(argc - optind, argv + optind, c, err, errlen);
	for (int i = 0; rc == 0 && i < nflags; i++)
		rc = parse_option(flags[i].opt, flags[i].arg, c, &fs, err, errlen);
	if (rc == 0)
		rc = finish(c, err, errlen);
	free(flags);
	if (rc != 0)
		cli_release_run(c);
	return rc;
}

void cli_release_run(struct run_config *c)
{
	policy_free(c->policy);
	c->policy = NULL;
	if (!c->xlcfg)
		return;
	if (live_config == c->xlcfg)
		live_config = NULL;
	xlcfg_free(c->xlcfg);
	free(c->xlcfg);
	c->xlcfg = NULL;
}
