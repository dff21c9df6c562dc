#!/usr/bin/env bash
# Issue 8's end to end: a real-world style xl.cfg (a PVH guest with two disks
# and a vif) starts the guest, and every xl-like verb works against it. The
# VM runs inside a network namespace made here, so its tap stays there.
# Usage: tests/integration/suites/xlcfg_verbs.sh BUILD_DIR. Exit 77 = skipped.
set -u
BUILD=$(cd "${1:-build}" && pwd)
XENKVM=$BUILD/xenkvm
WORK=$(mktemp -d)
NS=xenkvm-cfg-$$
NAME=cfg-verbs-$$
vm=
failed=0
cleanup() {
	[ -n "$vm" ] && kill -9 "$vm" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
pass() { echo "PASS xl.cfg+verbs: $1"; }
fail() { echo "FAIL xl.cfg+verbs: $1: $2"; failed=$((failed + 1)); }

[ -c /dev/net/tun ] && command -v ip >/dev/null && ip netns add "$NS" 2>/dev/null ||
	{ echo "SKIP xl.cfg+verbs: no tun device or network namespaces"; exit 77; }
truncate -s 16M "$WORK/root.img" "$WORK/data.img"
cat >"$WORK/domain.cfg" <<CFG
# A PVH guest as an xl user writes it.
name = "$NAME"
type = "pvh"
kernel = "$BUILD/guests/shutdown-64.elf"
extra = "reason=hang"
memory = 128
maxmem = 256
vcpus = 2
disk = [ 'format=raw, vdev=xvda, access=rw, target=$WORK/root.img',
         '$WORK/data.img,raw,xvdb,ro' ]
vif = [ 'mac=00:16:3e:12:34:56, vifname=xkt$$' ]
on_crash = "destroy"
CFG
ip netns exec "$NS" "$XENKVM" run "$WORK/domain.cfg" --timeout 60 \
	>"$WORK/out" 2>"$WORK/err" </dev/null &
vm=$!
for _ in $(seq 100); do "$XENKVM" info "$NAME" >/dev/null 2>&1 && break; sleep 0.1; done
xs() { XENSTORED_PATH=$("$XENKVM" info "$NAME" | sed -n 's/.*"xenstore_socket": "\(.*\)".*/\1/p') "$@"; }

"$XENKVM" list | grep -q "^$NAME .*128 .* 2 running" && pass "the cfg starts the guest (list)" ||
	fail list "$("$XENKVM" list 2>&1; cat "$WORK/err")"
"$XENKVM" info "$NAME" >"$WORK/info" && grep -q "xvdb" "$WORK/info" && grep -q "xkt$$" "$WORK/info" &&
	pass "info shows both disks and the vif" || fail info "$(cat "$WORK/info")"
[ "$(xs xenstore-read /local/domain/1/device/vbd/51728/backend 2>/dev/null)" != "" ] &&
	[ "$(xs xenstore-read /local/domain/0/backend/vif/1/0/mac 2>/dev/null)" = 00:16:3e:12:34:56 ] &&
	pass "both disks and the vif are in XenStore" || fail xenstore "$(xs xenstore-ls -f 2>&1 | grep -E 'vbd|vif' | head)"
"$XENKVM" stats "$NAME" | grep -q "^console_io" && pass "stats" || fail stats "no counters"
"$XENKVM" pause "$NAME" && "$XENKVM" list | grep -q "^$NAME .* paused" && "$XENKVM" unpause "$NAME" &&
	pass "pause and unpause" || fail pause "state did not change"
"$XENKVM" mem-set "$NAME" 192 && [ "$(xs xenstore-read /local/domain/1/memory/target)" = 196608 ] &&
	pass "mem-set moves memory/target" || fail mem-set "$(xs xenstore-read /local/domain/1/memory/target 2>&1)"
"$XENKVM" mem-set "$NAME" 512 2>/dev/null && fail mem-set-max "accepted beyond maxmem" ||
	pass "mem-set beyond maxmem is refused"
"$XENKVM" reboot "$NAME" && [ "$(xs xenstore-read /local/domain/1/control/shutdown)" = reboot ] &&
	pass "reboot asks the guest through control/shutdown" || fail reboot "no request"
"$XENKVM" shutdown "$NAME" && [ "$(xs xenstore-read /local/domain/1/control/shutdown)" = poweroff ] &&
	pass "shutdown asks the guest through control/shutdown" || fail shutdown "no request"
printf 'x' | timeout 5 "$XENKVM" console "$NAME" >/dev/null 2>&1
[ $? = 0 ] && pass "console attaches and detaches at end of input" || fail console "could not attach"
"$XENKVM" destroy "$NAME" && wait "$vm"
[ $? = 1 ] && pass "destroy ends it" || fail destroy "status $?"
vm=
[ "$failed" = 0 ]
