#!/bin/bash
# Benchmark (not a test: prints figures, enforces nothing) of xsguard blobs on a tree
# with xapi's real layout (tools/mkblobs): 200,000 messages = 1,000,000+ entries.
#   scan               vs  find DIR | wc -l                     (target: ratio <= 1.0)
#     (hyperfine, page cache warm for both, the load average printed before and after:
#      on a machine busy with other work the ratio says little)
#   prune --apply      vs  tar czf of the same files + rm       (target: ratio <= 1.0)
#     (every message, --older-than 0, so both handle exactly the same entries; backup
#      at gzip level 1, the default, and at level 6, GNU gzip's default)
#   restore --apply    vs  tar xzf
#   peak RSS of scan at 1,000,000 entries, of scan / prune / restore at 2,000,000
#     (/usr/bin/time's maximum resident set size; target: < 64 MB)
#   the restore-time model: cp -a (cold cache when /proc/sys/vm/drop_caches is
#   writable) + a Python os.walk that lchown()s every entry, against the prediction;
#   then the same for a tree of message files alone and one of symlinks alone, which
#   gives the per-file and per-symlink constants of src/commands/blobs.cc.
# BENCH_DIR (default /var/tmp) must be a disk filesystem for the model figures.
# BENCH_MESSAGES (200000), BENCH_BIG_MESSAGES (400000; 0 skips the RSS run).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
XSGUARD=${XSGUARD:-$PWD/$BUILD/xsguard}
MSGS=${BENCH_MESSAGES:-200000}
BIG=${BENCH_BIG_MESSAGES:-400000}
[ -x "$XSGUARD" ] || { echo "no $XSGUARD: run make first"; exit 1; }
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/xsguard-blobs-bench.XXXXXX"); trap 'rm -rf "$W"' EXIT
g++ -std=c++17 -O2 -o "$W/mkblobs" tools/mkblobs.cc || exit 1
now() { date +%s.%N; }
timed() {  # NAME CMD...: runs once, prints and remembers the seconds
  local t0 t1; t0=$(now); "${@:2}" >/dev/null 2>"$W/err" || { echo "$1 failed: $(head -c 300 "$W/err")"; }
  t1=$(now); T[$1]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
declare -A T
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; }
ratio() { awk -v a="${T[$1]}" -v b="${T[$2]}" 'BEGIN { printf "%.3f", a / b }'; }

R=$W/root; B=$R/var/lib/xcp/blobs
t0=$(now); "$W/mkblobs" "$R" --messages "$MSGS" --days 1500 || exit 1
N=$(find "$B" -mindepth 1 | wc -l)
echo "tree: $MSGS messages, $N entries under $B (made in $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}') s), $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg)"

# 1. scan vs find | wc -l, warm cache, hyperfine when present.
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before the scan runs: $(load)"
if command -v hyperfine >/dev/null; then
  hyperfine -i -w 2 -r "${BENCH_RUNS:-10}" --style basic --export-json "$W/h.json" \
    -n scan "$XSGUARD blobs scan --root $R --json" -n find "sh -c 'find $B | wc -l'" >/dev/null 2>&1
  flat=$(awk -f tests/integration/jflat.awk "$W/h.json")
  T[scan]=$(awk -F'\t' '$1 == "results.0.mean" { print $2 }' <<<"$flat")
  T[find]=$(awk -F'\t' '$1 == "results.1.mean" { print $2 }' <<<"$flat")
else
  timed scan "$XSGUARD" blobs scan --root "$R" --json; timed find sh -c "find $B | wc -l"
fi
printf 'scan:    %7.3f s   find | wc -l: %7.3f s   ratio %s (target <= 1.0); load average after: %s\n' \
  "${T[scan]}" "${T[find]}" "$(ratio scan find)" "$(load)"
[ -x /usr/bin/time ] && echo "peak RSS of scan at $N entries: $(/usr/bin/time -f %M "$XSGUARD" blobs scan --root "$R" --json 2>&1 >/dev/null | tail -1) KB"
"$XSGUARD" blobs scan --root "$R" --json >"$W/scan.json"
pred=$(awk -F': ' '/"seconds":/ { gsub(/[ ,]/, "", $2); print $2; exit }' "$W/scan.json")

# 2. prune (backup + verify + removal) vs tar czf + rm, then restore vs tar xzf; each
# restore puts the tree back for the next run.
sync
for level in 1 6; do
  timed prune$level "$XSGUARD" blobs prune --root "$R" --older-than 0 --apply --gzip-level $level --backup "$W/p$level.tar.gz"
  size[$level]=$(stat -c %s "$W/p$level.tar.gz")
  sync
  timed restore$level "$XSGUARD" blobs restore "$W/p$level.tar.gz" --root "$R" --apply
  sync
done
# The same entries: every message file and every symlink below messages/.
(cd "$B" && find messages ! -type d >"$W/list")
timed tarc sh -c "tar czf '$W/t.tar.gz' -C '$B' -T '$W/list' && cd '$B' && xargs -d '\n' rm -f <'$W/list'"
tsize=$(stat -c %s "$W/t.tar.gz")
sync
timed tarx tar xzf "$W/t.tar.gz" -C "$B"
for level in 1 6; do
  printf 'prune (gzip %d): %7.2f s, backup %6.1f MB   tar czf + rm: %7.2f s, %6.1f MB   ratio %s (target <= 1.0)\n' \
    "$level" "${T[prune$level]}" "$(awk -v b="${size[$level]}" 'BEGIN{print b/1048576}')" "${T[tarc]}" \
    "$(awk -v b="$tsize" 'BEGIN{print b/1048576}')" "$(ratio prune$level tarc)"
done
for level in 1 6; do
  printf 'restore (gzip %d): %7.2f s   tar xzf: %7.2f s   ratio %s\n' "$level" "${T[restore$level]}" "${T[tarx]}" "$(ratio restore$level tarx)"
done

# 3. The model: the installer's cp -a plus an lchown walk, against the prediction. Then
# the split between files and symlinks: the same on a tree of the message files alone
# and on one of the uuids links alone, each made by a warm copy first, so that its
# inodes are packed as in a tree of one kind (in the store they are interleaved, and
# a cold copy of one part alone would read inode blocks it shares with the others).
# The constants are those two costs scaled to the whole tree's measured time.
walk='import os,sys
for d,ds,fs in os.walk(sys.argv[1]):
    for x in ds+fs:
        p=os.path.join(d,x); st=os.lstat(p); os.lchown(p,st.st_uid,st.st_gid)'
restore_step() {  # NAME SRC: cp -a SRC from a cold cache, then the walk of the copy
  drop; timed "cp$1" cp -a "$2" "$W/copy"
  if command -v python3 >/dev/null; then timed "walk$1" python3 -c "$walk" "$W/copy"
  else timed "walk$1" "$W/mkblobs" --lchown-walk "$W/copy"; fi
  rm -rf "$W/copy"
}
cold=$([ -w /proc/sys/vm/drop_caches ] && echo cold || echo warm)
restore_step all "$B"
mkdir "$W/files"; find "$B/messages" -maxdepth 1 -type f -exec cp -a -t "$W/files" {} +
cp -a "$B/messages/uuids" "$W/links"
restore_step files "$W/files"; restore_step links "$W/links"
nf=$(find "$W/files" -type f | wc -l); nl=$(find "$W/links" -type l | wc -l)
files=$(find "$B" -type f | wc -l); bytes=$(find "$B" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
rm -rf "$W/files" "$W/links"
awk -v c="${T[cpall]}" -v w="${T[walkall]}" -v p="$pred" -v n="$N" -v k="$cold" 'BEGIN {
  printf "installer restore step: cp -a (%s cache) %.1f s + lchown walk %.1f s = %.1f s (%.0f us/entry); predicted %.0f s (ratio %.2f)\n",
    k, c, w, c + w, (c + w) * 1e6 / n, p, p / (c + w) }'
awk -v cf="${T[cpfiles]}" -v wf="${T[walkfiles]}" -v nf="$nf" \
    -v cl="${T[cplinks]}" -v wl="${T[walklinks]}" -v nl="$nl" -v ta="${T[cpall]}" -v wa="${T[walkall]}" \
    -v n="$N" -v f="$files" -v b="$bytes" 'BEGIN {
  file = (cf + wf) / nf; link = (cl + wl) / nl
  printf "alone: %d message files %.1f + %.1f s = %.0f us each; %d symlinks %.1f + %.1f s = %.0f us each\n",
    nf, cf, wf, file * 1e6, nl, cl, wl, link * 1e6
  scale = (ta + wa - b * 2e-9) / (f * file + (n - f) * link)
  printf "model constants measured here (scaled by %.2f to the whole tree): kFileSeconds %.0fe-6, kLinkSeconds = kDirSeconds %.0fe-6\n",
    scale, file * scale * 1e6, link * scale * 1e6 }'

# 4. Peak RSS at 2,000,000 entries.
if [ "$BIG" -gt 0 ] && [ -x /usr/bin/time ]; then
  rm -rf "$R" "$W"/*.tar.gz
  "$W/mkblobs" "$R" --messages "$BIG" --days 1500 || exit 1
  N=$(find "$B" -mindepth 1 | wc -l)
  rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
  s=$(rss "$XSGUARD" blobs scan --root "$R" --json)
  p=$(rss "$XSGUARD" blobs prune --root "$R" --older-than 0 --apply --backup "$W/big.tar.gz")
  r=$(rss "$XSGUARD" blobs restore "$W/big.tar.gz" --root "$R" --apply)
  awk -v n="$N" -v s="$s" -v p="$p" -v r="$r" 'BEGIN {
    printf "peak RSS at %d entries: scan %.1f MB, prune --apply %.1f MB, restore --apply %.1f MB (target < 64)\n", n, s/1024, p/1024, r/1024 }'
fi
