/*
 * The freestanding test-guest kit: PVH entry (start32.S / start64.S), the
 * hypercall page set up the way a real guest does it, a tiny libc with a
 * printf that writes through CONSOLEIO_write, check helpers that speak the
 * integration runner's result protocol, and start_info / cmdline access.
 *
 * Every guest defines `void guest_main(void)`; when it returns, kit_finish()
 * reports the result. Guests that are not self-checking call kit_shutdown().
 */
#ifndef GUEST_KIT_H
#define GUEST_KIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/arch-x86/hvm/start_info.h>

/*
 * The name printed on the RESULT line ("version-32"): the build passes
 * GUEST_NAME when compiling a guest's own source, which defines it once.
 */
extern const char kit_guest_name[];
#ifdef GUEST_NAME
const char kit_guest_name[] = GUEST_NAME;
#endif

#define KIT_NORETURN __attribute__((noreturn))
#define KIT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- hypercalls ---------------------------------------------------- */

/* The page the VMM fills with 32-byte stubs; call hypercall_page + nr*32. */
extern uint8_t hypercall_page[4096];

/*
 * Xen's HVM hypercall ABI. 32-bit: args in ebx, ecx, edx, esi, edi;
 * 64-bit: rdi, rsi, rdx, r10, r8; result in eax/rax. The stub may clobber
 * eax/rax and the argument registers, so all of them are in-out operands.
 */
static inline long kit_hypercall(unsigned long nr, unsigned long a1, unsigned long a2,
                                 unsigned long a3, unsigned long a4, unsigned long a5)
{
    unsigned long ax = (unsigned long)hypercall_page + nr * 32;
#ifdef __x86_64__
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    __asm__ volatile("call *%%rax"
                     : "+a"(ax), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     :
                     : "memory", "cc");
#else
    __asm__ volatile("call *%%eax"
                     : "+a"(ax), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5)
                     :
                     : "memory", "cc");
#endif
    return (long)ax;
}

#define UL(x) ((unsigned long)(x))
#define hypercall0(nr) kit_hypercall(nr, 0, 0, 0, 0, 0)
#define hypercall1(nr, a) kit_hypercall(nr, UL(a), 0, 0, 0, 0)
#define hypercall2(nr, a, b) kit_hypercall(nr, UL(a), UL(b), 0, 0, 0)
#define hypercall3(nr, a, b, c) kit_hypercall(nr, UL(a), UL(b), UL(c), 0, 0)

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}
static inline long HYPERVISOR_console_io(int cmd, unsigned int count, const void *buf)
{
    return hypercall3(__HYPERVISOR_console_io, cmd, count, buf);
}
static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}
static inline long HYPERVISOR_hvm_op(unsigned long op, void *arg)
{
    return hypercall2(__HYPERVISOR_hvm_op, op, arg);
}
static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}
static inline long HYPERVISOR_multicall(void *list, unsigned int nr)
{
    return hypercall2(__HYPERVISOR_multicall, list, nr);
}

/* What the CPUID scan found (filled by kit_start before guest_main). */
struct kit_xen_cpuid {
    uint32_t base;          /* leaf with "XenVMMXenVMM" */
    uint32_t max_leaf;      /* EAX of the base leaf */
    uint32_t version;       /* base+1 EAX: major << 16 | minor */
    uint32_t nr_pages;      /* base+2 EAX */
    uint32_t msr;           /* base+2 EBX */
};
extern struct kit_xen_cpuid kit_xen;

/*
 * Guest pointers that must make Xen return -EFAULT. 32-bit guests run with
 * paging off, so an address in the MMIO hole just below 4 GiB is not RAM.
 * 64-bit guests also get a non-canonical address and one whose PML4 entry
 * is not present.
 */
#ifdef __x86_64__
#define KIT_BITS 64
static const unsigned long kit_bad_ptrs[] = {
    0x8000000000000000ul, 0x0000008000000000ul, 0xfffff000ul,
};
#else
#define KIT_BITS 32
static const unsigned long kit_bad_ptrs[] = { 0xfffff000ul };
#endif
#define BAD_PTR ((void *)kit_bad_ptrs[0])

/* ---- start info and command line ------------------------------------ */

extern const struct hvm_start_info *kit_start_info;
/* The command line ("" when none); `key=value` words parameterise guests. */
const char *kit_cmdline(void);
/* Copies the value of `key=` into buf (NUL-terminated); 0 if absent. */
int kit_arg(const char *key, char *buf, size_t len);
/* Decimal or 0x-hex value of `key=`, or def if absent/malformed. */
unsigned long kit_arg_ulong(const char *key, unsigned long def);

/* ---- memory map -------------------------------------------------------- */

/*
 * XENMEM_memory_map copies Xen's own `struct e820entry`
 * (xen/arch/x86/include/asm/e820.h): the 20-byte packed BIOS E820 entry.
 * The public headers do not declare it, so it is spelled out here.
 */
struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

/* XENMEM_memory_map into buf; *nr is room in, entries copied out. */
long kit_memory_map(struct e820_entry *buf, unsigned int *nr);
/* The first page-aligned address in [1 MiB, 3 GiB) just past an entry that
 * no entry covers, or 0: where a guest can map shared_info or grant frames. */
uint64_t kit_e820_hole(const struct e820_entry *map, unsigned int n);

/* ---- libc -------------------------------------------------------------- */

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *hay, const char *needle);
/* %d %i %u %x %s %c %p %%, with l/ll modifiers, '0' flag and width. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) KIT_PRINTF(3, 4);
/* One CONSOLEIO_write per call; output longer than 255 bytes is cut. */
int printf(const char *fmt, ...) KIT_PRINTF(1, 2);
/* 64-by-32 unsigned division without libgcc (32-bit guests have no divq). */
uint64_t kit_udiv64(uint64_t n, uint32_t d, uint32_t *rem);

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* ---- checks and the result protocol ------------------------------------ */
/*
 * Each check prints `ok N - text` or `not ok N - text (got X, expected Y)`.
 * kit_finish() prints `RESULT: PASS <name> <n> checks` and powers off, or
 * `RESULT: FAIL <name> <k>/<n> failed` and shuts down with SHUTDOWN_crash.
 */
int check_true(int cond, const char *fmt, ...) KIT_PRINTF(2, 3);
int check_eq(long long got, long long expected, const char *fmt, ...) KIT_PRINTF(3, 4);
int check_eqx(unsigned long long got, unsigned long long expected, const char *fmt, ...)
    KIT_PRINTF(3, 4);
unsigned int kit_checks_run(void);
unsigned int kit_checks_failed(void);
/* A fatal setup problem: prints `RESULT: FAIL <name> ...: why` and crashes. */
KIT_NORETURN void kit_abort(const char *why);
KIT_NORETURN void kit_finish(void);
/* Issues SCHEDOP_shutdown(reason); if that returns, crashes the vCPU. */
KIT_NORETURN void kit_shutdown(unsigned int reason);

void guest_main(void);

#endif
