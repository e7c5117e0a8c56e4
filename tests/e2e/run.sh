#!/bin/bash
# End-to-end: a stand-in installer image (busybox, a script writing the installer's log)
# gets xsguard with `xsguard inject`, and boots under QEMU (TCG) with Debian's cloud
# kernel against two disks:
#   dell-halt  a utility partition ahead of GRUB's core.img, xsguard.on-inhibitor=halt:
#              the preflight names grub.embed on the serial line and the stand-in
#              installer never starts
#   healthy    an XS 7 GPT layout: the preflight passes, the install proceeds, sits at
#              72% restoring blobs, and the monitor reports log.stall with the measured
#              blob progress
# The guest prints "E2E-MARK ..." lines with exit codes; QEMU itself exits 0 either way,
# so a missing marker is a failure. Prints PASS/FAIL lines (tests/run.sh counts them), or
# one SKIP line and exit 0 when QEMU, a static busybox or the kernel cannot be had.
# The kernel is kept in $BUILD/e2e between runs. QEMU=... names another emulator binary.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
BUILD=${BUILD:-build}
skip() { echo "SKIP e2e: $*"; exit 0; }

QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || skip "$QEMU not installed (Debian: qemu-system-x86)"
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
  [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1 && { busybox=$b; break; }
done
[ -n "$busybox" ] || skip "no static busybox (Debian: busybox-static)"
[ -x "$XSGUARD" ] || { fail e2e_build "$XSGUARD missing"; exit 0; }

# Debian's cloud kernel, unpacked from its package (never installed).
kdir=$BUILD/e2e/kernel
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
  kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  [ -n "$kpkg" ] || skip "cannot resolve linux-image-cloud-amd64's kernel package"
  mkdir -p "$BUILD/e2e/dl"
  (cd "$BUILD/e2e/dl" && apt-get download -q "$kpkg" >/dev/null 2>&1) || skip "cannot download $kpkg"
  rm -rf "$kdir.partial"
  dpkg-deb -x "$BUILD/e2e/dl/${kpkg}"_*.deb "$kdir.partial" || skip "cannot unpack $kpkg"
  rm -rf "$kdir" && mv "$kdir.partial" "$kdir" && rm -rf "$BUILD/e2e/dl"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
kver=${vmlinuz##*/vmlinuz-}
moddir=$kdir/lib/modules/$kver/kernel/drivers

sh images/build.sh "$BUILD/images" utility-below-core xs7-gpt-bios >/dev/null || { fail e2e_images "images/build.sh failed"; exit 0; }

# The stand-in installer image, bzip2-compressed like XCP-ng's install.img.
root=$TMP/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,lib/modules,opt/installer,etc}
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
cp tests/e2e/standin/init "$root/init"
cp tests/e2e/standin/installer "$root/opt/installer/run"
cp tests/data/logs/upgrade-slow-72.log "$root/opt/installer/upgrade.log"
for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev \
         virtio/virtio_pci block/virtio_blk; do
  cp "$moddir/$m.ko" "$root/lib/modules/" || skip "kernel module $m.ko not in $kver"
done
chmod 755 "$root/init" "$root/opt/installer/run"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | bzip2 -9) >"$TMP/install.img"
base_len=$(stat -c %s "$TMP/install.img")
expect_rc e2e_inject 0 "$XSGUARD" inject "$TMP/install.img"
expect e2e_inject_appended [ "$(stat -c %s "$TMP/install.img")" -gt "$base_len" ]

# boot NAME DISK APPEND: one VM run; the serial log, without CRs, in $TMP/NAME.log.
boot() {
  local t0=$SECONDS
  timeout -k 5 90 "$QEMU" -accel tcg -m 384 -kernel "$vmlinuz" -initrd "$TMP/install.img" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 $3" \
    -drive "file=$2,format=raw,if=virtio,snapshot=on" -nographic -serial "file:$TMP/$1.raw" \
    -monitor none -nodefaults -no-reboot >"$TMP/$1.qemu" 2>&1
  echo "qemu rc=$? after $((SECONDS - t0))s" >>"$TMP/$1.qemu"
  tr -d '\r' <"$TMP/$1.raw" >"$TMP/$1.log"
}
# has NAME CHECK PATTERN: the marker (an extended regex) is in the run's serial log.
has() {
  if grep -aEq -- "$3" "$TMP/$1.log"; then pass "e2e_$1_$2"; else
    fail "e2e_$1_$2" "no /$3/ on the serial line; last lines: $(grep -a 'E2E-\|xsguard' "$TMP/$1.log" | tail -n 8 | tr '\n' '|') $(tail -n 1 "$TMP/$1.qemu")"
  fi
}
hasnt() {
  if grep -aEq -- "$3" "$TMP/$1.log"; then fail "e2e_$1_$2" "/$3/ on the serial line"; else pass "e2e_$1_$2"; fi
}

# 1. Utility partition ahead of the core size, unattended, halt.
boot dell-halt "$BUILD/images/utility-below-core.img" \
  "answerfile=file:///answer.xml install xsguard=check xsguard.on-inhibitor=halt"
has dell-halt booted 'E2E-MARK boot '
has dell-halt preflight_exit 'xsguard: preflight check exit 2, inhibitors: .*grub\.embed'
has dell-halt halted '^E2E-MARK halted$'
has dell-halt reason_on_serial '==== xsguard: installation halted ===='
has dell-halt report_ids '^E2E-MARK report /tmp/xsguard-preflight.json ids: .*"id": "grub\.embed"'
has dell-halt installer_not_started '^E2E-MARK installer-not-started$'
hasnt dell-halt no_installer 'E2E-MARK installer started'
has dell-halt clean_end '^E2E-MARK end$'

# 2 and 3. Healthy XS 7 GPT: the install proceeds; at 72% the log goes quiet for 6 s
# while a third of the blobs are copied, and the monitor measures it.
boot healthy "$BUILD/images/xs7-gpt-bios.img" \
  "xsguard=check xsguard.on-inhibitor=halt xsguard.stall-after=2 e2e.stall=6"
has healthy booted 'E2E-MARK boot '
has healthy preflight_rc '^E2E-MARK preflight rc=0$'
has healthy preflight_clean 'xsguard: preflight check exit 0'
hasnt healthy not_halted 'E2E-MARK halted'
has healthy installer_started '^E2E-MARK installer started$'
has healthy stage_start '^E2E-MARK stage installation-start rc=0$'
has healthy stage_fs_populated '^E2E-MARK stage filesystem-populated rc=[0-9]+$'
has healthy stage_complete '^E2E-MARK stage installation-complete rc=[0-9]+$'
has healthy installer_done '^E2E-MARK installer rc=0$'
has healthy stall_found '^E2E-MONITOR .*"id":"log\.stall"'
has healthy stall_at_72 '^E2E-MONITOR .*"bar_percent":72'
has healthy blob_source '^E2E-MARK blob-progress .*"source_entries":300$'
has healthy blob_measured '^E2E-MARK blob-progress "target_entries":([1-9][0-9]?|[12][0-9][0-9]),'
has healthy report_on_logs '^E2E-MARK log-partition .*xsguard-installation-complete\.json'
has healthy clean_end '^E2E-MARK end$'
[ -n "${E2E_KEEP:-}" ] && cp "$TMP"/*.log "$E2E_KEEP"/
exit 0
