#!/usr/bin/env bash
# Build a GRUB 2.06 i386-xen_pvh image from Debian's grub-xen-bin into DIR:
# its embedded script lists devices, reads a file from its memdisk and halts.
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
grub-mkimage -O i386-xen_pvh -o "$DIR/grub-pvh.elf" -c "$DIR/embedded.cfg" -m "$DIR/memdisk.tar" \
	-p '(memdisk)/boot/grub' memdisk tar echo ls cat halt reboot ext2 fat part_msdos part_gpt \
	normal configfile test minicmd lsmmap sleep
