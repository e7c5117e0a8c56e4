#!/bin/bash
# Benchmarks of `xsguard watch` (figures, not pass/fail):
#  1. --once throughput over a generated 500 MB install log, in MB/s, as a ratio to
#     `grep -c -F -f signatures.txt` on the same file in the same run;
#  2. follow mode idle wake-ups per minute (voluntary context switches over 60 s);
#  3. latency from appending a record to its event on stdout.
# Needs hyperfine. Takes about two minutes.
set -u
cd "$(dirname "$0")/.." || exit 1
XSGUARD=${XSGUARD:-$PWD/build/xsguard}
SIZE_MB=${WATCH_BENCH_MB:-500}
IDLE_SECONDS=${WATCH_BENCH_IDLE:-60}
W=$(mktemp -d /tmp/xsguard-watch-bench.XXXXXX)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; exec 3<&- 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# --- 1. throughput
# The log: the test logs (upgrades, failures, commands with output) repeated.
cat tests/data/logs/*.log | tr -d '\r' >"$W/chunk"
while [ "$(stat -c %s "$W/chunk")" -lt 4000000 ]; do cat "$W/chunk" "$W/chunk" >"$W/c2"; mv "$W/c2" "$W/chunk"; done
chunk=$(stat -c %s "$W/chunk")
n=$(( (SIZE_MB * 1000000 + chunk - 1) / chunk ))
for _ in $(seq "$n"); do cat "$W/chunk"; done >"$W/install-log"
bytes=$(stat -c %s "$W/install-log")
"$XSGUARD" watch --list-signatures >"$W/signatures.txt"
echo "log: $((bytes / 1000000)) MB, $(wc -l <"$W/install-log") lines, $(wc -l <"$W/signatures.txt") signatures"
# grep writes its count to a file: with stdout on /dev/null GNU grep stops at the
# first match. xsguard's events go to /dev/null (it formats every one regardless).
hyperfine --style basic -w 1 -r 5 -i --export-csv "$W/once.csv" \
  -n grep "grep -c -F -f $W/signatures.txt $W/install-log >$W/grep.count" \
  -n watch-once "$XSGUARD watch --once $W/install-log >/dev/null" \
  -n watch-once-json "$XSGUARD watch --once --json $W/install-log >/dev/null" \
  >"$W/hyperfine.out" 2>&1 || cat "$W/hyperfine.out"
awk -F, -v bytes="$bytes" '
  NR > 1 { mean[$1] = $2; cpu[$1] = $5 + $6 }
  END {
    for (k in mean) printf "%-16s %8.0f ms  %7.1f MB/s  (cpu %.0f ms)\n", k, mean[k] * 1000, bytes / 1e6 / mean[k], cpu[k] * 1000
    printf "ratio watch-once/grep: %.2fx time (cpu %.2fx); watch-once-json/grep: %.2fx\n",
      mean["watch-once"] / mean["grep"], cpu["watch-once"] / cpu["grep"], mean["watch-once-json"] / mean["grep"]
  }' "$W/once.csv"
rm -f "$W/install-log"

# --- 2. idle wake-ups in follow mode (default stall timer: 120 s)
rec() { printf '%-9.9s[%s] %s\n' INFO "$(date '+%Y-%m-%d %H:%M:%S')" "$1"; }
rec "TASK: Evaluating <function writeFstab at 0x7f00>[]" >"$W/follow-log"
"$XSGUARD" watch "$W/follow-log" >/dev/null 2>&1 &
pid=$!
sleep 1
ctx() { awk '/^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { n = $2 } END { print v + n }' "/proc/$pid/status"; }
c0=$(ctx)
sleep "$IDLE_SECONDS"
c1=$(ctx)
echo "follow idle: $((c1 - c0)) wake-ups in ${IDLE_SECONDS}s (context switches; the stall timer is 120 s)"
kill "$pid"; wait "$pid" 2>/dev/null; pid=

# --- 3. append -> event latency, through a pipe
mkfifo "$W/events"
: >"$W/lat-log"
"$XSGUARD" watch "$W/lat-log" >"$W/events" 2>/dev/null &
pid=$!
exec 3<"$W/events"
read -r _ <&3  # "following ..." notice
lat=()
for i in $(seq 1 30); do
  t0=$EPOCHREALTIME
  rec "latency probe $i" >>"$W/lat-log"
  read -r _ <&3
  t1=$EPOCHREALTIME
  lat+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 }')")
  sleep 0.05
done
printf '%s\n' "${lat[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "append->event latency: median %.1f ms, p90 %.1f ms, max %.1f ms (%d appends)\n", v[int(NR / 2) + 1], v[int(NR * 0.9)], v[NR], NR }'
