#!/usr/bin/env bash
# Ballooning: the balloon guest in both ABIs (its own checks of Xen's
# answers), then the host's side: the VMM's resident memory while the guest
# touches half of its 64 MiB, gives that half back and takes it again.
# Usage: tests/integration/suites/balloon.sh BUILD_DIR
set -u
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
GUESTS=$BUILD/guests
WORK=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	exec 3>&- 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap '' PIPE

for bits in 32 64; do
	name=balloon-$bits
	timeout 60 "$XENKVM" run --hypercall page --memory 64 --timeout 30 \
		--kernel "$GUESTS/$name.elf" >"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	if [ "$got" = 0 ] && grep -q "RESULT: PASS $name" "$WORK/out"; then
		echo "PASS $name"
	else
		echo "FAIL $name: exit status $got"
		grep -E "not ok|RESULT" "$WORK/out" | sed 's/^/    | /' | head -n 20
		tail -n 5 "$WORK/err" | sed 's/^/    | /'
	fi
done

# The RSS run: the guest stops at each stage until it reads a character.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null; }
wait_stage() { # STAGE: up to 30 s for `BALLOON: STAGE` on the console
	for _ in $(seq 300); do
		grep -q "BALLOON: $1" "$WORK/rss.out" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
mkfifo "$WORK/in"
"$XENKVM" run --hypercall page --memory 64 --timeout 60 --cmdline rss=1 \
	--kernel "$GUESTS/balloon-64.elf" <"$WORK/in" >"$WORK/rss.out" 2>"$WORK/rss.err" &
pid=$!
exec 3>"$WORK/in"
declare -A rss
ok=1
for stage in touched released repopulated; do
	if ! wait_stage "$stage"; then
		ok=0
		echo "FAIL balloon-rss: the guest never reached '$stage'"
		break
	fi
	sleep 0.2
	rss[$stage]=$(rss_kib)
	printf g >&3
done
exec 3>&-
wait "$pid"
got=$?
pid=
if [ "$ok" = 1 ]; then
	t=${rss[touched]} r=${rss[released]} p=${rss[repopulated]}
	echo "balloon-rss: VmRSS touched ${t} KiB, after giving 32 MiB back ${r} KiB, repopulated ${p} KiB"
	# 32 MiB given back: at least 28 MiB must leave, and come back when touched.
	if [ "$got" = 0 ] && [ $((t - r)) -ge $((28 * 1024)) ] && [ $((p - r)) -ge $((28 * 1024)) ] &&
		grep -q "RESULT: PASS balloon-64" "$WORK/rss.out"; then
		echo "PASS balloon-rss"
	else
		echo "FAIL balloon-rss: exit status $got, RSS ${t} -> ${r} -> ${p} KiB"
		grep -E "not ok|RESULT" "$WORK/rss.out" | sed 's/^/    | /' | head -n 20
		tail -n 5 "$WORK/rss.err" | sed 's/^/    | /'
	fi
fi
