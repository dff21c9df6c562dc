/* The seccomp sandbox (libseccomp). Where the filters go:
 *
 * - The main thread installs the event loop's filter once, after the first
 *   VM is set up and before the vCPU threads start. A restart (on_* =
 *   restart) sets a new VM up on this same, already filtered thread, so
 *   when a restart can happen the filter also allows what setup needs
 *   (opening /dev/kvm, images, taps; memfd_create; sockets). Without a
 *   restart action none of that is allowed after setup.
 * - vCPU threads are created by the main thread, so they inherit its
 *   filter; each then stacks its own, stricter one (KVM_RUN and the few
 *   ioctls, memory and timer calls a hypercall needs). The kernel runs
 *   every filter of a thread and the strictest answer wins, so the vCPU
 *   lists must also pass the event loop's (they are subsets of it).
 *
 * A forbidden call traps (SIGSYS): the handler names the call and the
 * thread class with write(2) and ends xenkvm with status 125. io_uring
 * requests are not system calls and are not filtered; the block backend
 * only submits reads, writes, fsync and fallocate on the disk images. */
#include <errno.h>
#include <linux/capability.h>
#include <malloc.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <termios.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/sockios.h>

#include "xenkvm/log.h"
#include "xenkvm/sandbox.h"
#include "xenkvm/vm.h"

/* Sanitizer runtimes make calls of their own: reports read /proc/self/maps,
 * and LeakSanitizer's exit-time check stops the world from a traced clone. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

#define NAME_TABLE_SIZE 512 /* x86_64 syscall numbers are below this */
#define NAME_LEN 32

static const char *const class_names[] = {
	[SANDBOX_EVLOOP] = "event-loop",
	[SANDBOX_VCPU] = "vCPU",
};

/* Filled before any filter: the SIGSYS handler may not call libseccomp. */
static char syscall_names[NAME_TABLE_SIZE][NAME_LEN];
static uint32_t native_arch;
static struct sandbox_opts opts;
static int enabled, evloop_done;
static __thread const char *thread_class; /* NULL until the thread is confined */

/* ---- the allow-lists ---- */

/* The vCPU thread: KVM_RUN and exit handling, hypercalls (guest memory
 * changes, timers, kicks, MSIs, eventfd writes to the event loop), logging. */
static const char *const vcpu_calls[] = {
	"read", "write", "futex", "sched_yield", "nanosleep", "clock_nanosleep",
	"clock_gettime", "gettimeofday", "restart_syscall", "mmap", "munmap", "mprotect",
	"madvise", "brk", "mremap", "fallocate", "ftruncate", "rt_sigprocmask",
	"rt_sigreturn", "tgkill", "getpid", "gettid", "exit", "exit_group", "timer_create",
	"timer_settime", "timer_gettime", "timer_delete", "timerfd_settime",
};

/* The event loop after setup: everything above, plus its fds, sockets,
 * io_uring, thread creation (the vCPUs), installing the vCPU filters, and
 * removing the sockets at the end. */
static const char *const evloop_calls[] = {
	"readv", "writev", "pread64", "pwrite64", "close", "fstat", "newfstatat", "statx",
	"lseek", "epoll_wait", "epoll_pwait", "epoll_ctl", "eventfd2", "timerfd_create",
	"timerfd_gettime", "accept4", "recvfrom", "sendto", "recvmsg", "sendmsg", "shutdown",
	"io_uring_enter", "io_uring_register", "rt_sigaction", "set_robust_list", "rseq",
	"fcntl", "unlink", "unlinkat", "rmdir", "getrandom", "seccomp", "capget", "capset",
};

/* What setting a VM up again needs (only with a restart action). */
static const char *const restart_calls[] = {
	"open", "openat", "access", "faccessat", "faccessat2", "memfd_create", "mkdir",
	"mkdirat", "chmod", "fchmodat", "bind", "listen", "connect", "io_uring_setup",
	"epoll_create1", "signalfd4", "prlimit64",
};

/* Sanitizer builds only (see SANDBOX_SANITIZER). */
static const char *const sanitizer_calls[] = {
	"open", "openat", "readlink", "readlinkat", "getdents", "getdents64", "ptrace", "wait4",
	"sigaltstack", "sched_getaffinity", "kill", "tkill", "pipe", "pipe2", "dup", "dup2",
	"dup3", "process_vm_readv", "getppid", "uname", "getuid", "geteuid", "prlimit64",
	"getrlimit", "mincore", "rt_sigaction", "rt_sigtimedwait", "sysinfo",
};

/* ioctls by request number (the fd is not visible to a filter). */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_SET_MP_STATE,
	KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_GET_LAPIC, KVM_NMI, KVM_SIGNAL_MSI,
	KVM_IRQFD, KVM_SET_USER_MEMORY_REGION,
};

/* The backends change tap offloads and carrier as frontends come and go;
 * the console puts the terminal back at the end. */
static const unsigned long evloop_ioctls[] = {
	TUNSETOFFLOAD, TUNSETCARRIER, TCGETS, TCSETS, TCSETSW, TCSETSF,
};

static const unsigned long restart_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_CHECK_EXTENSION, KVM_ENABLE_CAP,
	KVM_SET_TSS_ADDR, KVM_CREATE_IRQCHIP, KVM_CREATE_VCPU, KVM_GET_VCPU_MMAP_SIZE,
	KVM_HAS_DEVICE_ATTR, KVM_SET_DEVICE_ATTR, KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2,
	KVM_GET_TSC_KHZ, KVM_XEN_HVM_CONFIG, KVM_XEN_HVM_SET_ATTR, KVM_X86_SET_MSR_FILTER,
	TUNSETIFF, TUNSETVNETHDRSZ, SIOCGIFFLAGS, SIOCSIFFLAGS, BLKGETSIZE64, TIOCGPTN,
	TIOCSPTLCK,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Argument tests, every field set (libseccomp's SCMP_A0() leaves one out). */
static struct scmp_arg_cmp arg_eq(unsigned arg, uint64_t value)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0 };
}

static struct scmp_arg_cmp arg_masked_eq(unsigned arg, uint64_t mask, uint64_t value)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask,
				      .datum_b = value };
}

static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call of this architecture */
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The kernel truncates the request to 32 bits; compare only those. */
static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  arg_masked_eq(1, 0xffffffffUL, req[i]));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Threads only: a clone without CLONE_THREAD would be a new process.
 * clone3 passes its flags in memory a filter cannot read, so it fails
 * with ENOSYS and glibc falls back to clone. */
static int allow_threads(scmp_filter_ctx ctx)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);

	/* LeakSanitizer clones its tracer as a process and sets its death
	 * signal and the ptracer with prctl. */
	if (rc == 0 && SANDBOX_SANITIZER) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
		return rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 0);
	}
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				      arg_masked_eq(0, CLONE_THREAD, CLONE_THREAD));
	/* libseccomp sets no_new_privs before it loads a vCPU thread's filter;
	 * a vCPU thread names itself first (vcpuN in ps and /proc). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				      arg_eq(0, PR_SET_NO_NEW_PRIVS));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				      arg_eq(0, PR_SET_NAME));
	return rc;
}

/* Setup opens AF_UNIX sockets (XenStore, control) and an AF_INET one to
 * bring a tap up. */
static int allow_setup_sockets(scmp_filter_ctx ctx)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				  arg_eq(0, AF_UNIX));

	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      arg_eq(0, AF_INET));
	return rc;
}

static int build_rules(scmp_filter_ctx ctx, enum sandbox_class cls)
{
	int rc = allow_names(ctx, vcpu_calls, N(vcpu_calls));

	if (rc == 0)
		rc = allow_ioctls(ctx, vcpu_ioctls, N(vcpu_ioctls));
	if (rc == 0 && SANDBOX_SANITIZER)
		rc = allow_names(ctx, sanitizer_calls, N(sanitizer_calls));
	if (rc < 0 || cls == SANDBOX_VCPU)
		return rc;
	rc = allow_names(ctx, evloop_calls, N(evloop_calls));
	if (rc == 0)
		rc = allow_ioctls(ctx, evloop_ioctls, N(evloop_ioctls));
	if (rc == 0)
		rc = allow_threads(ctx);
	if (rc == 0 && opts.may_restart) {
		rc = allow_names(ctx, restart_calls, N(restart_calls));
		if (rc == 0)
			rc = allow_ioctls(ctx, restart_ioctls, N(restart_ioctls));
		if (rc == 0)
			rc = allow_setup_sockets(ctx);
	}
	return rc;
}

static int load_filter(enum sandbox_class cls, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int rc = ctx ? 0 : -ENOMEM;

	/* A call from another ABI (int 0x80, x32) traps too, rather than
	 * killing the thread without a word. */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	/* The vCPU's hot path first. */
	if (rc == 0)
		rc = seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	if (rc == 0)
		rc = build_rules(ctx, cls);
	if (rc == 0)
		rc = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	if (rc < 0)
		snprintf(err, errlen, "sandbox: the %s filter: %s", class_names[cls], strerror(-rc));
	return rc;
}

/* ---- capabilities ---- */

/* Keep only what a restart needs to open again what the first setup
 * opened (images and /dev/kvm that root may read only by override, taps);
 * a vCPU thread keeps none. Capabilities belong to each thread. */
static int drop_capabilities(enum sandbox_class cls, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2], keep[2] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data) < 0) {
		snprintf(err, errlen, "sandbox: capget: %s", strerror(errno));
		return -1;
	}
	if (!data[0].permitted && !data[1].permitted)
		return 0;
	if (cls == SANDBOX_EVLOOP && opts.may_restart) {
		keep[0].permitted = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
		if (opts.has_nics)
			keep[0].permitted |= 1u << CAP_NET_ADMIN;
	}
	for (int i = 0; i < 2; i++) {
		keep[i].permitted &= data[i].permitted;
		keep[i].effective = keep[i].permitted;
	}
	if (syscall(SYS_capset, &hdr, keep) < 0) {
		snprintf(err, errlen, "sandbox: capset: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the trap ---- */

static size_t append(char *buf, size_t pos, size_t cap, const char *s)
{
	while (*s && pos < cap)
		buf[pos++] = *s++;
	return pos;
}

static size_t append_num(char *buf, size_t pos, size_t cap, long v)
{
	char digits[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		digits[n++] = '-';
	while (n && pos < cap)
		buf[pos++] = digits[--n];
	return pos;
}

/* Async-signal-safe: a table lookup, write(2), _exit(2). */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char msg[200];
	size_t n = 0, cap = sizeof(msg) - 1;
	long nr = si->si_syscall;
	const char *name = "(unknown)";

	(void)sig, (void)uctx;
	if (si->si_arch != native_arch)
		name = "(of another ABI)";
	else if (nr >= 0 && nr < NAME_TABLE_SIZE && syscall_names[nr][0])
		name = syscall_names[nr];
	n = append(msg, n, cap, "xenkvm: sandbox: ");
	n = append(msg, n, cap, thread_class ? thread_class : "a new");
	n = append(msg, n, cap, " thread made a forbidden system call ");
	n = append(msg, n, cap, name);
	n = append(msg, n, cap, " (nr ");
	n = append_num(msg, n, cap, nr);
	n = append(msg, n, cap, "); stopping\n");
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* Nothing left to tell it with. */
	}
	_exit(EXIT_VMM_ERROR);
}

const char *sandbox_syscall_name(long nr)
{
	return nr >= 0 && nr < NAME_TABLE_SIZE && syscall_names[nr][0] ? syscall_names[nr] : NULL;
}

static void fill_names(void)
{
	for (int nr = 0; nr < NAME_TABLE_SIZE; nr++) {
		char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (s)
			snprintf(syscall_names[nr], NAME_LEN, "%s", s);
		free(s);
	}
}

int sandbox_init(const struct sandbox_opts *o, char *err, size_t errlen)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	opts = *o;
	native_arch = seccomp_arch_native();
	/* glibc's malloc reads /sys/devices/system/cpu/online the first time
	 * a thread needs a ninth arena (e.g. 64 vCPUs): set its limit now, to
	 * its own default, so that it never has to. */
	mallopt(M_ARENA_MAX, 8 * get_nprocs());
	fill_names();
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errlen, "sandbox: SIGSYS handler: %s", strerror(errno));
		return -1;
	}
	enabled = 1;
	return 0;
}

int sandbox_enter(enum sandbox_class cls, char *err, size_t errlen)
{
	if (!enabled || (cls == SANDBOX_EVLOOP && evloop_done))
		return 0;
	/* Filters need it, and nothing gains privileges by exec after this. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	thread_class = class_names[cls]; /* already: a trap while loading names it */
	if (drop_capabilities(cls, err, errlen) < 0 || load_filter(cls, err, errlen) < 0)
		return -1;
	if (cls == SANDBOX_EVLOOP) {
		evloop_done = 1;
		log_info("sandbox: the event loop is confined%s",
			 opts.may_restart ? " (keeping what a restart needs)" : "");
	}
	return 0;
}

/* ---- the selftest hook ---- */

/* XENKVM_SANDBOX_SELFTEST=CLASS:CALL, CLASS "loop" or "vcpu": that thread
 * makes CALL with zero arguments, which the filter forbids (or, with
 * --no-sandbox, fails harmlessly: every call here is harmless with zero
 * arguments). For the integration tests; not a documented interface. */
static const char *const selftest_calls[] = { "execve", "socket", "accept4", "openat",
					      "getpid" };

void sandbox_selftest(enum sandbox_class cls)
{
	const char *spec = getenv("XENKVM_SANDBOX_SELFTEST");
	const char *want = cls == SANDBOX_VCPU ? "vcpu:" : "loop:";
	size_t wl = strlen(want);

	if (!spec || strncmp(spec, want, wl) != 0)
		return;
	for (size_t i = 0; i < N(selftest_calls); i++) {
		if (strcmp(spec + wl, selftest_calls[i]) != 0)
			continue;
		int nr = seccomp_syscall_resolve_name(selftest_calls[i]);
		long rc = syscall(nr, 0, 0, 0, 0, 0, 0);
		log_warn("sandbox selftest: %s on the %s thread returned %ld (%s)",
			 selftest_calls[i], class_names[cls], rc, rc < 0 ? strerror(errno) : "ok");
		return;
	}
	log_warn("sandbox selftest: '%s' is not one of the calls it knows", spec);
}
