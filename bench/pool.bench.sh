#!/bin/bash
# Benchmark (not a test: prints figures, enforces nothing).
#   `xsguard pool --json` on a generated 200 MB pool database (64 hosts, ~5,000 VMs,
#   padded string columns), against `xmllint --stream --noout` on the same file in the
#   same run: wall clock, MB/s and peak RSS of each.
# Target: xsguard not slower than xmllint --stream.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
XSGUARD=${XSGUARD:-$PWD/$BUILD/xsguard}
RUNS=${BENCH_RUNS:-5}
SIZE_MB=${POOL_BENCH_MB:-200}
[ -x "$XSGUARD" ] || { echo "no $XSGUARD: run make first"; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine not installed (make deps)"; exit 1; }
command -v xmllint >/dev/null || { echo "xmllint not installed (libxml2-utils)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
g++ -std=c++17 -O2 -Isrc -o "$work/mkxapidb" tools/mkxapidb.cc || exit 1
"$work/mkxapidb" --hosts 64 --vms-per-host 79 --size "$SIZE_MB" >"$work/state.db"
bytes=$(stat -c %s "$work/state.db")
echo "database: $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }'), 64 hosts, $((64 * 79)) VMs"
hyperfine -N -i --warmup 1 --runs "$RUNS" --style basic --export-json "$work/h.json" \
  -n "xsguard pool" "$XSGUARD pool --db $work/state.db --json" \
  -n "xmllint --stream --noout" "xmllint --stream --noout $work/state.db" >"$work/hf.out" 2>&1 ||
  { cat "$work/hf.out"; exit 1; }
flat=$(awk -f tests/integration/jflat.awk "$work/h.json")
mean() { awk -F'\t' -v k="results.$1.mean" '$1 == k { print $2 }' <<<"$flat"; }
rss() {
  if [ -x /usr/bin/time ]; then /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; else echo 0; fi
}
x=$(mean 0) m=$(mean 1)
xr=$(rss "$XSGUARD" pool --db "$work/state.db" --json) mr=$(rss xmllint --stream --noout "$work/state.db")
awk -v b="$bytes" -v x="$x" -v m="$m" -v xr="$xr" -v mr="$mr" 'BEGIN {
  printf "xsguard pool:             %8.1f ms  %7.1f MB/s  peak RSS %6.1f MB\n", x * 1000, b / 1e6 / x, xr / 1024
  printf "xmllint --stream --noout: %8.1f ms  %7.1f MB/s  peak RSS %6.1f MB\n", m * 1000, b / 1e6 / m, mr / 1024
  printf "ratio xsguard / xmllint:  %8.3f x   (target <= 1)\n", x / m
}'
