/*
 * __HYPERVISOR_console_io. Expected codes follow
 * xen/drivers/char/console.c:do_console_io() and guest_console_write():
 * a write returns 0 (not a count), a faulting copy -EFAULT, a read returns
 * the number of bytes read (0 when nothing is queued) and refuses counts
 * above INT_MAX with -E2BIG, an unknown command is -ENOSYS.
 */
#include "kit.h"

void guest_main(void)
{
    static const char line[] = "console guest: hello through CONSOLEIO_write\n";
    static char rbuf[32];

    printf("# console_io tests, %d-bit guest\n", KIT_BITS);
    check_eq(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(line) - 1, line), 0,
             "CONSOLEIO_write of a line returns 0");
    check_eq(HYPERVISOR_console_io(CONSOLEIO_write, 0, line), 0,
             "CONSOLEIO_write of 0 bytes returns 0");
    check_eq(HYPERVISOR_console_io(CONSOLEIO_write, 0, BAD_PTR), 0,
             "CONSOLEIO_write of 0 bytes from a bad pointer returns 0");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(HYPERVISOR_console_io(CONSOLEIO_write, 16, (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "CONSOLEIO_write from %#lx is -EFAULT", kit_bad_ptrs[p]);

    memset(rbuf, 0x5a, sizeof(rbuf));
    check_eq(HYPERVISOR_console_io(CONSOLEIO_read, sizeof(rbuf), rbuf), 0,
             "CONSOLEIO_read with nothing typed returns 0");
    check_eq(rbuf[0], 0x5a, "CONSOLEIO_read with nothing typed leaves the buffer alone");
    check_eq(HYPERVISOR_console_io(CONSOLEIO_read, 0, rbuf), 0,
             "CONSOLEIO_read of 0 bytes returns 0");
    check_eq(HYPERVISOR_console_io(CONSOLEIO_read, 0x80000000u, rbuf), -XEN_E2BIG,
             "CONSOLEIO_read of 0x80000000 bytes (> INT_MAX) is -E2BIG");

    check_eq(HYPERVISOR_console_io(2, 0, NULL), -XEN_ENOSYS, "console_io cmd 2 is -ENOSYS");
    check_eq(HYPERVISOR_console_io(0x7fffffff, 4, line), -XEN_ENOSYS,
             "console_io cmd 0x7fffffff is -ENOSYS");
}
