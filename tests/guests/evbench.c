/*
 * Event-delivery and timer figures for `make bench`, each next to a floor
 * measured in the same run:
 *  - EVTCHNOP_send on a loopback interdomain channel to the moment its
 *    handler runs, through the global callback vector and through the
 *    per-vCPU upcall vector;
 *  - the floor: a LAPIC self-IPI (ICR write) to its handler, an interrupt
 *    KVM delivers without the VMM;
 *  - VCPUOP_set_singleshot_timer 1 ms ahead: how late VIRQ_TIMER arrives.
 * Prints one `BENCH` line of medians and 99th percentiles in ns, then
 * powers off. `n=` on the command line sets the samples per figure.
 */
#include "events.h"

#define MAX_SAMPLES 512
#define SELF_IPI_VECTOR 0xf5
#define LAPIC_ICR_LOW 0xfee00300ul
#define ICR_SELF (1u << 18)

static volatile uint64_t handled_at;
static volatile unsigned long hits;
static uint64_t samples[MAX_SAMPLES];

static void on_event(evtchn_port_t port)
{
    (void)port;
    handled_at = kit_now();
    hits++;
}

static void on_self_ipi(unsigned int vector)
{
    (void)vector;
    handled_at = kit_now();
    hits++;
    kit_lapic_eoi();
}

/* Insertion sort: n is small and the emulator is slow at everything. */
static void sort(uint64_t *v, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++) {
        uint64_t x = v[i];
        unsigned int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static char line[512];
static unsigned int line_len;

/* Append a figure's median and 99th percentile to the BENCH line. */
static void report(const char *what, unsigned int n)
{
    sort(samples, n);
    line_len += (unsigned int)snprintf(line + line_len, sizeof(line) - line_len,
                                       " %s_median=%llu %s_p99=%llu", what,
                                       (unsigned long long)samples[n / 2], what,
                                       (unsigned long long)samples[(n * 99) / 100]);
}

/* Time trigger() to the handler, n times. */
static int measure(unsigned int n, void (*trigger)(void *), void *arg)
{
    for (unsigned int i = 0; i < n; i++) {
        unsigned long want = hits + 1;
        uint64_t t0 = kit_now();
        trigger(arg);
        if (!kit_wait_ge(&hits, want, t0 + 100 * KIT_NS_PER_MS))
            return -1;
        samples[i] = handled_at - t0;
    }
    return 0;
}

static void send_port(void *arg)
{
    kit_evtchn_send(*(evtchn_port_t *)arg);
}

static void self_ipi(void *arg)
{
    (void)arg;
    *(volatile uint32_t *)LAPIC_ICR_LOW = ICR_SELF | SELF_IPI_VECTOR;
}

static uint64_t deadline;

static void on_timer(evtchn_port_t port)
{
    (void)port;
    handled_at = kit_now();
    hits++;
}

static void arm_timer(void *arg)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = 0 };

    (void)arg;
    deadline = kit_now() + KIT_NS_PER_MS;
    t.timeout_abs_ns = deadline;
    HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

void guest_main(void)
{
    unsigned int n = (unsigned int)kit_arg_ulong("n", 100);
    evtchn_port_t a, b, timer;

    if (n < 2 || n > MAX_SAMPLES)
        n = 100;
    kit_events_init();
    if (kit_evtchn_alloc_unbound(DOMID_SELF, &a) || kit_evtchn_bind_interdomain(DOMID_SELF, a, &b) ||
        kit_evtchn_bind_virq(VIRQ_TIMER, 0, &timer))
        kit_abort("event channel set-up failed");
    kit_port_bind(a, 0, on_event);
    kit_port_bind(timer, 0, on_timer);
    kit_set_vector(SELF_IPI_VECTOR, on_self_ipi);

    check_eq(kit_set_callback_vector(KIT_CALLBACK_VECTOR), 0, "callback vector set");
    if (measure(n, send_port, &b))
        kit_abort("an event through the callback vector never arrived");
    report("callback_ns", n);
    check_eq(kit_set_upcall_vector(0, KIT_UPCALL_VECTOR), 0, "upcall vector set");
    if (measure(n, send_port, &b))
        kit_abort("an event through the upcall vector never arrived");
    report("upcall_ns", n);
    if (measure(n, self_ipi, NULL))
        kit_abort("a self-IPI never arrived");
    report("selfipi_ns", n);
    for (unsigned int i = 0; i < n; i++) {
        unsigned long want = hits + 1;
        arm_timer(NULL);
        if (!kit_wait_ge(&hits, want, deadline + 100 * KIT_NS_PER_MS))
            kit_abort("VIRQ_TIMER never arrived");
        samples[i] = handled_at > deadline ? handled_at - deadline : 0;
    }
    report("timer_late_ns", n);
    printf("BENCH n=%u%s\n", n, line);
    kit_finish();
}
