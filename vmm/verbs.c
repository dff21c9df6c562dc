/* xenkvm list | info | shutdown | reboot | destroy | pause | unpause |
 * console | stats: clients of a VM's control socket (control.h). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "xenkvm/cli.h"
#include "xenkvm/control.h"
#include "xenkvm/host_console.h"
#include "xenkvm/trace.h"
#include "xenkvm/verbs.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

void verbs_usage(void)
{
	printf("       xenkvm list\n"
	       "       xenkvm info NAME\n"
	       "       xenkvm shutdown [--wait] [--timeout SECS] NAME\n"
	       "       xenkvm reboot NAME\n"
	       "       xenkvm destroy NAME\n"
	       "       xenkvm pause NAME | unpause NAME\n"
	       "       xenkvm console NAME      (Ctrl-] detaches)\n"
	       "       xenkvm stats NAME\n"
	       "       xenkvm mem-set NAME SIZE (the balloon target; SIZE as --memory)\n"
	       "       xenkvm trace-stats FILE  (a --trace file)\n");
}

/* Send {"cmd": cmd, extra...}; print the error if it failed. */
static json_t *call(const char *name, const char *cmd, json_t *extra)
{
	char err[512];
	json_t *req = extra ? extra : json_object(), *reply;

	json_object_set_new(req, "cmd", json_string(cmd));
	reply = control_call(name, req, err, sizeof(err));
	json_decref(req);
	if (!reply) {
		fprintf(stderr, "xenkvm: %s\n", err);
		return NULL;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		fprintf(stderr, "xenkvm: %s: %s\n", name,
			json_string_value(json_object_get(reply, "error")));
		json_decref(reply);
		return NULL;
	}
	return reply;
}

static int simple(const char *name, const char *cmd, json_t *extra)
{
	json_t *reply = call(name, cmd, extra);

	json_decref(reply);
	return reply ? 0 : EXIT_FAILED;
}

/* xl list's columns, for every VM whose control socket answers. */
static int verb_list(void)
{
	char dir[256];
	DIR *d;
	struct dirent *e;

	if (control_dir(dir, sizeof(dir)) < 0 || !(d = opendir(dir))) {
		fprintf(stderr, "xenkvm: %s: %s\n", dir, strerror(errno));
		return EXIT_FAILED;
	}
	printf("%-24s %5s %9s %5s %-13s %10s\n", "Name", "ID", "Mem(MiB)", "VCPUs", "State",
	       "Time(s)");
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char name[256], err[256];
		json_t *req, *r;
		if (len < 6 || strcmp(e->d_name + len - 5, ".sock"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), e->d_name);
		req = json_pack("{s:s}", "cmd", "info");
		r = control_call(name, req, err, sizeof(err));
		json_decref(req);
		if (!r)
			continue; /* a VM that is gone: its socket is removed at its next start */
		printf("%-24s %5lld %9lld %5lld %-13s %10.1f\n", name,
		       json_integer_value(json_object_get(r, "domid")),
		       json_integer_value(json_object_get(r, "memory_bytes")) >> 20,
		       json_integer_value(json_object_get(r, "vcpus")),
		       json_string_value(json_object_get(r, "state")),
		       json_real_value(json_object_get(r, "uptime_s")));
		json_decref(r);
	}
	closedir(d);
	return 0;
}

static int verb_info(const char *name)
{
	json_t *r = call(name, "info", NULL);
	char *text;

	if (!r)
		return EXIT_FAILED;
	json_object_del(r, "ok");
	text = json_dumps(r, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", text);
	free(text);
	json_decref(r);
	return 0;
}

/* One line per vCPU that made hypercalls: the fair-share accounting. */
static void print_vcpu_stats(json_t *vcpus)
{
	size_t i;
	json_t *e;

	printf("\n%-8s %12s %12s %12s %14s %12s\n", "vcpu", "calls", "time(ms)", "throttled",
	       "throttled(ms)", "preempted");
	json_array_foreach(vcpus, i, e)
		printf("%-8lld %12lld %12.1f %12lld %14.1f %12lld\n",
		       json_integer_value(json_object_get(e, "vcpu")),
		       json_integer_value(json_object_get(e, "calls")),
		       (double)json_integer_value(json_object_get(e, "time_ns")) / 1e6,
		       json_integer_value(json_object_get(e, "throttled")),
		       (double)json_integer_value(json_object_get(e, "throttled_ns")) / 1e6,
		       json_integer_value(json_object_get(e, "preempted")));
}

static int verb_stats(const char *name)
{
	json_t *r = call(name, "stats", NULL), *h, *v;
	const char *k;

	if (!r)
		return EXIT_FAILED;
	h = json_object_get(r, "hypercalls");
	printf("%-24s %12s %12s %12s\n", "hypercall", "calls", "errors", "denied");
	json_object_foreach(h, k, v)
		printf("%-24s %12lld %12lld %12lld\n", k,
		       json_integer_value(json_object_get(v, "calls")),
		       json_integer_value(json_object_get(v, "errors")),
		       json_integer_value(json_object_get(v, "denied")));
	h = json_object_get(r, "denied");
	if (json_object_size(h))
		printf("\ndenied by the hypercall policy:\n");
	json_object_foreach(h, k, v)
		printf("%-40s %12lld\n", k, json_integer_value(v));
	print_vcpu_stats(json_object_get(r, "vcpus"));
	json_decref(r);
	return 0;
}

/* With --wait, poll until the VM's socket stops answering. */
static int verb_shutdown(int argc, char **argv, const char *reason)
{
	double timeout = 60;
	int wait = 0, i = 1;
	struct timespec start, now;
	char err[256];

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--wait") || !strcmp(argv[i], "-w"))
			wait = 1;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = strtod(argv[++i], NULL);
		else
			break;
	}
	if (i != argc - 1 || timeout <= 0) {
		verbs_usage();
		return EXIT_USAGE;
	}
	if (simple(argv[i], "shutdown", json_pack("{s:s}", "reason", reason)))
		return EXIT_FAILED;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (wait) {
		int fd = control_connect(argv[i], err, sizeof(err));
		if (fd < 0)
			return 0;
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) > timeout) {
			fprintf(stderr, "xenkvm: %s did not shut down within %g s\n", argv[i], timeout);
			return EXIT_FAILED;
		}
		usleep(100000);
	}
	return 0;
}

/* Relay the terminal and the VM's console until Ctrl-] or the VM goes. */
static int verb_console(const char *name)
{
	char err[256], buf[4096];
	int fd = control_connect(name, err, sizeof(err));
	struct host_console h;
	struct pollfd p[2];
	size_t got = 0;

	if (fd < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		return EXIT_FAILED;
	}
	if (write(fd, "{\"cmd\":\"console\"}\n", 18) != 18)
		return EXIT_FAILED;
	/* The one-line reply, read byte by byte: the console follows it. */
	while (got < sizeof(buf) && read(fd, buf + got, 1) == 1 && buf[got] != '\n')
		got++;
	json_t *reply = json_loadb(buf, got, 0, NULL);
	int ok = json_is_true(json_object_get(reply, "ok"));
	json_decref(reply);
	if (!ok) {
		fprintf(stderr, "xenkvm: %s refused the console\n", name);
		close(fd);
		return EXIT_FAILED;
	}
	host_console_open(&h, "stdio", err, sizeof(err));
	p[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		char out[4096];
		size_t n_out;
		ssize_t n;
		if (poll(p, 2, -1) < 0)
			break;
		if (p[1].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 || write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
		}
		if (p[0].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				break;
			/* Any escape command detaches; the VM runs on. */
			if (host_console_filter(&h, buf, (size_t)n, out, &n_out) != HC_NONE)
				break;
			if (n_out && write(fd, out, n_out) < 0)
				break;
		}
	}
	host_console_close(&h);
	close(fd);
	return 0;
}

/* xl mem-set: the guest's balloon driver moves towards the new target. */
static int verb_mem_set(const char *name, const char *size)
{
	uint64_t bytes;

	if (cli_parse_size(size, &bytes) < 0 || bytes < 1024) {
		fprintf(stderr, "xenkvm: mem-set: '%s' is not a size (MiB, or a K/M/G/T suffix)\n",
			size);
		return EXIT_USAGE;
	}
	return simple(name, "mem-set", json_pack("{s:I}", "kib", (json_int_t)(bytes >> 10)));
}

static int verb_trace_stats(const char *path)
{
	char err[512];

	if (trace_stats(path, stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: %s\n", err);
		return EXIT_FAILED;
	}
	return 0;
}

int verb_main(int argc, char **argv)
{
	const char *verb = argv[0];

	if (!strcmp(verb, "list"))
		return argc == 1 ? verb_list() : EXIT_USAGE;
	if (!strcmp(verb, "trace-stats"))
		return argc == 2 ? verb_trace_stats(argv[1]) : EXIT_USAGE;
	if (!strcmp(verb, "mem-set"))
		return argc == 3 ? verb_mem_set(argv[1], argv[2]) : EXIT_USAGE;
	if (!strcmp(verb, "shutdown"))
		return verb_shutdown(argc, argv, "poweroff");
	if (!strcmp(verb, "reboot"))
		return verb_shutdown(argc, argv, "reboot");
	if (strcmp(verb, "info") && strcmp(verb, "destroy") && strcmp(verb, "pause") &&
	    strcmp(verb, "unpause") && strcmp(verb, "console") && strcmp(verb, "stats"))
		return -1;
	if (argc != 2) {
		verbs_usage();
		return EXIT_USAGE;
	}
	if (!strcmp(verb, "info"))
		return verb_info(argv[1]);
	if (!strcmp(verb, "stats"))
		return verb_stats(argv[1]);
	if (!strcmp(verb, "console"))
		return verb_console(argv[1]);
	return simple(argv[1], verb, NULL);
}
