/* The console backend. Guests that spin on the ring until out_cons moves
 * (GRUB) are served by draining on every yield and notification. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/io/console.h>

#include "xenkvm/console.h"
#include "xenkvm/log.h"

void console_init(struct console *c, int out_fd)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->out_fd = out_fd;
	for (int i = 0; i < CONSOLE_MAX_SINKS; i++)
		c->sinks[i] = -1;
}

void console_destroy(struct console *c)
{
	pthread_mutex_destroy(&c->lock);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0; /* a slow reader loses output rather than stall the guest */
		if (n <= 0)
			return -1; /* the reader went away: the guest must not notice */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Called with the lock held: the host's console, then attached ones. */
static void emit(struct console *c, const uint8_t *p, size_t len)
{
	write_all(c->out_fd, p, len);
	for (int i = 0; i < CONSOLE_MAX_SINKS; i++)
		if (c->sinks[i] >= 0 && write_all(c->sinks[i], p, len) < 0)
			c->sinks[i] = -1; /* detached: its owner closes the fd */
}

int console_add_sink(struct console *c, int fd)
{
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < CONSOLE_MAX_SINKS && rc < 0; i++)
		if (c->sinks[i] < 0) {
			c->sinks[i] = fd;
			rc = 0;
		}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void console_remove_sink(struct console *c, int fd)
{
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < CONSOLE_MAX_SINKS; i++)
		if (c->sinks[i] == fd)
			c->sinks[i] = -1;
	pthread_mutex_unlock(&c->lock);
}

void console_write(struct console *c, const void *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	emit(c, buf, len);
	pthread_mutex_unlock(&c->lock);
}

void console_attach_ring(struct console *c, void *ring, void (*notify_guest)(void *),
			 void *opaque)
{
	pthread_mutex_lock(&c->lock);
	c->ring = ring;
	c->notify_guest = notify_guest;
	c->notify_opaque = opaque;
	pthread_mutex_unlock(&c->lock);
}

void console_ring_activate(struct console *c)
{
	__atomic_store_n(&c->ring_active, 1, __ATOMIC_RELEASE);
}

/* Called with the lock held. */
static size_t ring_fill_locked(struct console *c)
{
	struct xencons_interface *r = c->ring;
	XENCONS_RING_IDX cons, prod;
	size_t n = 0;

	if (!r || !c->ring_active)
		return 0;
	cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&r->in_prod, __ATOMIC_RELAXED);
	if (prod - cons > sizeof(r->in)) {
		log_once("console input ring indices are inconsistent (cons %u, prod %u)", cons,
			 prod);
		return 0;
	}
	while (n < c->in_len && prod - cons < sizeof(r->in))
		r->in[MASK_XENCONS_IDX(prod++, r->in)] = (char)c->in_buf[n++];
	__atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
	memmove(c->in_buf, c->in_buf + n, c->in_len - n);
	c->in_len -= n;
	return n;
}

size_t console_ring_fill(struct console *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = ring_fill_locked(c);
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t console_input(struct console *c, const void *buf, size_t len)
{
	size_t moved;

	pthread_mutex_lock(&c->lock);
	if (len > CONSOLE_INPUT_SIZE - c->in_len)
		len = CONSOLE_INPUT_SIZE - c->in_len;
	memcpy(c->in_buf + c->in_len, buf, len);
	c->in_len += len;
	moved = ring_fill_locked(c);
	pthread_mutex_unlock(&c->lock);
	if (moved && c->notify_guest)
		c->notify_guest(c->notify_opaque);
	return len;
}

size_t console_read(struct console *c, void *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	if (len > c->in_len)
		len = c->in_len;
	memcpy(buf, c->in_buf, len);
	memmove(c->in_buf, c->in_buf + len, c->in_len - len);
	c->in_len -= len;
	pthread_mutex_unlock(&c->lock);
	return len;
}

void console_unread(struct console *c, const void *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	if (len > CONSOLE_INPUT_SIZE)
		len = CONSOLE_INPUT_SIZE;
	/* Input typed meanwhile may have to make room: the newest bytes go. */
	if (c->in_len > CONSOLE_INPUT_SIZE - len)
		c->in_len = CONSOLE_INPUT_SIZE - len;
	memmove(c->in_buf + len, c->in_buf, c->in_len);
	memcpy(c->in_buf, buf, len);
	c->in_len += len;
	pthread_mutex_unlock(&c->lock);
}

size_t console_ring_drain(struct console *c)
{
	struct xencons_interface *r = c->ring;
	XENCONS_RING_IDX cons, prod;

	size_t n = 0;

	if (!r)
		return 0;
	pthread_mutex_lock(&c->lock);
	cons = __atomic_load_n(&r->out_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
	if (prod - cons > sizeof(r->out)) {
		/* Indices that lie: drop what they claim rather than read past the ring. */
		log_once("console ring indices are inconsistent (cons %u, prod %u): output dropped",
			 cons, prod);
		cons = prod;
	}
	if (cons != prod) {
		uint8_t chunk[sizeof(r->out)];
		while (cons != prod)
			chunk[n++] = (uint8_t)r->out[MASK_XENCONS_IDX(cons++, r->out)];
		emit(c, chunk, n);
		c->ring_active = 1;
	}
	__atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	return n;
}
