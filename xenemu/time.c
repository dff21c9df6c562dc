/* Xen system time and the pvclock in shared_info. The guest sees the raw,
 * stable host TSC, so one (TSC, ns) pair with a fixed scale stays exact.
 * Xen system time is that same TSC scaled the same way, not the host's
 * CLOCK_MONOTONIC: a host whose TSC rate and tsc_khz disagree (seen under
 * nested KVM on QEMU TCG) would otherwise let the guest's clock and the
 * deadlines it sets drift apart by seconds, and its timers fire that late,
 * or in a storm. CLOCK_MONOTONIC only tells the host when to wake up. */
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <x86intrin.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/foreign/x86_32.h>

#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#define NS_PER_SEC 1000000000ULL

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Xen's set_time_scale: ns = ((tsc << shift) * mul) >> 32, with mul < 2^32. */
static void time_scale(uint64_t tsc_hz, uint32_t *mul, int8_t *shift)
{
	uint64_t tps = tsc_hz;
	int s = 0;

	while (tps > 2 * NS_PER_SEC) {
		tps >>= 1;
		s--;
	}
	while (tps <= NS_PER_SEC) {
		tps <<= 1;
		s++;
	}
	*mul = (uint32_t)((NS_PER_SEC << 32) / tps);
	*shift = (int8_t)s;
}

/* The pvclock formula: ((tsc_delta << shift) * mul) >> 32. */
static uint64_t tsc_to_ns(uint64_t delta, uint32_t mul, int8_t shift)
{
	delta = shift < 0 ? delta >> -shift : delta << shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t xen_system_time_ns(const struct xen *x)
{
	return tsc_to_ns(__rdtsc() - x->tsc_base, x->tsc_mul, x->tsc_shift);
}

/* System time 0 is now; tsc_khz must be set. */
void xen_time_init(struct xen *x)
{
	time_scale(x->tsc_khz * 1000, &x->tsc_mul, &x->tsc_shift);
	x->tsc_base = __rdtsc();
}

struct timespec xen_time_to_monotonic(const struct xen *x, uint64_t system_ns)
{
	uint64_t now = xen_system_time_ns(x), abs = monotonic_ns();

	if (system_ns > now)
		abs += system_ns - now;
	return (struct timespec){ .tv_sec = (time_t)(abs / NS_PER_SEC),
				  .tv_nsec = (long)(abs % NS_PER_SEC) };
}

/* ---- --time-granularity: the time hypercalls return, coarsened ----
 *
 * Times that xenkvm hands out (HVMOP_get_time, the shared_info wallclock,
 * runstate times) are rounded down to the granularity. Rounding alone
 * leaves the edge where the value ticks over as sharp as a hypercall is
 * short: a guest spinning on HVMOP_get_time finds the edge, then times
 * whatever it wants against the next one. So HVMOP_get_time also reads the
 * clock at most once per random interval of 0.5 to 1.5 granules (a rate
 * limit on clock reads); calls in between get the value served before. A
 * change becomes visible at a random moment after the real edge, and
 * timing by edges gains nothing over the granularity without many samples.
 * The answer never goes back, and trails the exact time by less than 2.5
 * granules. The pvclock in vcpu_time_info is not touched: the guest reads
 * it (and rdtsc, which is not trapped) without a hypercall, and the guest's
 * timekeeping is built on it. */

static uint64_t next_random(struct xen *x)
{
	/* xorshift64: unpredictable enough with a secret seed, and cheap. */
	x->time_rng ^= x->time_rng << 13;
	x->time_rng ^= x->time_rng >> 7;
	x->time_rng ^= x->time_rng << 17;
	return x->time_rng;
}

void xen_time_set_granularity(struct xen *x, uint64_t ns)
{
	x->time_granularity_ns = ns;
	x->time_served_ns = x->time_next_read_ns = 0;
	pthread_mutex_init(&x->time_lock, NULL);
	if (getrandom(&x->time_rng, sizeof(x->time_rng), 0) != sizeof(x->time_rng))
		x->time_rng = monotonic_ns();
	x->time_rng |= 1; /* xorshift stays at 0 once there */
}

uint64_t xen_time_coarse(const struct xen *x, uint64_t ns)
{
	uint64_t g = x->time_granularity_ns;

	return g > 1 ? ns - ns % g : ns;
}

uint64_t xen_time_get_time(struct xen *x)
{
	uint64_t g = x->time_granularity_ns, now = xen_system_time_ns(x), served;

	if (g <= 1)
		return now;
	pthread_mutex_lock(&x->time_lock);
	if (now >= x->time_next_read_ns) {
		uint64_t t = now - now % g;
		if (t > x->time_served_ns)
			x->time_served_ns = t;
		x->time_next_read_ns = now + g / 2 + next_random(x) % g;
	}
	served = x->time_served_ns;
	pthread_mutex_unlock(&x->time_lock);
	return served;
}

/* The version protocol: odd while writing, so readers retry. */
static void fill_time(volatile struct vcpu_time_info *t, uint64_t tsc, uint64_t now,
		      uint32_t mul, int8_t shift)
{
	t->version++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->tsc_timestamp = tsc;
	t->system_time = now;
	t->tsc_to_system_mul = mul;
	t->tsc_shift = shift;
	t->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->version++;
}

static void fill_wallclock(volatile uint32_t *version, volatile uint32_t *sec,
			   volatile uint32_t *nsec, volatile uint32_t *sec_hi, uint64_t boot_ns)
{
	(*version)++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*sec = (uint32_t)(boot_ns / NS_PER_SEC);
	*nsec = (uint32_t)(boot_ns % NS_PER_SEC);
	if (sec_hi)
		*sec_hi = (uint32_t)((boot_ns / NS_PER_SEC) >> 32);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	(*version)++;
}

void xen_time_update_shared_info(struct xen *x)
{
	struct timespec rt;
	uint64_t tsc = __rdtsc(), now = tsc_to_ns(tsc - x->tsc_base, x->tsc_mul, x->tsc_shift);
	uint64_t boot_ns;
	uint32_t mul = x->tsc_mul;
	int8_t shift = x->tsc_shift;

	clock_gettime(CLOCK_REALTIME, &rt);
	/* The wallclock is the host's realtime at system time 0: coarsened, it
	 * no longer shows the host clock's small corrections between updates. */
	boot_ns = xen_time_coarse(x, (uint64_t)rt.tv_sec * NS_PER_SEC + (uint64_t)rt.tv_nsec - now);
	pthread_mutex_lock(&x->lock);
	/* vcpu_info.time is at offset 32 in both layouts. */
	for (unsigned i = 0; i < x->vm->nvcpus; i++) {
		uint8_t *vi = xen_vcpu_info(x, i);
		uint64_t area = x->vcpus[i].time_area_gpa;
		/* Resolved at registration: the frame may have gone since (a
		 * shared_info or grant frame moved away), as Xen, not written. */
		void *at = area ? gmem_ptr(&x->vm->mem, area, sizeof(struct vcpu_time_info)) : NULL;
		if (vi)
			fill_time((void *)(vi + offsetof(struct vcpu_info, time)), tsc, now, mul, shift);
		if (at)
			fill_time(at, tsc, now, mul, shift);
	}
	if (x->shinfo_32bit) {
		/* i386 keeps wc_sec_hi in arch, which <xen/foreign/x86_32.h> places
		 * wrongly: only the fields before it are used here. */
		struct shared_info_x86_32 *s = (void *)x->shared_info;
		fill_wallclock(&s->wc_version, &s->wc_sec, &s->wc_nsec, NULL, boot_ns);
	} else {
		struct shared_info *s = (void *)x->shared_info;
		fill_wallclock(&s->wc_version, &s->wc_sec, &s->wc_nsec, &s->wc_sec_hi, boot_ns);
	}
	pthread_mutex_unlock(&x->lock);
}
