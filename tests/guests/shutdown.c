/*
 * Issues the shutdown named on the command line, so the runner can check
 * how xenkvm maps each reason to its exit status:
 *   reason=poweroff|reboot|suspend|crash|watchdog|soft_reset
 *     -> SCHEDOP_shutdown(SHUTDOWN_<reason>)
 *   reason=code_crash
 *     -> SCHEDOP_shutdown_code(crash), SCHEDOP_shutdown_code(poweroff),
 *        SCHEDOP_shutdown(poweroff). Xen keeps the first recorded code
 *        (sched/core.c) and domain_shutdown() uses it in place of the
 *        reason (common/domain.c), so the domain shuts down as *crash*.
 *   reason=triple_fault|emulation_failure|hang
 *     -> the ways a guest ends without asking: a fault with no IDT, an
 *        instruction KVM's CPL0 emulator cannot run (SSE), a spin forever.
 *   reason=block
 *     -> SCHEDOP_block with nothing bound, forever: a VM that lives without
 *        using a CPU (the nested tier keeps one up for its whole run).
 * It prints `SHUTDOWN <reason> (code N)` first. Without a valid reason it
 * prints a RESULT: FAIL line and crashes. A shutdown that returns prints
 * the return code and triple-faults.
 */
#include "kit.h"
#include <xen/sched.h>

static const struct {
    const char *name;
    unsigned int code;
} reasons[] = {
    { "poweroff", SHUTDOWN_poweroff }, { "reboot", SHUTDOWN_reboot },
    { "suspend", SHUTDOWN_suspend },   { "crash", SHUTDOWN_crash },
    { "watchdog", SHUTDOWN_watchdog }, { "soft_reset", SHUTDOWN_soft_reset },
};

static void set_code(unsigned int code)
{
    struct sched_shutdown s = { .reason = code };
    long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &s);

    printf("# SCHEDOP_shutdown_code(%u) returned %ld\n", code, rc);
}

static KIT_NORETURN void misbehave(const char *how)
{
    static const struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) null_idt;

    printf("SHUTDOWN %s\n", how);
    if (!strcmp(how, "triple_fault"))
        __asm__ volatile("lidt %0; ud2" ::"m"(null_idt));
    else if (!strcmp(how, "emulation_failure"))
        __asm__ volatile(".byte 0x66, 0x0f, 0xef, 0xc0"); /* pxor %xmm0,%xmm0 */
    for (;;)
        __asm__ volatile("" ::: "memory");
}

void guest_main(void)
{
    char reason[20];

    if (!kit_arg("reason", reason, sizeof(reason)))
        kit_abort("no reason= on the command line");
    if (!strcmp(reason, "triple_fault") || !strcmp(reason, "emulation_failure") ||
        !strcmp(reason, "hang"))
        misbehave(reason);
    if (!strcmp(reason, "block")) {
        printf("SHUTDOWN block (waits for an event that never comes)\n");
        for (;;)
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    }
    if (!strcmp(reason, "code_crash")) {
        printf("SHUTDOWN code_crash (code %u)\n", SHUTDOWN_crash);
        set_code(SHUTDOWN_crash);
        set_code(SHUTDOWN_poweroff); /* ignored: the first code stays */
        kit_shutdown(SHUTDOWN_poweroff);
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(reasons); i++) {
        if (!strcmp(reason, reasons[i].name)) {
            printf("SHUTDOWN %s (code %u)\n", reasons[i].name, reasons[i].code);
            kit_shutdown(reasons[i].code);
        }
    }
    printf("# unknown reason \"%s\"\n", reason);
    kit_abort("unknown reason= on the command line");
}
