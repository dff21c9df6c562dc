#!/usr/bin/env bash
# The seccomp sandbox. Every other suite already runs with it on (it is the
# default); this one checks that the filters are really there, per thread
# class, that a forbidden call stops xenkvm with status 125 naming the call,
# and that --no-sandbox turns it off.
#
# XENKVM_SANDBOX_SELFTEST=CLASS:CALL is a debug hook (vmm/sandbox.c): once
# the thread of CLASS ("loop": the main thread's event loop, "vcpu": a vCPU
# thread) is confined, it makes CALL (execve, socket, accept4, openat or
# getpid) with zero arguments, which is harmless when allowed.
# Usage: tests/integration/suites/sandbox.sh BUILD_DIR
set -u
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
GUESTS=$BUILD/guests
WORK=$(mktemp -d)
vm=
cleanup() {
	[ -n "$vm" ] && kill -9 "$vm" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
failed=0
pass() { echo "PASS sandbox: $1"; }
fail() {
	echo "FAIL sandbox: $1: $2"
	sed 's/^/    | /' "$WORK/err" 2>/dev/null | tail -n 10
	failed=$((failed + 1))
}

# selftest NAME SPEC WANT_STATUS [args...]: run the version guest with the hook.
selftest() {
	local name=$1 spec=$2 want=$3 got
	shift 3
	XENKVM_SANDBOX_SELFTEST=$spec timeout 60 "$XENKVM" run --timeout 30 \
		--kernel "$GUESTS/version-64.elf" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	[ "$got" = "$want" ] || { fail "$name" "exit status $got, expected $want"; return 1; }
}

# A forbidden call: status 125 and one line naming the thread and the call.
selftest "execve on the event loop" loop:execve 125 &&
	grep -q "^xenkvm: sandbox: event-loop thread made a forbidden system call execve (nr 59); stopping$" \
		"$WORK/err" && pass "execve on the event loop stops xenkvm, named" ||
	fail "execve on the event loop" "no message naming execve"
# accept4 is the event loop's (the sockets), not a vCPU's: the filters differ by class.
selftest "accept4 on a vCPU" vcpu:accept4 125 &&
	grep -q "^xenkvm: sandbox: vCPU thread made a forbidden system call accept4 (nr 288); stopping$" \
		"$WORK/err" && pass "accept4 on a vCPU thread stops xenkvm, named" ||
	fail "accept4 on a vCPU" "no message naming accept4"
# Setup's calls are gone after setup unless a restart needs them.
selftest "socket on the event loop" loop:socket 125 &&
	grep -q "event-loop thread made a forbidden system call socket" "$WORK/err" &&
	pass "socket after setup stops xenkvm" || fail "socket after setup" "no message"
# An allowed call made through the hook changes nothing.
selftest "getpid on a vCPU" vcpu:getpid 0 && grep -q "RESULT: PASS version-64" "$WORK/out" &&
	pass "an allowed call passes" || fail "getpid on a vCPU" "the guest did not pass"
# --no-sandbox: the same execve is made, fails with EFAULT, and the guest passes.
selftest "--no-sandbox" loop:execve 0 --no-sandbox && grep -q "RESULT: PASS version-64" "$WORK/out" &&
	grep -q "selftest: execve on the event-loop thread returned -1" "$WORK/err" &&
	pass "--no-sandbox lets the forbidden call through" || fail "--no-sandbox" "no pass"

# The filters as the kernel sees them: one on the main thread, two stacked on
# each vCPU thread, none with --no-sandbox; no capabilities left after setup.
# status_of PID FIELD: one line per xenkvm thread (xenkvm, vcpuN), "FIELD:
# VALUE" (KVM adds a worker task of its own, kvm-nx-lpage-recovery, on some
# kernels).
status_of() {
	for t in /proc/"$1"/task/*; do
		case $(cat "$t/comm") in
		xenkvm | vcpu[0-9]*) grep "^$2:" "$t/status" | tr '\t' ' ' ;;
		esac
	done
}
probe() { # NAME ARGS...: a 2-vCPU guest that hangs, its threads inspected
	local name=$1
	shift
	"$XENKVM" run --timeout 30 --vcpus 2 --kernel "$GUESTS/shutdown-64.elf" \
		--cmdline reason=hang "$@" >"$WORK/out" 2>"$WORK/err" </dev/null &
	vm=$!
	for _ in $(seq 100); do
		[ "$(ls /proc/$vm/task 2>/dev/null | wc -l)" -ge 3 ] && break
		sleep 0.1
	done
	sleep 0.5
	status_of "$vm" Seccomp_filters | sort | uniq -c | tr -s ' ' >"$WORK/$name.filters"
	status_of "$vm" CapEff | sort -u >"$WORK/$name.caps"
	kill -INT "$vm" 2>/dev/null
	wait "$vm" 2>/dev/null
	vm=
}
probe on
probe off --no-sandbox
grep -qx " 1 Seccomp_filters: 1" "$WORK/on.filters" &&
	grep -qx " 2 Seccomp_filters: 2" "$WORK/on.filters" &&
	pass "one filter on the event loop, two stacked on each vCPU thread" ||
	fail filters "$(cat "$WORK/on.filters")"
grep -qx " 3 Seccomp_filters: 0" "$WORK/off.filters" && pass "--no-sandbox installs no filter" ||
	fail no-filters "$(cat "$WORK/off.filters")"
if [ "$(id -u)" = 0 ]; then
	[ "$(cat "$WORK/on.caps")" = "CapEff: 0000000000000000" ] &&
		pass "no capability is kept after setup" || fail capabilities "$(cat "$WORK/on.caps")"
fi

exit $((failed > 0))
