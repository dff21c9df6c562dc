/* The hardware-reduced FADT's sleep registers (boot/acpi.c): the guest
 * writes SLP_TYP | SLP_EN to the control register to enter a sleep state.
 * S5 is power off, which Xen turns into the domain's poweroff; other states
 * are not offered (the DSDT names only \_S5) and are ignored. The status
 * register reads 0: the guest never waits on a wake status. */
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/sched.h>

#include "xenkvm/boot.h"
#include "xenkvm/devices.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#define SLP_EN (1u << 5)
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 7u

static void acpi_sleep_io(struct vcpu *v, uint16_t port, int is_write, void *data,
			  unsigned size, void *opaque)
{
	uint8_t val;

	(void)opaque;
	if (!is_write) {
		memset(data, 0, size);
		return;
	}
	memcpy(&val, data, 1);
	if (port != BOOT_ACPI_SLEEP_PORT || !(val & SLP_EN))
		return;
	if (((val >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == BOOT_ACPI_SLP_TYP_S5)
		xen_domain_shutdown(v->vm->xen, SHUTDOWN_poweroff);
	else
		log_once("ACPI sleep type %u requested: not offered, ignored",
			 (val >> SLP_TYP_SHIFT) & SLP_TYP_MASK);
}

int acpi_sleep_register(struct vm *vm)
{
	return vm_register_pio(vm, BOOT_ACPI_SLEEP_PORT, 2, acpi_sleep_io, NULL);
}
