#!/usr/bin/env bash
# Integration suite: boots the test guests (and GRUB) under xenkvm, each under
# a timeout, and checks result lines and exit statuses.
# Usage: tests/integration/run.sh BUILD_DIR
set -u
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
GUESTS=$BUILD/guests
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL $1: $2"
	sed 's/^/    | /' "$WORK/out" "$WORK/err" 2>/dev/null | tail -n 20
	failed=$((failed + 1))
}

# run NAME EXPECTED_STATUS [xenkvm run args...]: output in $WORK/out, $WORK/err.
run() {
	local name=$1 want=$2 got
	shift 2
	timeout 60 "$XENKVM" run --timeout 30 "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	if [ "$got" != "$want" ]; then
		fail "$name" "exit status $got, expected $want"
		return 1
	fi
	return 0
}

expect_out() { grep -q -- "$2" "$WORK/out" || { fail "$1" "no '$2' on the console"; return 1; }; }
expect_err() { grep -q -- "$2" "$WORK/err" || { fail "$1" "no '$2' on stderr"; return 1; }; }

# The self-checking family guests, both ABIs, both transports where possible.
for g in version console sched hvm memory multicall gnttab hostile; do
	for bits in 32 64; do
		name="$g-$bits"
		run "$name" 0 --hypercall page --kernel "$GUESTS/$name.elf" &&
			expect_out "$name" "RESULT: PASS $name" && pass "$name"
	done
done

# Event channels, timers, polling, upcall vectors, SMP, runstate: guests
# that take interrupts, so 64-bit only (a 32-bit iret is an emulation
# failure on this machine's KVM).
for g in evtchn timer poll upcall runstate fifo; do
	run "$g-64" 0 --hypercall page --kernel "$GUESTS/$g-64.elf" &&
		expect_out "$g-64" "RESULT: PASS $g-64" && pass "$g-64"
done
run smp-64 0 --vcpus 4 --kernel "$GUESTS/smp-64.elf" && expect_out smp-64 "RESULT: PASS smp-64" &&
	pass smp-64
run smp64-64 0 --vcpus 64 --cmdline n=64 --kernel "$GUESTS/smp-64.elf" &&
	expect_out smp64-64 "RESULT: PASS smp-64" && pass smp64-64

# The embedded default guest.
run default 0 && expect_out default "Hello from the xenkvm default guest" &&
	expect_out default "Xen 4.17" && pass default

# Each shutdown reason maps to its documented exit status.
for case in poweroff:0 reboot:3 suspend:5 crash:1 watchdog:4 soft_reset:6 code_crash:1; do
	reason=${case%%:*} status=${case##*:}
	for bits in 32 64; do
		run "shutdown-$reason-$bits" "$status" --kernel "$GUESTS/shutdown-$bits.elf" \
			--cmdline "reason=$reason" && pass "shutdown-$reason-$bits"
	done
done

# Guests that end without asking: a register dump and a distinct status.
run triple-fault 7 --kernel "$GUESTS/shutdown-64.elf" --cmdline reason=triple_fault &&
	expect_err triple-fault "triple fault" && expect_err triple-fault "rip=" && pass triple-fault
run emulation-failure 8 --kernel "$GUESTS/shutdown-64.elf" --cmdline reason=emulation_failure &&
	expect_err emulation-failure "emulation failure" && pass emulation-failure
# A guest spinning at CPL0 is kicked out of KVM_RUN by --timeout.
timeout 60 "$XENKVM" run --timeout 2 --kernel "$GUESTS/shutdown-32.elf" --cmdline reason=hang \
	>"$WORK/out" 2>"$WORK/err" </dev/null
got=$?
if [ "$got" != 124 ]; then
	fail timeout "exit status $got, expected 124"
elif [ "$(grep -c 'still running after' "$WORK/err")" != 1 ]; then
	fail timeout "the timeout is not said exactly once: $(cat "$WORK/err")"
else
	pass timeout
fi
# What each vCPU was doing when the timeout struck: the blocked one is in
# SCHEDOP_block (sched_op 1), the one never brought up is down.
run timeout-dump 124 --timeout 1 --vcpus 2 --kernel "$GUESTS/shutdown-64.elf" --cmdline reason=block &&
	expect_err timeout-dump "vCPU 0: blocked, in sched_op(1); upcall pending=0" &&
	expect_err timeout-dump "vCPU 1: offline (down), not in a hypercall" && pass timeout-dump
# --timeout spans restarts: a guest rebooting in a loop is stopped too.
timeout -k 5 60 "$XENKVM" run --timeout 3 --on-reboot restart --kernel "$GUESTS/shutdown-64.elf" \
	--cmdline reason=reboot >"$WORK/out" 2>"$WORK/err" </dev/null
got=$?
if [ "$got" != 124 ]; then
	fail timeout-restarts "exit status $got, expected 124"
elif [ "$(grep -c 'restarting it' "$WORK/err")" -lt 2 ]; then
	fail timeout-restarts "the guest was not restarting: $(tail -n 3 "$WORK/err")"
else
	pass timeout-restarts
fi
# Nothing of an old VM outlives it: a restart loop keeps one guest RAM memfd
# mapped (two while one VM gives way to the next), not one per restart.
timeout -k 5 60 "$XENKVM" run --timeout 4 --on-reboot restart --kernel "$GUESTS/shutdown-64.elf" \
	--cmdline reason=reboot >"$WORK/out" 2>"$WORK/err" </dev/null &
loop_pid=$!
sleep 2
vmm_pid=$(pgrep -P "$loop_pid" -x xenkvm)
# Between two VMs none may be mapped: the most seen over a few looks counts.
rams=0
for _ in 1 2 3 4 5; do
	n=$(grep xenkvm-ram "/proc/$vmm_pid/maps" 2>/dev/null | awk '{print $5}' | sort -u | wc -l)
	[ "$n" -gt "$rams" ] && rams=$n
	sleep 0.2
done
wait "$loop_pid"
if [ -z "$vmm_pid" ] || [ "$rams" -lt 1 ]; then
	fail restart-frees-memory "could not look at the looping xenkvm's mappings"
elif [ "$rams" -gt 2 ]; then
	fail restart-frees-memory "$rams guest RAM memfds still mapped after restarts"
else
	pass restart-frees-memory
fi

# SIGTERM asks for a graceful shutdown; a guest that ignores it is destroyed
# after --shutdown-grace, or at once on a second SIGTERM.
sigterm_case() { # NAME COUNT PATTERN: send COUNT SIGTERMs, expect status 1 and PATTERN
	local name=$1 n=$2 pattern=$3
	# No timeout(1) in between: the signals must reach xenkvm itself (its own
	# --timeout bounds the run).
	"$XENKVM" run --timeout 30 --shutdown-grace 1 --kernel "$GUESTS/shutdown-32.elf" \
		--cmdline reason=hang >"$WORK/out" 2>"$WORK/err" </dev/null &
	local pid=$!
	sleep 1
	for _ in $(seq "$n"); do kill -TERM "$pid" 2>/dev/null; sleep 0.2; done
	wait "$pid"
	local got=$?
	if [ "$got" != 1 ]; then
		fail "$name" "exit status $got, expected 1"
	else
		expect_err "$name" "control/shutdown" && expect_err "$name" "$pattern" && pass "$name"
	fi
}
sigterm_case sigterm-grace 1 "did not shut down within"
sigterm_case sigterm-twice 2 "second shutdown request"

# SMP: extra vCPUs wait for a start-up call and must not stop a clean poweroff.
run smp-idle-aps 0 --vcpus 4 --kernel "$GUESTS/hvm-64.elf" && expect_out smp-idle-aps "RESULT: PASS" &&
	pass smp-idle-aps

# Bad input: one line naming the problem, exit status 2, no guest started.
bad() {
	local name=$1 pattern=$2
	shift 2
	run "$name" 2 "$@" && expect_err "$name" "$pattern" &&
		[ "$(wc -l <"$WORK/err")" = 1 ] && [ ! -s "$WORK/out" ] && pass "$name" ||
		{ [ "$(wc -l <"$WORK/err")" = 1 ] || fail "$name" "expected one line on stderr"; }
}
head -c 100 "$GUESTS/version-64.elf" >"$WORK/truncated.elf"
printf 'not an elf' >"$WORK/garbage"
head -c $((9 << 20)) /dev/zero >"$WORK/big.initrd"
bad missing-kernel "$WORK/nonexistent" --kernel "$WORK/nonexistent"
bad truncated-kernel "truncated.elf" --kernel "$WORK/truncated.elf"
bad garbage-kernel "garbage" --kernel "$WORK/garbage"
printf 'void _start(void) { for (;;); }\n' | cc -x c -static -nostdlib -no-pie -o "$WORK/nonpvh" -
bad non-pvh-kernel "not a PVH kernel" --kernel "$WORK/nonpvh"
bad initrd-too-big "big.initrd" --kernel "$GUESTS/version-32.elf" --memory 8M \
	--initrd "$WORK/big.initrd"
bad memory-zero "memory" --memory 0
bad memory-garbage "memory" --memory lots
bad memory-huge "memory" --memory 2048T
bad vcpus-zero "vcpus" --vcpus 0
bad unknown-option "--frobnicate" --frobnicate
bad transport-bogus "hypercall" --hypercall carrier-pigeon

# GRUB (Debian's grub-xen-bin, i386-xen_pvh): a real third-party PVH guest
# using the console ring, XenStore and grant tables.
if tests/integration/grub-image.sh "$WORK/grub" >"$WORK/grub.log" 2>&1; then
	run grub-script 0 --kernel "$WORK/grub/grub-pvh.elf" &&
		expect_out grub-script "GRUB embedded script running" &&
		expect_out grub-script "(memdisk)" && expect_out grub-script "hello from memdisk" &&
		pass grub-script
	# Its interactive prompt, answered over the PV console (the typed
	# characters are echoed one by one between cursor moves, so only the
	# command's output carries the phrase whole).
	(sleep 2; printf 'echo typed at the prompt\nhalt\n') |
		timeout 60 "$XENKVM" run --timeout 30 --kernel "$WORK/grub/grub-prompt.elf" \
			>"$WORK/out" 2>"$WORK/err"
	got=$?
	if [ "$got" != 0 ]; then
		fail grub-prompt "exit status $got, expected 0"
	else
		expect_out grub-prompt "grub>" && expect_out grub-prompt "typed at the prompt" &&
			pass grub-prompt
	fi
else
	fail grub-image "could not build the GRUB images: $(tail -n 1 "$WORK/grub.log")"
fi

# Suites of their own (XenStore socket, PV devices, ...): each prints PASS/FAIL
# lines; exit status 77 means it skipped for a reason it prints.
for suite in tests/integration/suites/*.sh; do
	while read -r line; do
		case $line in
		PASS*) echo "$line"; passed=$((passed + 1)) ;;
		FAIL*) echo "$line"; failed=$((failed + 1)) ;;
		*) echo "$line" ;;
		esac
	done < <("$suite" "$BUILD" 2>&1)
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
