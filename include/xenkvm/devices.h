#ifndef XENKVM_DEVICES_H
#define XENKVM_DEVICES_H

struct vm;
struct console;

int debugcon_register(struct vm *vm, struct console *con);
/* The ACPI sleep control register (BOOT_ACPI_SLEEP_PORT): S5 powers off. */
int acpi_sleep_register(struct vm *vm);

#endif
