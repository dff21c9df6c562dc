#!/usr/bin/env bash
# The PV network backend: the netfront test guest (both ABIs, one and split
# event channels) on a tap inside a network namespace made here, with
# tools/tapio as the host's side (it reads the guest's frames from the tap
# and injects frames the guest echoes); a tap xenkvm creates itself; and bad
# --net specifications. Nothing outside the namespace is touched.
# Usage: tests/integration/suites/net.sh BUILD_DIR. Exit 77 = skipped.
set -u
BUILD=$(cd "${1:-build}" && pwd)
XENKVM=$BUILD/xenkvm
GUESTS=$BUILD/guests
TAPIO=$BUILD/tools/tapio
WORK=$(mktemp -d)
NS=xenkvm-net-$$
failed=0

cleanup() {
	ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

[ -c /dev/net/tun ] || { echo "SKIP net: no /dev/net/tun"; exit 77; }
command -v ip >/dev/null || { echo "SKIP net: no ip (iproute2)"; exit 77; }
ip netns add "$NS" 2>"$WORK/netns.err" ||
	{ echo "SKIP net: cannot create a network namespace: $(cat "$WORK/netns.err")"; exit 77; }
[ -x "$TAPIO" ] || { echo "FAIL net: $TAPIO is not built"; exit 1; }

in_ns() { ip netns exec "$NS" "$@"; }
pass() { echo "PASS net: $1"; }
fail() {
	echo "FAIL net: $1: $2"
	sed 's/^/    | /' "$WORK/out" "$WORK/err" "$WORK/peer" 2>/dev/null | grep -v '| ok ' | tail -n 15
	failed=$((failed + 1))
}

# The namespace's own IPv6 chatter would reach the guest: keep it quiet.
in_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1
in_ns ip link set lo up

# guest NAME BITS TAP N CMDLINE: the netfront guest and tapio's peer.
guest() {
	local name=$1 bits=$2 tap=$3 n=$4 cmdline=$5 got
	in_ns timeout 100 "$TAPIO" peer "$tap" "$n" >"$WORK/peer" 2>&1 &
	local peer=$!
	in_ns timeout 90 "$XENKVM" run --timeout 60 --net "tap=$tap" \
		--kernel "$GUESTS/netfront-$bits.elf" --cmdline "$cmdline" \
		>"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	wait "$peer"
	grep '^PASS\|^FAIL' "$WORK/peer" | sed "s/^\(PASS\|FAIL\) net: /\1 net: $name: /"
	failed=$((failed + $(grep -c '^FAIL' "$WORK/peer")))
	if [ "$got" != 0 ]; then
		fail "$name" "exit status $got, expected 0"
	elif ! grep -q "RESULT: PASS netfront-$bits" "$WORK/out"; then
		fail "$name" "no RESULT: PASS"
	else
		pass "$name: the guest's checks"
	fi
}

# A tap made beforehand (as a user would, MTU 9000 for multi-slot frames)...
in_ns ip tuntap add dev xk0 mode tap vnet_hdr
in_ns ip link set xk0 mtu 9000 up
guest netfront-64 64 xk0 6 "n=6"
guest netfront-32-split 32 xk0 4 "n=4 split=1"
# ... and one xenkvm creates (and brings up) itself; it goes away with it.
guest netfront-64-own-tap 64 xkown 4 "n=4"
if in_ns ip link show xkown >/dev/null 2>&1; then
	fail own-tap-removed "xkown still exists after xenkvm exited"
else
	pass "a tap xenkvm created is gone after it exits"
fi

# Bad --net specs: one line naming the problem, exit status 2.
bad() {
	local name=$1 pattern=$2
	shift 2
	in_ns timeout 30 "$XENKVM" run --timeout 10 "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	local got=$?
	if [ "$got" != 2 ]; then
		fail "$name" "exit status $got, expected 2"
	elif ! grep -q -- "$pattern" "$WORK/err" || [ "$(wc -l <"$WORK/err")" != 1 ]; then
		fail "$name" "expected one line with '$pattern' on stderr"
	else
		pass "$name"
	fi
}
bad bad-mac "not of the form" --net "tap=xk1,mac=00:16:3e:zz:00:01"
bad multicast-mac "multicast" --net "tap=xk1,mac=01:00:5e:00:00:01"
bad bridge-refused "does not add the tap to a bridge" --net "tap=xk1,bridge=xenbr0"
bad script-refused "runs no hotplug scripts" --net "vifname=xk1,script=vif-bridge"
bad unknown-key "unknown key" --net "tap=xk1,speed=fast"
bad long-name "not an interface name" --net "tap=a-very-long-interface-name"
in_ns ip link add xkveth type veth peer name xkveth1
bad not-a-tap "not a tap" --net "tap=xkveth" --kernel "$GUESTS/shutdown-64.elf"
in_ns ip tuntap add dev xk2 mode tap vnet_hdr
bad devid-twice "given twice" --net "tap=xk0" --net "tap=xk2,devid=0" \
	--kernel "$GUESTS/shutdown-64.elf"
[ "$failed" = 0 ]
