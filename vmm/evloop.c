/* One epoll loop on the main thread. Registrations are heap records so a
 * callback may remove its own fd (or another) while the loop runs. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xenkvm/evloop.h"

struct evloop_entry {
	int fd;
	evloop_fn fn;
	void *opaque;
	struct evloop_entry *next;
	int dead;
};

struct evloop {
	pthread_mutex_t lock; /* the lists: any thread may add or remove */
	int ep;
	int wake_fd;
	int stopping;
	struct evloop_entry *entries;
	struct evloop_entry *graveyard; /* freed after the batch that might still see them */
};

struct evloop *evloop_create(void)
{
	struct evloop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = NULL; /* NULL marks the wake-up eventfd */
	if (l->ep < 0 || l->wake_fd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0) {
		evloop_destroy(l);
		return NULL;
	}
	return l;
}

static void free_list(struct evloop_entry *e)
{
	while (e) {
		struct evloop_entry *next = e->next;
		free(e);
		e = next;
	}
}

void evloop_destroy(struct evloop *l)
{
	if (!l)
		return;
	if (l->ep >= 0)
		close(l->ep);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	free_list(l->entries);
	free_list(l->graveyard);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct evloop_entry *e = calloc(1, sizeof(*e));
	struct epoll_event ev = { .events = events };

	if (!e)
		return -ENOMEM;
	*e = (struct evloop_entry){ .fd = fd, .fn = fn, .opaque = opaque };
	ev.data.ptr = e;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int rc = -errno;
		free(e);
		return rc;
	}
	pthread_mutex_lock(&l->lock);
	e->next = l->entries;
	l->entries = e;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int evloop_del(struct evloop *l, int fd)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&l->lock);
	for (struct evloop_entry **p = &l->entries; *p; p = &(*p)->next) {
		struct evloop_entry *e = *p;
		if (e->fd != fd || e->dead)
			continue;
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
		e->dead = 1;
		*p = e->next;
		e->next = l->graveyard;
		l->graveyard = e;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;

	__atomic_store_n(&l->stopping, 1, __ATOMIC_RELEASE);
	if (write(l->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the loop will wake anyway. */
	}
}

/* Wait up to timeout_ms (-1: for ever) and run the callbacks of what is ready. */
static void run_batch(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->ep, evs, 16, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct evloop_entry *e = evs[i].data.ptr;
		if (!e) {
			uint64_t v;
			if (read(l->wake_fd, &v, sizeof(v)) < 0) {
				/* spurious wake-up: nothing to drain */
			}
			continue;
		}
		if (!e->dead)
			e->fn(e->fd, evs[i].events, e->opaque);
	}
	pthread_mutex_lock(&l->lock);
	free_list(l->graveyard);
	l->graveyard = NULL;
	pthread_mutex_unlock(&l->lock);
}

void evloop_run(struct evloop *l)
{
	/* Each run waits for its own stop: whoever stops a loop that is not
	 * running also leaves its fd readable (the VM's stop eventfd). */
	__atomic_store_n(&l->stopping, 0, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&l->stopping, __ATOMIC_ACQUIRE))
		run_batch(l, -1);
}

void evloop_poll(struct evloop *l)
{
	run_batch(l, 0);
}
