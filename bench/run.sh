#!/usr/bin/env bash
# make bench: figures as ratios against floors measured in the same run.
#  - page-transport hypercall round trip vs a bare `out` exit (both timed by
#    the bench guest with rdtsc, same vCPU, same run), 32- and 64-bit ABI;
#  - event-channel delivery vs a LAPIC self-IPI, and timer lateness;
#  - launch-to-exit time and peak RSS of the default guest (median of 5),
#    next to those of `true` run the same way as a floor for process start.
set -eu
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
RUNSTAT=$BUILD/tools/runstat
N=${BENCH_N:-2000}

for bits in 32 64; do
	line=$(timeout 120 "$XENKVM" run --timeout 100 --kernel "$BUILD/guests/bench-$bits.elf" \
		--cmdline "n=$N" </dev/null | grep '^BENCH')
	hc=$(sed -n 's/.*hypercall_cycles=\([0-9]*\).*/\1/p' <<<"$line")
	out=$(sed -n 's/.*out_cycles=\([0-9]*\).*/\1/p' <<<"$line")
	awk -v b="$bits" -v h="$hc" -v o="$out" -v n="$N" 'BEGIN {
		printf "hypercall round trip (%s-bit, page transport, n=%d): %d cycles; bare out exit: %d cycles; ratio %.2f\n", b, n, h, o, h / o }'
done

# Event delivery: EVTCHNOP_send to the handler, through each upcall path,
# next to a LAPIC self-IPI (no VMM involved) in the same guest run; and how
# late a 1 ms singleshot timer fires.
line=$(timeout 300 "$XENKVM" run --timeout 280 --kernel "$BUILD/guests/evbench-64.elf" \
	--cmdline "n=${BENCH_EVENTS_N:-100}" </dev/null | grep '^BENCH')
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
awk -v cb="$(field callback_ns_median)" -v cb99="$(field callback_ns_p99)" \
	-v up="$(field upcall_ns_median)" -v up99="$(field upcall_ns_p99)" \
	-v ipi="$(field selfipi_ns_median)" -v ipi99="$(field selfipi_ns_p99)" \
	-v tl="$(field timer_late_ns_median)" -v tl99="$(field timer_late_ns_p99)" 'BEGIN {
	printf "event send -> handler, callback vector: median %.0f us, p99 %.0f us; ratio to self-IPI floor %.2f\n", cb / 1000, cb99 / 1000, cb / ipi
	printf "event send -> handler, upcall vector:   median %.0f us, p99 %.0f us; ratio to self-IPI floor %.2f\n", up / 1000, up99 / 1000, up / ipi
	printf "LAPIC self-IPI floor: median %.0f us, p99 %.0f us\n", ipi / 1000, ipi99 / 1000
	printf "1 ms singleshot timer fires late by: median %.0f us, p99 %.0f us\n", tl / 1000, tl99 / 1000 }'

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
stat_runs() {
	for _ in 1 2 3 4 5; do
		"$RUNSTAT" "$@" 2>&1 >/dev/null </dev/null | grep '^wall_ms='
	done
}
guest=$(stat_runs "$XENKVM" run --timeout 60)
floor=$(stat_runs true)
g_ms=$(sed 's/wall_ms=\([0-9.]*\).*/\1/' <<<"$guest" | median)
g_kb=$(sed 's/.*maxrss_kb=\([0-9]*\).*/\1/' <<<"$guest" | median)
f_ms=$(sed 's/wall_ms=\([0-9.]*\).*/\1/' <<<"$floor" | median)
f_kb=$(sed 's/.*maxrss_kb=\([0-9]*\).*/\1/' <<<"$floor" | median)
echo "default guest launch-to-exit: ${g_ms} ms (process start floor: ${f_ms} ms)"
echo "default guest peak RSS: ${g_kb} KiB (process floor: ${f_kb} KiB; guest RAM touched is included)"
