/*
 * Hypercall round-trip cost against a floor measured in the same run:
 * n (cmdline `n=`, default 2000) XENVER_version hypercalls, then n bare
 * `out` to port 0x80, which the VMM ignores (the cheapest possible exit).
 * Prints `BENCH n=<n> hypercall_cycles=<per-op> out_cycles=<per-op>` and
 * powers off; bench/ turns the two into a ratio.
 */
#include "kit.h"
#include <xen/sched.h>
#include <xen/version.h>

static uint32_t per_op(uint64_t cycles, uint32_t n)
{
    return (uint32_t)kit_udiv64(cycles, n, NULL);
}

void guest_main(void)
{
    uint32_t n = (uint32_t)kit_arg_ulong("n", 2000);
    uint64_t t0, t1, t2;
    long bad = 0;

    if (n == 0)
        n = 1;
    t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        bad |= HYPERVISOR_xen_version(XENVER_version, NULL) <= 0;
    t1 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        __asm__ volatile("outb %%al, $0x80" ::"a"(0));
    t2 = rdtsc();
    if (bad)
        kit_abort("XENVER_version failed during the benchmark");
    printf("BENCH n=%u hypercall_cycles=%u out_cycles=%u\n", n, per_op(t1 - t0, n),
           per_op(t2 - t1, n));
    kit_shutdown(SHUTDOWN_poweroff);
}
