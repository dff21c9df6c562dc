/*
 * Ballooning: XENMEM_decrease_reservation / populate_physmap /
 * increase_reservation, the reservation queries, the physmap sub-ops and
 * exchange, as a PVH domU sees them (xen/common/memory.c):
 *  - the reservation sub-ops return the number of extents done; any
 *    problem (struct or list unreadable, order above 9, a frame not owned,
 *    another domain, over max_pages, populate-on-demand on oneself) stops
 *    the walk, so the call returns the count so far, never an error;
 *  - current/maximum_reservation and maximum_gpfn take a domid_t pointer:
 *    -EFAULT, -EPERM (domain 0), -ESRCH (no such domain), -EINVAL with a
 *    start extent in cmd;
 *  - a frame given back has no memory: a hypercall buffer there is -EFAULT.
 * The guest needs the top half of its first RAM region to itself (the
 * suite runs it with 64 MiB). With rss=1 it stops after touching that half,
 * after giving it back and after taking it again, printing `BALLOON: <stage>`
 * and waiting for a character on the console, so the host can measure.
 */
#include "kit.h"
#include <xen/memory.h>
#include <xen/sched.h>

#define PAGE 4096ul
#define CHUNK 512ul /* frames in an order-9 extent */

static xen_pfn_t list[CHUNK] __attribute__((aligned(4096)));
static unsigned long base, nframes; /* the balloon: [base, base + nframes) */
static int rss_mode;

static volatile uint32_t *frame(unsigned long gfn)
{
    return (volatile uint32_t *)(gfn * PAGE);
}

static uint32_t pattern(unsigned long gfn)
{
    return (uint32_t)(gfn * 2654435761u) ^ 0xba11;
}

static long reservation_call(unsigned int op, xen_pfn_t *l, unsigned long nr,
                             unsigned int order, unsigned int flags, domid_t domid)
{
    static struct xen_memory_reservation r;

    memset(&r, 0, sizeof(r));
    set_xen_guest_handle(r.extent_start, l);
    r.nr_extents = nr;
    r.extent_order = order;
    r.mem_flags = flags;
    r.domid = domid;
    return HYPERVISOR_memory_op(op, &r);
}

static long query(unsigned int op, domid_t domid)
{
    static domid_t d;

    d = domid;
    return HYPERVISOR_memory_op(op, &d);
}

static long current_pages(void)
{
    return query(XENMEM_current_reservation, DOMID_SELF);
}

/* Is the frame's memory gone? A hypercall reading a buffer there faults. */
static int frame_is_empty(unsigned long gfn)
{
    return HYPERVISOR_memory_op(XENMEM_current_reservation, (void *)(gfn * PAGE)) ==
           -XEN_EFAULT;
}

static void wait_host(const char *stage)
{
    char c;

    if (!rss_mode)
        return;
    printf("BALLOON: %s\n", stage);
    for (unsigned long spins = 0; spins < 20000000ul; spins++) {
        if (HYPERVISOR_console_io(CONSOLEIO_read, 1, &c) > 0)
            return;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    kit_abort("the host never answered");
}

static unsigned long low_ram_top(void)
{
    static struct e820_entry map[64];
    unsigned int n = ARRAY_SIZE(map);

    if (kit_memory_map(map, &n))
        kit_abort("no memory map");
    for (unsigned int i = 0; i < n; i++)
        if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && map[i].addr <= 0x100000 &&
            map[i].addr + map[i].size > 0x100000)
            return (unsigned long)(map[i].addr + map[i].size);
    kit_abort("no RAM at 1 MiB");
}

static void touch_balloon(void)
{
    for (unsigned long g = base; g < base + nframes; g++)
        *frame(g) = pattern(g);
}

static int balloon_intact(void)
{
    for (unsigned long g = base; g < base + nframes; g++)
        if (*frame(g) != pattern(g))
            return 0;
    return 1;
}

/* The balloon in four stretches of 2 MiB: orders 0, 1 and 4, then order 9. */
static const unsigned int orders[] = { 0, 1, 4, 9 };

static unsigned long stretch_lists(unsigned int s, unsigned long *first)
{
    unsigned int order = orders[s];
    unsigned long start = base + s * CHUNK, n;

    if (order < 9) {
        n = CHUNK >> order;
    } else {
        n = (nframes - 3 * CHUNK) / CHUNK;
    }
    for (unsigned long i = 0; i < n; i++)
        list[i] = start + (i << order);
    *first = start;
    return n;
}

static void balloon_all(unsigned int op, const char *what)
{
    for (unsigned int s = 0; s < ARRAY_SIZE(orders); s++) {
        unsigned long first, n = stretch_lists(s, &first);
        check_eq(reservation_call(op, list, n, orders[s], 0, DOMID_SELF), (long long)n,
                 "%s %lu extents of order %u from gfn %#lx: all done", what, n, orders[s],
                 first);
    }
}

static void test_bad_reservations(void)
{
    unsigned long spare = base - 2048; /* owned, unused RAM */
    xen_pfn_t *straddle = (xen_pfn_t *)(base * PAGE - sizeof(xen_pfn_t));

    list[0] = base;
    check_eq(reservation_call(XENMEM_decrease_reservation, list, 1, 0, 0, DOMID_SELF), 0,
             "decrease of a frame already given back does nothing");
    list[0] = 0x20000; /* 512 MiB: no RAM there */
    check_eq(reservation_call(XENMEM_decrease_reservation, list, 1, 0, 0, DOMID_SELF), 0,
             "decrease of a frame in a hole does nothing");
    list[0] = spare;
    check_eq(reservation_call(XENMEM_decrease_reservation, list, 1, 10, 0, DOMID_SELF), 0,
             "decrease of order 10 is refused (0 done)");
    check_eq(reservation_call(XENMEM_increase_reservation, NULL, 1, 10, 0, DOMID_SELF), 0,
             "increase of order 10 is refused (0 done)");
    list[0] = base;
    check_eq(reservation_call(XENMEM_populate_physmap, list, 1, 10, 0, DOMID_SELF), 0,
             "populate of order 10 is refused (0 done)");
    check_eq(reservation_call(XENMEM_populate_physmap, list, 1, 0,
                              XENMEMF_populate_on_demand, DOMID_SELF), 0,
             "populate-on-demand on oneself does nothing");
    list[0] = spare;
    check_eq(reservation_call(XENMEM_decrease_reservation, list, 1, 0, 0, 0), 0,
             "decrease for domain 0 does nothing");
    check_eq(reservation_call(XENMEM_decrease_reservation, list, 1, 0, 0, 7), 0,
             "decrease for domain 7 does nothing");
    check_eq(reservation_call(XENMEM_decrease_reservation, BAD_PTR, 1, 0, 0, DOMID_SELF), 0,
             "decrease with the list at %p does nothing", BAD_PTR);
    check_eq(reservation_call(XENMEM_decrease_reservation, list,
                              sizeof(long) == 8 ? (1ul << 40) : 0x4000000ul, 0, 0, DOMID_SELF),
             0, "decrease of more extents than a continuation encodes does nothing");
    check_eq(HYPERVISOR_memory_op(XENMEM_decrease_reservation, BAD_PTR), 0,
             "decrease with the reservation at %p returns 0 done", BAD_PTR);
    check_eq(HYPERVISOR_memory_op(XENMEM_populate_physmap, BAD_PTR), 0,
             "populate with the reservation at %p returns 0 done", BAD_PTR);
    /* A start extent in cmd at or past nr_extents: returned as is. */
    {
        static struct xen_memory_reservation r;
        memset(&r, 0, sizeof(r));
        set_xen_guest_handle(r.extent_start, list);
        r.nr_extents = 3;
        r.domid = DOMID_SELF;
        check_eq(HYPERVISOR_memory_op(XENMEM_decrease_reservation | (5u << 6), &r), 5,
                 "start extent 5 of 3 returns 5");
    }
    /* The list's second entry is in a frame given back: one extent done. */
    straddle[0] = base - 16;
    check_eq(reservation_call(XENMEM_decrease_reservation, straddle, 2, 0, 0, DOMID_SELF), 1,
             "a list running into a frame given back stops there (1 done)");
    check_true(frame_is_empty(base - 16), "the extent before it was given back");
}

static void test_queries(long cur, long max)
{
    check_eq(query(XENMEM_current_reservation, 0), -XEN_EPERM,
             "current_reservation of domain 0 is -EPERM");
    check_eq(query(XENMEM_maximum_reservation, 7), -XEN_ESRCH,
             "maximum_reservation of domain 7 is -ESRCH");
    check_eq(query(XENMEM_current_reservation, 1), cur, "current_reservation of domain 1 (us)");
    check_eq(query(XENMEM_maximum_reservation, DOMID_SELF), max, "maximum_reservation");
    check_eq(HYPERVISOR_memory_op(XENMEM_current_reservation | (1u << 6), &list[0]),
             -XEN_EINVAL, "current_reservation with a start extent is -EINVAL");
    check_eq(HYPERVISOR_memory_op(XENMEM_current_reservation, BAD_PTR), -XEN_EFAULT,
             "current_reservation with the domid at %p is -EFAULT", BAD_PTR);
    check_true(frame_is_empty(base), "a hypercall buffer in a frame given back is -EFAULT");
    long gpfn = query(XENMEM_maximum_gpfn, DOMID_SELF);
    printf("# maximum_gpfn %#lx, maximum_ram_page %#lx\n", gpfn,
           HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL));
    check_true(gpfn >= (long)(base + nframes - 1) && gpfn >= 0xfefff,
               "maximum_gpfn covers RAM and the special pages");
    check_true(HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL) > 0,
               "maximum_ram_page is positive");
    check_eq(HYPERVISOR_memory_op(18, NULL), -XEN_ENOSYS,
             "get_sharing_freed_pages is -ENOSYS (no memory sharing)");
}

static long xatp(unsigned int space, unsigned long idx, unsigned long gpfn, unsigned int size)
{
    static struct xen_add_to_physmap a;

    a.domid = DOMID_SELF;
    a.size = size;
    a.space = space;
    a.idx = idx;
    a.gpfn = gpfn;
    return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &a);
}

static long remove_frame(unsigned long gpfn)
{
    static struct xen_remove_from_physmap r;

    r.domid = DOMID_SELF;
    r.gpfn = gpfn;
    return HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &r);
}

/* Frames moved or removed here: pages Xen keeps or frees change the count. */
static long test_physmap(long cur)
{
    unsigned long g1 = base - 100, g2 = base - 101;
    static xen_ulong_t idxs[3];
    static xen_pfn_t gpfns[3];
    static int errs[3];
    static struct xen_add_to_physmap_batch b;

    *frame(g2) = 0x600d;
    check_eq(remove_frame(g1), 0, "remove_from_physmap of an owned frame");
    check_true(frame_is_empty(g1), "the removed frame has no memory");
    check_eq(current_pages(), cur, "the page stays reserved after remove_from_physmap");
    check_eq(remove_frame(g1), -XEN_ENOENT, "remove_from_physmap of an empty frame is -ENOENT");
    check_eq(xatp(XENMAPSPACE_gmfn, g2, g1, 0), 0, "add_to_physmap(gmfn) moves a frame");
    check_eqx(*frame(g1), 0x600d, "the moved frame keeps its contents");
    check_true(frame_is_empty(g2), "the frame it left is empty");
    check_eq(xatp(XENMAPSPACE_gmfn, g2, g1, 0), -XEN_EINVAL,
             "add_to_physmap(gmfn) from an empty frame is -EINVAL");
    check_eq(current_pages(), cur, "moving into an empty frame keeps the count");

    for (unsigned long k = 0; k < 4; k++)
        *frame(base - 120 + k) = 0x7a00 + (uint32_t)k;
    check_eq(xatp(XENMAPSPACE_gmfn_range, base - 120, base - 130, 4), 0,
             "add_to_physmap(gmfn_range) of 4 frames onto 4 owned ones");
    check_true(*frame(base - 130) == 0x7a00 && *frame(base - 127) == 0x7a03,
               "the range moved with its contents");
    cur -= 4; /* the 4 pages moved over were freed */
    check_eq(current_pages(), cur, "the frames moved over were freed");

    idxs[0] = base - 140, gpfns[0] = base - 150;
    idxs[1] = base - 120, gpfns[1] = base - 151; /* empty since the range move */
    errs[0] = errs[1] = 12345;
    memset(&b, 0, sizeof(b));
    b.domid = DOMID_SELF;
    b.space = XENMAPSPACE_gmfn;
    b.size = 2;
    set_xen_guest_handle(b.idxs, idxs);
    set_xen_guest_handle(b.gpfns, gpfns);
    set_xen_guest_handle(b.errs, errs);
    check_eq(HYPERVISOR_memory_op(XENMEM_add_to_physmap_batch, &b), 0,
             "add_to_physmap_batch(gmfn) returns 0");
    check_eq(errs[0], 0, "batch entry 0 (owned frame) is done");
    check_eq(errs[1], -XEN_EINVAL, "batch entry 1 (empty frame) is -EINVAL");
    cur -= 1;
    b.space = XENMAPSPACE_gmfn_range;
    check_eq(HYPERVISOR_memory_op(XENMEM_add_to_physmap_batch, &b), -XEN_EOPNOTSUPP,
             "add_to_physmap_batch(gmfn_range) is -EOPNOTSUPP");
    b.space = XENMAPSPACE_gmfn_foreign;
    b.size = 1;
    b.u.foreign_domid = 0;
    check_eq(HYPERVISOR_memory_op(XENMEM_add_to_physmap_batch, &b), 0,
             "add_to_physmap_batch(gmfn_foreign) returns 0");
    check_eq(errs[0], -XEN_EPERM, "a domU may not map foreign frames (-EPERM)");
    check_eq(HYPERVISOR_memory_op(XENMEM_add_to_physmap_batch, BAD_PTR), -XEN_EFAULT,
             "add_to_physmap_batch at %p is -EFAULT", BAD_PTR);
    check_eq(current_pages(), cur, "the count after the batch");
    return cur;
}

static void test_exchange(long cur)
{
    static struct xen_memory_exchange e;
    static xen_pfn_t in[4], out[1];

    for (unsigned int k = 0; k < 4; k++)
        in[k] = base - 200 + k;
    out[0] = base - 300;
    memset(&e, 0, sizeof(e));
    set_xen_guest_handle(e.in.extent_start, in);
    e.in.nr_extents = 4;
    e.in.domid = DOMID_SELF;
    set_xen_guest_handle(e.out.extent_start, out);
    e.out.nr_extents = 1;
    e.out.extent_order = 2;
    e.out.domid = DOMID_SELF;
    e.out.nr_extents = 2;
    check_eq(HYPERVISOR_memory_op(XENMEM_exchange, &e), -XEN_EINVAL,
             "exchange of 4 frames for 8 is -EINVAL");
    e.out.nr_extents = 1;
    e.out.extent_order = 10;
    e.in.nr_extents = 1024;
    check_eq(HYPERVISOR_memory_op(XENMEM_exchange, &e), -XEN_EPERM,
             "exchange with order 10 is -EPERM");
    e.out.extent_order = 2;
    e.in.nr_extents = 4;
    check_eq(HYPERVISOR_memory_op(XENMEM_exchange, BAD_PTR), -XEN_EFAULT,
             "exchange at %p is -EFAULT", BAD_PTR);
    check_eq(HYPERVISOR_memory_op(XENMEM_exchange, &e), 0, "exchange 4 frames for 1 order-2");
    check_eq(e.nr_exchanged, 4, "nr_exchanged is 4");
    check_true(frame_is_empty(base - 200) && frame_is_empty(base - 197),
               "the frames given are empty");
    check_true(!frame_is_empty(base - 300) && !frame_is_empty(base - 297),
               "the frames received are memory");
    check_eq(current_pages(), cur, "exchange keeps the count");
}

/* Populate exactly to the maximum: the extent past it is refused. */
static void test_limits(long max)
{
    static const long empties[] = { -16, -101, -120, -119, -118, -117, -140, -200, -199 };
    long cur = current_pages(), room = max - cur;

    printf("# %ld pages below the maximum\n", room);
    check_true(room >= 1 && room + 1 <= (long)ARRAY_SIZE(empties), "room for the limit test");
    for (long i = 0; i <= room && i < (long)ARRAY_SIZE(empties); i++)
        list[i] = base + empties[i];
    check_eq(reservation_call(XENMEM_populate_physmap, list, (unsigned long)room + 1, 0, 0,
                              DOMID_SELF), room, "populate stops at the maximum (%ld of %ld)",
             room, room + 1);
    check_eq(current_pages(), max, "current_reservation is the maximum");

    list[0] = base - 400, list[1] = base - 401;
    check_eq(reservation_call(XENMEM_decrease_reservation, list, 2, 0, 0, DOMID_SELF), 2,
             "give 2 frames back");
    check_eq(reservation_call(XENMEM_increase_reservation, NULL, 3, 0, 0, DOMID_SELF), 2,
             "increase_reservation takes 2 of 3 pages, up to the maximum");
    check_eq(current_pages(), max, "current_reservation is the maximum again");
    check_eq(reservation_call(XENMEM_populate_physmap, list, 1, 0, 0, DOMID_SELF), 0,
             "populate beyond the maximum does nothing");
}

void guest_main(void)
{
    unsigned long top = low_ram_top();
    long cur0, max0, cur;

    rss_mode = kit_arg_ulong("rss", 0) != 0;
    base = (top / 2) / PAGE & ~(CHUNK - 1);
    nframes = ((top / PAGE) & ~(CHUNK - 1)) - base;
    printf("# balloon tests, %d-bit guest: balloon %#lx-%#lx (%lu frames)\n", KIT_BITS,
           base * PAGE, (base + nframes) * PAGE - 1, nframes);
    if (nframes < 4 * CHUNK || base < 4096)
        kit_abort("needs at least 32 MiB of RAM below 3 GiB");

    cur0 = current_pages();
    max0 = query(XENMEM_maximum_reservation, DOMID_SELF);
    printf("# current_reservation %ld, maximum_reservation %ld\n", cur0, max0);
    check_true(cur0 > 0 && cur0 <= max0, "current_reservation within the maximum");
    for (unsigned long g = base - 1000; g < base - 936; g++)
        *frame(g) = pattern(g);
    touch_balloon();
    wait_host("touched");

    balloon_all(XENMEM_decrease_reservation, "decrease");
    cur = cur0 - (long)nframes;
    check_eq(current_pages(), cur, "current_reservation dropped by the balloon");
    check_true(frame_is_empty(base) && frame_is_empty(base + nframes - 1),
               "the balloon's frames are empty");
    wait_host("released");

    test_bad_reservations();
    cur -= 1;
    test_queries(cur, max0);
    cur = test_physmap(cur);
    test_exchange(cur);

    balloon_all(XENMEM_populate_physmap, "populate");
    cur += (long)nframes;
    check_eq(current_pages(), cur, "current_reservation back up by the balloon");
    check_true(!frame_is_empty(base) && !frame_is_empty(base + nframes - 1),
               "the balloon's frames are memory again");
    touch_balloon();
    check_true(balloon_intact(), "the balloon's frames hold what is written to them");
    wait_host("repopulated");

    test_limits(max0);
    int intact = 1;
    for (unsigned long g = base - 1000; g < base - 936; g++)
        intact &= *frame(g) == pattern(g);
    check_true(intact, "memory outside the balloon kept its data throughout");
}
