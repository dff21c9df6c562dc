/* The control socket: accept clients on the event loop, read one JSON
 * request per line, hand it to the VM's handler, write the reply. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xenkvm/console.h"
#include "xenkvm/control.h"
#include "xenkvm/evloop.h"
#include "xenkvm/log.h"

#define MAX_REQUEST 4096

struct control {
	struct evloop *loop;
	struct console *con;
	control_handler_fn fn;
	void *opaque;
	int fd;
	char path[108];
	struct client *clients; /* connected, closed with the socket */
};

struct client {
	struct control *ctl;
	struct client *next;
	int fd;
	int console; /* raw console mode */
	size_t len;
	char buf[MAX_REQUEST];
};

int control_dir(char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");

	if (snprintf(buf, len, "%s/xenkvm", rt && *rt ? rt : "/run") >= (int)len)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int socket_path(const char *name, struct sockaddr_un *sa, char *err, size_t errlen)
{
	char dir[sizeof(sa->sun_path)];
	int rc = control_dir(dir, sizeof(dir));

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (rc < 0 || snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.sock", dir, name) >=
			      (int)sizeof(sa->sun_path)) {
		snprintf(err, errlen, "control socket for '%s': %s", name,
			 strerror(rc < 0 ? -rc : ENAMETOOLONG));
		return -1;
	}
	return 0;
}

int control_connect(const char *name, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd;

	if (socket_path(name, &sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "no VM named '%s' is running (%s: %s)", name, sa.sun_path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void client_close(struct client *cl)
{
	for (struct client **p = &cl->ctl->clients; *p; p = &(*p)->next)
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	if (cl->console)
		console_remove_sink(cl->ctl->con, cl->fd);
	evloop_del(cl->ctl->loop, cl->fd);
	close(cl->fd);
	free(cl);
}

static void reply_send(struct client *cl, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;

	if (text && (write(cl->fd, text, len) != (ssize_t)len || write(cl->fd, "\n", 1) != 1))
		log_debug("control client went away before its reply");
	free(text);
}

/* One request line: parse, dispatch, reply. Returns -1 to drop the client. */
static int handle_line(struct client *cl, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr), *reply = json_object();
	const char *cmd = req ? json_string_value(json_object_get(req, "cmd")) : NULL;
	int rc = -1;

	if (!cmd) {
		json_object_set_new(reply, "error", json_string(req ? "no \"cmd\"" : jerr.text));
	} else {
		rc = cl->ctl->fn(cl->ctl->opaque, cmd, req, reply);
	}
	json_object_set_new(reply, "ok", json_boolean(rc >= 0));
	reply_send(cl, reply);
	json_decref(reply);
	json_decref(req);
	if (rc == CONTROL_CONSOLE) {
		int fl = fcntl(cl->fd, F_GETFL);
		fcntl(cl->fd, F_SETFL, fl | O_NONBLOCK);
		if (console_add_sink(cl->ctl->con, cl->fd) < 0)
			return -1;
		cl->console = 1;
	}
	return 0;
}

static void client_readable(int fd, uint32_t events, void *opaque)
{
	struct client *cl = opaque;
	ssize_t n;

	(void)events;
	if (cl->console) {
		char buf[256];
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
			client_close(cl);
			return;
		}
		if (n > 0)
			console_input(cl->ctl->con, buf, (size_t)n);
		return;
	}
	n = read(fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len);
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	for (char *nl; !cl->console && (nl = memchr(cl->buf, '\n', cl->len));) {
		size_t line = (size_t)(nl - cl->buf);
		if (handle_line(cl, cl->buf, line) < 0) {
			client_close(cl);
			return;
		}
		memmove(cl->buf, nl + 1, cl->len - line - 1);
		cl->len -= line + 1;
	}
	if (cl->len == sizeof(cl->buf)) {
		log_warn("control client sent a request over %d bytes: dropped", MAX_REQUEST);
		client_close(cl);
	}
}

static void control_accept(int fd, uint32_t events, void *opaque)
{
	struct control *ctl = opaque;
	struct client *cl;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	(void)events;
	if (cfd < 0)
		return;
	cl = calloc(1, sizeof(*cl));
	if (!cl || evloop_add(ctl->loop, cfd, EPOLLIN, client_readable, cl) < 0) {
		free(cl);
		close(cfd);
		return;
	}
	cl->ctl = ctl;
	cl->fd = cfd;
	cl->next = ctl->clients;
	ctl->clients = cl;
}

/* A socket file nobody answers on was left by a VM that died: reuse it. */
static int claim_path(const struct sockaddr_un *sa, const char *name, char *err, size_t errlen)
{
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live = probe >= 0 && connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0;

	if (probe >= 0)
		close(probe);
	if (live) {
		snprintf(err, errlen, "a VM named '%s' is already running (%s)", name, sa->sun_path);
		return -1;
	}
	if (unlink(sa->sun_path) == 0)
		log_info("removed the stale control socket %s", sa->sun_path);
	return 0;
}

/* Control sockets of VMs that were killed (SIGKILL, a sandbox violation)
 * stay behind: remove those nobody answers on. Sockets made in the last
 * minute are left alone, since a VM starting now may not listen yet. */
static void sweep_stale_sockets(void)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (control_dir(dir, sizeof(dir)) < 0 || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int probe, refused;
		if (n < 6 || strcmp(e->d_name + n - 5, ".sock") ||
		    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, e->d_name) >=
			    (int)sizeof(sa.sun_path) ||
		    lstat(sa.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
		    time(NULL) - st.st_mtime < 60)
			continue;
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		refused = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
			  errno == ECONNREFUSED;
		if (probe >= 0)
			close(probe);
		if (refused && unlink(sa.sun_path) == 0)
			log_debug("removed the stale control socket %s", sa.sun_path);
	}
	closedir(d);
}

struct control *control_start(struct evloop *loop, const char *name, struct console *con,
			      control_handler_fn fn, void *opaque, char *err, size_t errlen)
{
	static int swept;
	struct control *ctl = calloc(1, sizeof(*ctl));
	struct sockaddr_un sa;

	/* jansson seeds its hash function from /dev/urandom on first use: do it
	 * now, during setup, since the sandbox forbids opening files later. */
	json_object_seed(0);
	/* Once, at the first start: a restart runs in the sandbox, where
	 * directories cannot be read. */
	if (!swept++)
		sweep_stale_sockets();
	if (!ctl || socket_path(name, &sa, err, errlen) < 0 || claim_path(&sa, name, err, errlen) < 0)
		goto fail;
	*ctl = (struct control){ .loop = loop, .con = con, .fn = fn, .opaque = opaque, .fd = -1 };
	snprintf(ctl->path, sizeof(ctl->path), "%s", sa.sun_path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->fd < 0 || bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(ctl->fd, 8) < 0 ||
	    evloop_add(loop, ctl->fd, EPOLLIN, control_accept, ctl) < 0) {
		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
		if (ctl->fd >= 0)
			close(ctl->fd);
		goto fail;
	}
	return ctl;
fail:
	free(ctl);
	return NULL;
}

const char *control_path(const struct control *c)
{
	return c->path;
}

void control_stop(struct control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_close(c->clients);
	evloop_del(c->loop, c->fd);
	close(c->fd);
	unlink(c->path);
	free(c);
}

json_t *control_call(const char *name, json_t *req, char *err, size_t errlen)
{
	char buf[65536];
	size_t len = 0;
	char *text = json_dumps(req, JSON_COMPACT);
	int fd = control_connect(name, err, errlen);
	json_t *reply = NULL;
	json_error_t jerr;

	if (fd < 0 || !text)
		goto out;
	if (write(fd, text, strlen(text)) < 0 || write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		goto out;
	}
	while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	reply = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!reply)
		snprintf(err, errlen, "%s: a bad reply (%s)", name, jerr.text);
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return reply;
}
