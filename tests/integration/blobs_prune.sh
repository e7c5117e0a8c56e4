#!/bin/bash
# xsguard blobs prune / restore end to end: dry run changes nothing; --apply writes a
# backup GNU tar reads, removes each old message with its four links and the dangling
# links; a second run is a no-op; restore gives back names, modes, owners, mtimes and
# contents; kill -9 at random moments and a rerun always end in the same state.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
g++ -std=c++17 -O2 -o "$TMP/mkblobs" tools/mkblobs.cc || { echo "FAIL blobs_prune: mkblobs does not build"; exit 0; }
W=$TMP; [ -d /dev/shm ] && W=$(mktemp -d /dev/shm/xsguard-blobs.XXXXXX) && trap 'rm -rf "$TMP" "$W"' EXIT
NOW=1700000000
snap() {  # every non-directory entry: name, type, mode, owner, mtime (ns), target, content
  (cd "$1" && find . ! -type d -printf '%P %y %m %U %G %T@ %l\n' | sort &&
    find . -type f -print0 | sort -z | xargs -0r sha256sum)
}
R=$W/root; B=$R/var/lib/xcp/blobs
"$TMP/mkblobs" "$R" --messages 1000 --days 400 --now "$NOW" --dangling 7
chown -h 65534:65534 "$B/messages/gen/1500" "$(find "$B/messages" -maxdepth 1 -type f | head -1)"
snap "$B" >"$W/before"
# --older-than counts from the clock: DAYS such that the cut falls about 100 days
# before the tree's "now" (messages are hours apart, so seconds of drift do not matter).
days=$(( ($(date +%s) - NOW) / 86400 + 100 ))
older() {  # messages in $1 older than the cut
  find "$1/messages" -maxdepth 1 -type f -name '1[0-9]*' |
    awk -F/ -v c=$(( $(date +%s) - days * 86400 )) '{ split($NF, a, "."); if (a[1] < c) n++ } END { print n + 0 }'
}
old=$(older "$B")

expect_rc "dry run exits 0" 0 "$XSGUARD" blobs prune --root "$R" --older-than "$days"
expect "dry run changes nothing" cmp -s <(snap "$B") "$W/before"
expect "dry run counts the old messages ($old)" grep -q "message files to remove: $old " "$TMP/out"
expect "dry run counts their links" grep -q "their symlinks: *$((old * 4))\$" "$TMP/out"
expect "dry run counts the dangling links" grep -q "dangling symlinks: *7\$" "$TMP/out"
expect "dry run predicts the time saved" grep -q "predicted time saved" "$TMP/out"
expect_rc "no selection is a usage error" 64 "$XSGUARD" blobs prune --root "$R" --apply

expect_rc "apply exits 0" 0 "$XSGUARD" blobs prune --root "$R" --older-than "$days" --apply --backup "$W/b.tar.gz"
expect "backup verified before removal" grep -q "Backup verified: $((old * 5 + 7)) entries" "$TMP/out"
expect "GNU tar lists every entry" test "$(tar tzf "$W/b.tar.gz" | wc -l)" -eq $((old * 5 + 7))
mkdir "$W/x" && tar xzf "$W/b.tar.gz" -C "$W/x" 2>"$W/tarerr"
expect "GNU tar extracts it" test "$(find "$W/x" ! -type d | wc -l)" -eq $((old * 5 + 7))
rm -rf "$W/x"
left=$(find "$B/messages" -maxdepth 1 -type f | wc -l)
expect "old messages are gone ($((1000 - old)) left)" test "$left" -eq $((1000 - old))
"$XSGUARD" blobs scan --root "$R" --json >"$W/scan.json"
expect "no dangling link is left" grep -q '"dangling_symlinks": 0,' "$W/scan.json"
expect "no journal is left" test ! -e "$R/var/lib/xcp/xsguard-blobs-prune.journal"
snap "$B" >"$W/after"
expect_rc "second run exits 0" 0 "$XSGUARD" blobs prune --root "$R" --older-than "$days" --apply --backup "$W/c.tar.gz"
expect "second run has nothing to remove" grep -q "Nothing to remove" "$TMP/out"
expect "second run writes no backup" test ! -e "$W/c.tar.gz"
expect "second run changes nothing" cmp -s <(snap "$B") "$W/after"

expect_rc "restore dry run exits 0" 0 "$XSGUARD" blobs restore "$W/b.tar.gz" --root "$R"
expect "restore dry run changes nothing" cmp -s <(snap "$B") "$W/after"
expect_rc "restore exits 0" 0 "$XSGUARD" blobs restore "$W/b.tar.gz" --root "$R" --apply
expect "restore gives back names, modes, owners, mtimes, targets, contents" cmp -s <(snap "$B") "$W/before"
expect_rc "restoring twice is a no-op" 0 "$XSGUARD" blobs restore "$W/b.tar.gz" --root "$R" --apply
expect "nothing to restore the second time" grep -q "Nothing to restore" "$TMP/out"
head -c 3000 "$W/b.tar.gz" >"$W/trunc.tar.gz"
expect_rc "a truncated backup is exit 66" 66 "$XSGUARD" blobs restore "$W/trunc.tar.gz" --root "$R" --apply
expect_rc "a file that is not an archive is exit 66" 66 "$XSGUARD" blobs restore /etc/hostname --root "$R"

# kill -9 at random moments, then run again until done: always the same end state,
# and the one backup restores the original.
"$TMP/mkblobs" "$W/k" --messages 3000 --days 400 --now "$NOW" --dangling 3
KB=$W/k/var/lib/xcp/blobs
snap "$KB" >"$W/kbefore"
kold=$(older "$KB")
ok=1
for delay in 0.02 0.05 0.1 0.15 0.2 0.3; do
  "$XSGUARD" blobs prune --root "$W/k" --older-than "$days" --apply --backup "$W/k.tar.gz" >/dev/null 2>&1 &
  pid=$!; sleep "$delay"; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  [ -e "$W/k/var/lib/xcp/xsguard-blobs-prune.journal" ] && continue  # the next run resumes
  [ -e "$W/k.tar.gz" ] || continue  # killed before anything was written
  # Finished before the kill: start over from the backup.
  "$XSGUARD" blobs restore "$W/k.tar.gz" --root "$W/k" --apply >/dev/null && rm -f "$W/k.tar.gz" || ok=0
done

"$XSGUARD" blobs prune --root "$W/k" --older-than "$days" --apply --backup "$W/k.tar.gz" >"$W/kout" 2>&1 || ok=0
expect "after kill -9 a rerun finishes" test "$ok" -eq 1
expect "the end state is the same as an uninterrupted run" test "$(find "$KB/messages" -maxdepth 1 -type f | wc -l)" -eq $((3000 - kold))
expect "... with one uuid link per message left" test "$(find "$KB/messages/uuids" -type l | wc -l)" -eq $((3000 - kold))
expect "no journal after the rerun" test ! -e "$W/k/var/lib/xcp/xsguard-blobs-prune.journal"
"$XSGUARD" blobs restore "$W/k.tar.gz" --root "$W/k" --apply >/dev/null
expect "restore after interrupted runs gives the original" cmp -s <(snap "$KB") "$W/kbefore"
