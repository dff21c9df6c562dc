/*
 * Kit runtime: hypercall page setup, start_info/cmdline access, checks and
 * the result protocol.
 */
#include "kit.h"
#include <xen/sched.h>
#include <xen/memory.h>

uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
struct kit_xen_cpuid kit_xen;
const struct hvm_start_info *kit_start_info;

static unsigned int checks_run, checks_failed;

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "memory");
}

/*
 * Without a console there is no way to report anything: load an empty IDT
 * and fault, which triple-faults the vCPU and ends the run visibly at once
 * instead of hanging until the runner's timeout.
 */
static KIT_NORETURN void triple_fault(void)
{
    static const struct __attribute__((packed)) {
        uint16_t limit;
        unsigned long base;
    } null_idt = { 0, 0 };

    __asm__ volatile("lidt %0; ud2" ::"m"(null_idt));
    __builtin_unreachable();
}

/* The same steps as Linux's xen_cpuid_base() and init_hypercall_page(). */
static int find_xen_leaves(void)
{
    uint32_t base, a, b, c, d;

    for (base = 0x40000000; base < 0x40010000; base += 0x100) {
        cpuid(base, &a, &b, &c, &d);
        /* "XenVMMXenVMM" in EBX, ECX, EDX */
        if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e && a - base >= 2) {
            kit_xen.base = base;
            kit_xen.max_leaf = a;
            cpuid(base + 1, &a, &b, &c, &d);
            kit_xen.version = a;
            cpuid(base + 2, &a, &b, &c, &d);
            kit_xen.nr_pages = a;
            kit_xen.msr = b;
            return 1;
        }
    }
    return 0;
}

void kit_start(unsigned long start_info_paddr);

void kit_start(unsigned long start_info_paddr)
{
    if (!find_xen_leaves() || kit_xen.nr_pages < 1)
        triple_fault();
    /* Page index 0 of the hypercall blob goes into our page. */
    wrmsr(kit_xen.msr, (uint64_t)(unsigned long)hypercall_page);
    if (hypercall_page[0] == 0 || hypercall_page[0] == 0xc3)
        triple_fault();

    kit_start_info = (const struct hvm_start_info *)start_info_paddr;
    if (kit_start_info->magic != XEN_HVM_START_MAGIC_VALUE) {
        printf("kit: hvm_start_info at %#lx has magic %#x, expected %#x\n", start_info_paddr,
               kit_start_info->magic, XEN_HVM_START_MAGIC_VALUE);
        kit_abort("bad hvm_start_info");
    }
    guest_main();
    kit_finish();
}

/* ---- memory map -------------------------------------------------------- */

long kit_memory_map(struct e820_entry *buf, unsigned int *nr)
{
    static struct xen_memory_map m;
    long rc;

    m.nr_entries = *nr;
    set_xen_guest_handle(m.buffer, buf);
    rc = HYPERVISOR_memory_op(XENMEM_memory_map, &m);
    *nr = m.nr_entries;
    return rc;
}

static int e820_covers(const struct e820_entry *map, unsigned int n, uint64_t addr)
{
    for (unsigned int i = 0; i < n; i++)
        if (map[i].addr <= addr && addr - map[i].addr < map[i].size)
            return 1;
    return 0;
}

uint64_t kit_e820_hole(const struct e820_entry *map, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        uint64_t end = (map[i].addr + map[i].size + 4095) & ~4095ull;

        if (end >= 0x100000 && end < 0xc0000000ull && !e820_covers(map, n, end))
            return end;
    }
    return 0;
}

/* ---- command line -------------------------------------------------------- */

const char *kit_cmdline(void)
{
    if (!kit_start_info || !kit_start_info->cmdline_paddr ||
        kit_start_info->cmdline_paddr >= 0x100000000ull)
        return "";
    return (const char *)(unsigned long)kit_start_info->cmdline_paddr;
}

int kit_arg(const char *key, char *buf, size_t len)
{
    const char *p = kit_cmdline();
    size_t klen = strlen(key);

    while (*p) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            size_t n = 0;

            p += klen + 1;
            while (p[n] && p[n] != ' ' && n + 1 < len) {
                buf[n] = p[n];
                n++;
            }
            buf[n] = '\0';
            return 1;
        }
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

unsigned long kit_arg_ulong(const char *key, unsigned long def)
{
    char buf[24], *p = buf;
    unsigned long v = 0, base = 10;

    if (!kit_arg(key, buf, sizeof(buf)) || !*p)
        return def;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; *p; p++) {
        unsigned int digit;

        if (*p >= '0' && *p <= '9')
            digit = *p - '0';
        else if (base == 16 && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
            digit = (*p | 0x20) - 'a' + 10;
        else
            return def;
        v = v * base + digit;
    }
    return v;
}

/* ---- checks ------------------------------------------------------------ */

static void report(int ok, const char *got_expected, const char *fmt, va_list ap)
{
    char text[160];

    checks_run++;
    vsnprintf(text, sizeof(text), fmt, ap);
    if (ok) {
        printf("ok %u - %s\n", checks_run, text);
        return;
    }
    checks_failed++;
    printf("not ok %u - %s (%s)\n", checks_run, text, got_expected);
}

int check_true(int cond, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(cond, "got false, expected true", fmt, ap);
    va_end(ap);
    return cond;
}

int check_eq(long long got, long long expected, const char *fmt, ...)
{
    char ge[64];
    va_list ap;

    snprintf(ge, sizeof(ge), "got %lld, expected %lld", got, expected);
    va_start(ap, fmt);
    report(got == expected, ge, fmt, ap);
    va_end(ap);
    return got == expected;
}

int check_eqx(unsigned long long got, unsigned long long expected, const char *fmt, ...)
{
    char ge[64];
    va_list ap;

    snprintf(ge, sizeof(ge), "got %#llx, expected %#llx", got, expected);
    va_start(ap, fmt);
    report(got == expected, ge, fmt, ap);
    va_end(ap);
    return got == expected;
}

unsigned int kit_checks_run(void)
{
    return checks_run;
}

unsigned int kit_checks_failed(void)
{
    return checks_failed;
}

void kit_shutdown(unsigned int reason)
{
    struct sched_shutdown s = { .reason = reason };
    long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);

    printf("kit: SCHEDOP_shutdown(%u) returned %ld\n", reason, rc);
    triple_fault();
}

void kit_abort(const char *why)
{
    printf("RESULT: FAIL %s %u/%u failed: %s\n", kit_guest_name, checks_failed + 1,
           checks_run + 1, why);
    kit_shutdown(SHUTDOWN_crash);
}

void kit_finish(void)
{
    if (checks_failed || !checks_run) {
        printf("RESULT: FAIL %s %u/%u failed\n", kit_guest_name, checks_failed, checks_run);
        kit_shutdown(SHUTDOWN_crash);
    }
    printf("RESULT: PASS %s %u checks\n", kit_guest_name, checks_run);
    kit_shutdown(SHUTDOWN_poweroff);
}
