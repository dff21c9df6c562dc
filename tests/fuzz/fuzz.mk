# libFuzzer harnesses (included by the top-level Makefile). The project's
# sources are compiled again with clang and -fsanitize=fuzzer-no-link,
# address,undefined into $(BUILD)/fuzz (the gcc-built library cannot be
# instrumented). `make fuzz` runs each target for FUZZ_SECONDS, or for
# FUZZ_RUNS executions when that is given; `make
# check-fuzz` replays the corpora and regression inputs, then fuzzes each
# target for a fixed, seeded number of runs (deterministic, a few seconds).
FUZZ_CC ?= clang
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_CI_RUNS ?= 3000
FUZZ_TARGETS := hypercall xenstore xenstore_ring console boot cli blkif netif xenbus
# -Werror is gcc's job (the main build); clang's own warnings on the project's
# sources are shown but must not stop the fuzz tier.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Wformat=2 \
	-Wmissing-prototypes -Wstrict-prototypes -Wundef -Wwrite-strings -Iinclude -D_GNU_SOURCE \
	-D__XEN_INTERFACE_VERSION__=0x00040e00 -fsanitize=address,undefined \
	-fno-sanitize-recover=all
# What the harnesses reach: the archive is linked, so each takes only what it uses.
FUZZ_SRCS := $(filter-out vmm/main.c,$(wildcard xenemu/*.c boot/*.c vmm/*.c devices/*.c))
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# Blocking waits end the call instead (fuzz_vm.h).
FUZZ_LDFLAGS := -Wl,--wrap=pthread_cond_wait -Wl,--wrap=pthread_cond_timedwait

.PHONY: fuzz fuzz-build check-fuzz

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

# An archive, so each harness links only the objects it needs.
$(FUZZ_BUILD)/libxenkvm.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/tests/fuzz/fuzz_vm.o $(FUZZ_BUILD)/libxenkvm.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -Itests/fuzz -fsanitize=fuzzer $(FUZZ_LDFLAGS) -o $@ $^ $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(if $(FUZZ_RUNS),runs $(FUZZ_RUNS),fuzz $(FUZZ_SECONDS)) \
		$(FUZZ_TARGETS)

check-fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) check $(FUZZ_CI_RUNS) $(FUZZ_TARGETS)

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BUILD)/tests/fuzz/fuzz_vm.d
.SECONDARY: $(FUZZ_OBJS)
