/* Unit tests for the hypercall policy (xenemu/policy.c) and the time
 * coarsening (xenemu/time.c): the rule syntax, good and bad, as policy_add
 * and the command line take it; denied calls through hypercall_dispatch,
 * multicall entries included; and the times hypercalls return. */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "run_suite.h"
#include "xenkvm/cli.h"
#include "xenkvm/console.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/policy.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#include "cli_args.h"
#include "guest_ram.h"

#define ARG 0x10000ULL
#define BUF 0x20000ULL
#define LIST 0x30000ULL
#define VERSION ((XENKVM_XEN_MAJOR << 16) | XENKVM_XEN_MINOR)

static char err[512];
static struct hcall_policy *pol;

/* ---- the rule syntax ---- */

static void parse_setup(void)
{
	pol = policy_create();
	ck_assert_ptr_nonnull(pol);
	err[0] = '\0';
}

static void parse_teardown(void)
{
	policy_free(pol);
	pol = NULL;
}

/* Every spec in turn into a fresh policy, validated; the rules as text. */
static int rules(const char *describe_want, ...)
{
	va_list ap;
	const char *spec;
	char got[512];
	int rc = 0;

	policy_free(pol);
	pol = policy_create();
	va_start(ap, describe_want);
	while (rc == 0 && (spec = va_arg(ap, const char *)))
		rc = policy_add(pol, spec, err, sizeof(err));
	va_end(ap);
	if (rc == 0)
		rc = policy_validate(pol, err, sizeof(err));
	if (rc == 0 && describe_want) {
		policy_describe(pol, got, sizeof(got));
		ck_assert_str_eq(got, describe_want);
	}
	return rc;
}

/* The spec must be refused with a message holding want. */
static void refused(const char *spec, const char *want)
{
	ck_assert_msg(rules(NULL, spec, NULL) < 0, "'%s' was accepted", spec);
	ck_assert_msg(strstr(err, want), "'%s': '%s' does not say '%s'", spec, err, want);
}

START_TEST(parse_families_and_subops)
{
	ck_assert_int_eq(rules("default=allow,deny=console_io", "deny=console_io", NULL), 0);
	ck_assert_int_eq(rules("default=allow,deny=memory_op:decrease_reservation",
			       "deny=memory_op:decrease_reservation", NULL), 0);
	/* A number names the sub-op as well; known numbers print by name. */
	ck_assert_int_eq(rules("default=allow,deny=memory_op:decrease_reservation",
			       "deny=memory_op:1", NULL), 0);
	ck_assert_int_eq(rules("default=allow,deny=hvm_op:get_time", "deny=hvm_op:0xa", NULL), 0);
	ck_assert_int_eq(rules("default=allow,deny=hvm_op:200", "deny=hvm_op:200", NULL), 0);
	ck_assert_int_eq(rules("default=allow,deny=sched_op_compat:4294967295",
			       "deny=sched_op_compat:4294967295", NULL), 0);
	ck_assert_int_eq(rules("default=allow,deny=multicall,deny=sched_op:shutdown",
			       "deny=multicall, deny=sched_op:shutdown", NULL), 0);
}
END_TEST

START_TEST(parse_allow_list_and_specificity)
{
	ck_assert_int_eq(rules("default=deny,allow=xen_version,allow=console_io",
			       "default=deny,allow=xen_version", "allow=console_io", NULL), 0);
	/* A sub-op rule against its family's rule. */
	ck_assert_int_eq(rules("default=allow,deny=memory_op,allow=memory_op:memory_map",
			       "deny=memory_op,allow=memory_op:memory_map", NULL), 0);
	ck_assert_int_eq(rules("default=deny,allow=vcpu_op,deny=vcpu_op:send_nmi",
			       "allow=vcpu_op,deny=vcpu_op:send_nmi,default=deny", NULL), 0);
	ck_assert_int_eq(rules("default=deny", "default=deny", NULL), 0);
}
END_TEST

START_TEST(parse_bad_input)
{
	refused("", "empty");
	refused("deny=console_io,", "stray comma");
	refused(",deny=console_io", "stray comma");
	refused("deny=console_io,,deny=hvm_op", "stray comma");
	refused("deny", "not a rule");
	refused("deny=", "not a rule");
	refused("block=console_io", "'block=' is not a rule");
	refused("deny=consoleio", "'consoleio' is not a hypercall");
	refused("deny=unknown", "'unknown' is not a hypercall");
	refused("deny=console_io:", "'' is not a console_io sub-op");
	refused("deny=console_io:scribble", "one of: write, read");
	refused("deny=memory_op:frobnicate", "increase_reservation, decrease_reservation");
	refused("deny=memory_op:64", "out of range (0 to 63)");
	refused("deny=hvm_op:4294967296", "not a hvm_op sub-op");
	refused("deny=hvm_op:-1", "not a hvm_op sub-op");
	refused("deny=hvm_op:1x", "not a hvm_op sub-op");
	refused("deny=multicall:1", "multicall has no sub-ops");
	refused("deny=set_timer_op:0", "set_timer_op has no sub-ops");
	refused("deny=console_io,deny=console_io", "console_io has two rules");
	refused("deny=console_io,allow=console_io", "console_io has two rules");
	refused("deny=memory_op:1,allow=memory_op:decrease_reservation",
		"memory_op:decrease_reservation has two rules");
	refused("default=deny,default=deny", "default= is given twice");
	refused("default=maybe", "expected allow or deny");
	/* Rules that change nothing are mistakes. */
	refused("allow=xen_version", "add default=deny");
	refused("default=deny,deny=xen_version", "the default is deny");
	refused("deny=memory_op,deny=memory_op:populate_physmap", "deny=memory_op already says deny");
	refused("allow=memory_op:memory_map", "default=allow already says allow");
}
END_TEST

/* What the kvm transport asks before KVM answers XENVER_version itself. */
START_TEST(allows_answers_outside_the_dispatcher)
{
	ck_assert_int_eq(policy_allows(NULL, __HYPERVISOR_xen_version, XENVER_version), 1);
	ck_assert_int_eq(rules(NULL, "default=deny,allow=xen_version:version", NULL), 0);
	ck_assert_int_eq(policy_allows(pol, __HYPERVISOR_xen_version, XENVER_version), 1);
	ck_assert_int_eq(policy_allows(pol, __HYPERVISOR_xen_version, XENVER_pagesize), 0);
	ck_assert_int_eq(policy_allows(pol, __HYPERVISOR_multicall, 0), 0);
	ck_assert_int_eq(policy_allows(pol, NR_HYPERCALLS, 0), 1);
	ck_assert_int_eq(rules(NULL, "deny=xen_version", NULL), 0);
	ck_assert_int_eq(policy_allows(pol, __HYPERVISOR_xen_version, XENVER_version), 0);
	ck_assert_int_eq(policy_allows(pol, __HYPERVISOR_console_io, CONSOLEIO_write), 1);
	/* A family without sub-ops ignores the one asked about. */
	ck_assert_int_eq(rules(NULL, "deny=multicall", NULL), 0);
	ck_assert_int_eq(policy_allows(pol, __HYPERVISOR_multicall, 7), 0);
}
END_TEST

/* ---- the command line and xl.cfg ---- */

static struct run_config rc;
/* `xenkvm run ARGS...` into rc; returns cli_parse_run's result. */
static int run_args(const char *first, ...)
{
	va_list ap;
	int r;

	va_start(ap, first);
	r = cli_args_parse(&rc, err, sizeof(err), first, ap);
	va_end(ap);
	return r;
}

static void cli_teardown(void)
{
	cli_args_free(&rc);
}

static void assert_policy(const char *want)
{
	char got[512];

	ck_assert_ptr_nonnull(rc.policy);
	policy_describe(rc.policy, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

START_TEST(cli_flags)
{
	ck_assert_int_eq(run_args(NULL), 0);
	ck_assert_ptr_null(rc.policy);
	ck_assert_uint_eq(rc.time_granularity_ns, 0);
	ck_assert_int_eq(run_args("--hypercall-policy", "default=deny,allow=xen_version",
				  "--hypercall-policy", "allow=console_io", "--time-granularity",
				  "250us", NULL), 0);
	assert_policy("default=deny,allow=xen_version,allow=console_io");
	ck_assert_uint_eq(rc.time_granularity_ns, 250000);
	ck_assert_int_eq(run_args("--time-granularity", "1s", NULL), 0);
	ck_assert_uint_eq(rc.time_granularity_ns, 1000000000);
	ck_assert_int_eq(run_args("--time-granularity", "4096", NULL), 0);
	ck_assert_uint_eq(rc.time_granularity_ns, 4096);
	ck_assert_int_eq(run_args("--time-granularity", "0", NULL), 0);
	ck_assert_uint_eq(rc.time_granularity_ns, 0);
}
END_TEST

START_TEST(cli_bad_flags)
{
	ck_assert_int_eq(run_args("--hypercall-policy", "deny=nothing", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid value 'deny=nothing' for --hypercall-policy "
					  "('nothing' is not a hypercall"));
	ck_assert_ptr_null(rc.policy);
	/* Checked once every flag is in: the second flag makes the first useful. */
	ck_assert_int_eq(run_args("--hypercall-policy", "allow=console_io", NULL), -1);
	ck_assert_str_eq(err, "hypercall policy: allow=console_io changes nothing: the default is "
			      "allow (add default=deny to allow only what is listed)");
	ck_assert_int_eq(run_args("--hypercall-policy", "allow=console_io", "--hypercall-policy",
				  "default=deny", NULL), 0);
	ck_assert_int_eq(run_args("--time-granularity", "2s", NULL), -1);
	ck_assert_str_eq(err, "invalid value '2s' for --time-granularity (more than 1 s)");
	ck_assert_int_eq(run_args("--time-granularity", "1000000001", NULL), -1);
	ck_assert_int_eq(run_args("--time-granularity", "10 ms", NULL), -1);
	ck_assert_int_eq(run_args("--time-granularity", "-5", NULL), -1);
	ck_assert_int_eq(run_args("--time-granularity", "ms", NULL), -1);
	ck_assert_int_eq(run_args("--time-granularity", "99999999999999999999999", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a duration"));
}
END_TEST

START_TEST(cli_xlcfg_keys)
{
	ck_assert_int_eq(run_args("xenkvm_hypercall_policy=[ 'deny=console_io', "
				  "'deny=hvm_op:get_time,deny=vcpu_op:1' ]",
				  "xenkvm_time_granularity='10ms'", NULL), 0);
	assert_policy("default=allow,deny=console_io,deny=hvm_op:get_time,deny=vcpu_op:up");
	ck_assert_uint_eq(rc.time_granularity_ns, 10000000);
	ck_assert_int_eq(run_args("xenkvm_hypercall_policy='deny=multicall'",
				  "xenkvm_time_granularity=1000", NULL), 0);
	assert_policy("default=allow,deny=multicall");
	ck_assert_uint_eq(rc.time_granularity_ns, 1000);
	/* The flag replaces the file's rules and granularity. */
	ck_assert_int_eq(run_args("xenkvm_hypercall_policy=['deny=console_io']",
				  "xenkvm_time_granularity='10ms'", "--hypercall-policy",
				  "deny=hvm_op", "--time-granularity", "0", NULL), 0);
	assert_policy("default=allow,deny=hvm_op");
	ck_assert_uint_eq(rc.time_granularity_ns, 0);
	/* Errors name the key and the entry. */
	ck_assert_int_eq(run_args("xenkvm_hypercall_policy=['deny=console_io', 'deny=memory_op:x']",
				  NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "xenkvm_hypercall_policy: 'deny=memory_op:x': 'x' is "
					  "not a memory_op sub-op"));
	ck_assert_int_eq(run_args("xenkvm_hypercall_policy=[['deny=console_io']]", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "entry 1 is a list"));
	ck_assert_int_eq(run_args("xenkvm_time_granularity='a while'", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "xenkvm_time_granularity: 'a while' is not a duration"));
}
END_TEST

/* ---- denied calls, through the dispatcher ---- */

static struct console con;
static int out_pipe[2];

static void setup(void)
{
	ck_assert_int_eq(pipe2(out_pipe, O_NONBLOCK), 0);
	xen_fixture_setup(&con, out_pipe[1]);
	pol = NULL;
	log_threshold = LOG_ERROR; /* the once-per-denial warnings */
}

static void teardown(void)
{
	policy_free(pol);
	pol = NULL;
	xen_fixture_teardown(&con);
	close(out_pipe[0]);
	close(out_pipe[1]);
}

static void use_policy(const char *spec)
{
	pol = policy_create();
	ck_assert_int_eq(policy_add(pol, spec, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_validate(pol, err, sizeof(err)), 0);
	x.policy = pol;
}

static long call(int abi64, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct hcall hc = { .xen = &x, .mem = &vm.mem, .abi64 = abi64, .nr = nr,
			    .arg = { a0, a1, a2 }, .pg = abi64 ? flat64 : flat32 };

	return hypercall_dispatch(&hc);
}

static unsigned long long denied_as(const char *what)
{
	struct policy_denial d[64];
	unsigned n = policy_denials(pol, d, 64);

	for (unsigned i = 0; i < n; i++)
		if (!strcmp(d[i].what, what))
			return d[i].count;
	return 0;
}

static const char hello[] = "hello";

START_TEST(deny_family_is_eperm_and_counted)
{
	char out[64];

	use_policy("deny=console_io");
	put(BUF, hello, sizeof(hello) - 1);
	ck_assert_int_eq(call(_i, __HYPERVISOR_console_io, CONSOLEIO_write, 5, BUF), -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_console_io, CONSOLEIO_write, 5, BUF), -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_console_io, CONSOLEIO_read, 5, BUF), -XEN_EPERM);
	/* The family did not run: nothing reached the console. */
	ck_assert_int_lt(read(out_pipe[0], out, sizeof(out)), 1);
	ck_assert_uint_eq(policy_denied(pol, __HYPERVISOR_console_io), 3);
	ck_assert_uint_eq(denied_as("console_io:write"), 2);
	ck_assert_uint_eq(denied_as("console_io:read"), 1);
	ck_assert_uint_eq(policy_denied_total(pol), 3);
	/* Others run. */
	ck_assert_int_eq(call(_i, __HYPERVISOR_xen_version, XENVER_version, 0, 0), VERSION);
	ck_assert_uint_eq(policy_denied_total(pol), 3);
}
END_TEST

START_TEST(deny_subop_leaves_the_others)
{
	char out[64];

	use_policy("deny=console_io:read");
	put(BUF, hello, sizeof(hello) - 1);
	ck_assert_int_eq(call(_i, __HYPERVISOR_console_io, CONSOLEIO_read, 5, BUF), -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_console_io, CONSOLEIO_write, 5, BUF), 0);
	ck_assert_int_eq(read(out_pipe[0], out, sizeof(out)), 5);
	ck_assert_uint_eq(policy_denied(pol, __HYPERVISOR_console_io), 1);
	ck_assert_uint_eq(denied_as("console_io:read"), 1);
	ck_assert_uint_eq(denied_as("console_io:write"), 0);
}
END_TEST

START_TEST(allow_list_denies_the_rest)
{
	struct sched_shutdown s = { .reason = SHUTDOWN_poweroff };

	use_policy("default=deny,allow=xen_version,allow=memory_op:memory_map");
	put(ARG, &s, sizeof(s));
	ck_assert_int_eq(call(_i, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096);
	/* A denied shutdown stops nothing. */
	ck_assert_int_eq(call(_i, __HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG, 0), -XEN_EPERM);
	ck_assert_int_eq(vm.stopping, 0);
	ck_assert_int_eq(call(_i, __HYPERVISOR_memory_op, XENMEM_current_reservation, ARG, 0),
			 -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_hvm_op, HVMOP_get_time, ARG, 0), -XEN_EPERM);
	/* Unimplemented families are denied too; numbers past the table
	 * name no hypercall and stay -ENOSYS. */
	ck_assert_int_eq(call(_i, __HYPERVISOR_physdev_op, PHYSDEVOP_eoi, 0, 0), -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_mmu_update, 0, 0, 0), -XEN_EPERM);
	ck_assert_int_eq(call(_i, 64, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_uint_eq(denied_as("sched_op:shutdown"), 1);
	ck_assert_uint_eq(denied_as("memory_op:current_reservation"), 1);
	ck_assert_uint_eq(denied_as("hvm_op:get_time"), 1);
	ck_assert_uint_eq(denied_as("physdev_op:eoi"), 1);
	ck_assert_uint_eq(denied_as("mmu_update"), 1);
	ck_assert_uint_eq(policy_denied_total(pol), 5);
}
END_TEST

/* The policy sees the sub-op as the family will: memory_op's continuation
 * bits, and upper halves (dropped for the 32-bit ABI; for the 64-bit one a
 * value past 32 bits matches on its low half, and no family takes it). */
START_TEST(subop_cannot_be_disguised)
{
	use_policy("deny=memory_op:current_reservation,deny=xen_version:pagesize");
	ck_assert_int_eq(call(_i, __HYPERVISOR_memory_op,
			      XENMEM_current_reservation | (5 << 6), ARG, 0), -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_xen_version, XENVER_pagesize | (1ULL << 32), 0, 0),
			 -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_xen_version, XENVER_pagesize | (1ULL << 40), 0, 0),
			 -XEN_EPERM);
	ck_assert_int_eq(call(_i, __HYPERVISOR_xen_version, XENVER_version, 0, 0), VERSION);
	ck_assert_uint_eq(denied_as("memory_op:current_reservation"), 1);
	ck_assert_uint_eq(denied_as("xen_version:pagesize"), 2);
}
END_TEST

START_TEST(subops_past_the_buckets_count_as_other)
{
	use_policy("default=deny,allow=xen_version");
	ck_assert_int_eq(call(1, __HYPERVISOR_hvm_op, 200, 0, 0), -XEN_EPERM);
	ck_assert_int_eq(call(1, __HYPERVISOR_hvm_op, 0x7fffffff, 0, 0), -XEN_EPERM);
	ck_assert_int_eq(call(1, __HYPERVISOR_hvm_op, 63, 0, 0), -XEN_EPERM);
	ck_assert_uint_eq(denied_as("hvm_op:other"), 2);
	ck_assert_uint_eq(denied_as("hvm_op:63"), 1);
}
END_TEST

START_TEST(user_mode_comes_first)
{
	struct hcall hc = { .xen = &x, .mem = &vm.mem, .abi64 = 1, .nr = __HYPERVISOR_console_io,
			    .arg = { CONSOLEIO_write, 5, BUF }, .pg = flat64, .cpl = 3 };

	use_policy("deny=console_io");
	ck_assert_int_eq(hypercall_dispatch(&hc), -XEN_EPERM);
	ck_assert_uint_eq(policy_denied_total(pol), 0);
}
END_TEST

/* ---- multicall ---- */

static void put_entry(int abi64, unsigned i, uint64_t op, uint64_t a0, uint64_t a1)
{
	if (abi64) {
		multicall_entry_t e = { .op = op, .result = 0xdead, .args = { a0, a1 } };
		put(LIST + i * sizeof(e), &e, sizeof(e));
	} else {
		uint32_t e[8] = { (uint32_t)op, 0xdead, (uint32_t)a0, (uint32_t)a1 };
		put(LIST + i * sizeof(e), e, sizeof(e));
	}
}

static long entry_result(int abi64, unsigned i)
{
	if (abi64) {
		multicall_entry_t e;
		get(LIST + i * sizeof(e), &e, sizeof(e));
		return (long)e.result;
	}
	uint32_t e[8];
	get(LIST + i * sizeof(e), e, sizeof(e));
	return (int32_t)e[1];
}

START_TEST(multicall_entries_are_checked)
{
	use_policy("deny=xen_version:extraversion,deny=sched_op");
	put_entry(_i, 0, __HYPERVISOR_xen_version, XENVER_version, 0);
	put_entry(_i, 1, __HYPERVISOR_xen_version, XENVER_extraversion, BUF);
	put_entry(_i, 2, __HYPERVISOR_sched_op, SCHEDOP_yield, 0);
	put_entry(_i, 3, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
	memset(gptr(BUF, 16), 0x77, 16);
	ck_assert_int_eq(call(_i, __HYPERVISOR_multicall, LIST, 4, 0), 0);
	ck_assert_int_eq(entry_result(_i, 0), VERSION);
	ck_assert_int_eq(entry_result(_i, 1), -XEN_EPERM);
	ck_assert_int_eq(entry_result(_i, 2), -XEN_EPERM);
	ck_assert_int_eq(entry_result(_i, 3), 4096);
	ck_assert_uint_eq(gptr(BUF, 1)[0], 0x77); /* extraversion did not run */
	ck_assert_uint_eq(denied_as("xen_version:extraversion"), 1);
	ck_assert_uint_eq(denied_as("sched_op:yield"), 1);
}
END_TEST

START_TEST(multicall_itself_denied)
{
	use_policy("deny=multicall");
	put_entry(_i, 0, __HYPERVISOR_xen_version, XENVER_version, 0);
	ck_assert_int_eq(call(_i, __HYPERVISOR_multicall, LIST, 1, 0), -XEN_EPERM);
	ck_assert_int_eq(entry_result(_i, 0), 0xdead); /* the batch did not run */
	ck_assert_uint_eq(denied_as("multicall"), 1);
}
END_TEST

/* ---- time ---- */

static uint64_t get_time(void)
{
	struct xen_hvm_get_time t;

	ck_assert_int_eq(call(1, __HYPERVISOR_hvm_op, HVMOP_get_time, ARG, 0), 0);
	get(ARG, &t, sizeof(t));
	return t.now;
}

/* System time 0 was ns ago (at the fixture's TSC rate). */
static void set_base_ago(uint64_t ns)
{
	xen_time_init(&x);
	x.tsc_base -= ns / 1000000 * x.tsc_khz + ns % 1000000 * x.tsc_khz / 1000000;
}

START_TEST(coarse_rounds_down)
{
	xen_time_set_granularity(&x, 0);
	ck_assert_uint_eq(xen_time_coarse(&x, 1234567), 1234567);
	xen_time_set_granularity(&x, 1);
	ck_assert_uint_eq(xen_time_coarse(&x, 1234567), 1234567);
	xen_time_set_granularity(&x, 1000);
	ck_assert_uint_eq(xen_time_coarse(&x, 1234567), 1234000);
	ck_assert_uint_eq(xen_time_coarse(&x, 999), 0);
	ck_assert_uint_eq(xen_time_coarse(&x, 2000), 2000);
	xen_time_set_granularity(&x, 3);
	ck_assert_uint_eq(xen_time_coarse(&x, 11), 9);
}
END_TEST

START_TEST(get_time_exact_without_granularity)
{
	uint64_t a, b;

	xen_time_set_granularity(&x, 0);
	set_base_ago(5000000000ULL);
	a = get_time();
	b = get_time();
	ck_assert_uint_ge(a, 5000000000ULL);
	ck_assert_uint_gt(b, a); /* ns apart: the clock is read each time */
}
END_TEST

/* Multiples of the granule, never back, never ahead, behind by less than
 * 2.5 granules; between the clock reads, the same answer; and a new value
 * shows at a random moment after its edge, not at the first call past it. */
START_TEST(get_time_is_coarse_and_rate_limited)
{
	const uint64_t g = 20000000; /* 20 ms */
	struct timespec ts;
	uint64_t prev = 0, changes = 0, calls = 0, start, late = 0;

	xen_time_set_granularity(&x, g);
	set_base_ago(7 * g + 12345);
	start = xen_system_time_ns(&x);
	while (xen_system_time_ns(&x) - start < 20 * g) {
		uint64_t before = xen_system_time_ns(&x), t = get_time(), after;
		after = xen_system_time_ns(&x);
		ck_assert_uint_eq(t % g, 0);
		ck_assert_uint_ge(t, prev);
		ck_assert_uint_le(t, after);
		ck_assert_uint_gt(t + 5 * g / 2, before);
		late += prev && t != prev && before - t > g / 4;
		changes += t != prev;
		prev = t;
		calls++;
		ts = (struct timespec){ .tv_nsec = 100000 };
		nanosleep(&ts, NULL);
	}
	/* Over 20 granules at most one read per half granule; each answer
	 * stood for many calls. */
	ck_assert_uint_le(changes, 41);
	ck_assert_uint_ge(changes, 9);
	ck_assert_uint_gt(calls, 4 * changes);
	/* Rounding alone shows each value within a call (~0.1 ms) of its edge,
	 * bar the host's hiccups; the random reads show a value a quarter
	 * granule or more after its edge with a chance of 3/4. */
	ck_assert_uint_ge(3 * late, changes);
}
END_TEST

START_TEST(wallclock_is_coarse)
{
	struct shared_info *s = (void *)x.shared_info;

	xen_time_set_granularity(&x, 1000000); /* 1 ms */
	set_base_ago(123456789);
	for (int i = 0; i < 5; i++) {
		xen_time_update_shared_info(&x);
		ck_assert_uint_eq(s->wc_nsec % 1000000, 0);
		ck_assert_uint_gt(s->wc_sec, 1600000000);
	}
}
END_TEST

START_TEST(runstate_is_coarse)
{
	struct vcpu_runstate_info ri;

	xen_time_set_granularity(&x, 1000);
	x.vcpus[0].runstate_state = RUNSTATE_running;
	x.vcpus[0].runstate_entry = 5555555;
	x.vcpus[0].runstate_time[RUNSTATE_running] = 1234567;
	x.vcpus[0].runstate_time[RUNSTATE_runnable] = 999;
	ck_assert_int_eq(call(1, __HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, ARG), 0);
	get(ARG, &ri, sizeof(ri));
	ck_assert_uint_eq(ri.state_entry_time, 5555000);
	ck_assert_uint_eq(ri.time[RUNSTATE_running], 1234000);
	ck_assert_uint_eq(ri.time[RUNSTATE_runnable], 0);
	xen_time_set_granularity(&x, 0);
	ck_assert_int_eq(call(1, __HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, ARG), 0);
	get(ARG, &ri, sizeof(ri));
	ck_assert_uint_eq(ri.time[RUNSTATE_running], 1234567);
}
END_TEST

/* A timer fires on the granule's grid: armed for 1 ms ahead, its timerfd
 * waits for the next multiple of 100 ms instead. */
static uint64_t timer_wait_ns(uint64_t granularity)
{
	struct itimerspec its;
	uint64_t now;

	xen_time_set_granularity(&x, granularity);
	set_base_ago(7 * 100000000ULL + 12345);
	now = xen_system_time_ns(&x);
	timer_set_singleshot(&x, 0, now + 1000000);
	ck_assert_int_eq(timerfd_gettime(x.vcpus[0].timer_fd, &its), 0);
	timer_set_singleshot(&x, 0, 0);
	return (uint64_t)its.it_value.tv_sec * 1000000000ULL + (uint64_t)its.it_value.tv_nsec;
}

START_TEST(timer_deadline_is_coarse)
{
	x.vcpus[0].timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	ck_assert_int_ge(x.vcpus[0].timer_fd, 0);
	ck_assert_uint_le(timer_wait_ns(0), 1000000);
	ck_assert_uint_gt(timer_wait_ns(100000000), 50000000);
	ck_assert_uint_le(timer_wait_ns(100000000), 100000000);
	close(x.vcpus[0].timer_fd);
	x.vcpus[0].timer_fd = -1;
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *parse = tcase_create("parse"), *cli = tcase_create("cli"),
	      *deny = tcase_create("deny"), *mc = tcase_create("multicall"),
	      *time = tcase_create("time");

	tcase_add_checked_fixture(parse, parse_setup, parse_teardown);
	tcase_add_test(parse, parse_families_and_subops);
	tcase_add_test(parse, parse_allow_list_and_specificity);
	tcase_add_test(parse, parse_bad_input);
	tcase_add_test(parse, allows_answers_outside_the_dispatcher);
	suite_add_tcase(s, parse);

	tcase_add_checked_fixture(cli, NULL, cli_teardown);
	tcase_add_test(cli, cli_flags);
	tcase_add_test(cli, cli_bad_flags);
	tcase_add_test(cli, cli_xlcfg_keys);
	suite_add_tcase(s, cli);

	tcase_add_checked_fixture(deny, setup, teardown);
	tcase_add_loop_test(deny, deny_family_is_eperm_and_counted, 0, 2);
	tcase_add_loop_test(deny, deny_subop_leaves_the_others, 0, 2);
	tcase_add_loop_test(deny, allow_list_denies_the_rest, 0, 2);
	tcase_add_loop_test(deny, subop_cannot_be_disguised, 0, 2);
	tcase_add_test(deny, subops_past_the_buckets_count_as_other);
	tcase_add_test(deny, user_mode_comes_first);
	suite_add_tcase(s, deny);

	tcase_add_checked_fixture(mc, setup, teardown);
	tcase_add_loop_test(mc, multicall_entries_are_checked, 0, 2);
	tcase_add_loop_test(mc, multicall_itself_denied, 0, 2);
	suite_add_tcase(s, mc);

	tcase_add_checked_fixture(time, setup, teardown);
	tcase_set_timeout(time, 30);
	tcase_add_test(time, coarse_rounds_down);
	tcase_add_test(time, get_time_exact_without_granularity);
	tcase_add_test(time, get_time_is_coarse_and_rate_limited);
	tcase_add_test(time, wallclock_is_coarse);
	tcase_add_test(time, runstate_is_coarse);
	tcase_add_test(time, timer_deadline_is_coarse);
	suite_add_tcase(s, time);
	return s;
}

int main(void)
{
	return run_suite(policy_suite());
}
