/*
 * Long hypercalls and the rate limit. xenkvm preempts a call after a budget
 * of work (HCALL_WORK_BUDGET, 256 pages' worth) and makes the guest re-issue
 * it with Xen's continuation arguments, as Xen does
 * (hypercall_create_continuation): memory_op with the next extent in cmd's
 * high bits, grant_table_op and multicall with the list pointer advanced
 * and the count reduced, console_io with the buffer advanced. The guest
 * must see one call with the whole result:
 *  - decrease_reservation / populate_physmap of 1024 extents return 1024;
 *  - a GNTTABOP_copy of 1024 elements writes every status in its element;
 *  - a 600-entry multicall writes every result, including that of an entry
 *    (a 1024-extent decrease_reservation) preempted in the middle;
 *  - a 40 KB CONSOLEIO_write prints all of its 400 lines once (checked by
 *    the runner).
 * The runner checks with --trace that the re-issued calls happened.
 * With spin=1 on the command line the guest instead spins on hypercalls
 * forever, printing a line every 50 calls (for --hypercall-rate).
 */
#include "kit.h"
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/version.h>

#define PAGE 4096ul
#define NEXT 1024u /* extents and copy elements: four budgets' worth */
#define NMC 600u   /* multicall entries */
#define MC_MEM 300u /* the entry that is itself preempted */
#define LINES 400u
#define LINE_LEN 100u

static uint8_t pool[NEXT * PAGE] __attribute__((aligned(4096)));
static xen_pfn_t list[NEXT];
static struct gnttab_copy copies[NEXT];
static uint8_t page_a[PAGE] __attribute__((aligned(4096)));
static uint8_t page_b[PAGE] __attribute__((aligned(4096)));
static multicall_entry_t mc[NMC];
static char text[LINES * LINE_LEN];
static struct xen_memory_reservation res;

static long current_pages(void)
{
    static domid_t d = DOMID_SELF;
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &d);
}

static void fill_reservation(void)
{
    for (unsigned int i = 0; i < NEXT; i++)
        list[i] = ((unsigned long)pool >> 12) + i;
    memset(&res, 0, sizeof(res));
    set_xen_guest_handle(res.extent_start, list);
    res.nr_extents = NEXT;
    res.domid = DOMID_SELF;
}

/* Every pool page back, zeroed, as populate_physmap gives it. */
static void take_pool_back(const char *how)
{
    long before = current_pages();
    int zero = 1;

    check_eq(HYPERVISOR_memory_op(XENMEM_populate_physmap, &res), NEXT,
             "populate_physmap of %u extents (%s) does them all", NEXT, how);
    check_eq(current_pages() - before, NEXT, "the reservation grew by %u pages", NEXT);
    for (unsigned int i = 0; i < NEXT; i++)
        zero &= pool[i * PAGE] == 0 && pool[i * PAGE + PAGE - 1] == 0;
    check_true(zero, "every page came back zeroed");
}

static void test_reservation(void)
{
    long before;

    for (unsigned int i = 0; i < NEXT; i++)
        pool[i * PAGE] = pool[i * PAGE + PAGE - 1] = 0xa5;
    fill_reservation();
    before = current_pages();
    check_eq(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &res), NEXT,
             "decrease_reservation of %u extents does them all", NEXT);
    check_eq(before - current_pages(), NEXT, "the reservation shrank by %u pages", NEXT);
    check_eq(HYPERVISOR_memory_op(XENMEM_current_reservation, pool + (NEXT - 1) * PAGE),
             -XEN_EFAULT, "the last extent's page is gone");
    take_pool_back("after decrease");
}

static void test_grant_copy(void)
{
    int all_ok = 1;

    for (unsigned int i = 0; i < PAGE; i++)
        page_a[i] = (uint8_t)(i * 7 + 3);
    memset(page_b, 0, sizeof(page_b));
    for (unsigned int i = 0; i < NEXT; i++) {
        struct gnttab_copy *c = &copies[i];
        memset(c, 0, sizeof(*c));
        c->source.u.gmfn = (unsigned long)page_a >> 12;
        c->source.domid = DOMID_SELF;
        c->source.offset = (uint16_t)(i * 4);
        c->dest.u.gmfn = (unsigned long)page_b >> 12;
        c->dest.domid = DOMID_SELF;
        c->dest.offset = (uint16_t)(i * 4);
        c->len = 4;
        c->status = 99;
    }
    /* One bad element late in the batch: its own status, nobody else's. */
    copies[700].len = 200;
    copies[700].source.offset = 4000;
    check_eq(hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_copy, copies, NEXT), 0,
             "GNTTABOP_copy of %u elements returns 0", NEXT);
    for (unsigned int i = 0; i < NEXT; i++)
        if (i != 700)
            all_ok &= copies[i].status == GNTST_okay;
    check_true(all_ok, "every other element's status is okay");
    check_eq(copies[700].status, GNTST_bad_copy_arg, "element 700 is bad_copy_arg");
    check_true(!memcmp(page_b, page_a, 2800) && !memcmp(page_b + 2804, page_a + 2804, PAGE - 2804),
               "every good element's bytes arrived");
    check_true(page_b[2800] == 0, "the bad element copied nothing");
}

static void test_multicall(void)
{
    int all_ok = 1;
    long before;

    fill_reservation();
    for (unsigned int i = 0; i < NMC; i++) {
        memset(&mc[i], 0, sizeof(mc[i]));
        mc[i].op = __HYPERVISOR_xen_version;
        mc[i].args[0] = XENVER_version;
        mc[i].result = 12345;
    }
    mc[MC_MEM].op = __HYPERVISOR_memory_op;
    mc[MC_MEM].args[0] = XENMEM_decrease_reservation;
    mc[MC_MEM].args[1] = (unsigned long)&res;
    before = current_pages();
    check_eq(HYPERVISOR_multicall(mc, NMC), 0, "a %u-entry multicall returns 0", NMC);
    for (unsigned int i = 0; i < NMC; i++)
        if (i != MC_MEM)
            all_ok &= mc[i].result == (xen_ulong_t)kit_xen.version;
    check_true(all_ok, "every xen_version entry has its result");
    check_eq((long)mc[MC_MEM].result, NEXT, "the decrease_reservation entry did %u extents", NEXT);
    check_eq(before - current_pages(), NEXT, "and the reservation shrank by %u pages", NEXT);
    take_pool_back("after the multicall");
}

/* LINES lines in one call; the runner counts them on the console. */
static void test_console(void)
{
    for (unsigned int l = 0; l < LINES; l++) {
        char *p = text + l * LINE_LEN;
        int n = snprintf(p, LINE_LEN, "preempt console line %03u ", l);
        memset(p + n, '.', LINE_LEN - 1 - (unsigned int)n);
        p[LINE_LEN - 1] = '\n';
    }
    check_eq(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(text), text), 0,
             "a %u-byte CONSOLEIO_write returns 0", (unsigned int)sizeof(text));
}

/* For --hypercall-rate: hypercalls as fast as the vCPU is let. */
static void spin(void)
{
    for (unsigned long n = 0;; n++) {
        HYPERVISOR_xen_version(XENVER_version, NULL);
        if (n % 50 == 0)
            printf("spin %lu\n", n);
    }
}

void guest_main(void)
{
    if (kit_arg_ulong("spin", 0))
        spin();
    test_reservation();
    test_grant_copy();
    test_multicall();
    test_console();
}
