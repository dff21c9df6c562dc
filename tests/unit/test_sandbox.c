/* The seccomp sandbox: each case confines a forked child and checks what
 * it may still do, and that a forbidden call ends it with status 125 and
 * a message naming the call and the thread class. */
#include <check.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_suite.h"
#include "xenkvm/sandbox.h"
#include "xenkvm/vm.h"

typedef int (*confined_fn)(void);

struct outcome {
	int status; /* exit status, -1 if killed */
	char err[512];
};

/* Run fn in a child confined to cls; its stderr comes back in o->err. */
static void run_confined(enum sandbox_class cls, int may_restart, confined_fn fn,
			 struct outcome *o)
{
	int pipefd[2], st;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sandbox_opts opts = { .may_restart = may_restart };
		char err[256];

		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		if (sandbox_init(&opts, err, sizeof(err)) < 0 || sandbox_enter(cls, err, sizeof(err)) < 0) {
			fprintf(stderr, "setup: %s\n", err);
			_exit(99);
		}
		_exit(fn());
	}
	close(pipefd[1]);
	n = read(pipefd[0], o->err, sizeof(o->err) - 1);
	o->err[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int vcpu_work(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p, 4096) < 0 || getpid() <= 0)
		return 1;
	/* An allowed ioctl request gets through to the kernel (EBADF here). */
	errno = 0;
	return ioctl(-1, KVM_RUN, 0) == -1 && errno == EBADF ? 0 : 2;
}

static int make_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 3;
}

static int tap_ioctl(void)
{
	ioctl(-1, TUNSETIFF, 0);
	return 0;
}

static int exec_shell(void)
{
	static char sh[] = "/bin/sh", c[] = "-c", cmd[] = "true";
	char *argv[] = { sh, c, cmd, NULL };

	execv(sh, argv);
	return 4;
}

START_TEST(vcpu_thread_keeps_what_it_needs)
{
	struct outcome o;

	run_confined(SANDBOX_VCPU, 0, vcpu_work, &o);
	ck_assert_msg(o.status == 0, "status %d, stderr: %s", o.status, o.err);
}
END_TEST

START_TEST(a_forbidden_call_is_named)
{
	struct outcome o;

	run_confined(SANDBOX_VCPU, 0, make_socket, &o);
	ck_assert_int_eq(o.status, EXIT_VMM_ERROR);
	ck_assert_msg(strstr(o.err, "xenkvm: sandbox: vCPU thread made a forbidden system call "
				    "socket (nr 41); stopping"), "stderr: %s", o.err);
}
END_TEST

START_TEST(ioctls_are_checked_by_request)
{
	struct outcome o;

	run_confined(SANDBOX_VCPU, 0, tap_ioctl, &o);
	ck_assert_int_eq(o.status, EXIT_VMM_ERROR);
	ck_assert_msg(strstr(o.err, "forbidden system call ioctl"), "stderr: %s", o.err);
}
END_TEST

START_TEST(event_loop_may_not_exec)
{
	struct outcome o;

	run_confined(SANDBOX_EVLOOP, 1, exec_shell, &o);
	ck_assert_int_eq(o.status, EXIT_VMM_ERROR);
	ck_assert_msg(strstr(o.err, "event-loop thread made a forbidden system call execve"),
		      "stderr: %s", o.err);
}
END_TEST

/* Sockets are setup's business: allowed only when a restart sets up again. */
START_TEST(restart_keeps_setup_calls)
{
	struct outcome o;

	run_confined(SANDBOX_EVLOOP, 0, make_socket, &o);
	ck_assert_int_eq(o.status, EXIT_VMM_ERROR);
	run_confined(SANDBOX_EVLOOP, 1, make_socket, &o);
	ck_assert_msg(o.status == 0, "status %d, stderr: %s", o.status, o.err);
}
END_TEST

START_TEST(names_come_from_the_table)
{
	struct sandbox_opts opts = { 0 };
	char err[256];

	ck_assert_int_eq(sandbox_init(&opts, err, sizeof(err)), 0);
	ck_assert_str_eq(sandbox_syscall_name(SYS_execve), "execve");
	ck_assert_str_eq(sandbox_syscall_name(SYS_ioctl), "ioctl");
	ck_assert_ptr_null(sandbox_syscall_name(-1));
	ck_assert_ptr_null(sandbox_syscall_name(100000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("filters");

	tcase_add_test(tc, vcpu_thread_keeps_what_it_needs);
	tcase_add_test(tc, a_forbidden_call_is_named);
	tcase_add_test(tc, ioctls_are_checked_by_request);
	tcase_add_test(tc, event_loop_may_not_exec);
	tcase_add_test(tc, restart_keeps_setup_calls);
	tcase_add_test(tc, names_come_from_the_table);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
