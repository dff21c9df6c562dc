/* The guest's console: console_io output, the PV console ring, and input
 * typed on the host, all as one stream. */
#ifndef XENKVM_CONSOLE_H
#define XENKVM_CONSOLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_INPUT_SIZE 4096
#define CONSOLE_MAX_SINKS 8

struct console {
	pthread_mutex_t lock;
	int out_fd;
	uint8_t in_buf[CONSOLE_INPUT_SIZE]; /* bytes typed, not yet taken by the guest */
	size_t in_len;
	void *ring;       /* struct xencons_interface */
	int ring_active;  /* the guest uses the ring: input goes there, not to console_io */
	void (*notify_guest)(void *opaque); /* raise the guest's console port */
	void *notify_opaque;
	int sinks[CONSOLE_MAX_SINKS]; /* attached consoles (xenkvm console NAME); -1: free */
};

void console_init(struct console *c, int out_fd);
void console_destroy(struct console *c);
void console_attach_ring(struct console *c, void *ring, void (*notify_guest)(void *),
			 void *opaque);
void console_write(struct console *c, const void *buf, size_t len);
/* Copy the output to fd too (an attached console), until it fails or is
 * removed. 0, or -1 when all sink slots are taken. */
int console_add_sink(struct console *c, int fd);
void console_remove_sink(struct console *c, int fd);
/* Queue host input for the guest (and push it into the ring if the guest
 * uses it); returns how many bytes were taken. */
size_t console_input(struct console *c, const void *buf, size_t len);
/* Take up to len queued input bytes (CONSOLEIO_read). */
size_t console_read(struct console *c, void *buf, size_t len);
/* Give back bytes console_read took but could not deliver: they go first again. */
void console_unread(struct console *c, const void *buf, size_t len);
/* The guest has shown it uses the ring (it notified the console port). */
void console_ring_activate(struct console *c);
/* Copy what the guest put in the ring's output half to the console;
 * returns how many bytes were taken. */
size_t console_ring_drain(struct console *c);
/* Move queued input into the ring's input half; returns how many bytes. */
size_t console_ring_fill(struct console *c);

#endif
