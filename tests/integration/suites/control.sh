#!/usr/bin/env bash
# The control socket and the xl-like verbs against live guests: list, info,
# stats, pause/unpause, shutdown --wait, destroy, console, a name already
# taken, and what a VM killed with SIGKILL leaves behind.
. "$(dirname "$0")/../suite_env.sh"
NAME=ctl-test-$$
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# start NAME KERNEL [args]: a guest in the background, its socket awaited.
start() {
	local name=$1 kernel=$2
	shift 2
	"$XENKVM" run --name "$name" --timeout 60 --kernel "$kernel" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
	pids+=($!)
	for _ in $(seq 100); do
		"$XENKVM" info "$name" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

start "$NAME" "$GUESTS/shutdown-64.elf" --cmdline reason=hang || fail start "the VM never answered"
vm=${pids[-1]}
"$XENKVM" list | grep -q "^$NAME .* running" && pass "list shows the VM running" ||
	fail list "$("$XENKVM" list 2>&1)"
"$XENKVM" info "$NAME" | grep -q '"state": "running"' && pass "info" || fail info "no state"
# The socket answers before the guest's first console_io: give it time.
for _ in $(seq 50); do "$XENKVM" stats "$NAME" | grep -q '^console_io' && break; sleep 0.1; done
"$XENKVM" stats "$NAME" | grep -q '^console_io' && pass "stats count hypercalls" ||
	fail stats "no console_io line"
"$XENKVM" pause "$NAME" && "$XENKVM" list | grep -q "^$NAME .* paused" &&
	"$XENKVM" unpause "$NAME" && "$XENKVM" list | grep -q "^$NAME .* running" &&
	pass "pause and unpause" || fail pause "state did not follow"
"$XENKVM" run --name "$NAME" --kernel "$GUESTS/version-32.elf" >/dev/null 2>"$WORK/dup.err"
[ $? = 2 ] && grep -q "already running" "$WORK/dup.err" && pass "a name already taken is refused" ||
	fail duplicate "$(cat "$WORK/dup.err")"
"$XENKVM" shutdown --wait --timeout 1 "$NAME" 2>"$WORK/sd.err"
[ $? = 1 ] && grep -q "did not shut down" "$WORK/sd.err" &&
	pass "shutdown --wait times out on a guest that ignores it" || fail shutdown-wait "$(cat "$WORK/sd.err")"
"$XENKVM" destroy "$NAME" && wait "$vm"
[ $? = 1 ] && ! "$XENKVM" info "$NAME" 2>/dev/null && pass "destroy ends the VM" ||
	fail destroy "the VM is still there"

# A VM killed outright leaves its socket; the next VM of that name takes it.
start "$NAME" "$GUESTS/shutdown-64.elf" --cmdline reason=hang
kill -9 "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null
start "$NAME" "$GUESTS/shutdown-64.elf" --cmdline reason=hang &&
	pass "a stale socket is replaced" || fail stale "$(cat "$WORK/$NAME.err")"
"$XENKVM" destroy "$NAME" >/dev/null 2>&1
wait "${pids[-1]}" 2>/dev/null

# The rest a killed VM leaves, its control socket under another name and its
# XenStore directory, goes when the next xenkvm starts (a socket once it is
# a minute old: one that new may belong to a VM still starting).
mkdir -p "$WORK/rt"
(
	export XDG_RUNTIME_DIR=$WORK/rt
	start "$NAME-killed" "$GUESTS/shutdown-64.elf" --cmdline reason=hang || exit 1
	dead=${pids[-1]}
	kill -9 "$dead"
	wait "$dead" 2>/dev/null
	[ -S "$WORK/rt/xenkvm/$NAME-killed.sock" ] && [ -d "$WORK/rt/xenkvm/$dead" ] || exit 2
	touch -h -d '2 minutes ago' "$WORK/rt/xenkvm/$NAME-killed.sock"
	"$XENKVM" run --timeout 30 --kernel "$GUESTS/version-64.elf" >/dev/null 2>&1 </dev/null
	[ ! -e "$WORK/rt/xenkvm/$NAME-killed.sock" ] && [ ! -e "$WORK/rt/xenkvm/$dead" ] || exit 3
)
case $? in
0) pass "what a killed VM left is removed by the next start" ;;
1) fail killed-leftovers "the VM never answered" ;;
2) fail killed-leftovers "a killed VM left no socket or directory to test with" ;;
*) fail killed-leftovers "left: $(ls "$WORK/rt/xenkvm")" ;;
esac

# on_crash=preserve keeps the stopped VM until it is destroyed; its status
# is then the crash's.
start "$NAME-keep" "$GUESTS/shutdown-32.elf" --on-crash preserve --cmdline reason=crash
vm=${pids[-1]}
for _ in $(seq 50); do "$XENKVM" list | grep -q "^$NAME-keep .* preserved" && break; sleep 0.1; done
"$XENKVM" list | grep -q "^$NAME-keep .* preserved" && "$XENKVM" destroy "$NAME-keep" &&
	wait "$vm"
rc=$?
[ "$rc" = 1 ] && pass "on_crash=preserve keeps the VM until destroy" ||
	fail preserve "status $rc: $(cat "$WORK/$NAME-keep.err")"

# on_reboot=restart boots the guest again in the same process. A guest that
# reboots at once is mostly between runs, where its control socket is down:
# stop it with SIGINT, which the next run takes as a destroy.
start "$NAME-again" "$GUESTS/shutdown-32.elf" --on-reboot restart --cmdline reason=reboot
vm=${pids[-1]}
sleep 1
kill -INT "$vm"
wait "$vm"
restarts=$(grep -c "restarting it" "$WORK/$NAME-again.err")
[ "$restarts" -ge 2 ] && pass "on_reboot=restart restarts the guest ($restarts times)" ||
	fail restart "$restarts restarts"

# --trace records every hypercall; trace-stats summarises them.
"$XENKVM" run --trace "$WORK/trace" --kernel "$GUESTS/version-64.elf" --timeout 30 \
	>/dev/null 2>&1 </dev/null
"$XENKVM" trace-stats "$WORK/trace" >"$WORK/stats" 2>&1 &&
	grep -q "^xen_version " "$WORK/stats" && grep -q "^console_io " "$WORK/stats" &&
	pass "--trace and trace-stats" || fail trace "$(cat "$WORK/stats")"

# xenkvm console attaches to GRUB's prompt; halt typed there ends the VM.
if tests/integration/grub-image.sh "$WORK/grub" >/dev/null 2>&1; then
	start "$NAME-grub" "$WORK/grub/grub-prompt.elf"
	vm=${pids[-1]}
	for _ in $(seq 300); do grep -q "grub>" "$WORK/$NAME-grub.out" && break; sleep 0.1; done
	# Type through a fifo, one command at a time, waiting for each answer:
	# the machine may be slow (sanitizers, other load).
	mkfifo "$WORK/keys"
	timeout 60 "$XENKVM" console "$NAME-grub" <"$WORK/keys" >"$WORK/attach.out" 2>&1 &
	exec 7>"$WORK/keys"
	printf 'echo typed through attach\n' >&7
	for _ in $(seq 300); do grep -q "^typed through attach" <(tr -d '\r' <"$WORK/attach.out") && break; sleep 0.1; done
	printf 'halt\n' >&7
	wait "$vm"
	rc=$?
	exec 7>&-
	wait
	[ "$rc" = 0 ] && grep -q "typed through attach" "$WORK/attach.out" &&
		pass "console attaches and types" || fail console "status $rc, $(tail -c 300 "$WORK/attach.out")"
fi
[ "$failed" = 0 ]
