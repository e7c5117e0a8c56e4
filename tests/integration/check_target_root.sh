#!/bin/bash
# check --target-root: core.img is built by the target's own grub-mkimage in a chroot,
# and its size drives the verdict. --root: safe2upgrade on the old root.
. "$(dirname "$0")/../lib.sh"
MKIMAGE=$(command -v grub-mkimage)
if [ -z "$MKIMAGE" ] || [ ! -d /usr/lib/grub/i386-pc ] || [ "$(id -u)" != 0 ]; then
  echo "SKIP check_target_root: needs root, grub-mkimage and grub-pc-bin"; exit 0
fi

# A target root holding grub-mkimage, its shared libraries and the i386-pc modules.
T=$TMP/target
mkdir -p "$T/usr/bin" "$T/usr/lib/grub" "$T/tmp"
cp "$MKIMAGE" "$T/usr/bin/grub-mkimage"
for lib in $(ldd "$MKIMAGE" | grep -o '/[^ ]*'); do
  mkdir -p "$T$(dirname "$lib")"; cp -L "$lib" "$T$lib"
done
cp -r /usr/lib/grub/i386-pc "$T/usr/lib/grub/"

# msdos disk with its first partition at sector 63: the real core size decides.
IMG=$TMP/disk.img
truncate -s 64M "$IMG"
printf 'label: dos\nstart=63, size=100000, type=83\n' | sfdisk -q "$IMG"

"$MKIMAGE" -O i386-pc -o "$TMP/core.img" -p '(,msdos1)/boot/grub' biosdisk part_msdos ext2
want=$(( ($(stat -c %s "$TMP/core.img") + 511) / 512 ))

"$XSGUARD" check --disk "$IMG" --target-root "$T" --json >"$TMP/out.json" 2>"$TMP/err"
rc=$?
expect "target-root exit code is a verdict" test "$rc" -le 2
expect "core size comes from the target" grep -q '"core_source": "target-root"' "$TMP/out.json"
expect "core size equals grub-mkimage's own ($want sectors)" grep -q "\"core_sectors\": $want," "$TMP/out.json"
expect "no grub-mkimage leftovers in the target" test -z "$(ls -A "$T/tmp")"
if [ "$want" -le 62 ]; then
  expect "fits with a gap of 62" grep -q '"verdict": "fits"' "$TMP/out.json"
else
  expect "fails with a gap of 62" grep -q '"verdict": "fails"' "$TMP/out.json"
fi

# A target without grub-mkimage falls back to the documented range and says why.
mkdir -p "$TMP/empty-target"
"$XSGUARD" check --disk "$IMG" --target-root "$TMP/empty-target" --json >"$TMP/out2.json" 2>/dev/null
expect "no grub-mkimage: default range" grep -q '"core_source": "default-range"' "$TMP/out2.json"
expect "no grub-mkimage: reason given" grep -q 'no grub-mkimage in' "$TMP/out2.json"
expect_rc "missing target root is exit 66" 66 "$XSGUARD" check --disk "$IMG" --target-root "$TMP/nope"

# --root with safe2upgrade on an old-layout GPT disk whose SR would be wiped.
G=$TMP/gpt.img
truncate -s 60G "$G"
printf 'label: gpt\nstart=2048, size=8388608, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nsize=8388608, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nsize=20971520, type=E6D6D379-F507-44C2-A23C-238F2A3DF928\nsize=2048, type=21686148-6449-6E6F-744E-656564454649\n' | sfdisk -q "$G"
mkfs.ext3 -q -F -L root-test01 -E offset=$((2048*512)) "$G" 64M >/dev/null 2>&1
mkdir -p "$TMP/old/var/preserve"
expect_rc "old root without safe2upgrade: no inhibitor" 0 "$XSGUARD" check --disk "$G" --root "$TMP/old" --core-sectors 53 --firmware bios
touch "$TMP/old/var/preserve/safe2upgrade"
"$XSGUARD" check --disk "$G" --root "$TMP/old" --core-sectors 53 --firmware bios --json >"$TMP/s2u.json"; rc=$?
expect "safe2upgrade: exit 2" test "$rc" -eq 2
expect "safe2upgrade: local SR destroyed" grep -q '"id": "xs.local_sr_destroyed"' "$TMP/s2u.json"
expect "safe2upgrade: names the SR partition" grep -q "\"$G#3\"" "$TMP/s2u.json"
expect_rc "root that is not a directory is exit 66" 66 "$XSGUARD" check --disk "$G" --root "$TMP/old/var/preserve/safe2upgrade"

# --root with a message store: check predicts the 72% restore (blobs.too_many).
if command -v g++ >/dev/null; then
  g++ -O2 -std=c++17 -o "$TMP/mkblobs" "$(dirname "$0")/../../tools/mkblobs.cc"
  mkdir -p "$TMP/withblobs"
  "$TMP/mkblobs" "$TMP/withblobs" --messages 500 >/dev/null
  "$XSGUARD" check --disk "$G" --root "$TMP/withblobs" --core-sectors 53 --firmware bios --json >"$TMP/blobs.json"
  expect "check --root reports blobs.too_many" grep -q '"id": "blobs.too_many"' "$TMP/blobs.json"
  expect "no message store: no blobs finding" bash -c "! grep -q blobs.too_many '$TMP/s2u.json'"
fi
