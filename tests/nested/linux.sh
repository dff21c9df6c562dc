#!/usr/bin/env bash
# The Linux guest of the nested tier: Debian's 6.12 bzImage (the L1 kernel's
# own file) as a PVH guest of xenkvm, with a busybox initramfs whose /init
# is linux-init. `linux.sh pack WORK ROOT` puts the kernel, that initramfs
# and linux-tests.sh (which the L1 /init sources) under ROOT/linux.
set -eu
HERE=$(dirname "$0")
[ "$1" = pack ] || { echo "usage: $0 pack WORK ROOT" >&2; exit 2; }
WORK=$2 ROOT=$3
GROOT=$WORK/linux-root
rm -rf "$GROOT" && mkdir -p "$GROOT"/{bin,dev,proc,sys,lib/modules} "$ROOT/linux"
cp "$WORK"/kernel/modules/xen-{blkfront,netfront}.ko "$GROOT/lib/modules/"
cp "$(command -v busybox)" "$GROOT/bin/busybox"
cp "$HERE/linux-init" "$GROOT/init"
(cd "$GROOT" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$ROOT/linux/initrd.gz"
cp "$WORK/kernel/vmlinuz" "$ROOT/linux/vmlinuz"
cp "$HERE/linux-tests.sh" "$ROOT/linux/tests.sh"
