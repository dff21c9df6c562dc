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

void guest_main(void)
{
    char reason[16];

    if (!kit_arg("reason", reason, sizeof(reason)))
        kit_abort("no reason= on the command line");
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
