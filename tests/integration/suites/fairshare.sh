#!/usr/bin/env bash
# Fair share against live guests: long hypercalls preempted and re-issued
# through the page transport with the whole result (checked in the guest
# and, for the re-issues, in a --trace); a guest spinning on hypercalls
# under --hypercall-rate is throttled, counted in `xenkvm stats`, leaves the
# control socket (the event loop) responsive and is destroyed promptly.
# Usage: tests/integration/suites/fairshare.sh BUILD_DIR
. "$(dirname "$0")/../suite_env.sh"
NAME=fair-test-$$
failed=0
# preempted HYPERCALL SUB-OP: trace-stats' count of calls cut short (0 if none).
preempted() { awk -v h="$1" -v o="$2" '$1 == h && $2 == o { n = $4 } END { print n + 0 }' "$WORK/stats"; }
pass() { echo "PASS fairshare-$1"; }
fail() {
	echo "FAIL fairshare-$1: $2"
	sed 's/^/    | /' "$WORK/out" "$WORK/err" 2>/dev/null | tail -n 20
	failed=$((failed + 1))
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# One 1024-extent decrease/populate, a 1024-element grant copy, a 600-entry
# multicall and a 40 KB console write, each checked whole by the guest.
for bits in 32 64; do
	name=preempt-$bits
	timeout 60 "$XENKVM" run --timeout 30 --hypercall page --trace "$WORK/trace-$bits" \
		--kernel "$GUESTS/$name.elf" >"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	"$XENKVM" trace-stats "$WORK/trace-$bits" >"$WORK/stats" 2>&1
	lines=$(grep -c "^preempt console line [0-9]* \.\.\." "$WORK/out")
	if [ "$got" != 0 ] || ! grep -q "RESULT: PASS $name" "$WORK/out"; then
		fail "$name" "exit status $got"
	elif [ "$lines" != 400 ]; then
		fail "$name" "$lines console lines, expected 400 (each once)"
	elif [ "$(preempted memory_op decrease_reservation)" -lt 1 ] ||
		[ "$(preempted memory_op populate_physmap)" -lt 1 ]; then
		fail "$name" "no memory_op was preempted: $(grep memory_op "$WORK/stats")"
	elif [ "$(preempted multicall -)" -lt 1 ]; then
		fail "$name" "the multicall was not preempted: $(grep multicall "$WORK/stats")"
	elif [ "$(preempted grant_table_op copy)" -lt 1 ]; then
		fail "$name" "the grant copy was not preempted: $(grep grant_table_op "$WORK/stats")"
	else
		pass "$name continuations"
	fi
done

# start NAME ARGS...: a guest in the background, its control socket awaited.
start() {
	local name=$1
	shift
	"$XENKVM" run --name "$name" --timeout 60 "$@" >"$WORK/out" 2>"$WORK/err" </dev/null &
	pids+=($!)
	for _ in $(seq 100); do
		"$XENKVM" info "$name" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# destroyed NAME PID MAX_MS: destroy, and the process must be gone within
# MAX_MS (what happened in $why).
destroyed() {
	local t0 ms rc
	t0=$(now_ms)
	"$XENKVM" destroy "$1" >/dev/null 2>&1
	wait "$2"
	rc=$?
	ms=$(($(now_ms) - t0))
	why="status $rc after $ms ms"
	[ "$rc" = 1 ] && [ "$ms" -lt "$3" ]
}

# 100 calls a second, bursts of 10: the spinning guest gets about that many.
start "$NAME" --hypercall-rate 100:10 --kernel "$GUESTS/preempt-64.elf" --cmdline spin=1 ||
	fail spin "the VM never answered"
vm=${pids[-1]}
t0=$(now_ms)
sleep 2
before=$(grep -c "^spin " "$WORK/out")
sleep 1
t1=$(now_ms)
"$XENKVM" stats "$NAME" >"$WORK/stats" 2>&1
elapsed=$(($(now_ms) - t1))
after=$(grep -c "^spin " "$WORK/out")
read -r calls throttled < <(awk '$1 == "0" && NF == 6 { print $2, $4 }' "$WORK/stats")
# Allowed: what the bucket lets through since the socket answered (plus
# boot), well below the thousands a second an unthrottled vCPU makes here.
limit=$(((t1 - t0) / 10 + 10 + 100))
if [ -z "${calls:-}" ] || [ "$throttled" -lt 1 ]; then
	fail spin-throttled "no throttled calls in stats: $(cat "$WORK/stats")"
elif [ "$calls" -gt "$limit" ]; then
	fail spin-throttled "$calls calls, more than the $limit the rate allows"
else
	pass "spin-throttled ($calls calls, $throttled throttled)"
fi
[ "$after" -gt "$before" ] && pass "spin-progresses ($before -> $after lines)" ||
	fail spin-progresses "console output stalled at $after lines"
[ "$elapsed" -lt 1000 ] && pass "spin-socket-responsive (${elapsed} ms)" ||
	fail spin-socket-responsive "stats took $elapsed ms"
destroyed "$NAME" "$vm" 1000 && pass "spin-destroy ($why)" || fail spin-destroy "$why"

# One call a second: the vCPU is asleep when it is destroyed, or paused.
start "$NAME-slow" --hypercall-rate 1:1 --kernel "$GUESTS/preempt-64.elf" --cmdline spin=1 ||
	fail slow "the VM never answered"
vm=${pids[-1]}
sleep 1
"$XENKVM" pause "$NAME-slow" && "$XENKVM" list | grep -q "^$NAME-slow .* paused" &&
	"$XENKVM" unpause "$NAME-slow" && pass "slow-pause" || fail slow-pause "pause did not take"
destroyed "$NAME-slow" "$vm" 800 && pass "slow-destroy ($why)" || fail slow-destroy "$why"
t0=$(now_ms)
timeout 30 "$XENKVM" run --timeout 2 --hypercall-rate 1:1 --kernel "$GUESTS/preempt-64.elf" \
	--cmdline spin=1 >"$WORK/out" 2>"$WORK/err" </dev/null
got=$?
ms=$(($(now_ms) - t0))
[ "$got" = 124 ] && [ "$ms" -lt 4000 ] && pass "slow-timeout (${ms} ms)" ||
	fail slow-timeout "status $got after $ms ms"

# The xl.cfg key, and a bad value refused in one line.
timeout 30 "$XENKVM" run --timeout 30 --log-level info 'xenkvm_hypercall_rate="50000:500"' \
	--kernel "$GUESTS/version-64.elf" >"$WORK/out" 2>"$WORK/err" </dev/null
got=$?
[ "$got" = 0 ] && grep -q "hypercall rate limit: 50000 a second per vCPU, bursts of 500" \
	"$WORK/err" && pass xlcfg-key || fail xlcfg-key "status $got"
timeout 30 "$XENKVM" run --hypercall-rate fast >"$WORK/out" 2>"$WORK/err" </dev/null
got=$?
[ "$got" = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q "hypercall-rate" "$WORK/err" &&
	pass bad-rate || fail bad-rate "status $got"

[ "$failed" = 0 ]
