#!/usr/bin/env bash
# The host XenStore socket against a running guest, with Debian's own tools
# (xenstore-utils, libxenstore 4.17: XENSTORED_PATH names the socket; without
# it they try /var/run/xenstored/socket, then /dev/xen/xenbus).
# Usage: tests/integration/suites/xenstore.sh BUILD_DIR. Exit 77 = skipped.
set -u
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
GUEST=$BUILD/guests/shutdown-64.elf
WORK=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

command -v xenstore-ls >/dev/null || { echo "SKIP: xenstore-utils not installed"; exit 77; }
"$XENKVM" run --help 2>&1 | grep -q -- --xenstore-socket ||
	{ echo "SKIP: xenkvm has no --xenstore-socket"; exit 77; }

export XENSTORED_PATH=$WORK/xenstored
# A guest that spins until stopped, so the tree stays up while we look.
"$XENKVM" run --kernel "$GUEST" --cmdline reason=hang --timeout 20 \
	--xenstore-socket "$XENSTORED_PATH" >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
for _ in $(seq 100); do [ -S "$XENSTORED_PATH" ] && break; sleep 0.1; done

failed=0
check() { # NAME COMMAND...: the command must succeed
	local name=$1
	shift
	if timeout 10 "$@" >"$WORK/got" 2>&1; then echo "PASS $name"; else
		echo "FAIL $name"; sed 's/^/    | /' "$WORK/got" "$WORK/err" | tail -n 20
		failed=$((failed + 1))
	fi
}
check "xenstore-ls shows the guest's tree" \
	sh -c 'xenstore-ls -f /local/domain/1 | grep -q "^/local/domain/1/store/ring-ref = "'
check "xenstore-read name" sh -c '[ -n "$(xenstore-read /local/domain/1/name)" ]'
check "xenstore-write then read" \
	sh -c 'xenstore-write /local/domain/1/data/it ok && [ "$(xenstore-read /local/domain/1/data/it)" = ok ]'
check "xenstore-watch sees a write" sh -c '
	xenstore-watch -n 2 /local/domain/1/data >"$0/watch" & w=$!
	sleep 0.5; xenstore-write /local/domain/1/data/w 1; wait $w
	grep -q "^/local/domain/1/data/w$" "$0/watch"' "$WORK"
check "xenstore-rm" sh -c 'xenstore-rm /local/domain/1/data/it && ! xenstore-exists /local/domain/1/data/it'
check "xenstore-chmod and -ls -p" \
	sh -c 'xenstore-chmod /local/domain/1/data n1 r0 && xenstore-ls -p /local/domain/1 | grep -q "data = .*(n1,r0)"'
[ "$failed" = 0 ]
