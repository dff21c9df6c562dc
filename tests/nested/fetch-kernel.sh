#!/usr/bin/env bash
# Fetch Debian's 6.12 kernel (the L1 kernel of the nested tier, and the
# Linux guest) into DIR: DIR/vmlinuz, DIR/config and, decompressed for
# busybox insmod, DIR/modules/NAME.ko: KVM's (irqbypass, ccp, kvm, kvm-amd)
# and tun for L1, the PV frontends (xen-blkfront, xen-netfront) for the guest.
# The package name carries Debian's ABI version, so it is resolved from the
# linux-image-6.12-amd64 meta-package with apt-cache; nothing is installed.
# Prints the reason and exits 77 when the package cannot be had.
set -u
DIR=$(realpath -m "$1")
META=linux-image-6.12-amd64
MODULES="virt/lib/irqbypass drivers/crypto/ccp/ccp arch/x86/kvm/kvm arch/x86/kvm/kvm-amd
	drivers/net/tun drivers/block/xen-blkfront drivers/net/xen-netfront"

pkg=$(apt-cache depends "$META" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.12/ { print $2; exit }')
if [ -z "$pkg" ]; then
	echo "cannot resolve $META with apt-cache (run apt-get update)"
	exit 77
fi
if [ -f "$DIR/$pkg.done" ] && [ "$(cat "$DIR/modules.list" 2>/dev/null)" = "$MODULES" ]; then
	exit 0
fi
rm -rf "$DIR" && mkdir -p "$DIR/deb" "$DIR/modules" || exit 1
if ! (cd "$DIR/deb" && apt-get download -q "$pkg" >/dev/null 2>"$DIR/download.log"); then
	echo "apt-get download $pkg failed: $(tail -n 1 "$DIR/download.log")"
	exit 77
fi
paths=("./boot/vmlinuz-*" "./boot/config-*")
for m in $MODULES; do
	paths+=("./lib/modules/*/kernel/$m.ko*")
done
dpkg-deb --fsys-tarfile "$DIR"/deb/*.deb | tar -x -C "$DIR/deb" --wildcards "${paths[@]}" || exit 1
cp "$DIR"/deb/boot/vmlinuz-* "$DIR/vmlinuz" && cp "$DIR"/deb/boot/config-* "$DIR/config" || exit 1
for m in $MODULES; do
	f=$(ls "$DIR"/deb/lib/modules/*/kernel/"$m".ko* 2>/dev/null | head -n 1)
	name=$(basename "$m")
	case $f in
	*.xz) busybox xzcat "$f" >"$DIR/modules/$name.ko" ;;
	*.ko) cp "$f" "$DIR/modules/$name.ko" ;;
	*) echo "$pkg has no $m module"; exit 1 ;;
	esac || exit 1
done
grep -q '^CONFIG_KVM_XEN=y' "$DIR/config" || { echo "$pkg lacks CONFIG_KVM_XEN"; exit 77; }
rm -rf "$DIR/deb"
echo "$pkg" >"$DIR/package"
echo "$MODULES" >"$DIR/modules.list"
touch "$DIR/$pkg.done"
