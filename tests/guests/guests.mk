# Freestanding test guests (included by the top-level Makefile; paths are
# relative to the repository root). Every family source builds into a 32-bit
# guest (ELF32, flat, paging off) and a 64-bit guest (ELF64, long mode),
# plus the 32-bit default guest that is embedded in xenkvm.
# These flags are for guest code only: the host CFLAGS must not leak in.

# Self-checking family guests; the runner boots <name>-32.elf and <name>-64.elf
# and expects `RESULT: PASS ...` plus a poweroff.
GUEST_NAMES := version console sched hvm memory multicall gnttab xenbus balloon blkfront netfront \
	preempt \
	hostile
# Not self-checking: `shutdown` is driven by reason= on its command line and
# `bench` prints a BENCH line.
GUEST_TOOLS := shutdown bench
# Self-checking 64-bit-only guests that take interrupts (event channels,
# timers, SMP): <name>-64.elf, linked with the event kit (kit/events.h).
GUEST_NAMES64 := evtchn timer poll upcall smp runstate fifo evbench

GUEST_DIR := tests/guests
GUEST_OUT := $(BUILD)/guests
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-nostdlib -mgeneral-regs-only -mno-popcnt -mno-red-zone -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fcf-protection=none -fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wno-unused-function \
	-D__XEN_INTERFACE_VERSION__=0x00040e00 -I$(GUEST_DIR)/kit
GUEST_ASFLAGS := -D__ASSEMBLY__ -I$(GUEST_DIR)/kit
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(GUEST_DIR)/kit/guest.ld \
	-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack \
	-Wl,--no-warn-rwx-segments

GUEST_KIT32 := $(addprefix $(GUEST_OUT)/obj32/kit/,start32.o kit.o libc.o xenbus.o)
GUEST_KIT64 := $(addprefix $(GUEST_OUT)/obj64/kit/,start64.o kit.o libc.o xenbus.o)
GUEST_KITEV64 := $(addprefix $(GUEST_OUT)/obj64/kit/,idt64.o events.o)
GUEST_ELFS64 := $(foreach g,$(GUEST_NAMES64),$(GUEST_OUT)/$(g)-64.elf)
GUEST_ELFS := $(foreach g,$(GUEST_NAMES) $(GUEST_TOOLS),$(GUEST_OUT)/$(g)-32.elf \
	$(GUEST_OUT)/$(g)-64.elf) $(GUEST_OUT)/default.elf $(GUEST_ELFS64)

.PHONY: guests
guests: $(GUEST_ELFS)

$(GUEST_OUT)/obj32/kit/%.o: $(GUEST_DIR)/kit/%.c
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/kit/%.o: $(GUEST_DIR)/kit/%.c
	@mkdir -p $(dir $@)
	$(CC) -m64 $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj32/kit/%.o: $(GUEST_DIR)/kit/%.S
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/kit/%.o: $(GUEST_DIR)/kit/%.S
	@mkdir -p $(dir $@)
	$(CC) -m64 $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj32/%.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_CFLAGS) -DGUEST_NAME='"$*-32"' -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/%.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) -m64 $(GUEST_CFLAGS) -DGUEST_NAME='"$*-64"' -MMD -MP -c $< -o $@

$(GUEST_OUT)/%-32.elf: $(GUEST_OUT)/obj32/%.o $(GUEST_KIT32) $(GUEST_DIR)/kit/guest.ld
	$(CC) -m32 $(GUEST_LDFLAGS) -o $@ $< $(GUEST_KIT32)

$(GUEST_OUT)/%-64.elf: $(GUEST_OUT)/obj64/%.o $(GUEST_KIT64) $(GUEST_DIR)/kit/guest.ld
	$(CC) -m64 $(GUEST_LDFLAGS) -o $@ $< $(GUEST_KIT64)

$(GUEST_ELFS64): $(GUEST_OUT)/%-64.elf: $(GUEST_OUT)/obj64/%.o $(GUEST_KIT64) $(GUEST_KITEV64) \
		$(GUEST_DIR)/kit/guest.ld
	$(CC) -m64 $(GUEST_LDFLAGS) -o $@ $< $(GUEST_KIT64) $(GUEST_KITEV64)

# The default guest is a 32-bit demo named plainly "default".
$(GUEST_OUT)/obj32/default-embedded.o: $(GUEST_DIR)/default.c
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_CFLAGS) -DGUEST_NAME='"default"' -MMD -MP -c $< -o $@

$(GUEST_OUT)/default.elf: $(GUEST_OUT)/obj32/default-embedded.o $(GUEST_KIT32) \
		$(GUEST_DIR)/kit/guest.ld
	$(CC) -m32 $(GUEST_LDFLAGS) -o $@ $< $(GUEST_KIT32)

.PRECIOUS: $(GUEST_OUT)/obj32/%.o $(GUEST_OUT)/obj64/%.o
.SECONDARY: $(GUEST_KIT32) $(GUEST_KIT64) $(GUEST_KITEV64)

-include $(wildcard $(GUEST_OUT)/obj32/*.d $(GUEST_OUT)/obj32/kit/*.d \
	$(GUEST_OUT)/obj64/*.d $(GUEST_OUT)/obj64/kit/*.d)
