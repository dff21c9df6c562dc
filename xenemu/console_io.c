/* console_io: the hypervisor console. xenkvm's guest is the console domain,
 * so writes go straight to the console and reads take what was typed. */
#include <stdint.h>

#include <xen/xen.h>

#include "xenkvm/console.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/xen.h"

#define CONSOLE_CHUNK 128

static long console_io_write(struct hcall *hc, uint64_t count, uint64_t buffer)
{
	char chunk[CONSOLE_CHUNK];

	/* Chunk by chunk, as Xen does: what came before a fault is still
	 * printed, and a long write is re-issued for the rest when preempted. */
	for (uint64_t done = 0; done < count;) {
		size_t n = count - done < CONSOLE_CHUNK ? (size_t)(count - done) : CONSOLE_CHUNK;
		if (copy_from_guest(hc, chunk, buffer + done, n))
			return -XEN_EFAULT;
		console_write(hc->xen->console, chunk, n);
		done += n;
		if (done < count && hcall_preempt_check(hc, 1)) {
			uint64_t args[3] = { CONSOLEIO_write, count - done, buffer + done };
			return hcall_continue(hc, 3, args);
		}
	}
	return 0;
}

static long console_io_read(struct hcall *hc, uint64_t count, uint64_t buffer)
{
	char chunk[CONSOLE_CHUNK];
	size_t n;

	/* The result is a count or an error: counts that look negative are refused. */
	if ((int32_t)count < 0)
		return -XEN_E2BIG;
	if (count > CONSOLE_CHUNK)
		count = CONSOLE_CHUNK;
	n = console_read(hc->xen->console, chunk, count);
	if (n && copy_to_guest(hc, buffer, chunk, n)) {
		/* Put it back in front: the guest did not get it. */
		console_unread(hc->xen->console, chunk, n);
		return -XEN_EFAULT;
	}
	return (long)n;
}

long console_io_op(struct hcall *hc)
{
	uint64_t count = hc->arg[1] & 0xffffffffULL; /* an unsigned int in the ABI */

	switch (hc->arg[0]) {
	case CONSOLEIO_write:
		return console_io_write(hc, count, hc->arg[2]);
	case CONSOLEIO_read:
		return console_io_read(hc, count, hc->arg[2]);
	default:
		return -XEN_ENOSYS;
	}
}
