# Shared by the xsguard hooks in the installer (sourced, POSIX sh: runs under the
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
