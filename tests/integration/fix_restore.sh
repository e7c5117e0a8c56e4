#!/bin/bash
# fix utility-partition / restore on image files, judged by GRUB itself:
# grub-bios-setup fails before the fix and embeds after it; restore brings back the
# original sha256; dry runs change nothing; kill -9 at every disk write leaves a disk
# that restore returns to the original.
. "$(dirname "$0")/../lib.sh"
BS=/usr/lib/grub/i386-pc/grub-bios-setup
sha() { sha256sum "$1" | cut -d' ' -f1; }

# GRUB on a copy of IMAGE: prints GRUB's exit code (the image itself is not touched).
grub_embeds() {
  local img=$1 core=$2 w d src
  w=$(mktemp -d "$TMP/w.XXXX"); d=$(mktemp -d /dev/shm/xsguard-grub.XXXXXX)
  cp --sparse=always "$img" "$w/disk.img"
  cp /usr/lib/grub/i386-pc/boot.img "$d/"; cp "$core" "$d/core.img"
  src=$(awk '$5=="/dev/shm"{s=$0} END{split(s,a," - "); split(a[2],b," "); print b[2]}' /proc/self/mountinfo)
  ln -s "$w/disk.img" "$w/$src"
  echo "(hd0) $w/disk.img" >"$w/device.map"
  (cd "$w" && "$BS" --directory="$d" --device-map="$w/device.map" "$w/disk.img") >"$w/out" 2>&1
  echo $?
  rm -rf "$w" "$d"
}

IMG=$TMP/dell.img
truncate -s 2G "$IMG"
printf 'label: dos\nstart=63, size=65000, type=de\nstart=65536, size=1000000, type=83, bootable\nstart=1065536, size=1000000, type=83\n' | sfdisk -q "$IMG"
ORIG=$(sha "$IMG")
mkdir -p "$TMP/bk"

# A 63-sector core.img as GRUB really builds it (lvm and mdraid modules, as on RAID hosts).
CORE=$TMP/core.img
if [ -x "$BS" ] && grub-mkimage -O i386-pc -o "$CORE" -p '(,msdos2)/boot/grub' biosdisk part_msdos ext2 mdraid1x diskfilter 2>/dev/null; then
  C=$(( ($(stat -c %s "$CORE") + 511) / 512 ))
  if [ "$C" -gt 62 ]; then
    expect "GRUB fails to embed before the fix (C=$C)" test "$(grub_embeds "$IMG" "$CORE")" -ne 0
  else
    echo "SKIP GRUB-before: this GRUB builds a $C-sector core that fits the 62-sector gap"
  fi
else
  echo "SKIP GRUB oracle: grub-pc-bin not installed"; CORE=""
fi

expect_rc "dry run exits 0" 0 "$XSGUARD" fix utility-partition --disk "$IMG" --core-sectors 63
expect "dry run changes nothing" test "$(sha "$IMG")" = "$ORIG"
expect "dry run shows the planned write" grep -q 'byte *446, *16 bytes' "$TMP/out"
expect_rc "no TTY and no --yes is a usage error" 64 "$XSGUARD" fix utility-partition --disk "$IMG" --core-sectors 63 --apply --backup-dir "$TMP/bk" </dev/null
expect "refused apply changes nothing" test "$(sha "$IMG")" = "$ORIG"
expect_rc "missing disk is exit 66" 66 "$XSGUARD" fix utility-partition --disk "$TMP/none.img" --core-sectors 63
expect_rc "--disk is required" 64 "$XSGUARD" fix utility-partition

expect_rc "apply exits 0" 0 "$XSGUARD" fix utility-partition --disk "$IMG" --core-sectors 63 --apply --yes --backup-dir "$TMP/bk"
BACKUP=$(ls "$TMP"/bk/*.xsgbak)
expect "backup path printed before the write" grep -q "^Backup: $BACKUP" "$TMP/out"
expect "the Dell partition is gone" bash -c "! sfdisk -d '$IMG' | grep -q 'type=de'"
expect "the other partitions are untouched" test "$(sfdisk -d "$IMG" | grep -c 'start=')" -eq 2
if [ -n "$CORE" ]; then
  expect "GRUB embeds after the fix" test "$(grub_embeds "$IMG" "$CORE")" -eq 0
fi
expect_rc "check agrees: nothing above info" 0 "$XSGUARD" check --disk "$IMG" --core-sectors 63
expect_rc "restore dry run exits 0" 0 "$XSGUARD" restore "$BACKUP" --disk "$IMG"
expect "restore dry run says what differs" grep -q 'differs' "$TMP/out"
expect_rc "restore applies" 0 "$XSGUARD" restore "$BACKUP" --disk "$IMG" --apply --yes
expect "restore returns the original sha256" test "$(sha "$IMG")" = "$ORIG"

# Hostile backups.
head -c 5000 "$BACKUP" >"$TMP/truncated.xsgbak"
expect_rc "truncated backup is exit 66" 66 "$XSGUARD" restore "$TMP/truncated.xsgbak" --disk "$IMG" --apply --yes
expect_rc "random file as backup is exit 66" 66 "$XSGUARD" restore /etc/hostname --disk "$IMG"
truncate -s 3G "$TMP/other.img"
expect_rc "restore onto a disk of another size is refused (3)" 3 "$XSGUARD" restore "$BACKUP" --disk "$TMP/other.img" --apply --yes
expect "refusal is one line" test "$(wc -l <"$TMP/err")" -eq 1

# The same fix on a block device: size by ioctl, exclusive open, the kernel told.
if LOOP=$(losetup -f --show "$IMG" 2>/dev/null); then
  rm -rf "$TMP/bd"; mkdir "$TMP/bd"
  expect_rc "block device: apply exits 0" 0 "$XSGUARD" fix utility-partition --disk "$LOOP" --core-sectors 63 --apply --yes --backup-dir "$TMP/bd"
  expect "block device: the Dell partition is gone" bash -c "! sfdisk -d '$IMG' | grep -q 'type=de'"
  expect_rc "block device: restore exits 0" 0 "$XSGUARD" restore "$(ls "$TMP"/bd/*.xsgbak)" --disk "$LOOP" --apply --yes
  losetup -d "$LOOP"
  expect "block device: original sha256 again" test "$(sha "$IMG")" = "$ORIG"
else
  echo "SKIP block device fix: no loop devices here"
fi

# An image attached to a loop device is in use.
if LOOP=$(losetup -f --show "$IMG" 2>/dev/null); then
  expect_rc "a loop-attached image is refused (3)" 3 "$XSGUARD" fix utility-partition --disk "$IMG" --core-sectors 63 --apply --yes --backup-dir "$TMP/bk"
  losetup -d "$LOOP"
else
  echo "SKIP loop refusal: no loop devices here"
fi

# kill -9 at each pwrite and fsync the fix makes (strace delivers SIGKILL at the Nth
# call), then restore from whatever backup exists: always the original bytes.
# LeakSanitizer cannot run under ptrace: sanitizer builds skip leak checks here.
export ASAN_OPTIONS=detect_leaks=0
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
  for call in pwrite64 fsync; do
    for n in 1 2 3 4; do
      cp --sparse=always "$IMG" "$TMP/crash.img"; rm -rf "$TMP/cb"; mkdir "$TMP/cb"
      # sh -c keeps the shell's "Killed" notice out of the test output.
      sh -c 'strace -f -qq -o /dev/null -e trace=$1 -e inject=$1:signal=KILL:when=$2 "$3" fix \
        utility-partition --disk "$4" --core-sectors 63 --apply --yes --backup-dir "$5"' \
        - "$call" "$n" "$XSGUARD" "$TMP/crash.img" "$TMP/cb" >/dev/null 2>&1
      b=$(ls "$TMP"/cb/*.xsgbak 2>/dev/null | head -1)
      if [ -n "$b" ]; then "$XSGUARD" restore "$b" --disk "$TMP/crash.img" --apply --yes >/dev/null 2>&1; fi
      expect "killed at $call #$n, then restored: original sha256" test "$(sha "$TMP/crash.img")" = "$ORIG"
    done
    # An I/O error instead of a kill: the fix fails (70) and the disk is unchanged or fixed.
    cp --sparse=always "$IMG" "$TMP/eio.img"; rm -rf "$TMP/cb"; mkdir "$TMP/cb"
    strace -f -qq -o /dev/null -e trace=$call -e inject=$call:error=EIO:when=2 \
      "$XSGUARD" fix utility-partition --disk "$TMP/eio.img" --core-sectors 63 --apply --yes --backup-dir "$TMP/cb" >/dev/null 2>&1
    rc=$?
    expect "EIO at $call #2 is an error exit ($rc)" test "$rc" -eq 70
    expect "EIO at $call #2 leaves the disk unchanged" test "$(sha "$TMP/eio.img")" = "$ORIG"
  done
else
  echo "SKIP crash tests: strace cannot trace here"
fi
