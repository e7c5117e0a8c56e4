#!/bin/bash
# tools/remaster-iso on a small synthetic installer ISO with the real layout (isolinux
# with mboot.c32, EFI/xenserver/grub.cfg, install.img, hybrid BIOS+UEFI): the injected
# install.img, the boot parameters in both menus, the boot equipment kept, a second run
# on its own output, bad input.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
export XSGUARD
command -v xorriso >/dev/null || { echo "SKIP remaster: xorriso not installed (Debian: xorriso)"; exit 0; }
[ -f /usr/lib/ISOLINUX/isolinux.bin ] && [ -f /usr/lib/ISOLINUX/isohdpfx.bin ] ||
  { echo "SKIP remaster: isolinux not installed (Debian: isolinux syslinux-common)"; exit 0; }

t=$TMP/tree
mkdir -p "$t/boot/isolinux" "$t/EFI/xenserver" "$t/Packages" "$t/repodata" "$t/install/root"
cp /usr/lib/ISOLINUX/isolinux.bin "$t/boot/isolinux/"
for m in mboot.c32 ldlinux.c32 libcom32.c32; do
  cp "/usr/lib/syslinux/modules/bios/$m" "$t/boot/isolinux/" 2>/dev/null
done
cat >"$t/boot/isolinux/isolinux.cfg" <<'CFG'
SERIAL 0 115200
default install
prompt 1
timeout 50
label install
  kernel mboot.c32
  append /boot/xen.gz dom0_max_vcpus=1-16 dom0_mem=max:8192M com1=115200,8n1 console=com1,vga --- /boot/vmlinuz xencons=hvc console=hvc0 console=tty0 quiet vga=785 splash plymouth.ignore-serial-consoles --- /install.img
label no-serial
  kernel mboot.c32
  append /boot/xen.gz dom0_max_vcpus=1-16 dom0_mem=max:8192M console=vga --- /boot/vmlinuz console=tty0 quiet vga=785 splash --- /install.img
label shell
  kernel mboot.c32
  append /boot/xen.gz dom0_mem=max:8192M com1=115200,8n1 console=com1,vga --- /boot/vmlinuz xencons=hvc console=hvc0 console=tty0 bash-shell --- /install.img
label memtest
  kernel memtest86.bin
CFG
cat >"$t/EFI/xenserver/grub.cfg" <<'CFG'
menuentry "install" {
    multiboot2 /boot/xen.gz dom0_mem=max:8192M com1=115200,8n1 console=com1,vga
    module2 /boot/vmlinuz console=hvc0 xencons=hvc console=tty0 quiet
    module2 /install.img
}
menuentry "multipath" {
    multiboot2 /boot/xen.gz dom0_mem=max:8192M console=vga
    module2 /boot/vmlinuz console=tty0 device_mapper_multipath=enabled
    module2 /install.img
}
CFG
echo "not xen" >"$t/boot/xen.gz"; echo "not a kernel" >"$t/boot/vmlinuz"
printf '[general]\nname = XCP-ng\n' >"$t/.treeinfo"
echo '#!/bin/sh' >"$t/install/root/init"
(cd "$t/install/root" && find . | cpio -o -H newc --quiet | bzip2) >"$t/install.img"
rm -rf "$t/install"
cp "$t/install.img" "$TMP/install.orig"
truncate -s 1440K "$t/boot/efiboot.img" && mkfs.fat -n EFIBOOT "$t/boot/efiboot.img" >/dev/null
xorriso -as mkisofs -quiet -o "$TMP/src.iso" -V XCP-ng-test -r -J \
  -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -c boot/isolinux/boot.cat \
  -b boot/isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
  -eltorito-alt-boot -e boot/efiboot.img -no-emul-boot -isohybrid-gpt-basdat "$t" 2>"$TMP/mk.err" ||
  { fail remaster_fixture "$(tail -n 3 "$TMP/mk.err")"; exit 0; }
cp "$TMP/src.iso" "$TMP/src.before"

expect_rc remaster_rc 0 tools/remaster-iso "$TMP/src.iso" "$TMP/out.iso" xsguard=check xsguard.on-inhibitor=halt
expect remaster_source_untouched cmp -s "$TMP/src.iso" "$TMP/src.before"

x=$TMP/x; mkdir -p "$x"
xorriso -osirrox on -indev "$TMP/out.iso" -extract /install.img "$x/install.img" \
  -extract /boot/isolinux/isolinux.cfg "$x/isolinux.cfg" -extract /EFI/xenserver/grub.cfg "$x/grub.cfg" \
  -extract /.treeinfo "$x/treeinfo" >/dev/null 2>&1
expect remaster_install_img_prefix cmp -s -n "$(stat -c %s "$TMP/install.orig")" "$x/install.img" "$TMP/install.orig"
"$XSGUARD" inject --list "$x/install.img" >"$TMP/list" 2>&1
expect remaster_overlay_listed grep -q ' usr/bin/xsguard$' "$TMP/list"
expect remaster_isolinux_params [ "$(grep -c -- '--- /boot/vmlinuz .* xsguard=check xsguard.on-inhibitor=halt --- /install.img$' "$x/isolinux.cfg")" -eq 3 ]
expect remaster_isolinux_memtest_untouched grep -qx '  kernel memtest86.bin' "$x/isolinux.cfg"
expect remaster_grub_params [ "$(grep -c 'module2 /boot/vmlinuz .* xsguard=check xsguard.on-inhibitor=halt$' "$x/grub.cfg")" -eq 2 ]
expect remaster_grub_initrd_untouched [ "$(grep -c '^    module2 /install.img$' "$x/grub.cfg")" -eq 2 ]
expect remaster_other_files_kept grep -q 'XCP-ng' "$x/treeinfo"

# Boot equipment: El Torito BIOS and UEFI entries, the MBR signature, the volume id.
xorriso -indev "$TMP/out.iso" -report_el_torito plain -pvd_info >"$TMP/eltorito" 2>&1
expect remaster_bios_boot grep -q 'El Torito boot img :   1  BIOS' "$TMP/eltorito"
expect remaster_uefi_boot grep -q 'El Torito boot img :   2  UEFI' "$TMP/eltorito"
expect remaster_volume_id grep -q "Volume Id    : XCP-ng-test" "$TMP/eltorito"
expect remaster_mbr [ "$(od -An -tx1 -j510 -N2 "$TMP/out.iso" | tr -d ' ')" = 55aa ]
expect remaster_isohybrid_mbr_code cmp -s -n 432 "$TMP/out.iso" "$TMP/src.iso"

# Again on its own output with other parameters: replaced, not piled up.
expect_rc remaster_again 0 tools/remaster-iso "$TMP/out.iso" "$TMP/out2.iso" xsguard=menu
xorriso -osirrox on -indev "$TMP/out2.iso" -extract /boot/isolinux/isolinux.cfg "$x/isolinux2.cfg" \
  -extract /EFI/xenserver/grub.cfg "$x/grub2.cfg" -extract /install.img "$x/install2.img" >/dev/null 2>&1
expect remaster_again_isolinux [ "$(grep -c 'xsguard' "$x/isolinux2.cfg")" -eq 3 ]
expect remaster_again_isolinux_words [ "$(grep -c ' xsguard=menu --- /install.img$' "$x/isolinux2.cfg")" -eq 3 ]
expect remaster_again_grub [ "$(grep -o 'xsguard[^ ]*' "$x/grub2.cfg" | sort -u)" = "xsguard=menu" ]
expect remaster_again_one_overlay [ "$(stat -c %s "$x/install2.img")" -eq "$(stat -c %s "$x/install.img")" ]

# Bad input.
echo "not an iso" >"$TMP/bad.iso"
expect_rc remaster_not_iso 66 tools/remaster-iso "$TMP/bad.iso" "$TMP/o3.iso"
expect_rc remaster_missing 66 tools/remaster-iso "$TMP/none.iso" "$TMP/o3.iso"
expect_rc remaster_usage 64 tools/remaster-iso "$TMP/src.iso"
expect_rc remaster_bad_param 64 tools/remaster-iso "$TMP/src.iso" "$TMP/o3.iso" 'a b'
expect_rc remaster_same_file 64 tools/remaster-iso "$TMP/src.iso" "$TMP/src.iso"
