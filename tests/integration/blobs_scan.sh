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

L=$TMP/legacy
"$TMP/mkblobs" "$L" --messages 50 --legacy
expect_rc "pre-7.0 var/xapi/blobs is found" 0 "$XSGUARD" blobs scan --root "$L" --json
expect "its absolute links are not dangling" grep -q '"dangling_symlinks": 0,' "$TMP/out"

expect_rc "no store is exit 66" 66 "$XSGUARD" blobs scan --root "$TMP/nothing"
expect_rc "--root is required (64)" 64 "$XSGUARD" blobs scan
mkdir -p "$TMP/linked/var/lib/xcp"; ln -s "$B" "$TMP/linked/var/lib/xcp/blobs"
expect_rc "a symlinked blobs directory is refused (66)" 66 "$XSGUARD" blobs scan --root "$TMP/linked"
