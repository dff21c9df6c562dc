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

# PV disk throughput: the blkfront guest's sequential (44 KiB requests, 16 in
# flight) and random (4 KiB) reads and writes, timed inside the guest, next to
# the same I/O done by the host on the same image in the same run (blkhost,
# one request at a time, O_DIRECT where the file system allows it).
BLK_MIB=${BENCH_BLK_MIB:-16}
img=$(mktemp "${TMPDIR:-/tmp}/xenkvm-bench.XXXXXX")
truncate -s 64M "$img"
glines=$(timeout 600 "$XENKVM" run --timeout 580 --kernel "$BUILD/guests/blkfront-64.elf" \
	--cmdline "sectors=$((64 << 11)) bench=$BLK_MIB" --disk "$img" </dev/null | grep '^BENCH blk')
for mode in seq-write seq-read rand-write rand-read; do
	case $mode in seq-*) mib=$BLK_MIB pages=11 ;; *) mib=$((BLK_MIB / 8 ? BLK_MIB / 8 : 1)) pages=1 ;; esac
	g=$(grep " $mode " <<<"$glines")
	h=$("$BUILD/tools/blkhost" "$img" "$mode" "$mib" "$pages")
	awk -v m="$mode" -v gb="$(sed 's/.*bytes=\([0-9]*\).*/\1/' <<<"$g")" \
		-v gn="$(sed 's/.*ns=\([0-9]*\).*/\1/' <<<"$g")" \
		-v hb="$(sed 's/.*bytes=\([0-9]*\).*/\1/' <<<"$h")" \
		-v hn="$(sed 's/ns=\([0-9]*\).*/\1/' <<<"$h")" 'BEGIN {
		gm = gb / gn * 1e9 / 1048576; hm = hb / hn * 1e9 / 1048576
		printf "PV disk %-10s guest %8.2f MiB/s, host on the same image %8.2f MiB/s, ratio %.3f\n", m, gm, hm, gm / hm }'
done
rm -f "$img"

# PV network: frames per second both ways between the netfront guest and
# tapio on its tap (guest -> host: 60-byte frames posted back to back;
# host -> guest: frames injected as fast as the tap takes them, counted by
# the guest), next to the same tool between the two ends of a veth pair in
# the same namespace, in the same run. Inside a namespace made here.
NET_N=${BENCH_NET_N:-2000}
ns=xenkvm-bench-$$
if [ -c /dev/net/tun ] && ip netns add "$ns" 2>/dev/null; then
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$ns" ip link add xkva type veth peer name xkvb
	ip netns exec "$ns" ip link set xkva up
	ip netns exec "$ns" ip link set xkvb up
	floor=$(ip netns exec "$ns" "$BUILD/tools/tapio" floor xkva xkvb "$NET_N" | grep '^BENCH' || true)
	ip netns exec "$ns" timeout 200 "$BUILD/tools/tapio" bench xkb0 "$NET_N" >"$img.net" 2>/dev/null &
	ip netns exec "$ns" timeout 200 "$XENKVM" run --timeout 180 --net tap=xkb0 \
		--kernel "$BUILD/guests/netfront-64.elf" --cmdline "bench=$NET_N" >/dev/null </dev/null
	wait || true
	line=$(grep '^BENCH' "$img.net" || true)
	rm -f "$img.net"
	ip netns del "$ns"
	field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
	awk -v tx="$(field guest_to_host_pps "$line")" -v rx="$(field host_to_guest_pps "$line")" \
		-v got="$(sed -n 's/.*host_to_guest_delivered=\([0-9/]*\).*/\1/p' <<<"$line")" \
		-v fl="$(field floor_pps "$floor")" 'BEGIN {
		if (fl <= 0) fl = 1e-9 # no floor measured: the ratio shows it
		printf "PV net guest -> tap: %.0f frames/s; veth floor %.0f frames/s; ratio %.4f\n", tx, fl, tx / fl
		printf "PV net tap -> guest: %.0f frames/s (%s delivered); ratio %.4f\n", rx, got, rx / fl }'
else
	echo "PV net: skipped (no /dev/net/tun or no network namespaces)"
fi
