#!/bin/bash
# xsguard bundle: a support bundle from a test image and an install log, read back with
# GNU tar: its members, the manifest's SHA-256 sums, check.json; the refusals (existing
# file, symbolic link, a disk being examined), a missing log, an unwritable or full
# destination. Needs bash, awk, GNU tar and coreutils; the mount tests need root.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
IMG=${IMAGES:-${BUILD:-build}/images}
JFLAT=tests/integration/jflat.awk
LOG=tests/data/logs/stalled-at-72.log

if ! sh images/build.sh "$IMG" dell-xs65 >"$TMP/build.log" 2>&1; then
  fail bundle.images "$(tail -3 "$TMP/build.log")"
  exit 0
fi
DISK=$IMG/dell-xs65.img

# Undone on exit: mounts and loop devices made below, then $TMP.
MOUNTS=() LOOPS=()
cleanup() {
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- a bundle, read back ------------------------------------------------------------
mkdir -p "$TMP/dest"
OUT=$TMP/dest/b.tar.gz
"$XSGUARD" bundle --out "$OUT" --log "$LOG" --disk "$DISK" >"$TMP/run.out" 2>"$TMP/run.err"
rc=$?
expect "bundle: exit 0" test "$rc" -eq 0
size=$(stat -c %s "$OUT" 2>/dev/null)
expect "bundle: prints the path and the size" grep -q "^Bundle: $OUT ($size bytes" "$TMP/run.out"
expect "bundle: no partial file left" test "$(ls "$TMP/dest")" = b.tar.gz

tar tzf "$OUT" >"$TMP/list" 2>"$TMP/tar.err"
expect "bundle: GNU tar lists it" test -s "$TMP/list"
top=$(head -1 "$TMP/list" | cut -d/ -f1)
expect "bundle: one top directory xsguard-bundle-HOST-UTC" \
  bash -c "[[ '$top' =~ ^xsguard-bundle-.+-[0-9]{8}T[0-9]{6}Z$ ]] && ! grep -qv '^$top/' '$TMP/list'"
for m in install-log check.json check.txt watch.json watch.txt disks/dell-xs65.img/table.txt \
         disks/dell-xs65.img/head.bin proc/cmdline proc/partitions proc/mounts MANIFEST.txt; do
  expect "bundle: member $m" grep -qx "$top/$m" "$TMP/list"
done
expect "bundle: the manifest is the last member" test "$(tail -1 "$TMP/list")" = "$top/MANIFEST.txt"

mkdir -p "$TMP/x"
tar xzf "$OUT" -C "$TMP/x"
B=$TMP/x/$top
awk '/^Files \(/ { on = 1; next } on && NF == 0 { exit } on { print $1 "  " $3 }' "$B/MANIFEST.txt" >"$TMP/sums"
expect "bundle: the manifest lists every other member" \
  test "$(wc -l <"$TMP/sums")" -eq "$(($(grep -vc '/$' "$TMP/list") - 1))"
expect "bundle: sha256sum -c agrees with the manifest" bash -c "cd '$B' && sha256sum -c --quiet '$TMP/sums'"
awk '/^Files \(/ { on = 1; next } on && NF == 0 { exit } on { print $2, $3 }' "$B/MANIFEST.txt" |
  while read -r n f; do [ "$(stat -c %s "$B/$f")" = "$n" ] || echo "$f"; done >"$TMP/badsize"
expect "bundle: the manifest's sizes are the members' sizes" test ! -s "$TMP/badsize"
expect "bundle: the install log is copied verbatim" cmp -s "$LOG" "$B/install-log"
expect "bundle: head.bin is the disk's first MiB" cmp -s "$B/disks/dell-xs65.img/head.bin" <(head -c 1048576 "$DISK")
expect "bundle: the table dump is sfdisk's format" grep -q '^label: dos' "$B/disks/dell-xs65.img/table.txt"
expect "bundle: check.json parses" bash -c "awk -f $JFLAT '$B/check.json' | grep -q '^command	check$'"
expect "bundle: check.json has check's findings" bash -c "awk -f $JFLAT '$B/check.json' | grep -q 'id	disk.utility_partition$'"
expect "bundle: watch.txt ends with watch's report" grep -q '^xsguard watch:' "$B/watch.txt"
expect "bundle: dmesg collected or its absence explained" \
  bash -c "[ -f '$B/dmesg.txt' ] || grep -q '^  dmesg.txt: ' '$B/MANIFEST.txt'"
expect "bundle: /proc/cmdline is the kernel's" cmp -s "$B/proc/cmdline" /proc/cmdline

# --- refusals ---------------------------------------------------------------------
before=$(sha256sum <"$OUT")
expect_rc "bundle: an existing file is refused (exit 3)" 3 "$XSGUARD" bundle --out "$OUT" --log "$LOG" --disk "$DISK"
expect "bundle: the refusal is one line" test "$(wc -l <"$TMP/err")" -eq 1
expect "bundle: the refused file is untouched" test "$(sha256sum <"$OUT")" = "$before"
expect_rc "bundle: --force replaces it" 0 "$XSGUARD" bundle --out "$OUT" --log "$LOG" --disk "$DISK" --force

echo keep >"$TMP/target"
ln -s "$TMP/target" "$TMP/dest/link.tar.gz"
expect_rc "bundle: a symbolic link at PATH is refused" 3 "$XSGUARD" bundle --out "$TMP/dest/link.tar.gz" --log "$LOG" --disk "$DISK"
expect_rc "bundle: ... also with --force" 3 "$XSGUARD" bundle --out "$TMP/dest/link.tar.gz" --log "$LOG" --disk "$DISK" --force
expect "bundle: the link's target is untouched" test "$(cat "$TMP/target")" = keep
expect "bundle: the link is still a link" test -L "$TMP/dest/link.tar.gz"

expect_rc "bundle: no such directory is exit 66" 66 "$XSGUARD" bundle --out "$TMP/nope/b.tar.gz" --log "$LOG" --disk "$DISK"
expect_rc "bundle: --out is required (exit 64)" 64 "$XSGUARD" bundle --log "$LOG" --disk "$DISK"

# --- a missing log, a directory as --out --------------------------------------------
mkdir -p "$TMP/nolog"
expect_rc "bundle: a missing log is not fatal" 0 "$XSGUARD" bundle --out "$TMP/nolog" --log "$TMP/no-such-log" --disk "$DISK"
made=$(ls "$TMP/nolog")
expect "bundle: a directory as --out gets xsguard-bundle-HOST-UTC.tar.gz" \
  bash -c "[[ '$made' =~ ^xsguard-bundle-.+\.tar\.gz$ ]]"
tar xzf "$TMP/nolog/$made" -C "$TMP/nolog" --wildcards '*/MANIFEST.txt' 2>/dev/null
expect "bundle: the manifest says why the log is missing" \
  grep -q "install-log: $TMP/no-such-log: No such file or directory" "$TMP"/nolog/*/MANIFEST.txt
expect "bundle: no install-log member then" bash -c "! tar tzf '$TMP/nolog/$made' | grep -q '/install-log$'"

# --- unwritable and full destinations, a destination on an examined disk ---------------
if [ "$(id -u)" != 0 ]; then
  chmod 555 "$TMP/dest"
  expect_rc "bundle: an unwritable directory is refused (exit 3)" 3 "$XSGUARD" bundle --out "$TMP/dest/c.tar.gz" --log "$LOG" --disk "$DISK"
  chmod 755 "$TMP/dest"
  echo "SKIP bundle: read-only mount, no space and examined-disk tests need root"
  exit 0
fi

mkdir -p "$TMP/ro"
if mount -t tmpfs -o size=1m,ro tmpfs "$TMP/ro" 2>/dev/null; then
  MOUNTS+=("$TMP/ro")
  expect_rc "bundle: a read-only destination is refused (exit 3)" 3 "$XSGUARD" bundle --out "$TMP/ro/b.tar.gz" --log "$LOG" --disk "$DISK"
  expect "bundle: ... saying so" grep -q 'Read-only file system' "$TMP/err"
else
  echo "SKIP bundle: cannot mount a tmpfs"
fi

mkdir -p "$TMP/full"
head -c 3000000 /dev/urandom >"$TMP/noise.log"
if mount -t tmpfs -o size=1m tmpfs "$TMP/full" 2>/dev/null; then
  MOUNTS+=("$TMP/full")
  expect_rc "bundle: no space left is exit 3" 3 "$XSGUARD" bundle --out "$TMP/full/b.tar.gz" --log "$TMP/noise.log" --disk "$DISK"
  expect "bundle: ... saying so" grep -q 'No space left on device' "$TMP/err"
  expect "bundle: ... and leaving nothing behind" test -z "$(ls -A "$TMP/full")"
  expect "bundle: a tmpfs destination is flagged as RAM" bash -c \
    "'$XSGUARD' bundle --out '$TMP/full/ok.tar.gz' --log '$LOG' --disk '$DISK' | grep -q 'is in RAM'"
fi

# A filesystem on a loop device: the disk examined holds the destination.
truncate -s 64M "$TMP/fs.img"
if mkfs.ext4 -q -F "$TMP/fs.img" >/dev/null 2>&1 && LOOP=$(losetup -f --show "$TMP/fs.img" 2>/dev/null); then
  LOOPS+=("$LOOP")
  mkdir -p "$TMP/mnt"
  if mount "$LOOP" "$TMP/mnt" 2>/dev/null; then
    MOUNTS=("$TMP/mnt" "${MOUNTS[@]}")
    expect_rc "bundle: a destination on an examined disk is refused" 3 "$XSGUARD" bundle --out "$TMP/mnt/b.tar.gz" --log "$LOG" --disk "$LOOP"
    expect "bundle: ... naming the disk" grep -q "is on $LOOP, a disk the bundle examines" "$TMP/err"
    expect_rc "bundle: ... also named as the image file attached to it" 3 "$XSGUARD" bundle --out "$TMP/mnt/b.tar.gz" --log "$LOG" --disk "$TMP/fs.img"
    expect "bundle: nothing written there" test -z "$(ls "$TMP/mnt" | grep -v lost+found)"
    "$XSGUARD" bundle --out "$TMP/mnt/b.tar.gz" --log "$LOG" --disk "$LOOP" --force >"$TMP/forced" 2>&1
    expect "bundle: --force writes it with a warning" bash -c "[ -s '$TMP/mnt/b.tar.gz' ] && grep -q WARNING '$TMP/forced'"
    expect_rc "bundle: another disk's destination is fine" 0 "$XSGUARD" bundle --out "$TMP/dest/other.tar.gz" --log "$LOG" --disk "$LOOP"
  else
    echo "SKIP bundle: cannot mount a loop device"
  fi
else
  echo "SKIP bundle: no loop device"
fi
