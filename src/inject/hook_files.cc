// Generated from initramfs/ by src/inject/gen_hook_files.sh. Do not edit.
#include "inject/hook_files.h"

namespace xsguard::inject {

namespace {

const char kFile1[] = R"xsguard_hook(#!/bin/sh
# Answerfile <script stage="filesystem-populated">, given the new root's mount point in
# $1: the last moment before grub-install. The core.img size is now exact (built with
# the target's own grub-mkimage), so the GRUB embedding check is repeated with it.
. "${XSGUARD_LIB:-/usr/lib/xsguard}/common.sh"
[ "$(xsguard_mode)" = off ] && exit 0
root=${1:-/tmp/root}
report=$XSGUARD_STATE/xsguard-filesystem-populated.json
"$XSGUARD" check --json --target-root "$root" >"$report" 2>/dev/null
rc=$?
save_report "$report" xsguard-filesystem-populated.json
say_everywhere "xsguard: filesystem-populated check (core.img from $root) exit $rc"
if [ $rc -eq 2 ] && [ "$(on_inhibitor)" = halt ] && [ ! -e "$XSGUARD_STATE/xsguard-release" ]; then
  cp "$report" "$XSGUARD_STATE/xsguard-preflight.json"
  halt_install "$report" "grub-install would fail on this disk; stopped before it ran."
fi
exit $rc
)xsguard_hook";

const char kFile2[] = R"xsguard_hook(#!/bin/sh
# Answerfile <script stage="installation-complete">, given 0 (success) or 1: reads the
# whole install log once and keeps the final report, in /tmp and on the logs partition.
. "${XSGUARD_LIB:-/usr/lib/xsguard}/common.sh"
[ "$(xsguard_mode)" = off ] && exit 0
report=$XSGUARD_STATE/xsguard-installation-complete.json
"$XSGUARD" watch --once --json /tmp/install-log >"$report" 2>/dev/null
rc=$?
save_report "$report" xsguard-installation-complete.json
say_everywhere "xsguard: installation-complete (installer status ${1:-?}) log report exit $rc"
exit $rc
)xsguard_hook";

const char kFile3[] = R"xsguard_hook(#!/bin/sh
# Answerfile <script stage="installation-start">: the preflight for unattended installs.
# The installer only logs a script's non-zero exit, so an inhibitor with
# xsguard.on-inhibitor=halt is handled by not returning: the installer waits for this
# script, the disks stay untouched, and the operator is told on every console.
. "${XSGUARD_LIB:-/usr/lib/xsguard}/common.sh"
[ "$(xsguard_mode)" = off ] && exit 0
report=$XSGUARD_STATE/xsguard-installation-start.json
# shellcheck disable=SC2046
"$XSGUARD" check --json $(check_options) >"$report" 2>/dev/null
rc=$?
save_report "$report" xsguard-installation-start.json
say_everywhere "xsguard: installation-start check exit $rc"
if [ $rc -eq 2 ] && [ "$(on_inhibitor)" = halt ] && [ ! -e "$XSGUARD_STATE/xsguard-release" ]; then
  cp "$report" "$XSGUARD_STATE/xsguard-preflight.json"
  halt_install "$report" "xsguard check found an inhibitor at installation-start; the disks were not touched."
fi
exit $rc
)xsguard_hook";

const char kFile4[] = R"xsguard_hook(# Shared by the xsguard hooks in the installer (sourced, POSIX sh: runs under the
# installer's bash and under busybox sh alike).

XSGUARD=${XSGUARD:-/usr/bin/xsguard}
XSGUARD_STATE=${XSGUARD_STATE:-/tmp}
CMDLINE_FILE=${CMDLINE_FILE:-/proc/cmdline}
# xsguard's own terminfo entries first, then the installer's (the empty entry).
TERMINFO_DIRS=/usr/share/xsguard/terminfo:
export TERMINFO_DIRS

# cmdline_value NAME DEFAULT: the value of NAME=VALUE on the kernel command line (the
# last one wins, as with the kernel's own parameters).
cmdline_value() {
  _v=$2
  for _w in $(cat "$CMDLINE_FILE" 2>/dev/null); do
    case $_w in "$1"=*) _v=${_w#"$1"=} ;; esac
  done
  printf '%s\n' "$_v"
}

# cmdline_has WORD: the bare word, or WORD=anything, is on the command line.
cmdline_has() {
  for _w in $(cat "$CMDLINE_FILE" 2>/dev/null); do
    case $_w in "$1" | "$1"=*) return 0 ;; esac
  done
  return 1
}

# xsguard=off|check|menu. Without it: menu when a person may be there, check when the
# install is driven by an answerfile.
xsguard_mode() {
  _m=$(cmdline_value xsguard "")
  if [ -z "$_m" ]; then
    if cmdline_has answerfile || cmdline_has answerfile_generator; then _m=check; else _m=menu; fi
  fi
  case $_m in
    off | check | menu) ;;
    *) say_everywhere "xsguard: unknown xsguard=$_m, using check"; _m="check" ;;
  esac
  printf '%s\n' "$_m"
}

# xsguard.on-inhibitor=halt|continue (default continue).
on_inhibitor() {
  _a=$(cmdline_value xsguard.on-inhibitor continue)
  case $_a in halt | continue) ;; *) _a="continue" ;; esac
  printf '%s\n' "$_a"
}

# Extra options for `xsguard check` from the command line.
check_options() {
  _c=$(cmdline_value xsguard.core-sectors "")
  [ -n "$_c" ] && printf -- '--core-sectors %s\n' "$_c"
  return 0
}

# The consoles a message must reach: every VT a person may look at, the serial line
# (Xen's hvc0 in dom0, ttyS0 on bare metal) and the kernel console.
console_devices() {
  if [ -n "${XSGUARD_CONSOLES:-}" ]; then printf '%s\n' $XSGUARD_CONSOLES; return; fi
  for _d in /dev/tty1 /dev/tty2 /dev/tty3 /dev/tty4 /dev/hvc0 /dev/ttyS0 /dev/console; do
    [ -c "$_d" ] && printf '%s\n' "$_d"
  done
  return 0
}

# say_everywhere TEXT...: one message on every console. A console that cannot be written
# (no such port behind the device) is skipped.
say_everywhere() {
  for _d in $(console_devices); do
    (printf '%s\r\n' "$@" >>"$_d") 2>/dev/null &
    _p=$!
    # A serial port with no one on the other end must not hold the message up.
    ( sleep 2; kill "$_p" 2>/dev/null ) >/dev/null 2>&1 &
    wait "$_p" 2>/dev/null
  done
}

# The logs partition of an existing XenServer 7 install (label logs-*), if any.
find_log_partition() {
  if [ -n "${XSGUARD_LOG_PARTITION:-}" ]; then
    [ "$XSGUARD_LOG_PARTITION" = none ] && return 1
    printf '%s\n' "$XSGUARD_LOG_PARTITION"; return 0
  fi
  # udev's links first (the installer runs udev), then blkid's own probe.
  for _l in /dev/disk/by-label/logs-*; do
    [ -e "$_l" ] && { readlink -f "$_l"; return 0; }
  done
  command -v blkid >/dev/null 2>&1 || return 1
  _d=$(blkid 2>/dev/null | sed -n 's/^\([^:]*\):.* LABEL="logs-[^"]*".*/\1/p' | head -n 1)
  [ -n "$_d" ] && { printf '%s\n' "$_d"; return 0; }
  return 1
}

# save_report FILE NAME: FILE to /tmp/NAME and, when a logs partition exists, to
# xsguard/NAME on it (mounted only for the copy).
save_report() {
  [ "$1" = "$XSGUARD_STATE/$2" ] || cp "$1" "$XSGUARD_STATE/$2" 2>/dev/null
  _dev=$(find_log_partition) || return 0
  _mnt=/tmp/xsguard-logs.$$
  mkdir -p "$_mnt" || return 0
  if mount "$_dev" "$_mnt" 2>/dev/null; then
    mkdir -p "$_mnt/xsguard" && cp "$1" "$_mnt/xsguard/$2" && sync
    umount "$_mnt" 2>/dev/null
    say_everywhere "xsguard: report also saved on $_dev as xsguard/$2"
  fi
  rmdir "$_mnt" 2>/dev/null
  return 0
}

# inhibitor_ids REPORT: the ids of the report's inhibitors, one per line.
inhibitor_ids() {
  awk '/"id": "/ { id = $2; gsub(/[",]/, "", id) }
       /"inhibitor": true/ { if (id != "") print id; id = "" }' "$1"
}

# halt_install REPORT WHY: stop here, before the installer touches any disk. The reason
# goes to every console, the report is saved, and this waits for an operator: from the
# shell on ALT+F2, `touch /tmp/xsguard-release` lets the install start, anything else
# (fix, inspect, power off) is the operator's call.
halt_install() {
  say_everywhere "" "==== xsguard: installation halted ====" "$2" \
    "Inhibitors: $(inhibitor_ids "$1" | tr '\n' ' ')" \
    "Report: /tmp/xsguard-preflight.json (and on the logs partition if one exists)" \
    "Shell on ALT+F2. To install anyway: touch /tmp/xsguard-release" ""
  save_report "$1" xsguard-preflight.json
  # Written last: it means "told everyone, now waiting".
  {
    echo "xsguard: HALTED before the installer started: $2"
    echo "xsguard: inhibitors: $(inhibitor_ids "$1" | tr '\n' ' ')"
    echo "xsguard: report: /tmp/xsguard-preflight.json"
  } >"$XSGUARD_STATE/xsguard-halted"
  while [ ! -e "$XSGUARD_STATE/xsguard-release" ]; do sleep 2; done
  rm -f "$XSGUARD_STATE/xsguard-halted"
  say_everywhere "xsguard: released by the operator; the installer starts"
}
)xsguard_hook";

const char kFile5[] = R"xsguard_hook(#!/bin/sh
# xsguard on a free console (ALT+F4, by xsguard-monitor.service): the recovery menu,
# opened on the live install log, so that whoever switches there sees the stall or the
# failure explained and the fixes at hand. Quitting the menu ends this script and
# systemd starts it again. With arguments, or without a terminal (or should the menu
# not start there), `xsguard watch` prints the log's events instead; arguments are
# passed on to it. The kernel parameter xsguard.stall-after=SECONDS sets how long a
# silent log counts as a stall.
. "${XSGUARD_LIB:-/usr/lib/xsguard}/common.sh"
[ "$(xsguard_mode)" = off ] && exit 0
stall=$(cmdline_value xsguard.stall-after "")
if [ $# -eq 0 ] && [ -t 0 ] && [ -t 1 ]; then
  TERM=${TERM:-linux} "$XSGUARD" menu --screen log ${stall:+--stall-after "$stall"}
  case $? in 0 | 1 | 2) exit 0 ;; esac
fi
exec "$XSGUARD" watch ${stall:+--stall-after "$stall"} "$@"
)xsguard_hook";

const char kFile6[] = R"xsguard_hook(#!/bin/sh
# Runs before the installer starts (ExecStartPre= of installer.service): `xsguard check`
# over every disk. Without inhibitors the installer starts at once. With one, what
# happens depends on the kernel command line:
#   xsguard=menu   (default without an answerfile) `xsguard menu` on tty1: the person
#                  there fixes what it offers, opens a shell, or continues anyway
#   xsguard=check  (default with an answerfile) xsguard.on-inhibitor decides:
#                  halt      the installer never starts; see halt_install in common.sh
#                  continue  the reason is shown and saved, the installer starts
#   xsguard=off    nothing runs
# This script always ends with status 0 when the installer may start: a failure of
# xsguard itself must never keep an install from running.
. "${XSGUARD_LIB:-/usr/lib/xsguard}/common.sh"

tty=${XSGUARD_TTY:-/dev/tty1}
mode=$(xsguard_mode)
[ "$mode" = off ] && exit 0
report=$XSGUARD_STATE/xsguard-preflight.json

run_check() {
  # shellcheck disable=SC2046
  "$XSGUARD" check --json $(check_options) >"$report.partial" 2>"$XSGUARD_STATE/xsguard-preflight.err"
  rc=$?
  mv -f "$report.partial" "$report"
  return $rc
}

# The fix commands the findings point at, one per line (argv joined by spaces).
fix_commands() {
  awk '/"argv": \[/ { collecting = 1; line = ""; next }
       collecting && /^ *\]/ { collecting = 0; if (line ~ /^xsguard fix /) print line; next }
       collecting { s = $0; sub(/^ *"/, "", s); sub(/",?$/, "", s);
                    line = (line == "" ? s : line " " s) }' "$report" | sort -u
}

# The recovery menu on tty1: the findings, the disks and the fixes, each change
# confirmed by typing yes; a shell from inside it; quitting it (q) continues the
# installation, after a question when inhibitors remain.
ask_on_tty1() {
  # shellcheck disable=SC2046
  TERM=${TERM:-linux} "$XSGUARD" menu --preflight $(check_options)
  case $? in
    0 | 1 | 2) run_check; return 0 ;;  # the person chose to go on: record the final state
  esac
  # The menu could not start on this console (no usable terminal): a plain prompt.
  ask_plainly
}

# The check's text report and a prompt: fix, continue, or a shell.
ask_plainly() {
  while :; do
    printf '\033[H\033[2J'
    # shellcheck disable=SC2046
    "$XSGUARD" check $(check_options)
    echo
    echo "xsguard found a problem that will make this installation fail."
    printf '[f] fix it   [c] continue anyway   [s] open a shell   > '
    read -r answer || answer=c
    case $answer in
      f | F)
        fix_commands | while read -r cmd; do
          echo "\$ $cmd"
          # shellcheck disable=SC2086
          "$XSGUARD" ${cmd#xsguard } <"$tty"
          printf 'Apply this change? [y/N] '
          read -r yes <"$tty"
          # shellcheck disable=SC2086
          case $yes in y | Y) "$XSGUARD" ${cmd#xsguard } --apply <"$tty" ;; esac
        done
        printf 'Press Enter to check again. '
        read -r _ ;;
      c | C) echo "Continuing with the installer."; return 0 ;;
      s | S) echo "Type exit to come back."; ${SHELL:-/bin/sh} -l ;;
    esac
    run_check && return 0
    [ $? -eq 1 ] && return 0
  done
}

run_check
rc=$?
say_everywhere "xsguard: preflight check exit $rc$(
  [ $rc -eq 2 ] && printf ', inhibitors: %s' "$(inhibitor_ids "$report" | tr '\n' ' ')")"
case $rc in
  0 | 1) exit 0 ;;
  2) ;;
  *) say_everywhere "xsguard: the check itself failed ($(head -c 200 "$XSGUARD_STATE/xsguard-preflight.err")); the installer starts"
     exit 0 ;;
esac

if [ "$mode" = menu ] && [ -c "$tty" ]; then
  (ask_on_tty1 <"$tty" >"$tty" 2>&1)
  exit 0
fi
if [ "$(on_inhibitor)" = halt ]; then
  halt_install "$report" "xsguard check found an inhibitor; the disks were not touched."
  exit 0
fi
save_report "$report" xsguard-preflight.json
say_everywhere "xsguard: continuing despite the inhibitors (xsguard.on-inhibitor=continue)"
exit 0
)xsguard_hook";

const char kFile7[] = R"xsguard_hook(# xsguard's preflight runs before the installer UI starts on tty1. It blocks while an
# inhibitor waits for a person or an operator, so the start timeout is switched off;
# the "-" keeps a failure of xsguard itself from stopping the installer.
[Unit]
Wants=xsguard-monitor.service

[Service]
ExecStartPre=-/usr/lib/xsguard/preflight
TimeoutStartSec=0
)xsguard_hook";

const char kFile8[] = R"xsguard_hook(# xsguard on tty4 (ALT+F4): the recovery menu on the live install log, the 72% stall
# measured; back again whenever it is quit. Pulled in by installer.service.d/xsguard.conf.
[Unit]
Description=xsguard install monitor on tty4

[Service]
Type=simple
ExecStart=/usr/lib/xsguard/monitor
Environment=TERM=linux
StandardInput=tty
StandardOutput=tty
TTYPath=/dev/tty4
TTYReset=yes
TTYVHangup=yes
Restart=always
RestartSec=1
)xsguard_hook";

}  // namespace

const HookFile kHookFiles[] = {
    {"usr/lib/xsguard/answerfile/filesystem-populated", 0755, kFile1, sizeof kFile1 - 1},
    {"usr/lib/xsguard/answerfile/installation-complete", 0755, kFile2, sizeof kFile2 - 1},
    {"usr/lib/xsguard/answerfile/installation-start", 0755, kFile3, sizeof kFile3 - 1},
    {"usr/lib/xsguard/common.sh", 0644, kFile4, sizeof kFile4 - 1},
    {"usr/lib/xsguard/monitor", 0755, kFile5, sizeof kFile5 - 1},
    {"usr/lib/xsguard/preflight", 0755, kFile6, sizeof kFile6 - 1},
    {"etc/systemd/system/installer.service.d/xsguard.conf", 0644, kFile7, sizeof kFile7 - 1},
    {"etc/systemd/system/xsguard-monitor.service", 0644, kFile8, sizeof kFile8 - 1},
};

const size_t kHookFileCount = sizeof(kHookFiles) / sizeof(kHookFiles[0]);

}  // namespace xsguard::inject
