/* The VMM's one event loop (the main thread): backends, timers, sockets and
 * signals are file descriptors with a callback. Nothing busy-polls. */
#ifndef XENKVM_EVLOOP_H
#define XENKVM_EVLOOP_H

#include <stdint.h>

typedef void (*evloop_fn)(int fd, uint32_t events, void *opaque);

struct evloop;

struct evloop *evloop_create(void);
void evloop_destroy(struct evloop *l);
/* Watch fd for events (EPOLLIN...); fn runs on the loop thread. Any thread may call. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque);
int evloop_del(struct evloop *l, int fd);
/* Run callbacks until evloop_stop() is called during this run; returns after
 * the callback that stopped it. */
void evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);
/* Run the callbacks of what is ready now, once, without waiting (harnesses
 * that drive the loop step by step). */
void evloop_poll(struct evloop *l);

#endif
