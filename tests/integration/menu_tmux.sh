#!/bin/bash
# xsguard menu, driven in tmux like a person would: every screen at 80x24 and 132x43,
# the terminal types the installer has, navigation, the whole "remove the utility
# partition" flow on a copy of the Dell image (and the undo), resize, a stall that
# appears while another screen is open, no terminfo database, no terminal at all.
. tests/lib.sh

if ! command -v tmux >/dev/null; then
  echo "SKIP menu_tmux: tmux is not installed"
  exit 0
fi
# One tmux server per session: starting a server while the last one shuts down fails.
RUN=0
SOCK="xsguard-menu-test-$$-$RUN"
tm() { tmux -L "$SOCK" "$@"; }
new_server() {
  tm kill-server 2>/dev/null
  RUN=$((RUN + 1))
  SOCK="xsguard-menu-test-$$-$RUN"
}
trap 'tm kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
BIN="$TMP/xsguard"
cp "$XSGUARD" "$BIN"

# start COLS ROWS TERM ARGS...: the menu in a fresh tmux session; its exit code is
# printed as EXIT=N when it ends.
start() {
  local cols=$1 rows=$2 term=$3; shift 3
  new_server
  tm -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
    "cd '$TMP' && TMPDIR='$TMP' TERM=$term '$BIN' menu $*; echo EXIT=\$?; sleep 600"
}
screen_text() { tm capture-pane -p -t t 2>/dev/null; }
# wait_for PATTERN [SECONDS]: until the screen shows PATTERN (grep -E).
wait_for() {
  local pattern=$1 limit=${2:-10} i=0
  while [ $i -lt $((limit * 10)) ]; do
    screen_text | grep -Eq -- "$pattern" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  screen_text >"$TMP/last-screen"
  return 1
}
keys() { tm send-keys -t t "$@"; }
# check_screen NAME PATTERN [SECONDS]
check_screen() {
  if wait_for "$2" "${3:-10}"; then pass "$1"; else fail "$1" "screen lacks /$2/: $(tr -s ' ' <"$TMP/last-screen" | head -c 600)"; fi
}
quit_and_check_exit() {  # NAME WANT
  keys q
  check_screen "$1" "EXIT=$2" 10
}

# ---- no terminal, bad TERM --------------------------------------------------------
"$XSGUARD" menu --demo </dev/null >"$TMP/out" 2>"$TMP/err"; rc=$?
expect "menu without a tty exits 64" [ "$rc" -eq 64 ]
expect "menu without a tty says so on one line" \
  bash -c "[ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q 'needs a terminal' '$TMP/err'"
start 80 24 dumb --demo
check_screen "TERM=dumb is refused with 64" "EXIT=64"

# ---- every screen, two sizes ------------------------------------------------------
for size in 80x24 132x43; do
  start "${size%x*}" "${size#*x}" screen --demo
  check_screen "$size summary lists the Dell utility partition" "disk\.utility_partition"
  check_screen "$size summary has the buttons" "< Details >.*< Quit >"
  keys 2
  check_screen "$size disks screen draws the map" "MBR.*gap.*#1 utility"
  check_screen "$size disks screen shows GRUB's verdict" "GRUB: depends on core.img size"
  check_screen "$size disks screen lists the partition table" "67584 +8456191"
  keys 3
  check_screen "$size log screen follows the install log" "Restoring /var/lib/xcp/blobs" 15
  keys 4
  check_screen "$size actions screen offers the fix" "Remove the utility partition on"
  check_screen "$size actions screen offers the prune" "Prune old xapi messages"
  keys '?'
  check_screen "$size help opens" "Keys: Tab or 1-4"
  [ "$size" = 132x43 ] && check_screen "help names the terminfo entry's source" "terminfo entry from this machine"
  keys Escape
  quit_and_check_exit "$size q quits with the worst finding's code" "[12]"
done

# ---- terminal types ---------------------------------------------------------------
for term in linux vt100 vt102 xterm screen; do
  start 80 24 "$term" --demo
  check_screen "TERM=$term draws the menu" "xsguard $(cat VERSION) - upgrade recovery"
  quit_and_check_exit "TERM=$term quits cleanly" "[12]"
done
start 80 24 screen --demo --mono
check_screen "--mono draws the menu" "upgrade recovery"
quit_and_check_exit "--mono quits cleanly" "[12]"

# ---- navigation -------------------------------------------------------------------
start 80 24 screen --demo
check_screen "navigation: starts on the summary" "Severity +Id"
keys Tab
check_screen "navigation: Tab goes to the disks" "Disk 1/1:"
keys BTab
check_screen "navigation: Shift-Tab comes back" "Severity +Id"
keys Enter
check_screen "navigation: Enter opens the evidence" "Evidence|evidence|Remediation|remediation|sector 63"
keys Escape
check_screen "navigation: Esc closes it" "< Details >"
keys Right Right Right Enter
check_screen "navigation: the Help button" "Keys: Tab or 1-4"
keys Escape
quit_and_check_exit "navigation: q" "[12]"

# ---- a stall appears while another screen is open ---------------------------------
start 80 24 screen --demo --stall-after 2 --screen disks
check_screen "stall: the banner appears on the disks screen" "Silent [0-9]+s in completeUpgrade: blobs [0-9]+/[0-9]+" 20
check_screen "stall: the disks screen is still shown" "Disk 1/1:"
check_screen "stall: rate and time left are measured" "blobs [0-9]+/[0-9]+ \([0-9]+%\) [0-9]+/s ~[0-9]+s left" 15
keys 3
check_screen "stall: the log screen shows the restore panel" "Restore of the xapi message store: [0-9]+ of [0-9]+ entries"
check_screen "stall: then grub-install fails and the failure is named" "INSTALL FAILED" 60
keys 1
check_screen "stall: the log's inhibitors lead the summary" "INHIBIT +log\."
quit_and_check_exit "stall: q exits 2 after the install failed" 2

# ---- resize -----------------------------------------------------------------------
start 80 24 screen --demo
check_screen "resize: drawn at 80x24" "< Details >"
tm resize-window -t t -x 132 -y 43
check_screen "resize: redrawn at 132x43" "< Details >"
expect "resize: the header spans 132 columns" \
  bash -c "tmux -L '$SOCK' capture-pane -p -t t | head -1 | grep -Eq '.{100,}warning|.{100,}inhibitor'"
tm resize-window -t t -x 60 -y 20
check_screen "resize: too small says so" "too small: the menu needs 80x24"
tm resize-window -t t -x 80 -y 24
check_screen "resize: back to 80x24" "< Details >"
quit_and_check_exit "resize: q" "[12]"
start 40 12 screen --demo
check_screen "tiny terminal: says it is too small" "too small"
quit_and_check_exit "tiny terminal: q still quits" "[12]"

# ---- the demo's other actions: prune, safe2upgrade, bundle, shell ----------------
start 100 30 screen --demo --screen actions
check_screen "actions: listed in order" "Remove the utility partition"
keys Down Enter
check_screen "prune: asks how old" "older than this many days"
keys Enter
check_screen "prune: shows the plan first" "the plan \(nothing removed yet\)"
keys Enter
check_screen "prune: asks for yes" "Type yes to archive and remove them"
keys y e s Enter
check_screen "prune: done, with the archive written first" "Done\." 30
expect "prune: the backup archive exists" bash -c "ls $TMP/xsguard-demo-*/old-root/var/lib/xcp/xsguard-blobs-*.tar.gz >/dev/null 2>&1"
keys Enter
keys Home Down Down Enter
check_screen "safe2upgrade: explains what it destroys first" "safe2upgrade: what it means"
keys Enter
check_screen "safe2upgrade: asks for yes" "Type yes"
keys y e s Enter
check_screen "safe2upgrade: created" "Done\." 15
expect "safe2upgrade: the file exists in the demo's old root" \
  bash -c "ls $TMP/xsguard-demo-*/old-root/var/preserve/safe2upgrade >/dev/null 2>&1"
keys Enter
check_screen "safe2upgrade: the action now offers the undo" "Remove var/preserve/safe2upgrade"
keys Home Down Down Down Enter
check_screen "bundle: offers destinations" "Where to\?"
keys Enter
check_screen "bundle: written" "Done\." 30
expect "bundle: the tar.gz is readable by GNU tar" \
  bash -c "tar tzf $TMP/xsguard-demo-*/xsguard-bundle-*.tar.gz | grep -q MANIFEST.txt"
keys Enter
keys '!'
check_screen "shell: leaves the menu" "type exit to come back"
keys 'echo SHELL-RAN-$((6*7))' Enter
check_screen "shell: the shell runs" "SHELL-RAN-42"
keys "bash -c 'yes | head -c1 >/dev/null; echo YES-\${PIPESTATUS[0]}'" Enter
check_screen "shell: programs there get SIGPIPE as usual" "YES-141"
keys 'exit' Enter
check_screen "shell: back in the menu" "< Run >"
quit_and_check_exit "actions: q" "[12]"
expect "demo: its temporary directory is gone after q" bash -c "! ls -d $TMP/xsguard-demo-* 2>/dev/null | grep -q ."

# ---- signals ------------------------------------------------------------------------
menu_pid() { pgrep -f "^$BIN menu" | head -n 1; }
start 80 24 screen --demo --screen actions
check_screen "signals: the fix dialog is open" "Remove the utility partition"
keys Enter
check_screen "signals: asking for yes" "Type yes to go ahead"
kill -TERM "$(menu_pid)" 2>/dev/null
check_screen "signals: SIGTERM in a dialog ends the menu" "EXIT=[0-9]" 10
expect "signals: the demo's files are removed after SIGTERM" bash -c "! ls -d $TMP/xsguard-demo-* 2>/dev/null | grep -q ."
start 80 24 screen --demo
# As soon as the menu catches SIGINT (its first step; the demo is still being built):
# Ctrl-C.
catches_sigint() {
  local pid mask
  pid=$(menu_pid) && [ -n "$pid" ] || return 1
  mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$mask" ] || return 1
  (( (16#$mask & 2) != 0 ))
}
for _ in $(seq 200); do catches_sigint && break; sleep 0.02; done
keys C-c
check_screen "signals: Ctrl-C at start-up ends the menu" "EXIT=[0-9]" 15
expect "signals: the demo's files are removed after Ctrl-C" bash -c "! ls -d $TMP/xsguard-demo-* 2>/dev/null | grep -q ."

# ---- a check that cannot run is not "no problems" ----------------------------------
: >"$TMP/empty.img"
start 80 24 screen --disk empty.img --log "$TMP/install-log"
check_screen "check failed: the header says so" "check failed"
check_screen "check failed: the summary names the error" "check failed: .*empty.img"
quit_and_check_exit "check failed: q exits 1, not 0" 1

# ---- hostile input: a binary log with a huge line, a garbage disk ------------------
{
  printf 'INFO     [2017-06-21 14:02:11] Version 7.1.0-137272c\n'
  head -c 4096 /dev/urandom
  printf '\nINFO     [2017-06-21 14:02:12] \033[2J\033]0;owned\007 escape attempt\n'
  head -c 200000 /dev/zero | tr '\0' 'x'
  printf '\nINFO     [2017-06-21 14:02:13] after the long line\n'
} >"$TMP/hostile.log"
GARBAGE=build/images/garbage.img
[ -f "$GARBAGE" ] || { head -c 1048576 /dev/urandom >"$TMP/garbage.img"; GARBAGE=$TMP/garbage.img; }
cp "$GARBAGE" "$TMP/garbage.img" 2>/dev/null
start 80 24 screen --disk garbage.img --log "$TMP/hostile.log" --screen log
check_screen "hostile log: records after the garbage and the long line are shown" "after the long line"
check_screen "hostile log: escape sequences are shown as text" "\?\[2J\?\]0;owned\? escape attempt"
keys 2
check_screen "garbage disk: the disks screen draws" "Disk 1/1: garbage.img"
quit_and_check_exit "hostile input: q exits normally" "[0-2]"

# ---- the destructive flow on a copy of the Dell image -----------------------------
IMG=build/images/dell-xs65.img
if [ ! -f "$IMG" ]; then
  echo "SKIP menu destructive flow: $IMG not built (make images)"
else
  cp --sparse=always "$IMG" "$TMP/dell.img"
  # The image is 300 GB of mostly holes: compare the part a fix can touch.
  head_sum() { head -c 64M "$TMP/dell.img" | sha256sum; }
  before=$(head_sum)
  mkdir -p "$TMP/backups"
  start 80 24 screen --disk dell.img --log "$TMP/install-log" --backup-dir backups --screen disks
  check_screen "fix flow: the disks screen offers Fix" "< Fix >"
  keys f
  check_screen "fix flow: the plan is shown with the question" "Type yes to go ahead"
  keys n o Enter
  check_screen "fix flow: anything but yes refuses" "Refused: not confirmed"
  expect "fix flow: a refused fix writes nothing" [ "$(head_sum)" = "$before" ]
  expect "fix flow: a refused fix writes no backup" [ -z "$(ls "$TMP/backups")" ]
  keys Enter f
  check_screen "fix flow: asked again" "Type yes to go ahead"
  keys y e s Enter
  check_screen "fix flow: the partition is removed" "Removed partition 1" 15
  check_screen "fix flow: check runs again and GRUB fits" "Check again: GRUB fits"
  keys Enter
  check_screen "fix flow: the map no longer has the utility partition" "MBR.*gap.*#2 root-dellxs"
  expect "fix flow: the backup file was written" bash -c "ls '$TMP'/backups/xsguard-backup-dell.img-*.xsgbak >/dev/null"
  "$XSGUARD" check --disk "$TMP/dell.img" --json >"$TMP/after.json" 2>/dev/null
  expect "fix flow: xsguard check agrees GRUB fits" grep -q '"verdict": "fits"' "$TMP/after.json"
  expect "fix flow: sfdisk sees no partition 1" bash -c "! sfdisk -d '$TMP/dell.img' 2>/dev/null | grep -q 'dell.img1 '"
  keys 4
  check_screen "undo: the actions screen offers the restore" "Restore dell.img from the backup"
  keys Enter
  check_screen "undo: restore asks for yes" "Type yes"
  keys y e s Enter
  check_screen "undo: restore reports done" "Done\." 15
  keys Enter
  expect "undo: the first 64 MiB are byte for byte the original" [ "$(head_sum)" = "$before" ]
  quit_and_check_exit "fix flow: q" "[12]"
fi

# ---- no terminfo database ---------------------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP menu without terminfo: needs root and unshare -m"
else
  hide=""
  for d in /etc/terminfo /lib/terminfo /usr/share/terminfo; do
    [ -d "$d" ] && hide="$hide mount -t tmpfs none $d;"
  done
  new_server
  tm -f /dev/null new-session -d -s t -x 80 -y 24 \
    "unshare -m sh -c '$hide find /etc/terminfo /lib/terminfo /usr/share/terminfo -type f 2>/dev/null | wc -l > $TMP/entries; cd $TMP && TMPDIR=$TMP TERM=linux $BIN menu --demo; echo EXIT=\$?'; sleep 600"
  check_screen "no terminfo: the built-in linux entry draws the menu" "upgrade recovery"
  keys '?' End
  check_screen "no terminfo: help says the entry is built in" "terminfo entry built into xsguard"
  keys Escape
  expect "no terminfo: the databases really were empty" [ "$(cat "$TMP/entries")" -eq 0 ]
  quit_and_check_exit "no terminfo: q" "[12]"
  expect "no terminfo: no private terminfo directory left behind" \
    bash -c "! ls -d '$TMP'/xsguard-terminfo-* 2>/dev/null | grep -q ."
fi
