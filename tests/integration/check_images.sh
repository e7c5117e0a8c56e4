#!/bin/bash
# `xsguard check` on every layout in images/: exit codes, finding ids, the GRUB verdict
# and its verbatim lines; bad input never crashes; the binary is static and runs alone
# in an empty chroot. Needs only bash, awk and coreutils (no jq, no python).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
IMG=${IMAGES:-${BUILD:-build}/images}
JFLAT=tests/integration/jflat.awk

if ! sh images/build.sh "$IMG" >"$TMP/build.log" 2>&1; then
  fail images.build "$(tail -3 "$TMP/build.log")"
  exit 0
fi
pass images.build

# --- helpers --------------------------------------------------------------------
# run LABEL ARGS...: xsguard check ARGS --json; keeps exit code, stderr and the
# flattened JSON (PATH<TAB>VALUE lines, see jflat.awk) for the want* checks below.
CUR="" RC=0
run() {
  CUR=$1; shift
  "$XSGUARD" check "$@" --json >"$TMP/json" 2>"$TMP/err"; RC=$?
  if ! awk -f "$JFLAT" "$TMP/json" >"$TMP/flat" 2>/dev/null; then : >"$TMP/flat"; fi
}
# img NAME: path of a built image
img() { echo "$IMG/$1.img"; }
get() { awk -F'\t' -v k="$1" '$1 == k { print $2; found = 1; exit } END { exit !found }' "$TMP/flat"; }
finding_index() {
  awk -F'\t' -v id="$1" '$1 ~ /^findings\.[0-9]+\.id$/ && $2 == id { split($1, a, "."); print a[2]; exit }' "$TMP/flat"
}

want_rc() {
  if [ "$RC" -eq "$1" ]; then pass "$CUR: exit $1"
  else fail "$CUR: exit $1" "exit $RC: $(head -c 300 "$TMP/err")"; fi
}
# want KEY VALUE: a scalar of the JSON document, e.g. disks.0.grub_embed.verdict fits
want() {
  local got; got=$(get "$1") || got="<absent>"
  if [ "$got" = "$2" ]; then pass "$CUR: $1 = $2"
  else fail "$CUR: $1 = $2" "got '$got'"; fi
}
# want_finding ID [SEVERITY [INHIBITOR]]
want_finding() {
  local i sev inh; i=$(finding_index "$1")
  if [ -z "$i" ]; then fail "$CUR: finding $1" "absent; findings: $(awk -F'\t' '$1 ~ /^findings\.[0-9]+\.id$/ { printf "%s ", $2 }' "$TMP/flat")"; return; fi
  sev=$(get "findings.$i.severity"); inh=$(get "findings.$i.inhibitor")
  if [ -n "${2:-}" ] && [ "$sev" != "$2" ]; then fail "$CUR: finding $1 $2" "severity $sev"; return; fi
  if [ -n "${3:-}" ] && [ "$inh" != "$3" ]; then fail "$CUR: finding $1 inhibitor=$3" "inhibitor=$inh"; return; fi
  pass "$CUR: finding $1${2:+ $2}${3:+ inhibitor=$3}"
}
no_finding() {
  if [ -z "$(finding_index "$1")" ]; then pass "$CUR: no finding $1"
  else fail "$CUR: no finding $1" "present"; fi
}
# want_problem CODE: the first disk's table problems include CODE
want_problem() {
  if awk -F'\t' -v c="$1" '$1 ~ /^disks\.0\.problems\.[0-9]+\.code$/ && $2 == c { f = 1 } END { exit !f }' "$TMP/flat"
  then pass "$CUR: problem $1"
  else fail "$CUR: problem $1" "problems: $(awk -F'\t' '$1 ~ /^disks\.0\.problems\.[0-9]+\.code$/ { printf "%s ", $2 }' "$TMP/flat")"; fi
}
# want_warning TEXT: one of GRUB's warning lines equals TEXT
want_warning() {
  if awk -F'\t' -v t="$1" '$1 ~ /^disks\.0\.grub_embed\.grub_warnings\.[0-9]+$/ && $2 == t { f = 1 } END { exit !f }' "$TMP/flat"
  then pass "$CUR: GRUB warning '${1:0:40}...'"
  else fail "$CUR: GRUB warning '${1:0:40}...'" "warnings: $(awk -F'\t' '$1 ~ /grub_warnings\.[0-9]+$/ { printf "[%s] ", $2 }' "$TMP/flat")"; fi
}
# want_partitions N1 N2 ...: partition numbers of the first disk, in table order
want_partitions() {
  local got; got=$(awk -F'\t' '$1 ~ /^disks\.0\.partitions\.[0-9]+\.number$/ { printf "%s ", $2 }' "$TMP/flat")
  if [ "$got" = "$* " ]; then pass "$CUR: partitions $*"
  else fail "$CUR: partitions $*" "got $got"; fi
}
# robust: the bad-input contract. Exit 0, 1, 2 or 66; at most one line on stderr;
# with 66 nothing on stdout, otherwise a complete JSON document.
robust() {
  local lines; lines=$(wc -l <"$TMP/err")
  case $RC in
    0|1|2|66) pass "$CUR: exit $RC is a documented outcome" ;;
    *) fail "$CUR: documented exit" "exit $RC: $(head -c 300 "$TMP/err")" ;;
  esac
  if [ "$lines" -le 1 ]; then pass "$CUR: stderr at most one line"
  else fail "$CUR: stderr at most one line" "$lines lines: $(head -c 300 "$TMP/err")"; fi
  if [ "$RC" -eq 66 ]; then
    if [ ! -s "$TMP/json" ] && [ "$lines" -eq 1 ]; then pass "$CUR: one-line error"
    else fail "$CUR: one-line error" "stdout $(wc -c <"$TMP/json") bytes, stderr $lines lines"; fi
  elif [ -s "$TMP/flat" ]; then pass "$CUR: complete JSON report"
  else fail "$CUR: complete JSON report" "unparseable output"; fi
}

G=disks.0.grub_embed
MSG_LARGE="your core.img is unusually large.  It won't fit in the embedding area."
MSG_SMALL="your embedding area is unusually small.  core.img won't fit in it.."
MSG_OTHER="other software is using the embedding area, and there is not enough room for core.img.  Such software is often trying to store data in a way that avoids detection.  We recommend you investigate."
MSG_NO_BBP="this GPT partition label contains no BIOS Boot Partition; embedding won't be possible."
MSG_BBP_SMALL="your BIOS Boot Partition is too small; embedding won't be possible."
WARN_BBP_1MIB="Your BIOS Boot Partition is under 1 MiB, please increase its size.."
WARN_FLEXNET="Sector 32 is already in use by the program \`FlexNet'; avoiding it.  This software may cause boot or other problems in future.  Please ask its authors not to store data in the boot track."

# --- the layouts ------------------------------------------------------------------
# Dell PowerEdge, XS 6.5: 0xDE at 63 leaves 62 gap sectors. 53 fits, 63 does not.
run dell-xs65/53 --disk "$(img dell-xs65)" --core-sectors 53 --firmware bios
want_rc 1
want $G.verdict fits
want $G.gap_sectors 62
want $G.core_source option
want $G.grub_message ""
want_finding disk.utility_partition
want_finding grub.embed info false
want_finding xs.layout info
no_finding disk.first_partition_below_63
want disks.0.label msdos
want_partitions 1 2 3 4
want disks.0.partitions.0.type 0xde
want disks.0.partitions.0.fs_label DELLUTILITY
want disks.0.partitions.1.fs_label root-dellxs
want disks.0.partitions.1.fs_type ext3

run dell-xs65/63 --disk "$(img dell-xs65)" --core-sectors 63 --firmware bios
want_rc 2
want $G.verdict fails
want $G.reason core_too_large
want $G.grub_message "$MSG_LARGE"
want_finding grub.embed high true

run dell-xs65/default --disk "$(img dell-xs65)" --firmware bios
want_rc 1
want $G.verdict at_risk
want $G.core_source default-range
want $G.core_sectors.0 53
want $G.core_sectors.1 70
want_finding grub.embed medium false

# The README demo: the same disk in text form says the same thing.
"$XSGUARD" check --disk "$(img dell-xs65)" --firmware bios >"$TMP/text" 2>&1; trc=$?
CUR=dell-xs65/text
if [ "$trc" -eq 1 ]; then pass "$CUR: exit 1 as with --json"; else fail "$CUR: exit 1 as with --json" "exit $trc"; fi
for id in grub.embed disk.utility_partition xs.layout; do
  if grep -Eq "^\[(INHIBITOR )?(high|medium|low|info)\] $id:" "$TMP/text"; then pass "$CUR: lists $id"
  else fail "$CUR: lists $id" "$(head -c 300 "$TMP/text")"; fi
done
expect "$CUR: quotes GRUB's line" grep -qF "$MSG_LARGE" "$TMP/text"

# A utility partition at sector 40: below any core.img.
run utility-below-core/53 --disk "$(img utility-below-core)" --core-sectors 53 --firmware bios
want_rc 2
want $G.verdict fails
want $G.reason area_too_small
want $G.gap_sectors 39
want $G.grub_message "$MSG_SMALL"
want_finding grub.embed high true
want_finding disk.utility_partition
want_finding disk.first_partition_below_63
run utility-below-core/70 --disk "$(img utility-below-core)" --core-sectors 70 --firmware bios
want_rc 2
want $G.reason core_too_large

# XS 7 new layout, BIOS: fits whatever the core size.
run xs7-gpt-bios --disk "$(img xs7-gpt-bios)" --firmware bios
want_rc 0
want disks.0.label gpt
want $G.verdict fits
want $G.gap_sectors 1048576
want_partitions 1 2 3 4 5 6
want disks.0.partitions.3.type 21686148-6449-6E6F-744E-656564454649
want disks.0.partitions.4.start 2048
want disks.0.partitions.0.fs_label root-xs7bio
want_finding xs.layout info
want findings.$(finding_index xs.layout).evidence.layout new
no_finding firmware.mode_mismatch

# XS 7 new layout, UEFI: booted UEFI, GRUB embedding is not used; booted BIOS it
# cannot be upgraded.
run xs7-gpt-uefi/uefi --disk "$(img xs7-gpt-uefi)" --firmware uefi
want_rc 0
no_finding firmware.mode_mismatch
want_finding grub.embed info false
run xs7-gpt-uefi/bios --disk "$(img xs7-gpt-uefi)" --firmware bios
want_rc 2
want_finding firmware.mode_mismatch
want disks.0.partitions.3.type C12A7328-F81F-11D2-BA4B-00A0C93EC93B

# XS 6.x old layout on msdos at 1 MiB.
run old-msdos --disk "$(img old-msdos)" --core-sectors 70 --firmware bios
want_rc 0
want $G.verdict fits
want $G.gap_sectors 2047
want_finding xs.layout info
want findings.$(finding_index xs.layout).evidence.layout old
no_finding xs.disk_too_small
run old-msdos-small --disk "$(img old-msdos-small)" --core-sectors 53 --firmware bios
want_rc 1
want_finding xs.disk_too_small
run msdos-3t --disk "$(img msdos-3t)" --core-sectors 53 --firmware bios
want_rc 1
want_finding disk.msdos_over_2tib
want disks.0.size_bytes 3298534883328

# Old layout on GPT: with safe2upgrade the local SR is destroyed.
mkdir -p "$TMP/oldroot/var/preserve"
run old-gpt --disk "$(img old-gpt)" --core-sectors 53 --firmware bios
want_rc 0
want $G.verdict fits
no_finding xs.local_sr_destroyed
touch "$TMP/oldroot/var/preserve/safe2upgrade"
run old-gpt/safe2upgrade --disk "$(img old-gpt)" --core-sectors 53 --firmware bios --root "$TMP/oldroot"
want_rc 2
want_finding xs.safe2upgrade_present
want_finding xs.local_sr_destroyed high true
if grep -q 'old-gpt.img#3' "$TMP/json"; then pass "$CUR: names the SR partition"; else fail "$CUR: names the SR partition" "no old-gpt.img#3"; fi

# GPT without BIOS boot partition; with a 40-sector one.
run gpt-no-biosboot --disk "$(img gpt-no-biosboot)" --core-sectors 53 --firmware bios
want_rc 2
want $G.verdict fails
want $G.reason no_bios_boot_partition
want $G.grub_message "$MSG_NO_BBP"
run gpt-tiny-biosboot/53 --disk "$(img gpt-tiny-biosboot)" --core-sectors 53 --firmware bios
want_rc 2
want $G.reason bios_boot_too_small
want $G.gap_sectors 40
want $G.grub_message "$MSG_BBP_SMALL"
want_warning "$WARN_BBP_1MIB"
run gpt-tiny-biosboot/40 --disk "$(img gpt-tiny-biosboot)" --core-sectors 40 --firmware bios
want $G.verdict fits
want_warning "$WARN_BBP_1MIB"

# FlexNet signature in gap sector 32: skipped with GRUB's warning; 62 sectors no
# longer fit (they would without it).
run flexnet-gap/53 --disk "$(img flexnet-gap)" --core-sectors 53 --firmware bios
want_rc 1
want $G.verdict fits
want $G.skipped_sectors.0 32
want "$G.skipped_sectors#" 1
want_warning "$WARN_FLEXNET"
run flexnet-gap/62 --disk "$(img flexnet-gap)" --core-sectors 62 --firmware bios
want_rc 2
want $G.verdict fails
want $G.reason other_software
want $G.grub_message "$MSG_OTHER"

# Extended partition first: the EBR chain is walked.
run extended-first --disk "$(img extended-first)" --core-sectors 53 --firmware bios
want $G.verdict fits
want $G.gap_sectors 2047
want_partitions 1 2 5 6 7
want disks.0.partitions.2.start 4096
want disks.0.partitions.4.start 16785408
want disks.0.partitions.2.fs_label root-extfst
no_finding disk.table_corrupt

# Corrupt primary GPT header CRC: reported; GRUB checks only the magic.
run corrupt-gpt-crc --disk "$(img corrupt-gpt-crc)" --core-sectors 53 --firmware bios
want_finding disk.table_corrupt
want_problem gpt_header_crc
want $G.verdict fits
want "disks.0.partitions#" 6

# 4Kn: sector size guessed from the image, BIOS boot counted in 512-byte units.
run gpt-4kn --disk "$(img gpt-4kn)" --core-sectors 70 --firmware bios
want_rc 0
want disks.0.logical_sector_size 4096
want disks.0.label gpt
want $G.verdict fits
want $G.gap_sectors 1048576
want disks.0.partitions.4.start 256
want disks.0.partitions.0.fs_label root-xs74kn
run gpt-4kn/explicit --disk "$(img gpt-4kn)" --sector-size 4096 --core-sectors 70 --firmware bios
want disks.0.logical_sector_size 4096
want $G.verdict fits
run gpt-4kn-tiny-biosboot/53 --disk "$(img gpt-4kn-tiny-biosboot)" --core-sectors 53 --firmware bios
want $G.verdict fits
want $G.gap_sectors 64
want disks.0.partitions.0.sectors 8
run gpt-4kn-tiny-biosboot/70 --disk "$(img gpt-4kn-tiny-biosboot)" --core-sectors 70 --firmware bios
want $G.verdict fails
want $G.reason bios_boot_too_small

# Dell GPT: an ESP named DELLUTILITY is a utility partition; the XS 7 layout fits.
run dell-gpt-dellutility --disk "$(img dell-gpt-dellutility)" --core-sectors 53 --firmware bios
want_finding disk.utility_partition
want disks.0.partitions.0.name DELLUTILITY
want $G.verdict fits
want findings.$(finding_index xs.layout).evidence.layout new

# --- bad input: a finding or a one-line error, never a crash ---------------------
run ebr-loop --disk "$(img ebr-loop)" --core-sectors 53 --firmware bios
robust
want_finding disk.table_corrupt
want_problem ebr_loop
want $G.reason bad_partition_map
want $G.grub_message "loop detected."
run ebr-loop-first --disk "$(img ebr-loop-first)" --core-sectors 53 --firmware bios
robust
want_finding disk.table_corrupt
want_problem ebr_loop
want $G.reason bad_partition_map

run truncated --disk "$(img truncated)" --core-sectors 53 --firmware bios
robust
[ "$RC" -eq 66 ] || want_finding disk.table_corrupt
run zero-size --disk "$(img zero-size)" --core-sectors 53 --firmware bios
robust
[ "$RC" -eq 66 ] || want_finding disk.table_corrupt
run garbage --disk "$(img garbage)" --core-sectors 53 --firmware bios
robust
[ "$RC" -eq 66 ] || want_finding disk.table_corrupt
run garbage-gpt --disk "$(img garbage-gpt)" --core-sectors 53 --firmware bios
robust
[ "$RC" -eq 66 ] || want_finding disk.table_corrupt
run gpt-10000-entries --disk "$(img gpt-10000-entries)" --core-sectors 53 --firmware bios
robust
[ "$RC" -eq 66 ] || want_finding disk.table_corrupt
# A short read at every size around the GPT structures.
bad=0
for size in 1 511 512 513 1023 1024 1100 4096 17408 17920; do
  head -c "$size" "$(img xs7-gpt-bios)" >"$TMP/short.img"
  "$XSGUARD" check --disk "$TMP/short.img" --core-sectors 53 --json >/dev/null 2>"$TMP/err"; rc=$?
  case $rc in 0|1|2|66) [ "$(wc -l <"$TMP/err")" -le 1 ] || bad=$((bad + 1)) ;; *) bad=$((bad + 1)); echo "short image of $size bytes: exit $rc" ;; esac
done
expect "cut-short images: documented exits, one-line errors" [ "$bad" -eq 0 ]

# Usage and missing input.
run nonexistent --disk "$TMP/no-such-disk.img"
want_rc 66
expect "nonexistent: one line on stderr" [ "$(wc -l <"$TMP/err")" -eq 1 ]
run directory --disk "$TMP"
want_rc 66
run core-img-missing --disk "$(img old-msdos)" --core-img "$TMP/no-core.img"
want_rc 66
run bad-option --disk "$(img old-msdos)" --no-such-option
want_rc 64
run core-zero --disk "$(img old-msdos)" --core-sectors 0
want_rc 64
run both-core --disk "$(img old-msdos)" --core-sectors 53 --core-img /dev/null
want_rc 64
run bad-firmware --disk "$(img old-msdos)" --firmware coreboot
want_rc 64
run bad-sector-size --disk "$(img old-msdos)" --sector-size 1024
want_rc 64

# --core-img: C = ceil(bytes / 512); 27022 bytes is 53 sectors, 31745 is 63.
head -c 27022 /dev/zero >"$TMP/core53.img"; head -c 31745 /dev/zero >"$TMP/core63.img"
run core-img/53 --disk "$(img dell-xs65)" --core-img "$TMP/core53.img" --firmware bios
want $G.core_sectors 53
want $G.core_source file
want $G.verdict fits
run core-img/63 --disk "$(img dell-xs65)" --core-img "$TMP/core63.img" --firmware bios
want $G.core_sectors 63
want $G.verdict fails

# Every good image in one process: one disks[] entry each, the worst exit code.
args=() n=0
for f in "$IMG"/*.img; do
  case $(basename "$f" .img) in zero-size) continue ;; esac
  args+=(--disk "$f"); n=$((n + 1))
done
run all-images "${args[@]}" --core-sectors 53 --firmware bios
want_rc 2
want "disks#" "$n"
want disks.0.path "${args[1]}"

# --- the binary itself ----------------------------------------------------------
CUR=binary
# Sanitizer builds (make asan) are dynamic by design: the static checks are for `make`.
if ldd "$XSGUARD" 2>/dev/null | grep -q -e libasan -e libubsan; then
  echo "SKIP static and chroot checks: sanitizer build"
elif ! command -v file >/dev/null; then
  echo "SKIP static check: file not installed"
elif file -L "$XSGUARD" | grep -q 'statically linked'; then pass "$CUR: statically linked"
else fail "$CUR: statically linked" "$(file -L "$XSGUARD")"; fi
if ldd "$XSGUARD" 2>/dev/null | grep -q -e libasan -e libubsan; then
  :
elif [ "$(id -u)" -ne 0 ] || ! command -v chroot >/dev/null; then
  echo "SKIP chroot tests: need root"
else
  # Nothing in the chroot but the binary and one image: no /bin/sh, /proc, /sys, /dev,
  # /etc or terminfo. A start-up popen (libparted's dmidecode probe) or any other
  # exec would fail here.
  root="$TMP/chroot"; mkdir -p "$root"
  cp "$XSGUARD" "$root/xsguard"
  cp --sparse=always "$(img dell-xs65)" "$root/disk.img"
  out=$(chroot "$root" /xsguard --version 2>&1); rc=$?
  if [ "$rc" -eq 0 ] && [ -n "$out" ]; then pass "chroot: --version ($out)"
  else fail "chroot: --version" "exit $rc: $out"; fi
  chroot "$root" /xsguard check --disk /disk.img --core-sectors 63 --firmware bios --json \
    >"$TMP/json" 2>"$TMP/err"; RC=$?
  awk -f "$JFLAT" "$TMP/json" >"$TMP/flat" 2>/dev/null || : >"$TMP/flat"
  CUR=chroot/check
  want_rc 2
  want $G.reason core_too_large
  want disks.0.partitions.1.fs_label root-dellxs
  chroot "$root" /xsguard check --disk /disk.img --firmware bios >/dev/null 2>"$TMP/err"; rc=$?
  if [ "$rc" -eq 1 ] && [ ! -s "$TMP/err" ]; then pass "chroot/text: exit 1, nothing on stderr"
  else fail "chroot/text: exit 1, nothing on stderr" "exit $rc: $(head -c 300 "$TMP/err")"; fi
fi
if command -v strace >/dev/null 2>&1; then
  ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$TMP/strace" -e trace=execve,execveat,fork,vfork,clone,clone3 \
    "$XSGUARD" check --disk "$(img dell-xs65)" --firmware bios >/dev/null 2>&1
  spawned=$(grep -cv -e "execve(\"$XSGUARD\"" -e '^[0-9]* +++ exited' "$TMP/strace")
  if [ "$spawned" -eq 0 ]; then pass "binary: spawns no process (strace)"
  else fail "binary: spawns no process (strace)" "$(head -3 "$TMP/strace")"; fi
else
  echo "SKIP strace check: strace not installed (the chroot test covers start-up)"
fi
exit 0
