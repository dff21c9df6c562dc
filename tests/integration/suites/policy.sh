#!/usr/bin/env bash
# The hypercall policy and the time coarsening against real guests: denied
# calls are -EPERM in the guest (multicall entries too) and counted (exit
# line, xenkvm stats), a denied shutdown does not hang xenkvm, the xl.cfg
# keys, bad rules refused with exit status 2; coarse HVMOP_get_time.
. "$(dirname "$0")/../suite_env.sh"
NAME=policy-test-$$
pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	sed 's/^/    | /' "$WORK/out" "$WORK/err" 2>/dev/null | tail -n 20
}

# run NAME EXPECTED_STATUS [xenkvm run args...]
run() {
	local name=$1 want=$2 got
	shift 2
	timeout 60 "$XENKVM" run --timeout 30 "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	[ "$got" = "$want" ] || { fail "$name" "exit status $got, expected $want"; return 1; }
}
expect_out() { grep -q -- "$2" "$WORK/out" || { fail "$1" "no '$2' on the console"; return 1; }; }
expect_err() { grep -q -- "$2" "$WORK/err" || { fail "$1" "no '$2' on stderr"; return 1; }; }

DENY=deny=hvm_op:get_time,deny=xen_version:extraversion
for bits in 32 64; do
	name="policy-hvm-$bits"
	run "$name" 0 --hypercall page --hypercall-policy "$DENY" --kernel "$GUESTS/hvm-$bits.elf" \
		--cmdline policy=1 && expect_out "$name" "RESULT: PASS hvm-$bits" &&
		expect_err "$name" "hypercall hvm_op:get_time denied by the hypercall policy" &&
		expect_err "$name" "policy denied 2 call(s): xen_version:extraversion 1, hvm_op:get_time 1" &&
		pass "$name"
	name="time-granularity-$bits"
	run "$name" 0 --hypercall page --time-granularity 100ms --kernel "$GUESTS/hvm-$bits.elf" \
		--cmdline granularity=100000000 && expect_out "$name" "RESULT: PASS hvm-$bits" &&
		pass "$name"
done

# The same rules from an xl.cfg file.
cat >"$WORK/policy.cfg" <<EOF
type = "pvh"
kernel = "$GUESTS/hvm-64.elf"
cmdline = "policy=1"
xenkvm_hypercall_policy = [ "deny=hvm_op:get_time", "deny=xen_version:extraversion" ]
xenkvm_time_granularity = "1ms"
EOF
run policy-xlcfg 0 "$WORK/policy.cfg" && expect_out policy-xlcfg "RESULT: PASS hvm-64" &&
	expect_err policy-xlcfg "policy denied 2 call(s)" && pass policy-xlcfg

# A guest that may not print still runs to its end.
run policy-no-console 0 --hypercall-policy deny=console_io --kernel "$GUESTS/version-64.elf" &&
	[ ! -s "$WORK/out" ] && expect_err policy-no-console "denied [0-9]* call(s): console_io:write" &&
	pass policy-no-console

# A denied shutdown returns to the guest (the kit then triple-faults): no hang.
run policy-shutdown 7 --hypercall-policy deny=sched_op:shutdown \
	--kernel "$GUESTS/shutdown-64.elf" --cmdline reason=poweroff &&
	expect_out policy-shutdown "SCHEDOP_shutdown(0) returned -1" &&
	expect_err policy-shutdown "sched_op:shutdown 1" && pass policy-shutdown
# Allowing only the console: the guest still boots and prints.
run policy-allow-list 7 --hypercall-policy default=deny,allow=console_io \
	--kernel "$GUESTS/shutdown-32.elf" --cmdline reason=poweroff &&
	expect_out policy-allow-list "SHUTDOWN poweroff" &&
	expect_out policy-allow-list "returned -1" &&
	expect_err policy-allow-list "sched_op:shutdown 1" && pass policy-allow-list

# xenkvm stats and info on a live guest.
"$XENKVM" run --name "$NAME" --timeout 60 --hypercall-policy deny=console_io \
	--time-granularity 1us --kernel "$GUESTS/shutdown-64.elf" --cmdline reason=hang \
	>"$WORK/out" 2>"$WORK/err" </dev/null &
pids+=($!)
for _ in $(seq 100); do
	"$XENKVM" info "$NAME" >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 0.5
"$XENKVM" stats "$NAME" >"$WORK/stats" 2>&1
if grep -Eq '^console_io +([0-9]+) +\1 +\1$' "$WORK/stats" &&
	grep -Eq '^console_io:write +[1-9]' "$WORK/stats"; then
	pass "stats count denied calls"
else
	fail stats "$(cat "$WORK/stats")"
fi
"$XENKVM" info "$NAME" >"$WORK/info" 2>&1
grep -q '"hypercall_policy": "default=allow,deny=console_io"' "$WORK/info" &&
	grep -q '"time_granularity_ns": 1000' "$WORK/info" && pass "info shows the policy" ||
	fail info "$(cat "$WORK/info")"
"$XENKVM" destroy "$NAME" >/dev/null 2>&1
wait "${pids[-1]}" 2>/dev/null

# Bad rules: one line naming the problem, exit status 2, no guest started.
bad() {
	local name=$1 pattern=$2
	shift 2
	run "$name" 2 "$@" && expect_err "$name" "$pattern" &&
		[ "$(wc -l <"$WORK/err")" = 1 ] && [ ! -s "$WORK/out" ] && pass "$name" ||
		{ [ "$(wc -l <"$WORK/err")" = 1 ] || fail "$name" "expected one line on stderr"; }
}
bad policy-unknown-family "'frob_op' is not a hypercall" --hypercall-policy deny=frob_op
bad policy-unknown-subop "not a memory_op sub-op" --hypercall-policy deny=memory_op:frob
bad policy-no-effect "changes nothing" --hypercall-policy allow=console_io
bad policy-conflict "two rules" --hypercall-policy deny=console_io,allow=console_io
bad granularity-too-big "more than 1 s" --time-granularity 5s
printf 'kernel = "%s"\nxenkvm_hypercall_policy = [ "deny=sched_op:nap" ]\n' \
	"$GUESTS/hvm-64.elf" >"$WORK/bad.cfg"
bad policy-bad-xlcfg "bad.cfg:2: xenkvm_hypercall_policy: 'deny=sched_op:nap'" "$WORK/bad.cfg"
