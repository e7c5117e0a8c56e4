#!/bin/bash
# Benchmark (not a test: prints figures, enforces nothing).
#   `xsguard check` over 24 image disks in ONE process, against what a script would
#   otherwise run on the same 24 disks: `sfdisk -d` and `blkid -p` on each (48
#   processes). Both measured by hyperfine in the same run; the ratio is the figure.
#   Also: peak RSS of that check (/usr/bin/time -v) and the stripped binary's size.
# Targets: ratio <= 0.25, peak RSS < 16 MB, stripped binary < 3 MB.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
XSGUARD=${XSGUARD:-$PWD/$BUILD/xsguard}
IMG=${IMAGES:-$BUILD/images}
RUNS=${BENCH_RUNS:-30}

[ -x "$XSGUARD" ] || { echo "no $XSGUARD: run make first"; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine not installed (make deps)"; exit 1; }
sh images/build.sh "$IMG" >/dev/null || exit 1

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# 16 realistic layouts, the first 8 twice more: 24 disks, each under its own name
# (hard links where possible, else sparse copies).
layouts="dell-xs65 utility-below-core xs7-gpt-bios xs7-gpt-uefi old-msdos old-msdos-small
old-gpt msdos-3t gpt-no-biosboot gpt-tiny-biosboot flexnet-gap extended-first
corrupt-gpt-crc gpt-4kn gpt-4kn-tiny-biosboot dell-gpt-dellutility"
disks=()
n=0
for pass in 1 2; do
  for l in $layouts; do
    [ "$n" -ge 24 ] && break
    d="$work/disk$n-$l.img"
    ln "$IMG/$l.img" "$d" 2>/dev/null || cp --sparse=always "$IMG/$l.img" "$d"
    disks+=("$d"); n=$((n + 1))
  done
done

check_args=""
for d in "${disks[@]}"; do check_args="$check_args --disk $d"; done
# The pair, as a shell loop would run it.
{
  echo 'for d in "$@"; do sfdisk -d "$d"; blkid -p "$d"; done >/dev/null 2>&1; exit 0'
} >"$work/pair.sh"

echo "disks: ${#disks[@]} images ($(echo $layouts | wc -w) layouts), $(du -sh "$IMG" | cut -f1) on disk"
hyperfine -N -i --warmup 3 --runs "$RUNS" --style basic --export-json "$work/h.json" \
  -n "xsguard check (1 process)" "$XSGUARD check --json$check_args" \
  -n "sfdisk -d + blkid -p (48 processes)" "bash $work/pair.sh ${disks[*]}" >"$work/hyperfine.out" 2>&1 ||
  { cat "$work/hyperfine.out"; exit 1; }

flat=$(awk -f tests/integration/jflat.awk "$work/h.json")
mean() { awk -F'\t' -v k="results.$1.mean" '$1 == k { print $2 }' <<<"$flat"; }
sd() { awk -F'\t' -v k="results.$1.stddev" '$1 == k { print $2 }' <<<"$flat"; }
cpu() { awk -F'\t' -v u="results.$1.user" -v s="results.$1.system" '$1 == u || $1 == s { t += $2 } END { print t }' <<<"$flat"; }
x=$(mean 0) p=$(mean 1)
awk -v x="$x" -v xs="$(sd 0)" -v p="$p" -v ps="$(sd 1)" -v xc="$(cpu 0)" -v pc="$(cpu 1)" \
    -v cpus="$(nproc)" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "xsguard check, 24 disks, 1 process:     %7.2f ms +- %.2f  (cpu %.2f ms)\n", x * 1000, xs * 1000, xc * 1000
  printf "sfdisk -d + blkid -p, 48 processes:     %7.2f ms +- %.2f  (cpu %.2f ms)\n", p * 1000, ps * 1000, pc * 1000
  printf "ratio xsguard / pair, wall clock:       %7.3f x   (target <= 0.25)\n", x / p
  printf "ratio xsguard / pair, cpu time:         %7.3f x   (%d cpus, load %s)\n", xc / pc, cpus, load
}'

if [ -x /usr/bin/time ]; then
  # shellcheck disable=SC2086
  rss=$(/usr/bin/time -v "$XSGUARD" check --json $check_args 2>&1 >/dev/null |
    awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }')
  awk -v k="$rss" 'BEGIN { printf "peak RSS, check over 24 disks:          %7.1f MB  (target < 16)\n", k / 1024 }'
else
  echo "peak RSS: /usr/bin/time not installed (package time)"
fi

strip -o "$work/xsguard.stripped" "$XSGUARD"
size=$(stat -c %s "$work/xsguard.stripped")
awk -v b="$size" -v u="$(stat -c %s "$XSGUARD")" 'BEGIN {
  printf "binary size, stripped:                  %7.2f MB  (target < 3; unstripped %.1f MB)\n", b / 1048576, u / 1048576
}'
