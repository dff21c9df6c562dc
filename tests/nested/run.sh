#!/usr/bin/env bash
# The nested tier: xenkvm's kvm hypercall transport needs a KVM with Xen
# support, which this machine's KVM lacks. QEMU's TCG emulates an AMD CPU
# with SVM, and Debian's 6.12 kernel inside it runs a real KVM with
# CONFIG_KVM_XEN (see ../shared/docs/nested-kvm.md). This script packs a
# static xenkvm, busybox, the KVM modules, the test guests and GRUB into an
# initramfs, boots that kernel under QEMU (all under a timeout), and turns
# the "NESTED: PASS|FAIL name" lines its /init prints into this tier's
# result. It says SKIP, with the reason, when it cannot run.
# Usage: tests/nested/run.sh BUILD_DIR   (with BUILD_DIR/static/xenkvm built)
set -u
BUILD=${1:-build}
STATIC=$BUILD/static
WORK=$BUILD/nested
HERE=$(dirname "$0")
L1_TIMEOUT=${NESTED_TIMEOUT:-1800}
# NESTED_ONLY=linux runs only the Linux guest (for debugging it);
# NESTED_ONLY=linux-smp boots Linux with NESTED_VCPUS (4) NESTED_RUNS times (5);
# NESTED_L1_CPUS gives L1 more CPUs than its 2.
start=$(date +%s)

skip() {
	echo "SKIP: nested tier: $1"
	exit 0
}

command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (Debian package qemu-system-x86)"
BUSYBOX=$(command -v busybox) || skip "no busybox (Debian package busybox-static)"
readelf -l "$BUSYBOX" 2>/dev/null | grep -q INTERP &&
	skip "$BUSYBOX is not static (Debian package busybox-static)"
[ -x "$STATIC/xenkvm" ] || skip "no static xenkvm in $STATIC (make STATIC=1 BUILD=$STATIC)"
readelf -l "$STATIC/xenkvm" | grep -q INTERP && skip "$STATIC/xenkvm is not static"
msg=$("$HERE/fetch-kernel.sh" "$WORK/kernel")
case $? in
0) ;;
77) skip "$msg" ;;
*) echo "FAIL nested-kernel: $msg"; echo "0 passed, 1 failed"; exit 1 ;;
esac

# The L1 initramfs.
ROOT=$WORK/root
rm -rf "$ROOT" && mkdir -p "$ROOT"/{bin,dev,proc,sys,run,tmp,lib/modules,guests,grub}
cp "$BUSYBOX" "$ROOT/bin/busybox"
cp "$STATIC/xenkvm" "$ROOT/bin/xenkvm"
cp "$HERE/init" "$ROOT/init"
for m in irqbypass ccp kvm kvm-amd tun; do
	cp "$WORK/kernel/modules/$m.ko" "$ROOT/lib/modules/"
done
cp "$STATIC"/guests/*.elf "$ROOT/guests/"
# Without the GRUB images (grub-image.sh's log says why) the GRUB tests fail inside.
"$HERE/../integration/grub-image.sh" "$WORK/grub" >"$WORK/grub.log" 2>&1 &&
	cp "$WORK"/grub/grub-*.elf "$ROOT/grub/"
"$HERE/linux.sh" pack "$WORK" "$ROOT" || { echo "FAIL nested-linux-pack"; exit 1; }
(cd "$ROOT" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -1 >"$WORK/initrd.gz" ||
	{ echo "FAIL nested-initrd: packing the initramfs failed"; echo "0 passed, 1 failed"; exit 1; }

# Boot it. The serial console carries the result lines.
boot_l1() {
	echo "nested tier: booting $(cat "$WORK/kernel/package") under QEMU TCG (timeout ${L1_TIMEOUT} s)"
	timeout "$L1_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 3072 -smp "${NESTED_L1_CPUS:-2}" \
		-kernel "$WORK/kernel/vmlinuz" -initrd "$WORK/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet nested_only=${NESTED_ONLY:-all} nested_runs=${NESTED_RUNS:-5} nested_vcpus=${NESTED_VCPUS:-4}" -nographic \
		-no-reboot -nic none </dev/null >"$WORK/console.log" 2>&1
	qemu_status=$?
}
boot_l1
# The L1 kernel (its own KVM, on QEMU TCG's emulated SVM) has been seen to
# oops and reboot, more often on a loaded machine: that is the emulated host
# failing, not a result. Say so, keep its log, and boot once more.
if [ "$qemu_status" = 0 ] && ! grep -q "NESTED: DONE" "$WORK/console.log"; then
	cp "$WORK/console.log" "$WORK/console-panic.log"
	echo "  L1 went down before the tests ended (log: $WORK/console-panic.log):" \
		"$(grep -m1 -E 'RIP:|BUG:|panic' "$WORK/console.log" | tr -d '\r'); booting L1 once more"
	boot_l1
fi

passed=0
failed=0
while IFS= read -r line; do
	line=${line%$'\r'}
	case $line in
	"NESTED: PASS "*) echo "PASS ${line#NESTED: PASS }"; passed=$((passed + 1)) ;;
	"NESTED: FAIL "*) echo "FAIL ${line#NESTED: FAIL }"; failed=$((failed + 1)) ;;
	"NESTED: INFO "*) echo "  ${line#NESTED: INFO }" ;;
	"    | "*) echo "$line" ;;
	esac
done <"$WORK/console.log"
if ! grep -q "NESTED: DONE" "$WORK/console.log"; then
	echo "    last L1 console lines:"
	tail -n 20 "$WORK/console.log" | tr -d '\r' | sed 's/^/    | /'
	if [ "$qemu_status" = 0 ]; then
		# QEMU exits 0 when L1 reboots (panic=-1, -no-reboot): the emulated
		# host crashed again. The tests that ran are counted; the rest did
		# not run, which is said, not hidden.
		echo "SKIP nested-l1: the L1 kernel went down twice (QEMU TCG's nested SVM);" \
			"$passed tests ran before it, the rest did not run"
	else
		echo "FAIL nested-l1: the L1 VM did not finish (QEMU status $qemu_status)"
		failed=$((failed + 1))
	fi
fi
echo "nested tier: $(($(date +%s) - start)) s (console log: $WORK/console.log)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
