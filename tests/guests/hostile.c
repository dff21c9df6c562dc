/*
 * A hostile guest (issue 7): malformed calls of every family, each followed
 * by a normal hypercall that must still work. Expected codes follow Xen:
 *  - a guest buffer that is not (all) RAM is -EFAULT; a call that reads its
 *    argument struct first fails before writing anything;
 *  - console_io counts are unsigned int and a write that runs off RAM is
 *    -EFAULT; multicall ends with -EFAULT at the first unreadable entry,
 *    after the earlier entries ran; XENMEM_memory_map copies
 *    min(nr_entries, count); grant_table_op refuses (int)count < 0 with
 *    -EINVAL and an unreadable op with -EFAULT;
 *  - a nested multicall entry gets -EINVAL; each entry is read just before
 *    it runs, so an earlier entry may rewrite a later one;
 *  - lying PV console ring indices must not stop the VMM;
 *  - 64-bit only, with cpl3=1: a hypercall from CPL3 is -EPERM (Xen's HVM rule).
 */
#include "kit.h"
#include <xen/version.h>
#include <xen/memory.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>

#define UNSET ((xen_ulong_t)0xdead)
#define MAX_E820 64
#define FILL 0x5a

static struct e820_entry map[MAX_E820];
static unsigned int map_n;
/* End of the RAM entry holding the image: the first byte past RAM. */
static unsigned long ram_end;

static void still_serving(const char *after)
{
    check_eq(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096,
             "xen_version still works after %s", after);
}

static void find_ram_end(void)
{
    unsigned int n = MAX_E820;

    if (kit_memory_map(map, &n) || !n || n > MAX_E820)
        kit_abort("XENMEM_memory_map failed");
    map_n = n;
    for (unsigned int i = 0; i < n; i++)
        if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && map[i].addr <= 0x100000 &&
            0x100000 - map[i].addr < map[i].size)
            ram_end = (unsigned long)(map[i].addr + map[i].size);
    if (!ram_end || ram_end >= 0xfec00000ul)
        kit_abort("no RAM entry below the MMIO hole holds the image");
    printf("# RAM ends at %#lx\n", ram_end);
}

/* ---- bad pointers, one call per family ---------------------------------- */

enum family { F_VERSION, F_CONSOLE, F_MEMORY, F_MULTICALL, F_GNTTAB, F_HVM, F_SCHED,
              F_EVTCHN, F_VCPU, F_COUNT };
static const char *const family_name[F_COUNT] = {
    "xen_version(extraversion)", "console_io(write 16)", "memory_op(memory_map)",
    "multicall(1)", "grant_table_op(query_size)", "hvm_op(get_param)",
    "sched_op(shutdown)", "event_channel_op(send)", "vcpu_op(get_runstate_info)",
};
/* Families whose first access to the buffer is a read: a fault writes nothing. */
static const unsigned char reads_first[F_COUNT] = {
    [F_CONSOLE] = 1, [F_MEMORY] = 1, [F_MULTICALL] = 1, [F_GNTTAB] = 1,
    [F_HVM] = 1, [F_SCHED] = 1, [F_EVTCHN] = 1,
};

static long call_family(enum family f, unsigned long p)
{
    switch (f) {
    case F_VERSION:
        return HYPERVISOR_xen_version(XENVER_extraversion, (void *)p);
    case F_CONSOLE:
        return HYPERVISOR_console_io(CONSOLEIO_write, 16, (void *)p);
    case F_MEMORY:
        return HYPERVISOR_memory_op(XENMEM_memory_map, (void *)p);
    case F_MULTICALL:
        return HYPERVISOR_multicall((void *)p, 1);
    case F_GNTTAB:
        return hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, p, 1);
    case F_HVM:
        return HYPERVISOR_hvm_op(HVMOP_get_param, (void *)p);
    case F_SCHED: /* must fail before it could power the guest off */
        return HYPERVISOR_sched_op(SCHEDOP_shutdown, (void *)p);
    case F_EVTCHN:
        return hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, p);
    default:
        return hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, p);
    }
}

static void test_bad_pointers(void)
{
    unsigned long ptrs[8];
    unsigned int np = 0;

    ptrs[np++] = ram_end;
    ptrs[np++] = 0xfee00000ul;
    ptrs[np++] = 0xfec00000ul;
    for (unsigned int i = 0; i < ARRAY_SIZE(kit_bad_ptrs); i++)
        ptrs[np++] = kit_bad_ptrs[i];
    for (unsigned int f = 0; f < F_COUNT; f++) {
        for (unsigned int i = 0; i < np; i++)
            check_eq(call_family(f, ptrs[i]), -XEN_EFAULT, "%s with buffer %#lx is -EFAULT",
                     family_name[f], ptrs[i]);
        still_serving(family_name[f]);
    }
}

/* Buffers whose first 2 bytes are the last 2 bytes of RAM. */
static void test_crossing(void)
{
    volatile uint8_t *tail = (volatile uint8_t *)(ram_end - 2);

    for (unsigned int f = 0; f < F_COUNT; f++) {
        tail[0] = FILL;
        tail[1] = FILL;
        check_eq(call_family(f, ram_end - 2), -XEN_EFAULT,
                 "%s with a buffer crossing from RAM into the hole is -EFAULT", family_name[f]);
        if (reads_first[f])
            check_true(tail[0] == FILL && tail[1] == FILL,
                       "%s left the RAM part of the crossing buffer alone", family_name[f]);
    }
    still_serving("buffers crossing the end of RAM");
}

/* ---- lengths and counts near 2^31 and 2^32 -------------------------------- */

static void test_console_counts(void)
{
    static const char marker[] = "\n# (console_io ran off the end of RAM here)\n";
    char *buf = (char *)(ram_end - (sizeof(marker) - 1));

    memcpy(buf, marker, sizeof(marker) - 1);
    check_eq(HYPERVISOR_console_io(CONSOLEIO_write, 0x80000000u, buf), -XEN_EFAULT,
             "console_io write of 0x80000000 bytes running off RAM is -EFAULT");
    still_serving("console_io count 0x80000000");
    check_eq(HYPERVISOR_console_io(CONSOLEIO_write, 0xffffffffu, buf), -XEN_EFAULT,
             "console_io write of 0xffffffff bytes running off RAM is -EFAULT");
    still_serving("console_io count 0xffffffff");
#ifdef __x86_64__
    /* count is an unsigned int: the upper half of the register is ignored. */
    check_eq(hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, 0x100000000ul + 2, "#\n"), 0,
             "console_io count 2 + 2^32 is count 2");
#endif
}

static void set_call(multicall_entry_t *c, unsigned long op, unsigned long a0, unsigned long a1,
                     unsigned long a2)
{
    memset(c, 0, sizeof(*c));
    c->op = op;
    c->result = UNSET;
    c->args[0] = a0;
    c->args[1] = a1;
    c->args[2] = a2;
}

static void test_multicall_huge(void)
{
    multicall_entry_t *list = (multicall_entry_t *)(ram_end - 2 * sizeof(multicall_entry_t));

    set_call(&list[0], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    set_call(&list[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    check_eq(HYPERVISOR_multicall(list, 0xffffffffu), -XEN_EFAULT,
             "multicall of 0xffffffff entries at the end of RAM is -EFAULT");
    check_eq((long)list[0].result, 4096, "its first entry ran");
    check_eq((long)list[1].result, 4096, "its last entry in RAM ran");
    still_serving("multicall nr_calls 0xffffffff");
}

static void test_memory_map_huge(void)
{
    static struct e820_entry again[MAX_E820];
    struct xen_memory_map mm;

    memset(&mm, 0, sizeof(mm));
    mm.nr_entries = 0xffffffffu;
    set_xen_guest_handle(mm.buffer, (void *)again);
    check_eq(HYPERVISOR_memory_op(XENMEM_memory_map, &mm), 0,
             "XENMEM_memory_map with nr_entries 0xffffffff returns 0");
    check_eq(mm.nr_entries, map_n, "nr_entries 0xffffffff is cut to the real count");
    check_true(!memcmp(again, map, map_n * sizeof(map[0])), "and the entries are the map");
    still_serving("memory_map nr_entries 0xffffffff");
}

static void test_gnttab_counts(void)
{
    static const unsigned int cmds[] = { GNTTABOP_copy, GNTTABOP_map_grant_ref,
                                         GNTTABOP_unmap_grant_ref };

    for (unsigned int i = 0; i < ARRAY_SIZE(cmds); i++) {
        for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
            check_eq(hypercall3(__HYPERVISOR_grant_table_op, cmds[i], kit_bad_ptrs[p],
                                0x7fffffffu),
                     -XEN_EFAULT, "grant_table_op %u count 0x7fffffff handle %#lx is -EFAULT",
                     cmds[i], kit_bad_ptrs[p]);
        check_eq(hypercall3(__HYPERVISOR_grant_table_op, cmds[i], ram_end - 2, 0x7fffffffu),
                 -XEN_EFAULT, "grant_table_op %u count 0x7fffffff crossing the end is -EFAULT",
                 cmds[i]);
        check_eq(hypercall3(__HYPERVISOR_grant_table_op, cmds[i], BAD_PTR, 0x80000000u),
                 -XEN_EINVAL, "grant_table_op %u count 0x80000000 is -EINVAL", cmds[i]);
        check_eq(hypercall3(__HYPERVISOR_grant_table_op, cmds[i], BAD_PTR, 0xffffffffu),
                 -XEN_EINVAL, "grant_table_op %u count 0xffffffff is -EINVAL", cmds[i]);
    }
    still_serving("grant_table_op huge counts");
}

/* ---- overlapping buffers and recursion ------------------------------------ */

static multicall_entry_t calls[4];

static void test_overlap(void)
{
    char extra[XEN_EXTRAVERSION_LEN];
    volatile char on_stack[XEN_EXTRAVERSION_LEN + 16];
    xen_ulong_t op1;

    memset(extra, 0, sizeof(extra));
    check_eq(HYPERVISOR_xen_version(XENVER_extraversion, extra), 0, "XENVER_extraversion");
    memcpy(&op1, extra, sizeof(op1));

    /* Entry 0 writes the extraversion string over entry 1's op and result. */
    set_call(&calls[0], __HYPERVISOR_xen_version, XENVER_extraversion, UL(&calls[1]), 0);
    set_call(&calls[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    set_call(&calls[2], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    check_eq(HYPERVISOR_multicall(calls, 3), 0, "multicall rewriting its own next entry is 0");
    check_eq((long)calls[0].result, 0, "the rewriting entry succeeded");
    if (op1 >= 64)
        check_eq((long)calls[1].result, -XEN_ENOSYS,
                 "the rewritten entry ran as op %#lx and got -ENOSYS", (unsigned long)op1);
    check_eqx(calls[1].op, op1, "the rewritten entry's op is the string's first word");
    check_eq((long)calls[2].result, 4096, "the entry after it ran normally");
    still_serving("an overlapping multicall list");

    /* A buffer in the middle of the live stack frame. */
    memset((void *)on_stack, FILL, sizeof(on_stack));
    check_eq(HYPERVISOR_xen_version(XENVER_extraversion, (void *)(on_stack + 8)), 0,
             "XENVER_extraversion into the guest's own stack is 0");
    check_true(!memcmp((const void *)(on_stack + 8), extra, sizeof(extra)) &&
                   on_stack[7] == FILL && on_stack[8 + XEN_EXTRAVERSION_LEN] == FILL,
               "it wrote exactly the string into the stack");
}

static void test_recursion(void)
{
    set_call(&calls[0], __HYPERVISOR_multicall, UL(&calls[1]), 1, 0);
    set_call(&calls[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    check_eq(HYPERVISOR_multicall(calls, 1), 0, "multicall holding a multicall is 0");
    check_eq((long)calls[0].result, -XEN_EINVAL, "the nested multicall entry is -EINVAL");
    check_eqx(calls[1].result, UNSET, "the nested batch did not run");

    set_call(&calls[0], __HYPERVISOR_multicall, UL(calls), 2, 0);
    set_call(&calls[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    check_eq(HYPERVISOR_multicall(calls, 2), 0, "multicall whose entry is the list itself is 0");
    check_eq((long)calls[0].result, -XEN_EINVAL, "the self-referencing entry is -EINVAL");
    check_eq((long)calls[1].result, 4096, "the entry after it ran once");
    still_serving("recursive multicalls");
}

/* ---- PV console ring indices that lie -------------------------------------- */

static long get_param(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);

    *value = p.value;
    return rc;
}

static void kick(evtchn_port_t port, const char *what)
{
    struct evtchn_send s = { .port = port };

    check_eq(hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, &s), 0,
             "EVTCHNOP_send on the console port after %s", what);
    /* Give the backend time to look at the ring. */
    for (int i = 0; i < 20; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    still_serving(what);
}

static void test_console_ring(void)
{
    static const char msg[] = "# hostile: PV console ring output after the lies\n";
    uint64_t pfn, port;
    volatile struct xencons_interface *r;
    uint32_t cons;

    if (get_param(HVM_PARAM_CONSOLE_PFN, &pfn) || get_param(HVM_PARAM_CONSOLE_EVTCHN, &port) ||
        !pfn || pfn >= (1ull << 20)) {
        check_true(0, "HVM_PARAM_CONSOLE_PFN/EVTCHN are readable");
        return;
    }
    r = (volatile struct xencons_interface *)(unsigned long)(pfn << 12);
    cons = r->out_cons;
    r->out_prod = cons + 0x7fffffffu;
    kick((evtchn_port_t)port, "out_prod 2^31 past out_cons");
    r->out_prod = r->out_cons - 1;
    kick((evtchn_port_t)port, "out_prod behind out_cons");
    r->out_prod = 0xffffffffu;
    r->out_cons = 0;
    kick((evtchn_port_t)port, "out_cons 0 and out_prod 0xffffffff");
    r->in_cons = r->in_prod + 0x80000000u;
    kick((evtchn_port_t)port, "in_cons 2^31 past in_prod");

    /* Back to a sane ring: the backend must still take well-formed output. */
    r->in_cons = r->in_prod;
    cons = r->out_cons;
    r->out_prod = cons;
    for (unsigned int i = 0; i < sizeof(msg) - 1; i++)
        r->out[MASK_XENCONS_IDX(cons + i, r->out)] = msg[i];
    __asm__ volatile("" ::: "memory");
    r->out_prod = cons + sizeof(msg) - 1;
    kick((evtchn_port_t)port, "a well-formed ring write");
    printf("# hostile: console_io output after the ring lies\n");
}

/* ---- CPL3 (64-bit only) -------------------------------------------------- */

#ifdef __x86_64__
#define PTE_US 4ul
#define PTE_ADDR 0x000ffffffffff000ul

/* The kit's GDT plus ring-3 data (0x18) and 64-bit code (0x20) and a TSS.
 * The way back is `int $0x80`, not syscall: PVM delivers a ring-3 syscall
 * to LSTAR but leaves CS at the user selector (CPL3). */
static uint64_t gdt[] __attribute__((aligned(16))) = {
    0, 0x00af9a000000ffff, 0x00cf92000000ffff, 0x00cff2000000ffff, 0x00affa000000ffff,
    0, 0, /* 0x28: the TSS, filled at run time */
};
#define TSS_SEL 0x28
/* A 64-bit TSS whose RSP0 is the stack `int $0x80` from ring 3 lands on. */
static uint32_t tss[26] __attribute__((aligned(16)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
struct gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));
static struct gate idt[0x81] __attribute__((aligned(16)));
#define USER_DS (0x18 | 3)
#define USER_CS (0x20 | 3)

/* Ring-3 trampoline: ring3_call(nr, a1, a2) iretq's to ring 3 with IOPL=3,
 * calls the hypercall page stub there, reads CS, and comes back to ring 0
 * through `int $0x80` (a DPL3 gate to ring3_back), returning the stub's RAX. */
long ring3_call(unsigned long nr, unsigned long a1, unsigned long a2);
unsigned long ring3_cs;
static unsigned long ring3_saved_rsp __attribute__((used));
static uint8_t ring3_stack[4096] __attribute__((aligned(16), used));
extern const uint8_t ring3_back[], __bss_end[];

__asm__(".text\n"
        ".globl ring3_call\n"
        "ring3_call:\n"
        "  pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
        "  movq %rsp, ring3_saved_rsp(%rip)\n"
        "  movq %rdi, %rax\n"
        "  shlq $5, %rax\n"
        "  leaq hypercall_page(%rip), %rcx\n"
        "  addq %rcx, %rax\n"
        "  movq %rsi, %rdi\n"
        "  movq %rdx, %rsi\n"
        "  pushq $" "0x1b" "\n"
        "  leaq ring3_stack+4096(%rip), %rcx\n"
        "  pushq %rcx\n"
        "  pushq $0x3002\n"
        "  pushq $" "0x23" "\n"
        "  leaq 1f(%rip), %rcx\n"
        "  pushq %rcx\n"
        "  iretq\n"
        "1: call *%rax\n"
        "  movl %cs, %edx\n"
        "  int $0x80\n"
        ".globl ring3_back\n"
        "ring3_back:\n"
        "  movq ring3_saved_rsp(%rip), %rsp\n"
        "  movq %rdx, ring3_cs(%rip)\n"
        "  movl $0x10, %ecx\n"
        "  movl %ecx, %ds; movl %ecx, %es; movl %ecx, %ss\n"
        "  popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
        "  ret\n");

/* The kit maps 0..4 GiB with 2 MiB pages: open the image's to ring 3. */
static void open_image_to_user(void)
{
    unsigned long cr3, *pml4, *pdpt, *pd;

    __asm__ volatile("movq %%cr3, %0" : "=r"(cr3));
    pml4 = (unsigned long *)(cr3 & PTE_ADDR);
    pml4[0] |= PTE_US;
    pdpt = (unsigned long *)(pml4[0] & PTE_ADDR);
    pdpt[0] |= PTE_US;
    pd = (unsigned long *)(pdpt[0] & PTE_ADDR);
    for (unsigned long a = 0x100000; a < UL(__bss_end); a += 0x200000)
        pd[a >> 21] |= PTE_US;
    pd[(UL(__bss_end) - 1) >> 21] |= PTE_US;
    __asm__ volatile("movq %0, %%cr3" ::"r"(cr3) : "memory");
}

static void test_cpl3(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } desc = { sizeof(gdt) - 1, (uint64_t)gdt };
    struct sched_shutdown off = { .reason = SHUTDOWN_poweroff };
    static const char msg[] = "hostile: THIS MUST NOT APPEAR (console_io from CPL3)\n";

    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = { sizeof(idt) - 1, (uint64_t)idt };
    uint64_t base = UL(tss), rsp0 = UL(ring0_stack + sizeof(ring0_stack)), back = UL(ring3_back);

    memcpy((uint8_t *)tss + 4, &rsp0, sizeof(rsp0));
    gdt[5] = (sizeof(tss) - 1) | (base & 0xffffff) << 16 | 0x89ull << 40 | (base >> 24 & 0xff) << 56;
    gdt[6] = base >> 32;
    idt[0x80] = (struct gate){ .off_lo = (uint16_t)back, .sel = 0x08, .type = 0xee,
                               .off_mid = (uint16_t)(back >> 16), .off_hi = (uint32_t)(back >> 32) };
    __asm__ volatile("lgdt %0; lidt %1; ltr %w2" ::"m"(desc), "m"(idtr), "r"(TSS_SEL) : "memory");
    open_image_to_user();

    check_eq(ring3_call(__HYPERVISOR_xen_version, XENVER_version, 0), -XEN_EPERM,
             "xen_version from CPL3 is -EPERM");
    check_eqx(ring3_cs, USER_CS, "the call was made with CS %#x (CPL3)", USER_CS);
    still_serving("a CPL3 xen_version");
    check_eq(ring3_call(__HYPERVISOR_console_io, CONSOLEIO_write, sizeof(msg) - 1), -XEN_EPERM,
             "console_io from CPL3 is -EPERM");
    check_eq(ring3_call(__HYPERVISOR_sched_op, SCHEDOP_shutdown, UL(&off)), -XEN_EPERM,
             "sched_op(shutdown poweroff) from CPL3 is -EPERM, and the guest runs on");
    still_serving("a CPL3 shutdown");
}
#endif

void guest_main(void)
{
    printf("# hostile tests, %d-bit guest\n", KIT_BITS);
    find_ram_end();
    test_bad_pointers();
    test_crossing();
    test_console_counts();
    test_multicall_huge();
    test_memory_map_huge();
    test_gnttab_counts();
    test_overlap();
    test_recursion();
    test_console_ring();
#ifdef __x86_64__
    /* Opt-in: on the PVM host the way back from ring 3 (int $0x80 through a
     * DPL3 gate, or syscall) triple-faults, so the default run skips it. */
    if (kit_arg_ulong("cpl3", 0))
        test_cpl3();
    else
        printf("# CPL3 checks skipped (cpl3=1 runs them)\n");
#endif
}
