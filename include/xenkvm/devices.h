#ifndef XENKVM_DEVICES_H
#define XENKVM_DEVICES_H

struct vm;
struct console;

int debugcon_register(struct vm *vm, struct console *con);

#endif
