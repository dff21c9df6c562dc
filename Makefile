# xenkvm: everything builds into build/. `make` builds the VMM, `make check`
# runs every test tier, `make bench` prints the benchmark ratios.
CC ?= gcc
BUILD ?= build
SAN ?=
CFLAGS_COMMON := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wundef -Wwrite-strings -Iinclude -D_GNU_SOURCE \
	-D__XEN_INTERFACE_VERSION__=0x00040e00
ifeq ($(SAN),1)
CFLAGS_COMMON += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
# STATIC=1: a static xenkvm, for the nested tier's initramfs (every library has a .a in Debian).
ifeq ($(STATIC),1)
LDFLAGS += -static
endif
CFLAGS += $(CFLAGS_COMMON)
LIBS := -lpthread -lm -ljansson -lz -llzma -lzstd -llz4 -lbz2 -luring \
	$(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

EXCLUDE ?=
SRCS := $(filter-out $(EXCLUDE),$(wildcard vmm/*.c xenemu/*.c devices/*.c boot/*.c))
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/vmm/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check check-fast check-san check-unit check-guests check-abi bench clean guests \
	check-nested
all: $(BUILD)/xenkvm

include tests/guests/guests.mk
include tests/fuzz/fuzz.mk

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The default guest, embedded so `xenkvm run` works with no kernel given.
$(BUILD)/default_guest.o: $(BUILD)/guests/default.elf vmm/default_guest.S
	$(CC) -c -DGUEST_ELF='"$(BUILD)/guests/default.elf"' vmm/default_guest.S -o $@

$(BUILD)/libxenkvm.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/xenkvm: $(BUILD)/vmm/main.o $(BUILD)/libxenkvm.a $(BUILD)/default_guest.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests share guest_ram.c (a VM and Xen state built without KVM).
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/unit/guest_ram.o $(BUILD)/libxenkvm.a \
		$(BUILD)/default_guest.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/tests/unit/guest_ram.o $(BUILD)/libxenkvm.a \
		$(BUILD)/default_guest.o $(LIBS) $(CHECK_LIBS)

# The 32-bit compat layouts we declare are checked against the real headers compiled for i386.
check-abi:
	$(CC) -m32 -ffreestanding -fsyntax-only -Iinclude -D__XEN_INTERFACE_VERSION__=0x00040e00 tests/abi/compat32_check.c

check-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do echo "== $$t"; $$t || exit 1; done

check-guests: $(BUILD)/xenkvm guests $(BUILD)/tools/tapio
	tests/integration/run.sh $(BUILD)

# The fast tier, then the same again under ASan+UBSan.
check-fast: all check-abi check-unit check-guests

check-san:
	$(MAKE) SAN=1 BUILD=$(BUILD)/san check-fast

# The kvm transport under nested KVM (QEMU TCG, Debian's 6.12 kernel); it
# says SKIP, with the reason, where QEMU or the kernel package is missing.
check-nested:
	$(MAKE) STATIC=1 BUILD=$(BUILD)/static $(BUILD)/static/xenkvm guests
	tests/nested/run.sh $(BUILD)

check: check-fast check-san check-nested check-fuzz

$(BUILD)/tools/%: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench: $(BUILD)/xenkvm guests $(BUILD)/tools/runstat $(BUILD)/tools/blkhost $(BUILD)/tools/tapio
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
