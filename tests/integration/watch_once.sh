#!/bin/bash
# xsguard watch --once over real-format install logs: exit codes, finding ids,
# line numbers, and bad input (missing file, garbage, CRLF, huge and cut lines).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
LOGS=tests/data/logs

# has_id FILE ID: the report (pretty JSON) names the finding.
has_id() { grep -q "\"id\": \"$2\"" "$1"; }

# case NAME LOG RC IDS...: exit code and every id present in the --json report.
check_log() {
  local name=$1 log=$2 want=$3; shift 3
  "$XSGUARD" watch --once --json "$LOGS/$log" >"$TMP/$name.json" 2>"$TMP/$name.err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then fail "watch_once_$name" "exit $rc, wanted $want: $(head -c 300 "$TMP/$name.err")"; return; fi
  local id
  for id in "$@"; do
    has_id "$TMP/$name.json" "$id" || { fail "watch_once_$name" "no $id in the report"; return; }
  done
  pass "watch_once_$name"
}

check_log grub_embed bootloader-grub-embed.log 2 log.grub_embed log.bootloader_failed log.install_failed log.stall
check_log grub_embed_crlf bootloader-grub-embed-crlf.log 2 log.grub_embed log.bootloader_failed log.install_failed
check_log not_upgradeable not-upgradeable.log 2 log.not_upgradeable
check_log scan_failed scan-failed.log 1 log.scan_failed
check_log boot_mode boot-mode-mismatch.log 2 log.boot_mode_mismatch
check_log no_disks no-disks.log 2 log.no_disks
check_log ha ha-enabled.log 2 log.ha_enabled
check_log master_first master-first.log 2 log.master_first
check_log script_failed script-failed.log 1 log.script_failed
check_log no_space no-space.log 2 log.no_space
check_log slow_72 upgrade-slow-72.log 0 log.stall
check_log clean clean-install.log 0

# The fix the grub finding points at names the disk from the grub-install command.
expect watch_once_grub_fix_argv grep -q '"xsguard",' "$TMP/grub_embed.json"
expect watch_once_grub_fix_disk grep -q '"utility-partition",' "$TMP/grub_embed.json"
# Line numbers: the first GRUB message is on line 80 of the fixture.
expect watch_once_grub_fixture_line bash -c "sed -n 80p $LOGS/bootloader-grub-embed.log | grep -q 'embedding area'"
first_line=$(tr -d ' \n' <"$TMP/grub_embed.json" | grep -o '"id":"log.grub_embed".*' | grep -o '"lines":\[[0-9]*' | head -1)
[ "$first_line" = '"lines":[80' ] && pass watch_once_grub_first_line || fail watch_once_grub_first_line "got $first_line"

# The 72% explanation: the long silence is in completeUpgrade, task 17 of 22, bar 72%.
"$XSGUARD" watch --once "$LOGS/upgrade-slow-72.log" >"$TMP/slow.txt" 2>&1
expect watch_once_slow_72_text grep -q "went silent for 40m00s during completeUpgrade" "$TMP/slow.txt"
expect watch_once_slow_72_bar grep -q "Task 17 of 22 (completeUpgrade), the bar shows 72%" "$TMP/slow.txt"
expect watch_once_task_events grep -q -- "--- task 17/22 completeUpgrade: bar at 72%" "$TMP/slow.txt"

# Every record is one event: count JSON record/command events against record starts.
records=$(grep -cE '^[A-Z]+ *\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\] ' "$LOGS/bootloader-grub-embed.log")
events=$(grep -cE '^\{"event":"(record|command)"' "$TMP/grub_embed.json")
[ "$records" -eq "$events" ] && pass watch_once_one_event_per_record || fail watch_once_one_event_per_record "$events events for $records records"
expect watch_once_command_event grep -q '^{"event":"command","line":77,.*"argv":\["chroot","/tmp/root","/usr/sbin/grub-install","--target=i386-pc","/dev/sda"\],"rc":1,' "$TMP/grub_embed.json"
# The report after the events is the same schema as check's.
expect watch_once_schema grep -q '"schema": "xsguard.report/1"' "$TMP/grub_embed.json"
expect watch_once_command_field grep -q '"command": "watch"' "$TMP/grub_embed.json"

# Bad input.
expect_rc watch_once_missing 66 "$XSGUARD" watch --once "$TMP/nope.log"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "nope.log" "$TMP/err" && pass watch_once_missing_one_line || fail watch_once_missing_one_line "$(cat "$TMP/err")"
expect_rc watch_once_directory 66 "$XSGUARD" watch --once "$TMP"
expect_rc watch_once_bad_stall 64 "$XSGUARD" watch --once --stall-after 0 "$LOGS/clean-install.log"

head -c 2000000 /dev/urandom >"$TMP/garbage.log"
"$XSGUARD" watch --once "$TMP/garbage.log" >"$TMP/g.out" 2>&1; rc=$?
[ "$rc" -le 2 ] && pass watch_once_garbage || fail watch_once_garbage "exit $rc"
# Nothing from the garbage reaches the terminal raw: no escape characters.
if grep -q $'\x1b' "$TMP/g.out"; then fail watch_once_garbage_sanitized "escape bytes in output"; else pass watch_once_garbage_sanitized; fi
"$XSGUARD" watch --once --json "$TMP/garbage.log" >"$TMP/g.json" 2>&1; rc=$?
[ "$rc" -le 2 ] && pass watch_once_garbage_json || fail watch_once_garbage_json "exit $rc"

{ printf 'INFO     [2017-06-20 09:00:00] '; head -c 1048576 /dev/zero | tr '\0' 'x'; printf '\n'
  printf 'INFO     [2017-06-20 09:00:01] Script returned 7\n'; } >"$TMP/long.log"
"$XSGUARD" watch --once --json "$TMP/long.log" >"$TMP/long.json" 2>&1; rc=$?
[ "$rc" -eq 1 ] && pass watch_once_1mb_line || fail watch_once_1mb_line "exit $rc"
expect watch_once_1mb_line_said grep -q '"kind":"line_cut","line":1' "$TMP/long.json"
expect watch_once_1mb_line_next grep -q '"id": "log.script_failed"' "$TMP/long.json"
[ "$(wc -c <"$TMP/long.json")" -lt 400000 ] && pass watch_once_1mb_line_bounded || fail watch_once_1mb_line_bounded "output $(wc -c <"$TMP/long.json") bytes"

"$XSGUARD" watch --once "$LOGS/truncated-last-line.log" >"$TMP/trunc.txt" 2>&1; rc=$?
[ "$rc" -le 1 ] && pass watch_once_truncated || fail watch_once_truncated "exit $rc"
expect watch_once_truncated_said grep -q "has no newline" "$TMP/trunc.txt"
expect watch_once_truncated_read grep -q "TASK: Evaluating <function writeResolvConf at 0x7f1" "$TMP/trunc.txt"

# A log that is silent right now (recent mtime, current timestamps) during the
# restore: a live stall with blob counts measured against the source.
now=$(date '+%Y-%m-%d %H:%M:%S' -d '-10 minutes')
{ echo "INFO     [$now] DISPATCH: NEW PHASE: Completing installation"
  for i in $(seq 1 16); do echo "INFO     [$now] TASK: Evaluating <function task$i at 0x7f00>[]"; done
  echo "INFO     [$now] TASK: Evaluating <bound method ThirdGenUpgrader.completeUpgrade of <upgrade.ThirdGenUpgrader object at 0x7f1b2c3d4e50>>['mounts', 'primary-disk', 'backup-partnum']"
  echo "INFO     [$now] Restoring preserved files"
  echo "INFO     [$now] Restoring /var/lib/xcp/blobs"; } >"$TMP/live.log"
touch -d '-10 minutes' "$TMP/live.log"
mkdir -p "$TMP/src/var/lib/xcp/blobs/messages/refs" "$TMP/dst/var/lib/xcp/blobs/messages/refs"
for i in $(seq 1 40); do : >"$TMP/src/var/lib/xcp/blobs/messages/m$i"; ln -s "/var/lib/xcp/blobs/messages/m$i" "$TMP/src/var/lib/xcp/blobs/messages/refs/r$i"; done
for i in $(seq 1 10); do : >"$TMP/dst/var/lib/xcp/blobs/messages/m$i"; done
"$XSGUARD" watch --once --firmware bios --target-root "$TMP/dst" --source-root "$TMP/src" "$TMP/live.log" >"$TMP/live.txt" 2>&1; rc=$?
[ "$rc" -eq 1 ] && pass watch_once_live_stall_rc || fail watch_once_live_stall_rc "exit $rc: $(tail -5 "$TMP/live.txt")"
expect watch_once_live_stall grep -q "\[medium\] log.stall: The installer has logged nothing for 10m" "$TMP/live.txt"
expect watch_once_live_stall_counts grep -q "Blobs copied: 12 of 82 entries (14%)" "$TMP/live.txt"
