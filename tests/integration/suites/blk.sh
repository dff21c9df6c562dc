#!/usr/bin/env bash
# The PV block backend: the kit's XenBus client, the blkfront test guest in
# both ABIs against images made here (checked on the host afterwards), a
# read-only disk, xl's disk syntax, durability across kill -9, GRUB reading
# an ext2 image through (xen/xvda), and bad --disk specifications.
# Usage: tests/integration/suites/blk.sh BUILD_DIR
set -u
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
GUESTS=$BUILD/guests
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failed=0
SECTORS=8192 # 4 MiB images

pass() { echo "PASS blk: $1"; }
fail() {
	echo "FAIL blk: $1: $2"
	sed 's/^/    | /' "$WORK/out" "$WORK/err" 2>/dev/null | grep -v '| ok ' | tail -n 15
	failed=$((failed + 1))
}

# run NAME EXPECTED_STATUS ARGS...: output in $WORK/out and $WORK/err.
run() {
	local name=$1 want=$2 got
	shift 2
	timeout 90 "$XENKVM" run --timeout 60 "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	got=$?
	[ "$got" = "$want" ] || { fail "$name" "exit status $got, expected $want"; return 1; }
}

# A fresh image with the host's marker at sector 8.
make_image() {
	rm -f "$1"
	truncate -s $((SECTORS * 512)) "$1"
	printf 'host wrote this' | dd of="$1" bs=512 seek=8 conv=notrunc status=none
}

# Does IMG hold the guest's pattern (word w of sector s = s << 8 | w) over
# sectors FIRST..FIRST+N-1?
has_pattern() {
	od -An -v -t u4 -w4 -j $(($2 * 512)) -N $(($3 * 512)) "$1" |
		awk -v s="$2" '{ i = NR - 1; if ($1 != (s + int(i / 128)) * 256 + i % 128) { bad = 1; exit } }
			END { exit bad || NR == 0 }'
}

is_zero() { cmp -s -n $(($3 * 512)) <(dd if="$1" bs=512 skip="$2" count="$3" status=none) /dev/zero; }

host_checks() { # NAME IMG: what the blkfront guest must have left on the disk
	local name=$1 img=$2
	has_pattern "$img" 16 88 || { fail "$name" "sectors 16..103 lack the guest's data"; return 1; }
	has_pattern "$img" 64 256 || { fail "$name" "indirect write (sectors 64..319) missing"; return 1; }
	has_pattern "$img" 1000 1 || { fail "$name" "FUA write (sector 1000) missing"; return 1; }
	is_zero "$img" 512 128 || { fail "$name" "discarded sectors 512..639 are not zero"; return 1; }
	[ "$(dd if="$img" bs=1 skip=4096 count=15 status=none)" = "host wrote this" ] ||
		{ fail "$name" "the host's marker at sector 8 changed"; return 1; }
	is_zero "$img" 2048 $((SECTORS - 2048)) || { fail "$name" "a write landed past sector 2048"; return 1; }
}

for bits in 32 64; do
	name=xenbus-$bits
	run "$name" 0 --kernel "$GUESTS/$name.elf" && grep -q "RESULT: PASS $name" "$WORK/out" &&
		pass "$name (guest XenBus kit)" || { grep -q "RESULT: PASS" "$WORK/out" || fail "$name" "no PASS"; }
done

# The blkfront guest: x86_32-abi from the 32-bit build, x86_64-abi from the 64-bit one.
for bits in 32 64; do
	name=blkfront-$bits
	make_image "$WORK/disk.img"
	run "$name" 0 --kernel "$GUESTS/$name.elf" --cmdline "sectors=$SECTORS" --disk "$WORK/disk.img" &&
		{ grep -q "RESULT: PASS $name" "$WORK/out" || fail "$name" "no PASS line"; } &&
		host_checks "$name" "$WORK/disk.img" && pass "$name (data checked on the host)"
done

# xl's disk syntax, keyed (target= last, taking the rest) and positional.
make_image "$WORK/xl,disk.img"
run xl-keyed 0 --kernel "$GUESTS/blkfront-64.elf" --cmdline "sectors=$SECTORS" \
	--disk "format=raw, vdev=xvda, access=rw, target=$WORK/xl,disk.img" &&
	host_checks xl-keyed "$WORK/xl,disk.img" && pass "xl keyed spec (format=raw, vdev=xvda, access=rw, target=...)"
make_image "$WORK/disk.img"
run xl-positional 0 --kernel "$GUESTS/blkfront-32.elf" --cmdline "sectors=$SECTORS" \
	--disk "$WORK/disk.img,raw,xvda,rw" && host_checks xl-positional "$WORK/disk.img" &&
	pass "xl positional spec (target, format, vdev, access)"

# A read-only disk: writes fail, the image is untouched.
make_image "$WORK/ro.img"
before=$(sha256sum <"$WORK/ro.img")
run ro 0 --kernel "$GUESTS/blkfront-32.elf" --cmdline "sectors=$SECTORS ro=1" --disk "$WORK/ro.img,ro" &&
	{ grep -q "RESULT: PASS" "$WORK/out" || fail ro "no PASS line"; } &&
	{ [ "$before" = "$(sha256sum <"$WORK/ro.img")" ] || fail ro "the read-only image changed"; } &&
	pass "read-only disk (writes refused, image unchanged)"

# An acknowledged FUA write survives kill -9 of xenkvm.
make_image "$WORK/disk.img"
timeout 90 "$XENKVM" run --timeout 60 --kernel "$GUESTS/blkfront-64.elf" \
	--cmdline "sectors=$SECTORS durable=1" --disk "$WORK/disk.img" >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
for _ in $(seq 300); do grep -q DURABLE "$WORK/out" && break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if ! grep -q DURABLE "$WORK/out"; then
	fail kill-9 "the guest never acknowledged its write"
elif has_pattern "$WORK/disk.img" 2000 8; then
	pass "an acknowledged FUA write survives kill -9"
else
	fail kill-9 "sector 2000 lost after kill -9"
fi

# Hot-unplug of a connected disk through the XenStore socket, as xl
# block-detach does it (online = 0, state = Closing).
make_image "$WORK/disk.img"
if command -v xenstore-write >/dev/null; then
	export XENSTORED_PATH=$WORK/xenstored
	be=/local/domain/0/backend/vbd/1/51712
	timeout 90 "$XENKVM" run --timeout 60 --kernel "$GUESTS/blkfront-64.elf" --xenstore-socket "$XENSTORED_PATH" \
		--cmdline "sectors=$SECTORS unplug=1" --disk "$WORK/disk.img" >"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	for _ in $(seq 300); do grep -q CONNECTED "$WORK/out" && break; sleep 0.1; done
	xenstore-write "$be/online" 0 "$be/state" 5 2>>"$WORK/err"
	wait "$pid"
	got=$?
	if [ "$got" != 0 ] || ! grep -q "RESULT: PASS" "$WORK/out"; then
		fail unplug "exit status $got, or no PASS line"
	elif timeout 5 xenstore-exists "$be" 2>/dev/null; then
		fail unplug "the backend directory is still there"
	else
		pass "hot-unplug of a connected disk (online = 0)"
	fi
	unset XENSTORED_PATH
fi

# GRUB (grub-xen-bin, x86_32-abi blkfront) lists (xen/xvda) and reads a
# file from an ext2 image made here.
if command -v grub-mkimage >/dev/null && command -v mke2fs >/dev/null; then
	G=$WORK/grub
	mkdir -p "$G/memdisk/boot/grub" "$G/root"
	echo 'hello from memdisk' >"$G/memdisk/boot/grub/hello.txt"
	tar -C "$G/memdisk" -cf "$G/memdisk.tar" boot
	printf 'echo GRUB blk script\nls\ncat (xen/xvda)/hello.txt\nhalt\n' >"$G/embedded.cfg"
	echo 'hello from the PV disk' >"$G/root/hello.txt"
	if grub-mkimage -O i386-xen_pvh -o "$G/grub.elf" -c "$G/embedded.cfg" -m "$G/memdisk.tar" \
		-p '(memdisk)/boot/grub' memdisk tar echo ls cat halt ext2 part_msdos normal 2>"$WORK/err" &&
		mke2fs -q -t ext2 -d "$G/root" "$G/disk.img" 8M >/dev/null 2>"$WORK/err"; then
		for mode in rw ro; do
			run "grub-$mode" 0 --kernel "$G/grub.elf" --disk "$G/disk.img,$mode" &&
				{ grep -q '(xen/xvda)' "$WORK/out" || fail "grub-$mode" "ls did not list (xen/xvda)"; } &&
				{ grep -q 'hello from the PV disk' "$WORK/out" || fail "grub-$mode" "cat failed"; } &&
				pass "GRUB lists (xen/xvda) and cats a file from ext2 ($mode)"
		done
	else
		fail grub-image "could not build the GRUB image or the ext2 image"
	fi
else
	echo "SKIP blk: GRUB (grub-mkimage or mke2fs missing)"
fi

# Bad --disk specifications: exit 2 and one line naming the problem.
bad() {
	local name=$1 pattern=$2
	shift 2
	run "$name" 2 --kernel "$GUESTS/blkfront-64.elf" "$@" || return
	if [ "$(wc -l <"$WORK/err")" != 1 ]; then
		fail "$name" "expected one line on stderr"
	elif ! grep -q -- "$pattern" "$WORK/err"; then
		fail "$name" "no '$pattern' on stderr"
	else
		pass "bad spec: $name"
	fi
}
make_image "$WORK/disk.img"
bad missing-image "No such file" --disk "$WORK/nonexistent.img"
bad directory "not a regular file" --disk "$WORK"
bad bad-vdev "vdev floppy" --disk "$WORK/disk.img,vdev=floppy"
bad qcow2 "format qcow2" --disk "format=qcow2, target=$WORK/disk.img"
bad bad-access "access rx" --disk "access=rx, target=$WORK/disk.img"
bad no-target "no target" --disk "vdev=xvda"
bad unknown-key "unknown key colour" --disk "$WORK/disk.img,colour=blue"
bad vdev-twice "already in use" --disk "$WORK/disk.img" --disk "$WORK/disk.img,vdev=xvda"
[ "$failed" = 0 ]
