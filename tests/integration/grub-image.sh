#!/usr/bin/env bash
# Build GRUB 2.06 i386-xen_pvh images from Debian's grub-xen-bin into DIR:
# grub-pvh.elf runs an embedded script (lists devices, reads a file from its
# memdisk, halts); grub-prompt.elf has no script and stops at its prompt.
set -eu
DIR=$1
mkdir -p "$DIR/memdisk/boot/grub"
echo 'hello from memdisk' >"$DIR/memdisk/boot/grub/hello.txt"
tar -C "$DIR/memdisk" -cf "$DIR/memdisk.tar" boot
cat >"$DIR/embedded.cfg" <<'CFG'
echo GRUB embedded script running
ls
cat (memdisk)/boot/grub/hello.txt
halt
CFG
MODULES="memdisk tar echo ls cat halt reboot ext2 fat part_msdos part_gpt normal configfile test
	minicmd lsmmap sleep"
# shellcheck disable=SC2086 # one word per module
grub-mkimage -O i386-xen_pvh -o "$DIR/grub-pvh.elf" -c "$DIR/embedded.cfg" -m "$DIR/memdisk.tar" \
	-p '(memdisk)/boot/grub' $MODULES
# shellcheck disable=SC2086
grub-mkimage -O i386-xen_pvh -o "$DIR/grub-prompt.elf" -m "$DIR/memdisk.tar" \
	-p '(memdisk)/boot/grub' $MODULES
