#!/bin/bash
# xsguard watch in follow mode, as a process: a log that appears late, grows,
# goes quiet (stall with measured restore progress), is truncated and replaced;
# Ctrl-C (SIGINT) prints the report.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

LOG=$TMP/install-log
rec() { printf '%-9.9s[%s] %s\n' INFO "$(date '+%Y-%m-%d %H:%M:%S')" "$1"; }
# wait_for PATTERN FILE [SECONDS]: until grep finds it.
wait_for() {
  local i
  for i in $(seq 1 $((${3:-5} * 20))); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

mkdir -p "$TMP/src/var/lib/xcp/blobs/messages" "$TMP/dst/var/lib/xcp/blobs/messages"
for i in $(seq 1 100); do : >"$TMP/src/var/lib/xcp/blobs/messages/m$i"; done

"$XSGUARD" watch "$LOG" --json --stall-after 2 --firmware bios \
  --target-root "$TMP/dst" --source-root "$TMP/src" >"$TMP/events" 2>"$TMP/stderr" &
pid=$!
sleep 0.3
expect watch_follow_waits wait_for '"kind":"waiting"' "$TMP/events"

{ rec "DISPATCH: NEW PHASE: Completing installation"
  for i in $(seq 1 16); do rec "TASK: Evaluating <function task$i at 0x7f00>[]"; done
  rec "TASK: Evaluating <bound method ThirdGenUpgrader.completeUpgrade of <upgrade.ThirdGenUpgrader object at 0x7f1b2c3d4e50>>['mounts', 'primary-disk', 'backup-partnum']"
  rec "Restoring /var/lib/xcp/blobs"; } >>"$LOG"
expect watch_follow_appears wait_for '"kind":"opened"' "$TMP/events"
expect watch_follow_bar_72 wait_for '"task":"completeUpgrade","task_number":17,"tasks_total":22,"percent":72' "$TMP/events"
expect watch_follow_last_record wait_for '"message":"Restoring /var/lib/xcp/blobs"' "$TMP/events"

# The copy runs while the log is silent.
for i in $(seq 1 30); do : >"$TMP/dst/var/lib/xcp/blobs/messages/m$i"; done
expect watch_follow_stall wait_for '"id":"log.stall"' "$TMP/events" 6
expect watch_follow_stall_task grep -q '"title":"The installer has logged nothing for [0-9]*s during completeUpgrade"' "$TMP/events"
expect watch_follow_stall_measured grep -q '"source_entries":101' "$TMP/events"
for i in $(seq 31 60); do : >"$TMP/dst/var/lib/xcp/blobs/messages/m$i"; done
expect watch_follow_stall_refresh wait_for '"event":"stall".*"target_entries":61' "$TMP/events" 8

rec "ran ['cp', '-a', '/tmp/upgrade-src-x/var/lib/xcp/blobs', '/tmp/root/var/lib/xcp']; rc 0" >>"$LOG"
expect watch_follow_resumed wait_for '"kind":"resumed"' "$TMP/events"
expect watch_follow_command wait_for '"event":"command".*"argv":\["cp","-a"' "$TMP/events"

# Appended records: each exactly one event.
before=$(grep -c '^{"event":"record"' "$TMP/events")
for i in $(seq 1 50); do rec "burst $i"; done >>"$LOG"
wait_for '"message":"burst 50"' "$TMP/events"
after=$(grep -c '^{"event":"record"' "$TMP/events")
[ $((after - before)) -eq 50 ] && pass watch_follow_burst || fail watch_follow_burst "$((after - before)) events for 50 records"

# Truncated, then replaced by rename.
: >"$LOG"
rec "after truncate" >>"$LOG"
expect watch_follow_truncated wait_for '"message":"after truncate"' "$TMP/events"
expect watch_follow_truncated_said grep -q '"kind":"restarted"' "$TMP/events"
expect watch_follow_truncated_line1 grep -q '"event":"record","line":1,"last_line":1,"level":"INFO","time":"[0-9: -]*","kind":"message","message":"after truncate"' "$TMP/events"
rec "Script returned 5" >"$LOG.new"
mv "$LOG.new" "$LOG"
expect watch_follow_replaced wait_for '"message":"Script returned 5"' "$TMP/events"
expect watch_follow_replaced_finding wait_for '"id":"log.script_failed"' "$TMP/events"

kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 1 ] && pass watch_follow_sigint_rc || fail watch_follow_sigint_rc "exit $rc: $(cat "$TMP/stderr")"
expect watch_follow_report grep -q '"schema": "xsguard.report/1"' "$TMP/events"
expect watch_follow_report_stall grep -q '"id": "log.stall"' "$TMP/events"

# Bad directory: exit 66 with one line.
expect_rc watch_follow_no_dir 66 "$XSGUARD" watch /nonexistent-xsguard-dir/install-log
