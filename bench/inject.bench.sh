#!/bin/bash
# Benchmark of `xsguard inject` (figures, not pass/fail): a generated 150 MB bzip2
# install.img (incompressible file contents, so the compressed size is the real size)
# gets xsguard
#   a. by `xsguard inject` in place, and with -o (which also copies the 150 MB);
#   b. by the documented full repack: `bunzip2 | cpio -idm`, add the files, then
#      `find | cpio -o -H newc | bzip2`.
# Both in the same run; the ratio is repack time / inject time (target: 100x or more).
# That an appended overlay boots is shown by tests/e2e/run.sh (a bzip2 image injected
# the same way, booted under QEMU). Takes about a minute; needs bzip2 and cpio.
set -u
cd "$(dirname "$0")/.." || exit 1
XSGUARD=${XSGUARD:-$PWD/build/xsguard}
SIZE_MB=${INJECT_BENCH_MB:-150}
W=$(mktemp -d /tmp/xsguard-inject-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# The image: a root tree of 256 KiB files, one newc cpio, bzip2 -9 as XCP-ng ships it.
mkdir -p "$W/tree/usr/lib/modules" "$W/tree/opt/xensource/installer"
i=0
while [ $((i * 256)) -lt $((SIZE_MB * 1024)) ]; do
  head -c 262144 /dev/urandom >"$W/tree/usr/lib/modules/blob$i.ko"; i=$((i + 1))
done
printf '#!/bin/sh\n' >"$W/tree/init"
(cd "$W/tree" && find . | cpio -o -H newc --quiet | bzip2 -9) >"$W/install.img"
rm -rf "$W/tree"
size=$(stat -c %s "$W/install.img")
echo "install.img: $((size / 1000000)) MB bzip2, $i files"

# a. inject
cp "$W/install.img" "$W/a.img"; sync
t0=$(now); "$XSGUARD" inject "$W/a.img" >/dev/null; t1=$(now)
inject=$(secs "$t0" "$t1")
t0=$(now); "$XSGUARD" inject "$W/install.img" -o "$W/b.img" >/dev/null; t1=$(now)
inject_o=$(secs "$t0" "$t1")
t0=$(now); "$XSGUARD" inject "$W/a.img" >/dev/null; t1=$(now)
reinject=$(secs "$t0" "$t1")
overlay=$(( $(stat -c %s "$W/a.img") - size ))
rm -f "$W/b.img"

# b. full repack, with the same files added (taken from the overlay just written).
mkdir -p "$W/ov" "$W/r"
tail -c "$overlay" "$W/a.img" | gzip -dc | (cd "$W/ov" && cpio -idm --quiet)
t0=$(now)
(cd "$W/r" && bunzip2 <"$W/install.img" | cpio -idm --quiet) &&
  cp -a "$W/ov/." "$W/r/" &&
  (cd "$W/r" && find . | cpio -o -H newc --quiet | bzip2 -9) >"$W/repacked.img"
t1=$(now)
repack=$(secs "$t0" "$t1")

echo "xsguard inject (in place):      ${inject} s  (overlay $((overlay / 1000)) KB)"
echo "xsguard inject -o (copy):       ${inject_o} s"
echo "xsguard inject again (replace): ${reinject} s"
echo "full repack (bunzip2|cpio, cpio|bzip2): ${repack} s  ($(( $(stat -c %s "$W/repacked.img") / 1000000 )) MB)"
awk -v r="$repack" -v a="$inject" -v o="$inject_o" \
  'BEGIN { printf "ratio repack/inject: %.0fx in place, %.0fx with -o (target >= 100x)\n", r / a, r / o }'
