/* Diagnostic ports guests write to: 0xe9 (Bochs/QEMU debug console, where
 * GRUB reports panics) joins the console; 0x80 (POST codes, Linux's I/O
 * delay) is accepted and ignored. */
#include <string.h>

#include "xenkvm/console.h"
#include "xenkvm/devices.h"
#include "xenkvm/vm.h"

#define DEBUGCON_PORT 0xe9
#define POST_PORT 0x80

static void debugcon_io(struct vcpu *v, uint16_t port, int is_write, void *data,
			unsigned size, void *opaque)
{
	(void)v, (void)port;
	if (is_write)
		console_write(opaque, data, 1);
	else
		memset(data, DEBUGCON_PORT, size); /* the port's presence signature */
}

static void post_io(struct vcpu *v, uint16_t port, int is_write, void *data, unsigned size,
		    void *opaque)
{
	(void)v, (void)port, (void)opaque;
	if (!is_write)
		memset(data, 0xff, size);
}

int debugcon_register(struct vm *vm, struct console *con)
{
	int rc = vm_register_pio(vm, DEBUGCON_PORT, 1, debugcon_io, con);
	return rc ? rc : vm_register_pio(vm, POST_PORT, 1, post_io, NULL);
}
