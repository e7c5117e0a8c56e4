#!/bin/bash
# xsguard blobs scan on trees with xapi's real layout (tools/mkblobs): counts agree with
# find, dangling links and links leaving the tree are counted, exit codes.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
g++ -std=c++17 -O2 -o "$TMP/mkblobs" tools/mkblobs.cc || { echo "FAIL blobs_scan: mkblobs does not build"; exit 0; }
R=$TMP/root; B=$R/var/lib/xcp/blobs
"$TMP/mkblobs" "$R" --messages 600 --dangling 4 --rrds 5
ln -s /etc "$B/messages/uuids/to-etc"

expect_rc "scan exits 0 on a small store" 0 "$XSGUARD" blobs scan --root "$R"
expect "text names the finding" grep -q 'blobs.too_many' "$TMP/out"
expect_rc "scan --json exits 0" 0 "$XSGUARD" blobs scan --root "$R" --json
cp "$TMP/out" "$TMP/scan.json"
n=$(find "$B" -mindepth 1 | wc -l)
expect "entries equal find's count ($n)" grep -q "\"entries\": $n," "$TMP/scan.json"
expect "3600 symlinks + 4 dangling + 1 to /etc" grep -q '"symlinks": 2405,' "$TMP/scan.json"
expect "dangling symlinks counted" grep -q '"dangling_symlinks": 4,' "$TMP/scan.json"
expect "the /etc link leaves the tree" grep -q '"symlinks_leaving_tree": 1,' "$TMP/scan.json"
expect "600 messages" grep -q '"messages": 600,' "$TMP/scan.json"
expect "a prediction with its model" grep -q '"model": "files x' "$TMP/scan.json"
expect "severity info for 3000 entries" grep -q '"severity": "info"' "$TMP/scan.json"

# Dangling links and links leaving the tree, against every link resolved by hand in the
# shell: deleted messages, relative links, links to directories and to other link
# directories, in every part of the store (the scan judges those under messages/
# against its index of messages, the others against the tree).
D=$TMP/deleted; DB=$D/var/lib/xcp/blobs; DM=$DB/messages
"$TMP/mkblobs" "$D" --messages 400 --dangling 7 --rrds 3
ls "$DM" | grep '^1' | sed -n '1~50p' | while read -r f; do rm "$DM/$f"; done
first=$(ls "$DM" | grep '^1' | head -1)
mkdir -p "$DB/rrds/sub"
for at in "$DM/uuids" "$DB/rrds/sub"; do
  n=$(ls "$at" | wc -l)
  ln -s "../../messages/$first" "$at/rel-ok-$n"; ln -s ../../messages/1000000000.00000 "$at/rel-gone-$n"
  ln -s ../../messages/gen "$at/dir-$n"; ln -s "../../messages/gen/$(ls "$DM/gen" | head -1)" "$at/other-$n"
  ln -s ../../messages/gen/none "$at/other-gone-$n"; ln -s /var/lib/xcp/blobs/rrds "$at/abs-dir-$n"
  ln -s /var/lib/xcp/blobs/rrds/none "$at/abs-gone-$n"; ln -s /etc "$at/etc-$n"
  ln -s ../../../../../../.. "$at/up-$n"; ln -s /var/xapi/blobs/messages/1000000001.00000 "$at/old-gone-$n"
done
oracle() {  # prints: dangling leaving
  local dangling=0 leaving=0 l t p
  while read -r l; do
    t=$(readlink "$l")
    case $t in
      /var/lib/xcp/blobs/*) p=$DB${t#/var/lib/xcp/blobs} ;;
      /var/xapi/blobs/*) p=$DB${t#/var/xapi/blobs} ;;
      /*) leaving=$((leaving + 1)); continue ;;
      *) p=$(dirname "$l")/$t ;;
    esac
    p=$(realpath -m -s "$p")
    case $p in "$DB"/*) ;; *) leaving=$((leaving + 1)); continue ;; esac
    [ -e "$p" ] || [ -L "$p" ] || dangling=$((dangling + 1))
  done < <(find "$DB" -type l)
  echo "$dangling $leaving"
}
read -r dangling leaving < <(oracle)
expect_rc "scan of a store with deleted messages exits 0" 0 "$XSGUARD" blobs scan --root "$D" --json
expect "dangling symlinks as resolved by hand ($dangling)" grep -q "\"dangling_symlinks\": $dangling," "$TMP/out"
expect "symlinks leaving the tree as resolved by hand ($leaving)" grep -q "\"symlinks_leaving_tree\": $leaving," "$TMP/out"
expect "entries equal find's count" grep -q "\"entries\": $(find "$DB" -mindepth 1 | wc -l)," "$TMP/out"

L=$TMP/legacy
"$TMP/mkblobs" "$L" --messages 50 --legacy
expect_rc "pre-7.0 var/xapi/blobs is found" 0 "$XSGUARD" blobs scan --root "$L" --json
expect "its absolute links are not dangling" grep -q '"dangling_symlinks": 0,' "$TMP/out"

expect_rc "no store is exit 66" 66 "$XSGUARD" blobs scan --root "$TMP/nothing"
expect_rc "--root is required (64)" 64 "$XSGUARD" blobs scan
mkdir -p "$TMP/linked/var/lib/xcp"; ln -s "$B" "$TMP/linked/var/lib/xcp/blobs"
expect_rc "a symlinked blobs directory is refused (66)" 66 "$XSGUARD" blobs scan --root "$TMP/linked"
