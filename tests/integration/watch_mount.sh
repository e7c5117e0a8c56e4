#!/bin/bash
# When the installer's upgrade-src-* mount is not visible, xsguard mounts the backup
# partition the log names read-only itself to count its blobs, and unmounts it.
# Needs root and loop devices: prints SKIP otherwise.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v losetup >/dev/null || ! command -v mkfs.ext3 >/dev/null; then
  echo "SKIP watch_mount: needs root, losetup and mkfs.ext3"; exit 0
fi
truncate -s 32M "$TMP/backup.img"
mkfs.ext3 -q -F "$TMP/backup.img" || { echo "SKIP watch_mount: mkfs.ext3 failed"; exit 0; }
dev=$(losetup -f --show "$TMP/backup.img" 2>/dev/null) || { echo "SKIP watch_mount: no loop device"; exit 0; }
trap 'losetup -d "$dev" 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir -p "$TMP/m" && mount "$dev" "$TMP/m" || { echo "SKIP watch_mount: cannot mount"; exit 0; }
mkdir -p "$TMP/m/var/lib/xcp/blobs/messages/refs"
for i in $(seq 1 25); do : >"$TMP/m/var/lib/xcp/blobs/messages/m$i"; ln -s "/var/lib/xcp/blobs/messages/m$i" "$TMP/m/var/lib/xcp/blobs/messages/refs/r$i"; done
umount "$TMP/m"

mkdir -p "$TMP/dst/var/lib/xcp/blobs/messages"
for i in $(seq 1 5); do : >"$TMP/dst/var/lib/xcp/blobs/messages/m$i"; done
now=$(date '+%Y-%m-%d %H:%M:%S' -d '-5 minutes')
{ echo "INFO     [$now] DISPATCH: NEW PHASE: Completing installation"
  for i in $(seq 1 16); do echo "INFO     [$now] TASK: Evaluating <function task$i at 0x7f00>[]"; done
  echo "INFO     [$now] TASK: Evaluating <bound method ThirdGenUpgrader.completeUpgrade of <upgrade.ThirdGenUpgrader object at 0x7f1b2c3d4e50>>['mounts', 'primary-disk', 'backup-partnum']"
  echo "INFO     [$now] ran ['mount', '-o', 'ro', '$dev', '/tmp/upgrade-src-gone12']; rc 0"
  echo "INFO     [$now] Restoring preserved files"
  echo "INFO     [$now] Restoring /var/lib/xcp/blobs"; } >"$TMP/install-log"
touch -d '-5 minutes' "$TMP/install-log"

"$XSGUARD" watch --once --json --firmware bios --target-root "$TMP/dst" "$TMP/install-log" >"$TMP/out.json" 2>"$TMP/err"; rc=$?
[ "$rc" -eq 1 ] && pass watch_mount_rc || fail watch_mount_rc "exit $rc: $(cat "$TMP/err")"
flat=$(tr -d ' \n' <"$TMP/out.json")
grep -q '"source_entries":52' <<<"$flat" && pass watch_mount_counts_source || fail watch_mount_counts_source "$(grep -o '"blobs":{[^}]*}' <<<"$flat" | head -1)"
grep -q '"source_mounted_by_xsguard":true' <<<"$flat" && pass watch_mount_said || fail watch_mount_said "not reported"
if grep -q xsguard-src /proc/mounts; then fail watch_mount_unmounted "left mounted: $(grep xsguard-src /proc/mounts)"; else pass watch_mount_unmounted; fi
if ls -d /tmp/xsguard-src-* >/dev/null 2>&1; then fail watch_mount_cleaned "left $(ls -d /tmp/xsguard-src-*)"; else pass watch_mount_cleaned; fi
