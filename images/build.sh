#!/bin/sh
# Builds the disk layouts described in images/*.spec into sparse image files.
#
#   sh images/build.sh OUTDIR [NAME...]
#
# A spec is an sfdisk script (sfdisk ignores lines starting with '#'). Lines starting
# with '#%' are steps for this script, run in order after sfdisk has written the table:
#
#   #% size SIZE               apparent size of the image (truncate -s syntax); required
#   #% sector-size 512|4096    logical sector size the table is written with (default 512)
#   #% ext3 N LABEL            an ext3 filesystem filling partition N, with that label
#   #% vfat N LABEL            a FAT16 filesystem filling partition N
#   #% poke BYTE HEX           write the bytes HEX (e.g. d441a0f5) at byte offset BYTE
#   #% random SEED FIRST COUNT fill COUNT 512-byte sectors from FIRST with seeded noise
#   #% gpt-break-header-crc    invert the primary GPT header's CRC32 field
#   #% gpt-claim-entries N     primary GPT header claims N entries; both CRCs made valid
#   #% ebr-loop K              point the last EBR's link back at EBR number K
#   #% truncate BYTES          cut the image to BYTES
#
# A spec with no sfdisk lines writes no table. An image is rebuilt only when its spec
# (or this script) is newer than it. Needs sfdisk, fdisk, mke2fs, mkfs.fat, gzip, od, base64.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR [NAME...]}
shift
mkdir -p "$out"

die() { echo "images/build.sh: $*" >&2; exit 1; }

for tool in sfdisk fdisk mke2fs mkfs.fat gzip od base64 truncate; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run: make deps)"
done

# --- helpers, all acting on $img with logical sector size $ss ---------------------

# write_hex BYTE HEX: write raw bytes given as hex digits at a byte offset.
write_hex() {
  oct=$(printf '%s' "$2" | sed 's/../& /g' | {
    s=""
    for b in $(cat); do s="$s$(printf '\\%03o' "0x$b")"; done
    printf '%s' "$s"
  })
  # shellcheck disable=SC2059
  printf "$oct" | dd of="$img" bs=1 seek="$1" conv=notrunc status=none
}

# read_hex BYTE COUNT: bytes at an offset as one string of hex digits.
read_hex() { od -An -v -tx1 -j "$1" -N "$2" "$img" | tr -d ' \n'; }

# le32 BYTE: a little-endian 32-bit value as a decimal number.
le32() {
  h=$(read_hex "$1" 4)
  b0=${h%??????}; r=${h#??}; b1=${r%????}; r=${r#??}; b2=${r%??}; b3=${r#??}
  echo $((0x$b3$b2$b1$b0))
}

# hex_le32 VALUE: eight hex digits, little-endian.
hex_le32() {
  v=$(printf '%08x' "$1")
  echo "${v#??????}$(echo "$v" | cut -c5-6)$(echo "$v" | cut -c3-4)$(echo "$v" | cut -c1-2)"
}

# crc32_of: CRC-32 (IEEE, as GPT uses) of stdin, as eight hex digits little-endian.
# gzip's trailer holds exactly that checksum.
crc32_of() { gzip -c -n | tail -c 8 | head -c 4 | od -An -v -tx1 | tr -d ' \n'; }

# part N: "START SECTORS" of partition N (logical sectors), from sfdisk's dump.
part() {
  fdisk -l -b "$ss" -o Device,Start,Sectors "$img" 2>/dev/null |
    awk -v dev="$img$1" '$1 == dev { print $2, $3 }'
}

step_ext3() {
  set -- "$1" "$2" $(part "$1")
  [ $# -eq 4 ] || die "$name: ext3: no partition $1"
  # Few inodes and a small journal: the filesystem is real but nearly all holes.
  mke2fs -q -F -t ext3 -N 1024 -J size=4 -L "$2" -U "5a5a5a5a-0000-4000-8000-00000000000$1" \
    -E offset=$(($3 * ss)) "$img" $(($4 * ss / 1024))k
}

step_vfat() {
  set -- "$1" "$2" $(part "$1")
  [ $# -eq 4 ] || die "$name: vfat: no partition $1"
  [ "$ss" -eq 512 ] || die "$name: vfat: only on 512-byte sectors"
  mkfs.fat -F 16 -n "$2" -i 5a5a0000 --offset "$3" "$img" $(($4 * ss / 1024)) >/dev/null 2>&1 ||
    die "$name: mkfs.fat failed"
}

# A linear congruential generator in awk, printing base64 digits: every digit is six
# random bits, so decoding gives random bytes. The same seed gives the same bytes
# with any awk.
step_random() {
  awk -v seed="$1" -v n=$(($3 * 512 / 3 * 4 + 4)) 'BEGIN {
    d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    x = seed % 2147483648; line = ""
    for (i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648
      line = line substr(d, int(x / 33554432) + 1, 1)
      if (length(line) == 76) { print line; line = "" }
    }
    if (line != "") print line
  }' | base64 -d | head -c $(($3 * 512)) |
    dd of="$img" bs=512 seek="$2" conv=notrunc status=none
}

gpt_header() { echo "$ss"; }  # byte offset of the primary header (LBA 1)

step_gpt_break_header_crc() {
  h=$(gpt_header)
  [ "$(read_hex "$h" 8)" = 4546492050415254 ] || die "$name: no GPT header"
  old=$(read_hex $((h + 16)) 4)
  new=""
  while [ -n "$old" ]; do
    b=${old%"${old#??}"}; old=${old#??}
    new="$new$(printf '%02x' $((0xff ^ 0x$b)))"
  done
  write_hex $((h + 16)) "$new"
}

step_gpt_claim_entries() {
  h=$(gpt_header)
  [ "$(read_hex "$h" 8)" = 4546492050415254 ] || die "$name: no GPT header"
  count=$1
  esize=$(le32 $((h + 84)))
  array_lba=$(le32 $((h + 72)))
  hsize=$(le32 $((h + 12)))
  write_hex $((h + 80)) "$(hex_le32 "$count")"
  write_hex $((h + 88)) "$(dd if="$img" bs="$ss" skip="$array_lba" status=none |
    head -c $((count * esize)) | crc32_of)"
  write_hex $((h + 16)) 00000000
  write_hex $((h + 16)) "$(dd if="$img" bs=1 skip="$h" count="$hsize" status=none | crc32_of)"
}

# Follows the chain from the first extended entry of the MBR and turns the last EBR's
# link (its second entry) into an extended entry pointing at EBR number K of the chain
# (1 = the first EBR, whose relative start is 0).
step_ebr_loop() {
  ext=""
  for i in 0 1 2 3; do
    t=$(read_hex $((446 + 16 * i + 4)) 1)
    case $t in 05|0f|85) ext=$(le32 $((446 + 16 * i + 8))); break ;; esac
  done
  [ -n "$ext" ] || die "$name: ebr-loop: no extended partition"
  ebr=$ext k=1 target=""
  while :; do
    [ "$k" -eq "$1" ] && target=$((ebr - ext))
    t=$(read_hex $((ebr * ss + 446 + 16 + 4)) 1)
    [ "$t" = 00 ] && break
    ebr=$((ext + $(le32 $((ebr * ss + 446 + 16 + 8))))) k=$((k + 1))
  done
  [ -n "$target" ] || die "$name: ebr-loop: the chain has no EBR number $1"
  write_hex $((ebr * ss + 446 + 16)) "00000000""05000000""$(hex_le32 "$target")""01000000"
}

# --- one image ------------------------------------------------------------------

build() {
  spec=$1 name=$(basename "$1" .spec)
  dest="$out/$name.img"
  if [ -e "$dest" ] && [ "$dest" -nt "$spec" ] && [ "$dest" -nt "$here/build.sh" ]; then
    return 0
  fi
  img="$out/.$name.img.tmp"
  rm -f "$img"
  trap 'rm -f "$img" "$img.log"' EXIT
  size=$(sed -n 's/^#% size \([^ ]*\).*/\1/p' "$spec")
  ss=$(sed -n 's/^#% sector-size \([0-9]*\).*/\1/p' "$spec")
  ss=${ss:-512}
  [ -n "$size" ] || die "$name: no '#% size' line"
  truncate -s "$size" "$img"
  if grep -qv -e '^#' -e '^[[:space:]]*$' "$spec"; then
    if [ "$ss" -eq 512 ]; then
      sfdisk -q --no-reread --no-tell-kernel "$img" <"$spec" >"$img.log" 2>&1 ||
        { cat "$img.log" >&2; die "$name: sfdisk rejected the spec"; }
      rm -f "$img.log"
    else
      # sfdisk 2.38 cannot be told a file's sector size; fdisk -b can, and its 'I'
      # command applies the same script.
      printf 'I\n%s\nw\n' "$spec" | fdisk -b "$ss" "$img" 2>&1 |
        grep -q 'Script successfully applied' || die "$name: fdisk rejected the spec"
    fi
  fi
  sed -n 's/^#% //p' "$spec" | while read -r step a b c; do
    case $step in
      size|sector-size) ;;
      ext3) step_ext3 "$a" "$b" ;;
      vfat) step_vfat "$a" "$b" ;;
      poke) write_hex "$a" "$b" ;;
      random) step_random "$a" "$b" "$c" ;;
      gpt-break-header-crc) step_gpt_break_header_crc ;;
      gpt-claim-entries) step_gpt_claim_entries "$a" ;;
      ebr-loop) step_ebr_loop "$a" ;;
      truncate) truncate -s "$a" "$img" ;;
      *) die "$name: unknown step '$step'" ;;
    esac
  done
  mv -f "$img" "$dest"
  echo "built $dest"
}

if [ $# -eq 0 ]; then
  for spec in "$here"/*.spec; do build "$spec"; done
else
  for n in "$@"; do
    [ -e "$here/$n.spec" ] || die "no spec $n"
    build "$here/$n.spec"
  done
fi
