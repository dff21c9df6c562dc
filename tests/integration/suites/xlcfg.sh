#!/usr/bin/env bash
# xl.cfg files: a guest booted from one, KEY=VALUE overrides, flags on top,
# malformed files refused in one line naming file:line; the man page renders.
# Usage: tests/integration/suites/xlcfg.sh BUILD_DIR
set -u
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
GUESTS=$BUILD/guests
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failed=0

pass() { echo "PASS xlcfg-$1"; }
fail() {
	echo "FAIL xlcfg-$1: $2"
	sed 's/^/    | /' "$WORK/out" "$WORK/err" 2>/dev/null | tail -n 20
	failed=$((failed + 1))
}
# run NAME WANT_STATUS ARGS...: xenkvm run under a timeout, output in $WORK/{out,err}.
run() {
	local name=$1 want=$2 got
	shift 2
	timeout 60 "$XENKVM" run "$@" --timeout 30 >"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	[ "$got" = "$want" ] || { fail "$name" "exit status $got, expected $want"; return 1; }
}
has() { grep -q -- "$3" "$WORK/$2" || { fail "$1" "no '$3' in $2"; return 1; }; }

cat >"$WORK/version.cfg" <<CFG
# A PVH guest as xl would take it
name   = "xlcfg-version"
type   = "pvh"
kernel = "$GUESTS/version-64.elf"
memory = 64
vcpus  = 2
extra  = "console=hvc0"
CFG
run boot 0 "$WORK/version.cfg" --hypercall page && has boot out "RESULT: PASS version-64" &&
	[ ! -s "$WORK/err" ] && pass boot || { [ -s "$WORK/err" ] && fail boot "stderr not empty"; }

# extra= reaches the guest: the shutdown guest takes its reason from it.
cat >"$WORK/shutdown.cfg" <<CFG
name = "xlcfg-shutdown"; type = "pvh"
kernel = "$GUESTS/shutdown-64.elf"
memory = 32
extra = "reason=watchdog"
on_watchdog = "destroy"
CFG
run extra 4 "$WORK/shutdown.cfg" && has extra out "SHUTDOWN watchdog" && pass extra
run override 1 "$WORK/shutdown.cfg" 'extra="reason=crash"' && has override out "SHUTDOWN crash" &&
	pass override
run root-extra 0 "$WORK/shutdown.cfg" 'root="/dev/xvda1"' 'extra="reason=poweroff"' &&
	has root-extra out "SHUTDOWN poweroff" && pass root-extra
run flag-wins 0 "$WORK/shutdown.cfg" 'extra="reason=crash"' --cmdline reason=poweroff &&
	pass flag-wins

# vcpus= from the file: the SMP guest checks it sees n vCPUs.
cat >"$WORK/smp.cfg" <<CFG
kernel = "$GUESTS/smp-64.elf"
type = "pvh"
vcpus = 4
extra = "n=4"
CFG
run vcpus 0 "$WORK/smp.cfg" && has vcpus out "RESULT: PASS smp-64" && pass vcpus

# uuid= and maxmem= reach XenStore (/local/domain/1/vm, memory/static-max).
if command -v xenstore-read >/dev/null; then
	cat >"$WORK/uuid.cfg" <<CFG
type = "pvh"
kernel = "$GUESTS/shutdown-64.elf"
extra = "reason=hang"
memory = 32
maxmem = 64
uuid = "3F5C1A0E-9B7D-4C2E-A1F0-5D6E7F8091A2"
CFG
	timeout 60 "$XENKVM" run "$WORK/uuid.cfg" --timeout 20 --xenstore-socket "$WORK/xs" \
		>"$WORK/out" 2>"$WORK/err" </dev/null &
	vm=$!
	for _ in $(seq 100); do [ -S "$WORK/xs" ] && break; sleep 0.1; done
	vmpath=$(XENSTORED_PATH=$WORK/xs timeout 10 xenstore-read /local/domain/1/vm 2>&1)
	maxkb=$(XENSTORED_PATH=$WORK/xs timeout 10 xenstore-read /local/domain/1/memory/static-max 2>&1)
	kill "$vm" 2>/dev/null
	wait "$vm" 2>/dev/null
	if [ "$vmpath" = /vm/3f5c1a0e-9b7d-4c2e-a1f0-5d6e7f8091a2 ] && [ "$maxkb" = 65536 ]; then
		pass uuid-maxmem
	else
		fail uuid-maxmem "vm='$vmpath' static-max='$maxkb'"
	fi
fi

# Unknown keys warn with file:line and the guest still boots.
printf 'frobnicate = 1\n' >>"$WORK/version.cfg"
run unknown-key 0 "$WORK/version.cfg" --hypercall page &&
	has unknown-key err "version.cfg:8: unknown key 'frobnicate' ignored" && pass unknown-key

# Bad input: exit status 2, one line naming file:line, no guest output.
bad() { # NAME PATTERN ARGS...
	local name=$1 pattern=$2
	shift 2
	run "$name" 2 "$@" || return
	has "$name" err "$pattern" || return
	[ "$(wc -l <"$WORK/err")" = 1 ] || { fail "$name" "expected one line on stderr"; return; }
	[ ! -s "$WORK/out" ] || { fail "$name" "the guest ran"; return; }
	pass "$name"
}
printf 'name = "x"\nkernel = "%s"\ndisk = [ "a.img",\n  "b.img"\nmemory = 64\n' \
	"$GUESTS/version-64.elf" >"$WORK/badlist.cfg"
bad bad-list "badlist.cfg:5: expected ',' or ']' in a list" "$WORK/badlist.cfg"
printf 'name = "x\nkernel = "k"\n' >"$WORK/unterminated.cfg"
bad unterminated "unterminated.cfg:1: unterminated string" "$WORK/unterminated.cfg"
printf 'name = "a"\nname = "b"\n' >"$WORK/dup.cfg"
bad duplicate "dup.cfg:2: duplicate key 'name'" "$WORK/dup.cfg"
printf 'type = "hvm"\nkernel = "k"\n' >"$WORK/hvm.cfg"
bad type-hvm "hvm.cfg:1: type: HVM guests are not supported" "$WORK/hvm.cfg"
bad bad-memory "memory: 'lots' is not a whole number of MiB" "$WORK/shutdown.cfg" "memory='lots'"
bad missing-cfg "nonexistent.cfg: No such file" "$WORK/nonexistent.cfg"

# The man page renders without warnings.
MAN=$(dirname "$0")/../../../doc/xenkvm.1
if command -v man >/dev/null; then
	if MANWIDTH=80 man --warnings -l "$MAN" >"$WORK/out" 2>"$WORK/err" && [ ! -s "$WORK/err" ] &&
		grep -q "xl.cfg" "$WORK/out"; then
		pass man-page
	else
		fail man-page "man --warnings -l doc/xenkvm.1 complained"
	fi
else
	echo "SKIP xlcfg-man-page: man-db not installed"
fi
[ "$failed" = 0 ]
