/*
 * The kit's XenBus client against xenkvm's XenStore and grant table: reads
 * of the toolstack's tree, writes where the guest may write, the errors
 * xenstored gives elsewhere, grants and an unbound event channel for dom0.
 */
#include "xenbus.h"

static uint8_t page[4096] __attribute__((aligned(4096)));

static void test_store(void)
{
    char buf[128];
    long n;

    check_eq(xb_read("domid", buf, sizeof(buf)), 1, "read domid (relative path)");
    check_true(!strcmp(buf, "1"), "domid is 1");
    check_true(xb_read("/local/domain/1/name", buf, sizeof(buf)) > 0, "read name (absolute path)");
    check_eq(xb_write("data/kit", "hello"), 0, "write data/kit");
    check_eq(xb_read("data/kit", buf, sizeof(buf)), 5, "read it back");
    check_true(!strcmp(buf, "hello"), "same value");
    check_eq(xb_printf("data/num", "%u", 4242u), 0, "printf a number");
    check_eq((long long)xb_read_ulong("data/num", 7), 4242, "read_ulong");
    check_eq((long long)xb_read_ulong("data/none", 7), 7, "read_ulong of a missing node: def");
    n = xb_directory("data", buf, sizeof(buf));
    check_true(n > 0 && (!strcmp(buf, "kit") || !strcmp(buf, "num")), "directory data");
    check_eq(xb_rm("data/kit"), 0, "rm data/kit");
    check_eq(xb_read("data/kit", buf, sizeof(buf)), -XEN_ENOENT, "read after rm: ENOENT");
    check_eq(xb_write("/local/domain/0/name", "x"), -XEN_EACCES, "dom0's nodes: EACCES");
    check_eq(xb_switch_state("data", XenbusStateInitialised), 0, "switch_state");
    check_eq(xb_state("data"), XenbusStateInitialised, "state reads back");
    check_eq(xb_wait_state("data", XenbusStateInitialised, 10), XenbusStateInitialised,
             "wait_state returns at once");
    check_eq(xb_wait_state_not("data", XenbusStateInitialised, 3), XenbusStateInitialised,
             "wait_state_not gives up with the state seen last");
}

static void test_grants_and_events(void)
{
    grant_ref_t a, b;
    evtchn_port_t port = 0;

    check_true(xb_grant_nr_entries() >= 512, "at least one grant frame mapped");
    a = xb_grant_page(page, 0, 0);
    b = xb_grant_page(page, 0, 1);
    check_true(a >= GNTTAB_NR_RESERVED_ENTRIES && b != a, "grant refs above the reserved ones");
    check_eq(xb_grant_entries[b].flags, GTF_permit_access | GTF_readonly, "read-only entry");
    check_eqx(xb_grant_entries[a].frame, (unsigned long)page >> 12, "entry names the frame");
    check_eq(xb_grant_end(a), 0, "end a grant");
    check_eq(xb_grant_entries[a].flags, 0, "its flags are clear");
    check_eq(xb_grant_page(page, 0, 0), a, "the ref is reused");
    check_eq(xb_grant_end(3), -XEN_EINVAL, "reserved refs cannot be ended");
    check_eq(xb_evtchn_alloc_unbound(0, &port), 0, "alloc_unbound for dom0");
    check_true(port > 2, "a new port");
    check_eq(xb_evtchn_close(port), 0, "close it");
}

void guest_main(void)
{
    if (xb_init() != 0)
        kit_abort("xb_init failed");
    test_store();
    test_grants_and_events();
}
