#!/bin/bash
# xsguard blobs prune / restore never leave the blobs tree: links to /etc and to
# ../../.., a symlinked directory; and when the backup cannot be written (read-only
# filesystem, no space, permission denied) or the tree is read-only: a clear error,
# exit 3, nothing removed. The mount cases need root: SKIP otherwise.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
g++ -std=c++17 -O2 -o "$TMP/mkblobs" tools/mkblobs.cc || { echo "FAIL blobs_safety: mkblobs does not build"; exit 0; }
MNT=()
cleanup() { for m in "${MNT[@]}"; do umount "$m" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
snap() { (cd "$1" && find . -printf '%P %y %m %U %G %l %s\n' | sort && find . -type f -print0 | sort -z | xargs -0r sha256sum); }

# Links that leave the tree, and a directory that is a symlink.
R=$TMP/root; B=$R/var/lib/xcp/blobs
"$TMP/mkblobs" "$R" --messages 300 --days 100
mkdir -p "$R/etc" "$TMP/outside/sub"; echo keep >"$R/etc/sentinel"; echo keep >"$TMP/outside/sub/1000000000.00000"
ln -s /etc "$B/messages/uuids/to-etc"
ln -s /etc/passwd "$B/messages/refs/OpaqueRef:passwd"
ln -s ../../.. "$B/messages/gen/up"
ln -s ../../../../../../.. "$B/messages/gen/way-up"
ln -s "$TMP/outside" "$B/messages/Network"
ln -s /var/lib/xcp/blobs/../../../../etc "$B/messages/uuids/dotdot-etc"
etc_before=$(snap /etc 2>/dev/null | sha256sum); out_before=$(snap "$TMP/outside" | sha256sum)
root_etc_before=$(snap "$R/etc" | sha256sum)
expect_rc "prune everything with hostile links exits 0" 0 "$XSGUARD" blobs prune --root "$R" --older-than 0 --apply --backup "$TMP/all.tar.gz"
expect "every message went" test "$(find "$B/messages" -maxdepth 1 -type f | wc -l)" -eq 0
for l in uuids/to-etc refs/OpaqueRef:passwd gen/up gen/way-up Network uuids/dotdot-etc; do
  expect "link $l (leaves the tree) is kept" test -L "$B/messages/$l"
done
expect "/etc is unchanged" test "$(snap /etc 2>/dev/null | sha256sum)" = "$etc_before"
expect "ROOT/etc is unchanged" test "$(snap "$R/etc" | sha256sum)" = "$root_etc_before"
expect "the symlinked directory's target is unchanged" test "$(snap "$TMP/outside" | sha256sum)" = "$out_before"
expect "the backup holds no link that leaves the tree" bash -c "! tar tzvf '$TMP/all.tar.gz' | grep -q -e '-> /etc' -e '-> \\.\\.'"
expect_rc "restore exits 0" 0 "$XSGUARD" blobs restore "$TMP/all.tar.gz" --root "$R" --apply
expect "restore writes nothing outside the tree" test "$(snap "$TMP/outside" | sha256sum)" = "$out_before"
expect "restore brings the messages back" test "$(find "$B/messages" -maxdepth 1 -type f | wc -l)" -eq 300

# The backup cannot be written.
R2=$TMP/r2; B2=$R2/var/lib/xcp/blobs
"$TMP/mkblobs" "$R2" --messages 2000 --days 100
before=$(snap "$R2" | sha256sum)
nothing_removed() { test "$(snap "$R2" | sha256sum)" = "$before"; }
if [ "$(id -u)" -eq 0 ] && mkdir -p "$TMP/ro" && mount -t tmpfs -o ro,size=1m tmpfs "$TMP/ro" 2>/dev/null; then
  MNT+=("$TMP/ro")
  expect_rc "backup on a read-only filesystem: exit 3" 3 "$XSGUARD" blobs prune --root "$R2" --older-than 0 --apply --backup "$TMP/ro/b.tar.gz"
  expect "... says so" grep -q "Read-only file system; nothing was removed" "$TMP/err"
  expect "... nothing removed" nothing_removed
  mkdir -p "$TMP/small" && mount -t tmpfs -o size=64k tmpfs "$TMP/small" && MNT+=("$TMP/small")
  expect_rc "backup on a full filesystem: exit 3" 3 "$XSGUARD" blobs prune --root "$R2" --older-than 0 --apply --backup "$TMP/small/b.tar.gz"
  expect "... says so" grep -q "No space left on device; nothing was removed" "$TMP/err"
  expect "... nothing removed" nothing_removed
  expect "... no partial backup left" test -z "$(ls -A "$TMP/small")"
  expect "... no journal left" test ! -e "$R2/var/lib/xcp/xsguard-blobs-prune.journal"
  # A read-only tree: the journal cannot be written, nothing is touched.
  mkdir -p "$TMP/rot" && mount -t tmpfs -o size=64m tmpfs "$TMP/rot" && MNT+=("$TMP/rot")
  "$TMP/mkblobs" "$TMP/rot" --messages 200 --days 100 && mount -o remount,ro "$TMP/rot"
  rbefore=$(snap "$TMP/rot" | sha256sum)
  expect_rc "a read-only tree: exit 3" 3 "$XSGUARD" blobs prune --root "$TMP/rot" --older-than 0 --apply --backup "$TMP/rot-b.tar.gz"
  expect "... says why" grep -q "Read-only file system" "$TMP/err"
  expect "... nothing removed, no backup left" test "$(snap "$TMP/rot" | sha256sum)" = "$rbefore" -a ! -e "$TMP/rot-b.tar.gz"
else
  echo "SKIP blobs_safety mounts: needs root and tmpfs mounts"
fi
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chown -R 65534:65534 "$R2/var/lib/xcp"; chmod 755 "$TMP"
  mkdir -p "$TMP/rootonly"; chmod 755 "$TMP/rootonly"
  before=$(snap "$R2" | sha256sum)
  expect_rc "backup where permission is denied: exit 3" 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$XSGUARD" blobs prune --root "$R2" --older-than 0 --apply --backup "$TMP/rootonly/b.tar.gz"
  expect "... says so" grep -q "Permission denied; nothing was removed" "$TMP/err"
  expect "... nothing removed" nothing_removed
else
  echo "SKIP blobs_safety EACCES: needs root and setpriv"
fi
