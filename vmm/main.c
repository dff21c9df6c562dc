/* xenkvm: run a Xen PVH guest on KVM. main() parses, builds the VM, then
 * waits on one event loop (stop, signals, timeout, console input). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "xenkvm/blkback.h"
#include "xenkvm/boot.h"
#include "xenkvm/cli.h"
#include "xenkvm/console.h"
#include "xenkvm/control.h"
#include "xenkvm/devices.h"
#include "xenkvm/evloop.h"
#include "xenkvm/host_console.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/policy.h"
#include "xenkvm/trace.h"
#include "xenkvm/netback.h"
#include "xenkvm/sandbox.h"
#include "xenkvm/verbs.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"
#include "xenkvm/xenstore.h"

extern const uint8_t default_guest_start[], default_guest_end[];

#define MAX_FILE_SIZE (1ULL << 32)
#define CONTROL_SHUTDOWN_PATH "/local/domain/1/control/shutdown"

/* Read a whole file; errors name the file and the reason. */
static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE_SIZE) {
		snprintf(err, errlen, "%s: not a regular file of at most 4 GiB", path);
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	while (buf && done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path, n ? strerror(errno) : "short read");
			free(buf);
			buf = NULL;
			goto out;
		}
		done += (size_t)n;
	}
	*len = done;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

struct images {
	uint8_t *kernel, *initrd; /* malloc'd, or NULL */
	struct boot_config boot;
};

static int load_images(const struct run_config *c, struct images *im, char *err, size_t errlen)
{
	memset(im, 0, sizeof(*im));
	im->boot.cmdline = c->cmdline;
	im->boot.vcpus = c->vcpus;
	if (c->kernel) {
		im->kernel = read_file(c->kernel, &im->boot.kernel_len, err, errlen);
		if (!im->kernel)
			return -1;
		im->boot.kernel = im->kernel;
		im->boot.kernel_name = c->kernel;
	} else {
		im->boot.kernel = default_guest_start;
		im->boot.kernel_len = (size_t)(default_guest_end - default_guest_start);
		im->boot.kernel_name = "(embedded default guest)";
	}
	if (c->initrd) {
		im->initrd = read_file(c->initrd, &im->boot.initrd_len, err, errlen);
		if (!im->initrd)
			return -1;
		im->boot.initrd = im->initrd;
		im->boot.initrd_name = c->initrd;
	}
	return 0;
}

struct devices {
	struct blk_disk_spec disk[PV_MAX_DISKS];
	struct net_spec nic[PV_MAX_NICS];
	struct blkback *blk[PV_MAX_DISKS];
	struct netback *net[PV_MAX_NICS];
};

/* Parse every --disk and --net before anything starts. */
static int devices_parse(const struct run_config *c, struct devices *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < c->ndisks; i++)
		if (blk_disk_spec_parse(c->disks[i], i, &d->disk[i], err, errlen) < 0)
			return -1;
	for (unsigned i = 0; i < c->nnics; i++)
		if (net_spec_parse(c->nics[i], i, &d->nic[i], err, errlen) < 0)
			return -1;
	return 0;
}

static int devices_start(const struct run_config *c, struct devices *d,
			 const struct pv_backend_ctx *ctx, char *err, size_t errlen)
{
	for (unsigned i = 0; i < c->ndisks; i++)
		if (!(d->blk[i] = blkback_create(ctx, &d->disk[i], err, errlen)))
			return -1;
	for (unsigned i = 0; i < c->nnics; i++)
		if (!(d->net[i] = netback_create(ctx, &d->nic[i], err, errlen)))
			return -1;
	return 0;
}

static void devices_stop(struct devices *d)
{
	for (unsigned i = 0; i < PV_MAX_DISKS; i++)
		if (d->blk[i])
			blkback_destroy(d->blk[i]);
	for (unsigned i = 0; i < PV_MAX_NICS; i++)
		if (d->net[i])
			netback_destroy(d->net[i]);
	memset(d, 0, sizeof(*d)); /* a restarted guest starts from nothing */
}

struct main_ctx {
	struct vm *vm;
	struct evloop *loop;
	struct console *con;
	struct host_console *host;
	struct xenstore *xs;
	struct xen *xen;
	const struct run_config *cfg;
	int grace_fd; /* armed by a graceful shutdown request */
	char socket_dir[256]; /* the per-VM directory we made for the socket, if any */
	char name[80];
	char xs_path[256];
	struct control *ctl;
	struct timespec started;
	int preserved; /* the guest stopped and is kept for inspection */
	int destroyed; /* stopped from the host: no on_* action applies */
};

/* Stop the VM from the host side (signal, escape, control, timeouts). */
static void destroy(struct main_ctx *m, int status)
{
	m->destroyed = 1;
	vm_request_stop(m->vm, status);
	if (m->preserved)
		evloop_stop(m->loop);
}

static void on_stop(int fd, uint32_t events, void *opaque)
{
	struct main_ctx *m = opaque;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0)
		log_debug("stop eventfd: %s", strerror(errno));
	evloop_stop(m->loop);
}

/* What xl's on_poweroff/on_reboot/on_crash/on_watchdog says for the way
 * the guest stopped; stops from the host side are not the guest's. */
static enum lifecycle_action lifecycle_action_for(const struct main_ctx *m, int status)
{
	if (m->destroyed)
		return ACTION_DESTROY;
	switch (status) {
	case EXIT_POWEROFF:
		return m->cfg->on_poweroff;
	case EXIT_REBOOT:
		return m->cfg->on_reboot;
	case EXIT_WATCHDOG:
		return m->cfg->on_watchdog;
	case EXIT_CRASH:
	case EXIT_TRIPLE_FAULT:
	case EXIT_EMULATION_FAILURE:
		return m->cfg->on_crash;
	default:
		return ACTION_DESTROY;
	}
}

/* on_*=preserve: the vCPUs are stopped; keep serving the control socket
 * (info shows "preserved") until the VM is destroyed. */
static void preserve(struct main_ctx *m)
{
	m->preserved = 1;
	log_warn("the guest stopped (status %d) and is preserved: `xenkvm destroy %s` ends it",
		 m->vm->exit_status, m->name);
	evloop_del(m->loop, m->vm->stop_efd);
	evloop_run(m->loop);
}

static int arm_timer(double secs)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	its.it_value.tv_sec = (time_t)secs;
	its.it_value.tv_nsec = (long)((secs - floor(secs)) * 1e9);
	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* --timeout counts from xenkvm's start, restarts included: a guest that
 * reboots in a loop is stopped too. */
static struct timespec timeout_deadline;

static void set_timeout_deadline(double secs)
{
	clock_gettime(CLOCK_MONOTONIC, &timeout_deadline);
	timeout_deadline.tv_sec += (time_t)secs;
	timeout_deadline.tv_nsec += (long)((secs - floor(secs)) * 1e9);
	if (timeout_deadline.tv_nsec >= 1000000000L) {
		timeout_deadline.tv_sec++;
		timeout_deadline.tv_nsec -= 1000000000L;
	}
}

static int arm_deadline(const struct timespec *at)
{
	struct itimerspec its = { .it_value = *at };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd >= 0 && timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void on_grace_expired(int fd, uint32_t events, void *opaque)
{
	struct main_ctx *m = opaque;

	(void)fd, (void)events;
	log_err("the guest did not shut down within %g s: destroyed", m->cfg->shutdown_grace);
	destroy(m, EXIT_CRASH);
}

/* Ask the guest to power off through XenStore, as `xl shutdown` does; a
 * second request, or the grace period running out, destroys it. */
static void request_shutdown(struct main_ctx *m)
{
	if (m->grace_fd >= 0 || m->preserved) {
		log_warn("%s: destroying the guest",
			 m->preserved ? "shutdown of a preserved guest" : "second shutdown request");
		destroy(m, m->preserved ? m->vm->exit_status : EXIT_CRASH);
		return;
	}
	log_warn("asking the guest to power off (control/shutdown)");
	xs_write(m->xs, CONTROL_SHUTDOWN_PATH, "poweroff");
	m->grace_fd = arm_timer(m->cfg->shutdown_grace);
	if (m->grace_fd >= 0)
		evloop_add(m->loop, m->grace_fd, EPOLLIN, on_grace_expired, m);
}

static void on_signal(int fd, uint32_t events, void *opaque)
{
	struct main_ctx *m = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGTERM) {
		request_shutdown(m);
		return;
	}
	log_warn("signal %u: destroying the guest", si.ssi_signo);
	destroy(m, m->preserved ? m->vm->exit_status : EXIT_CRASH);
}

static void on_timeout(int fd, uint32_t events, void *opaque)
{
	struct main_ctx *m = opaque;
	uint64_t expirations;

	(void)events;
	/* Read, or the level-triggered loop reports it again while stopping. */
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return;
	log_err("guest still running after %g s (--timeout): stopped", m->cfg->timeout);
	/* Whether it hung or was only slow, what it was doing says which. */
	xen_dump_vcpus(m->xen);
	destroy(m, EXIT_TIMEOUT);
}

/* Typed input: to the guest, but for the escape commands. EOF only stops
 * listening (a pty has no reader yet: wait for one). */
static void on_input(int fd, uint32_t events, void *opaque)
{
	struct main_ctx *m = opaque;
	char buf[256], out[256];
	size_t n_out;
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EIO))
		return;
	if (n <= 0) {
		evloop_del(m->loop, fd);
		return;
	}
	switch (host_console_filter(m->host, buf, (size_t)n, out, &n_out)) {
	case HC_DESTROY:
		log_warn("escape q: destroying the guest");
		destroy(m, m->preserved ? m->vm->exit_status : EXIT_CRASH);
		break;
	case HC_SHUTDOWN:
		request_shutdown(m);
		break;
	case HC_NONE:
		break;
	}
	console_input(m->con, out, n_out);
}

/* The main thread's loop: returns when the VM has been asked to stop. */
static void event_loop(struct main_ctx *m, int sigfd)
{
	int tfd = m->cfg->timeout > 0 ? arm_deadline(&timeout_deadline) : -1;

	evloop_add(m->loop, m->vm->stop_efd, EPOLLIN, on_stop, m);
	evloop_add(m->loop, sigfd, EPOLLIN, on_signal, m);
	if (tfd >= 0)
		evloop_add(m->loop, tfd, EPOLLIN, on_timeout, m);
	if (m->host->in_fd >= 0)
		evloop_add(m->loop, m->host->in_fd, EPOLLIN, on_input, m); /* fails for files */
	if (!__atomic_load_n(&m->vm->stopping, __ATOMIC_ACQUIRE))
		evloop_run(m->loop);
	if (tfd >= 0)
		close(tfd);
	if (m->grace_fd >= 0)
		close(m->grace_fd);
}

static int read_uuid(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 36)
		return -1;
	buf[36] = '\0';
	return 0;
}

/* The guest's XenStore: the toolstack's tree, its ring, the host socket. */
static struct xenstore *store_start(struct main_ctx *m, struct xen *x, char *err, size_t errlen)
{
	char uuid[64], *path = m->xs_path;
	size_t pathlen = sizeof(m->xs_path);
	struct xenstore *xs = xs_create(XENKVM_DOMID, NULL);
	struct xs_domain_info info = {
		.domid = XENKVM_DOMID, .name = m->name, .uuid = uuid,
		.target_kib = m->cfg->memory >> 10, .max_kib = m->cfg->maxmem >> 10,
		.vcpus = m->cfg->vcpus, .store_gfn = XENSTORE_GFN, .store_port = STORE_EVTCHN_PORT,
		.console_gfn = CONSOLE_GFN, .console_port = CONSOLE_EVTCHN_PORT,
	};
	int rc;

	if (m->cfg->uuid[0])
		snprintf(uuid, sizeof(uuid), "%s", m->cfg->uuid);
	if (!xs || (!m->cfg->uuid[0] && read_uuid(uuid, sizeof(uuid)) < 0) ||
	    xs_populate_domain(xs, &info) != 0 ||
	    xen_attach_store(x, xs) < 0) {
		snprintf(err, errlen, "XenStore: %s", strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	if (m->cfg->xenstore_socket)
		snprintf(path, pathlen, "%s", m->cfg->xenstore_socket);
	else if ((rc = xs_socket_default_path(path, pathlen)) < 0) {
		snprintf(err, errlen, "XenStore socket directory: %s", strerror(-rc));
		goto fail;
	} else {
		snprintf(m->socket_dir, sizeof(m->socket_dir), "%s", path);
		*strrchr(m->socket_dir, '/') = '\0';
	}
	rc = xs_socket_listen(xs, m->loop, path);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	log_info("XenStore socket: %s (XENSTORED_PATH=%s xenstore-ls)", path, path);
	return xs;
fail:
	if (xs)
		xs_destroy(xs);
	return NULL;
}

static const char *vm_state(struct main_ctx *m)
{
	if (m->preserved)
		return "preserved";
	if (__atomic_load_n(&m->vm->stopping, __ATOMIC_ACQUIRE))
		return "stopping";
	if (m->vm->paused)
		return "paused";
	return m->grace_fd >= 0 ? "shutting-down" : "running";
}

static void control_info(struct main_ctx *m, json_t *r)
{
	struct timespec now;
	json_t *disks = json_array(), *nics = json_array();

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (unsigned i = 0; i < m->cfg->ndisks; i++)
		json_array_append_new(disks, json_string(m->cfg->disks[i]));
	for (unsigned i = 0; i < m->cfg->nnics; i++)
		json_array_append_new(nics, json_string(m->cfg->nics[i]));
	json_object_set_new(r, "name", json_string(m->name));
	json_object_set_new(r, "domid", json_integer(XENKVM_DOMID));
	json_object_set_new(r, "pid", json_integer(getpid()));
	json_object_set_new(r, "state", json_string(vm_state(m)));
	json_object_set_new(r, "memory_bytes", json_integer((json_int_t)m->cfg->memory));
	json_object_set_new(r, "vcpus", json_integer(m->cfg->vcpus));
	json_object_set_new(r, "uptime_s",
			    json_real((double)(now.tv_sec - m->started.tv_sec) +
				      (double)(now.tv_nsec - m->started.tv_nsec) / 1e9));
	json_object_set_new(r, "kernel", json_string(m->cfg->kernel ? m->cfg->kernel : "(default)"));
	json_object_set_new(r, "disks", disks);
	json_object_set_new(r, "nics", nics);
	json_object_set_new(r, "xenstore_socket", json_string(m->xs_path));
	if (m->cfg->policy) {
		char rules[1024];
		policy_describe(m->cfg->policy, rules, sizeof(rules));
		json_object_set_new(r, "hypercall_policy", json_string(rules));
	}
	json_object_set_new(r, "time_granularity_ns",
			    json_integer((json_int_t)m->cfg->time_granularity_ns));
}

/* Per vCPU: calls, time serving them, calls throttled and preempted. */
static void control_vcpu_stats(json_t *r)
{
	static struct hypercall_vcpu_stat st[VM_MAX_VCPUS];
	unsigned n = hypercall_vcpu_stats(st, VM_MAX_VCPUS);
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "vcpu", json_integer(st[i].vcpu));
		json_object_set_new(e, "calls", json_integer((json_int_t)st[i].calls));
		json_object_set_new(e, "time_ns", json_integer((json_int_t)st[i].ns));
		json_object_set_new(e, "throttled", json_integer((json_int_t)st[i].throttled));
		json_object_set_new(e, "throttled_ns", json_integer((json_int_t)st[i].throttled_ns));
		json_object_set_new(e, "preempted", json_integer((json_int_t)st[i].preempted));
		json_array_append_new(a, e);
	}
	json_object_set_new(r, "vcpus", a);
}

static void control_stats(struct main_ctx *m, json_t *r)
{
	struct hypercall_stat st[NR_HYPERCALLS];
	struct policy_denial d[64];
	unsigned n = hypercall_stats(st, NR_HYPERCALLS), nd = policy_denials(m->xen->policy, d, 64);
	json_t *h = json_object(), *denied = json_object();

	for (unsigned i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "calls", json_integer((json_int_t)st[i].calls));
		json_object_set_new(e, "errors", json_integer((json_int_t)st[i].errors));
		json_object_set_new(e, "denied",
				    json_integer((json_int_t)policy_denied(m->xen->policy, st[i].nr)));
		json_object_set_new(h, st[i].name, e);
	}
	json_object_set_new(r, "hypercalls", h);
	/* By the policy, per family and sub-op. */
	for (unsigned i = 0; i < nd; i++)
		json_object_set_new(denied, d[i].what, json_integer((json_int_t)d[i].count));
	json_object_set_new(r, "denied", denied);
	control_vcpu_stats(r);
}

/* At exit, what the policy refused (a guest may not say it was refused). */
static void log_denials(const struct xen *x)
{
	struct policy_denial d[64];
	unsigned n = policy_denials(x->policy, d, 64);
	char line[1024];
	size_t used = 0;

	if (!n)
		return;
	for (unsigned i = 0; i < n && used < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %llu", i ? ", " : "",
					 d[i].what, d[i].count);
	log_warn("the hypercall policy denied %llu call(s): %s", policy_denied_total(x->policy), line);
}

/* The verbs of `xenkvm <verb> NAME`, served on the control socket. */
static int control_handle(void *opaque, const char *cmd, json_t *req, json_t *reply)
{
	struct main_ctx *m = opaque;
	const char *reason = json_string_value(json_object_get(req, "reason"));

	if (!strcmp(cmd, "info")) {
		control_info(m, reply);
	} else if (!strcmp(cmd, "stats")) {
		control_stats(m, reply);
	} else if (!strcmp(cmd, "shutdown")) {
		if (!reason)
			reason = "poweroff";
		if (strcmp(reason, "poweroff") && strcmp(reason, "reboot") && strcmp(reason, "halt")) {
			json_object_set_new(reply, "error", json_string("reason: poweroff, reboot or halt"));
			return -1;
		}
		log_info("shutdown requested (%s) through the control socket", reason);
		xs_write(m->xs, CONTROL_SHUTDOWN_PATH, reason);
	} else if (!strcmp(cmd, "destroy")) {
		log_warn("destroyed through the control socket");
		destroy(m, m->preserved ? m->vm->exit_status : EXIT_CRASH);
	} else if (!strcmp(cmd, "pause")) {
		vm_pause(m->vm);
	} else if (!strcmp(cmd, "unpause")) {
		vm_unpause(m->vm);
	} else if (!strcmp(cmd, "console")) {
		return CONTROL_CONSOLE;
	} else if (!strcmp(cmd, "mem-set")) {
		json_int_t kib = json_integer_value(json_object_get(req, "kib"));
		int rc = kib > 0 ? xen_set_memory_target(m->xen, (uint64_t)kib) : EINVAL;
		if (rc) {
			json_object_set_new(reply, "error",
					    json_string(rc == EINVAL ? "size out of range (1 KiB to maxmem)"
								    : strerror(rc)));
			return -1;
		}
		log_info("memory target set to %lld KiB", (long long)kib);
	} else {
		json_object_set_new(reply, "error", json_string("unknown command"));
		return -1;
	}
	return 0;
}

/* Returns the exit status; *restart says the guest is to be booted again. */
static int run_vm(const struct run_config *c, int *restart)
{
	static struct vm vm;
	static struct xen xen;
	static struct devices dev;
	struct console con;
	struct host_console host;
	struct images im;
	struct boot_info boot;
	struct main_ctx m = { .vm = &vm, .xen = &xen, .con = &con, .host = &host, .cfg = c,
			      .grace_fd = -1 };

	clock_gettime(CLOCK_MONOTONIC, &m.started);
	if (c->name)
		snprintf(m.name, sizeof(m.name), "%s", c->name);
	else
		snprintf(m.name, sizeof(m.name), "xenkvm-%d", (int)getpid());
	char err[512] = "";
	sigset_t mask;
	int sigfd, status = EXIT_BAD_INPUT;

	if (devices_parse(c, &dev, err, sizeof(err)) < 0 || load_images(c, &im, err, sizeof(err)) < 0 ||
	    host_console_open(&host, c->console, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		goto out_images;
	}
	if (host.pty_name[0])
		log_warn("console on %s", host.pty_name);
	console_init(&con, host.out_fd);
	if (vm_create(&vm, c->memory, c->vcpus, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		status = EXIT_VMM_ERROR;
		goto out_console;
	}
	vm.boot = &boot;
	if (pvh_boot_load(&vm.mem, &im.boot, &boot, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		goto out_vm;
	}
	m.loop = evloop_create();
	if (!m.loop || xen_init(&xen, &vm, m.loop, c->transport, c->policy, &con, err,
					 sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		status = c->transport == TRANSPORT_KVM ? EXIT_BAD_INPUT : EXIT_VMM_ERROR;
		goto out_xen;
	}
	xen_set_memory_map(&xen, boot.e820, boot.e820_n);
	xen_time_set_granularity(&xen, c->time_granularity_ns);
	xen.max_pages = c->maxmem / GUEST_PAGE_SIZE; /* ballooning stays below maxmem */
	m.xs = store_start(&m, &xen, err, sizeof(err));
	if (m.xs)
		m.ctl = control_start(m.loop, m.name, &con, control_handle, &m, err, sizeof(err));
	if (!m.xs) {
		fprintf(stderr, "xenkvm: %s\n", err);
		status = EXIT_VMM_ERROR;
		goto out_xen;
	}
	if (!m.ctl) {
		fprintf(stderr, "xenkvm: %s\n", err); /* e.g. the name is taken */
		goto out_devices;
	}
	struct pv_backend_ctx pv = { .xen = &xen, .xs = m.xs, .loop = m.loop,
				     .frontend_domid = XENKVM_DOMID };
	if (devices_start(c, &dev, &pv, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		goto out_devices;
	}
	if (debugcon_register(&vm, &con) < 0 || acpi_sleep_register(&vm) < 0 ||
	    vcpu_set_pvh_entry(&vm.vcpus[0], boot.entry, (uint32_t)boot.start_info_gpa) < 0) {
		fprintf(stderr, "xenkvm: vCPU setup: %s\n", strerror(errno));
		status = EXIT_VMM_ERROR;
		goto out_devices;
	}
	/* Signals are the event loop's business; vCPU threads only take kicks. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	sigdelset(&mask, SIGUSR1);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sandbox_enter(SANDBOX_EVLOOP, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		status = EXIT_VMM_ERROR;
		close(sigfd);
		goto out_devices;
	}
	sandbox_selftest(SANDBOX_EVLOOP);
	if (vm_start_vcpus(&vm) == 0)
		event_loop(&m, sigfd);
	vm_join_vcpus(&vm);
	console_ring_drain(&con);
	log_denials(&xen);
	status = vm.exit_status;
	switch (lifecycle_action_for(&m, status)) {
	case ACTION_RESTART:
		*restart = 1;
		break;
	case ACTION_PRESERVE:
		preserve(&m);
		status = vm.exit_status;
		break;
	case ACTION_DESTROY:
		break;
	}
	close(sigfd);
out_devices:
	devices_stop(&dev);
	control_stop(m.ctl);
	xs_release_domain(m.xs);
	xs_destroy(m.xs); /* removes the socket */
	if (m.socket_dir[0])
		rmdir(m.socket_dir);
out_xen:
	xen_destroy(&xen);
	evloop_destroy(m.loop);
out_vm:
	vm_destroy(&vm);
out_console:
	console_destroy(&con);
	host_console_close(&host);
out_images:
	free(im.kernel);
	free(im.initrd);
	return status;
}

/* The filters go on in run_vm, once the first VM is set up. */
static int sandbox_start(const struct run_config *c, char *err, size_t errlen)
{
	struct sandbox_opts o = {
		.may_restart = c->on_poweroff == ACTION_RESTART || c->on_reboot == ACTION_RESTART ||
			       c->on_crash == ACTION_RESTART || c->on_watchdog == ACTION_RESTART,
		.has_nics = c->nnics > 0,
	};

	return sandbox_init(&o, err, errlen);
}

static void usage(void)
{
	printf("usage: xenkvm run [CONFIG.cfg] [KEY=VALUE...] [OPTIONS]\n"
	       "                              boot a Xen PVH guest (see xenkvm run --help)\n");
	verbs_usage();
	printf("       xenkvm --help\n");
}

int main(int argc, char **argv)
{
	struct run_config c;
	char err[256];
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage();
		return argc < 2 ? EXIT_BAD_INPUT : 0;
	}
	if (strcmp(argv[1], "run") != 0) {
		rc = verb_main(argc - 1, argv + 1);
		if (rc >= 0)
			return rc;
		fprintf(stderr, "xenkvm: unknown command '%s' (try xenkvm --help)\n", argv[1]);
		return EXIT_BAD_INPUT;
	}
	rc = cli_parse_run(argc - 1, argv + 1, &c, err, sizeof(err));
	if (rc == 1) {
		cli_usage_run();
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	log_threshold = c.log_level;
	if (c.trace && trace_open(c.trace, TRACE_DEFAULT_RECORDS, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	hypercall_set_rate_limit(c.hcall_rate, c.hcall_burst);
	if (c.hcall_rate)
		log_info("hypercall rate limit: %llu a second per vCPU, bursts of %llu",
			 (unsigned long long)c.hcall_rate, (unsigned long long)c.hcall_burst);
	if (!c.no_sandbox && sandbox_start(&c, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		return EXIT_VMM_ERROR;
	}
	set_timeout_deadline(c.timeout);
	for (int restart = 1; restart;) {
		restart = 0;
		rc = run_vm(&c, &restart);
		if (restart)
			log_warn("the guest stopped (status %d): restarting it (on_* = restart)", rc);
	}
	trace_close();
	cli_release_run(&c);
	return rc;
}
