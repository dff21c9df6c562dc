/* The seccomp sandbox: after setup, each thread class may make only the
 * system calls it needs; any other call stops xenkvm with a message that
 * names it (status 125). */
#ifndef XENKVM_SANDBOX_H
#define XENKVM_SANDBOX_H

#include <stddef.h>

/* xenkvm's threads: the main thread runs the event loop (timers, XenStore,
 * console, control socket, the block and net backends); each vCPU has one.
 * Block I/O has no thread of its own: io_uring does it in the kernel. */
enum sandbox_class { SANDBOX_EVLOOP, SANDBOX_VCPU };

struct sandbox_opts {
	/* The VM may be set up again in this process (an on_* action is
	 * restart): the event loop keeps what creating a VM needs. */
	int may_restart;
	/* With may_restart: the taps are created again (CAP_NET_ADMIN). */
	int has_nics;
};

/* Before any filter: the syscall name table for the SIGSYS handler, the
 * handler itself, and the selftest hook (XENKVM_SANDBOX_SELFTEST). */
int sandbox_init(const struct sandbox_opts *o, char *err, size_t errlen);

/* Confine the calling thread to its class's allow-list, after dropping the
 * capabilities it does not need. The event loop's filter is installed once
 * (a restart keeps it); vCPU threads, created by the main thread, stack
 * their own stricter one on top. A no-op unless sandbox_init ran. */
int sandbox_enter(enum sandbox_class cls, char *err, size_t errlen);

/* The debug hook: if XENKVM_SANDBOX_SELFTEST names this class, make the
 * forbidden call it names (after sandbox_enter), to prove the filter holds. */
void sandbox_selftest(enum sandbox_class cls);

/* The name of syscall nr of this architecture, or NULL (tests, messages). */
const char *sandbox_syscall_name(long nr);

#endif
