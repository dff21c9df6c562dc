/* The host XenStore socket: a Unix stream socket speaking the wire
 * protocol, where libxenstore's tools (xenstore-ls, -read, -write, -watch)
 * connect with XENSTORED_PATH=<path>. Every client is privileged (domid 0),
 * as on a Xen host's /var/run/xenstored/socket. Clients live on the
 * event loop; a stalled or vanished client costs only its own connection. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenkvm/evloop.h"
#include "xenkvm/log.h"
#include "xenstore_impl.h"

struct xs_client {
	struct xs_socket *s;
	int fd;
	uint32_t events; /* what the loop watches for it */
	struct xs_conn *conn;
	struct xs_client *next;
};

struct xs_socket {
	struct xenstore *xs;
	struct evloop *loop;
	int fd;
	char *path;
	struct xs_client *clients;
};

static void client_close(struct xs_client *cl)
{
	struct xs_socket *s = cl->s;

	for (struct xs_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	evloop_del(s->loop, cl->fd);
	close(cl->fd);
	xs_conn_close_locked(cl->conn);
	free(cl);
}

static void client_cb(int fd, uint32_t events, void *opaque);

/* Read only while a request is wanted, write only while output waits. */
static void client_update_events(struct xs_client *cl)
{
	const uint8_t *p;
	uint32_t want = (xs_conn_input_want_locked(cl->conn) ? EPOLLIN : 0) |
			(xs_conn_output_peek(cl->conn, &p) ? EPOLLOUT : 0);

	if (!want)
		want = EPOLLIN; /* still hear about a hang-up */
	if (want == cl->events)
		return;
	evloop_del(cl->s->loop, cl->fd);
	if (evloop_add(cl->s->loop, cl->fd, want, client_cb, cl) == 0)
		cl->events = want;
	else
		cl->conn->broken = 1;
}

static void client_flush(struct xs_conn *c, void *opaque)
{
	struct xs_client *cl = opaque;
	const uint8_t *p;
	size_t len;

	while ((len = xs_conn_output_peek(c, &p)) > 0) {
		ssize_t n = send(cl->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			c->broken = 1; /* closed on its next event */
			break;
		}
		xs_conn_output_done(c, (size_t)n);
	}
	if (!c->broken)
		client_update_events(cl);
}

/* One read of at most the rest of the current message, so nothing has to
 * be kept back when the outstanding-reply quota stalls input. */
static int client_read(struct xs_client *cl)
{
	uint8_t buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t want = xs_conn_input_want_locked(cl->conn);
	ssize_t n;

	if (!want)
		return 0;
	n = read(cl->fd, buf, want < sizeof(buf) ? want : sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	return xs_conn_input_locked(cl->conn, buf, (size_t)n);
}

static void client_cb(int fd, uint32_t events, void *opaque)
{
	struct xs_client *cl = opaque;
	struct xenstore *xs = cl->s->xs;
	int bad = 0;

	(void)fd;
	pthread_mutex_lock(&xs->lock);
	if (events & EPOLLOUT)
		client_flush(cl->conn, cl);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		bad = client_read(cl) < 0;
	xs_flush_all(xs);
	if (bad || cl->conn->broken)
		client_close(cl);
	else
		client_update_events(cl);
	xs_unlock_and_run_local(xs);
}

static void accept_cb(int fd, uint32_t events, void *opaque)
{
	struct xs_socket *s = opaque;
	struct xs_client *cl;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (cfd < 0)
		return;
	pthread_mutex_lock(&s->xs->lock);
	cl = calloc(1, sizeof(*cl));
	if (cl)
		cl->conn = xs_conn_open_locked(s->xs, 0, client_flush, cl);
	if (!cl || !cl->conn || evloop_add(s->loop, cfd, EPOLLIN, client_cb, cl) < 0) {
		log_warn("xenstore: cannot take a socket client: out of resources");
		if (cl && cl->conn)
			xs_conn_close_locked(cl->conn);
		free(cl);
		close(cfd);
	} else {
		cl->s = s;
		cl->fd = cfd;
		cl->events = EPOLLIN;
		cl->next = s->clients;
		s->clients = cl;
	}
	pthread_mutex_unlock(&s->xs->lock);
}

static int bind_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* A socket left by a previous run is replaced; anything else is not ours. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int xs_socket_listen(struct xenstore *xs, struct evloop *loop, const char *path)
{
	struct xs_socket *s;
	int fd, rc;

	if (xs->sock)
		return -EBUSY;
	fd = bind_listen(path);
	if (fd < 0)
		return fd;
	s = calloc(1, sizeof(*s));
	if (s)
		s->path = strdup(path);
	if (!s || !s->path) {
		rc = -ENOMEM;
		goto fail;
	}
	*s = (struct xs_socket){ .xs = xs, .loop = loop, .fd = fd, .path = s->path };
	rc = evloop_add(loop, fd, EPOLLIN, accept_cb, s);
	if (rc < 0)
		goto fail;
	pthread_mutex_lock(&xs->lock);
	xs->sock = s;
	pthread_mutex_unlock(&xs->lock);
	return 0;
fail:
	if (s)
		free(s->path);
	free(s);
	close(fd);
	unlink(path);
	return rc;
}

void xs_socket_free(struct xenstore *xs)
{
	struct xs_socket *s = xs->sock;

	if (!s)
		return;
	while (s->clients)
		client_close(s->clients);
	evloop_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
	xs->sock = NULL;
}

static int mkdir_0700(const char *dir)
{
	return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

/* A xenkvm that was killed (SIGKILL, a sandbox violation) left its
 * <pid>/xenstored behind: remove those whose process is gone. Only what
 * xenkvm makes there goes (the socket and the directory). */
static void sweep_dead_dirs(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	char path[4096];

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/xenstored", base, e->d_name) >=
		    (int)sizeof(path))
			continue;
		unlink(path);
		*strrchr(path, '/') = '\0';
		if (rmdir(path) == 0)
			log_debug("removed %s, left by a xenkvm that is gone", path);
	}
	closedir(d);
}

int xs_socket_default_path(char *buf, size_t len)
{
	static int swept;
	const char *base = getenv("XDG_RUNTIME_DIR");
	char dir[4096];
	int rc, n;

	if (!base || base[0] != '/')
		base = "/run";
	n = snprintf(dir, sizeof(dir), "%s/xenkvm", base);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	rc = mkdir_0700(dir);
	/* Once, at the first start: a restart runs in the sandbox, where
	 * directories cannot be read. */
	if (!rc && !swept++)
		sweep_dead_dirs(dir);
	n = snprintf(dir + n, sizeof(dir) - (size_t)n, "/%ld", (long)getpid());
	if (!rc)
		rc = mkdir_0700(dir);
	if (rc)
		return rc;
	n = snprintf(buf, len, "%s/xenstored", dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
