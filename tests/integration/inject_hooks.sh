#!/bin/bash
# The installer hooks from initramfs/, run on this machine against a stand-in xsguard
# that reports a chosen exit code: kernel parameters, halt and release, continue, the
# answerfile scripts, and the report copies. (The real binary under a real kernel is
# tests/e2e/run.sh.)
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

export XSGUARD_LIB=$PWD/initramfs/lib XSGUARD_STATE=$TMP/state XSGUARD_CONSOLES="$TMP/console"
export XSGUARD_LOG_PARTITION=none CMDLINE_FILE=$TMP/cmdline XSGUARD=$TMP/fake-xsguard
cat >"$XSGUARD" <<'STUB'
#!/bin/sh
echo "$*" >>"${XSGUARD_STATE}/calls"
case "$*" in
  menu*) echo "the recovery menu (stand-in)"; read -r _; [ "${FAKE_MENU_RC:-1}" = 0 ] && touch "$XSGUARD_STATE/fixed"
         exit "${FAKE_MENU_RC:-1}" ;;
  *--apply*) touch "$XSGUARD_STATE/fixed"; echo "applied"; exit 0 ;;
  fix*) echo "plan: delete partition 1"; exit 0 ;;
esac
[ -e "$XSGUARD_STATE/fixed" ] && FAKE_RC=0
case "$*" in *--json*) ;; *) echo "grub.embed: grub-install will fail (text report)"; exit "$FAKE_RC" ;; esac
if [ "$FAKE_RC" = 2 ]; then
  printf '{\n  "findings": [\n    {\n      "id": "grub.embed",\n      "inhibitor": true,\n      "remediation": [\n        {\n          "argv": [\n            "xsguard",\n            "fix",\n            "utility-partition",\n            "--disk",\n            "/dev/sdz"\n          ]\n        }\n      ]\n    },\n    {\n      "id": "disk.utility_partition",\n      "inhibitor": false\n    }\n  ]\n}\n'
else
  printf '{\n  "findings": []\n}\n'
fi
exit "$FAKE_RC"
STUB
chmod +x "$XSGUARD"

reset() { rm -rf "$XSGUARD_STATE"; mkdir -p "$XSGUARD_STATE"; : >"$TMP/console"; echo "$1" >"$CMDLINE_FILE"; }

# off: nothing runs.
reset "console=tty0 xsguard=off"
FAKE_RC=2 expect_rc hooks_off 0 timeout 5 sh initramfs/lib/preflight
expect hooks_off_no_call [ ! -e "$XSGUARD_STATE/calls" ]

# A clean check: the installer starts at once.
reset "install xsguard=check xsguard.on-inhibitor=halt"
FAKE_RC=0 expect_rc hooks_clean 0 timeout 5 sh initramfs/lib/preflight
expect hooks_clean_report [ -s "$XSGUARD_STATE/xsguard-preflight.json" ]
expect hooks_clean_console grep -q "preflight check exit 0" "$TMP/console"

# Inhibitor with continue: said and saved, then the installer starts.
reset "answerfile=http://x/a.xml install xsguard.on-inhibitor=continue"
FAKE_RC=2 expect_rc hooks_continue 0 timeout 5 sh initramfs/lib/preflight
expect hooks_continue_said grep -q "continuing despite the inhibitors" "$TMP/console"
expect hooks_continue_ids grep -q "inhibitors: grub.embed" "$TMP/console"

# Inhibitor with halt: blocks, tells every console, waits for the release file.
reset "answerfile=http://x/a.xml install xsguard.on-inhibitor=halt xsguard.core-sectors=63"
(FAKE_RC=2 timeout 20 sh initramfs/lib/preflight; echo "rc=$?" >"$TMP/halt.rc") &
for _ in $(seq 50); do [ -e "$XSGUARD_STATE/xsguard-halted" ] && break; sleep 0.1; done
expect hooks_halt_state [ -e "$XSGUARD_STATE/xsguard-halted" ]
sleep 0.5
expect hooks_halt_waits [ ! -e "$TMP/halt.rc" ]
expect hooks_halt_console grep -q "installation halted" "$TMP/console"
expect hooks_halt_reason grep -q "Inhibitors: grub.embed" "$TMP/console"
expect hooks_halt_core_sectors grep -q -- "--core-sectors 63" "$XSGUARD_STATE/calls"
touch "$XSGUARD_STATE/xsguard-release"
for _ in $(seq 50); do [ -e "$TMP/halt.rc" ] && break; sleep 0.1; done
expect hooks_halt_released grep -q "rc=0" "$TMP/halt.rc"
expect hooks_halt_state_cleared [ ! -e "$XSGUARD_STATE/xsguard-halted" ]

# Answerfile scripts: installation-start halts the same way (its exit code alone would
# only be logged by the installer) and returns the check's code once released.
reset "answerfile=http://x/a.xml xsguard.on-inhibitor=halt"
(FAKE_RC=2 XS_STAGE=installation-start timeout 20 sh initramfs/answerfile/installation-start; echo "rc=$?" >"$TMP/start.rc") &
for _ in $(seq 50); do [ -e "$XSGUARD_STATE/xsguard-halted" ] && break; sleep 0.1; done
expect hooks_start_halts [ -e "$XSGUARD_STATE/xsguard-halted" ]
touch "$XSGUARD_STATE/xsguard-release"
for _ in $(seq 50); do [ -e "$TMP/start.rc" ] && break; sleep 0.1; done
expect hooks_start_rc grep -q "rc=2" "$TMP/start.rc"
expect hooks_start_report [ -s "$XSGUARD_STATE/xsguard-installation-start.json" ]

reset "xsguard=check"
FAKE_RC=0 expect_rc hooks_fs_populated 0 timeout 5 sh initramfs/answerfile/filesystem-populated /mnt/newroot
expect hooks_fs_target_root grep -q -- "--target-root /mnt/newroot" "$XSGUARD_STATE/calls"
FAKE_RC=1 expect_rc hooks_complete 1 timeout 5 sh initramfs/answerfile/installation-complete 0
expect hooks_complete_once grep -q -- "watch --once --json /tmp/install-log" "$XSGUARD_STATE/calls"
expect hooks_complete_report [ -e "$XSGUARD_STATE/xsguard-installation-complete.json" ]

# menu: the person on tty1 (here a tmux pane) gets `xsguard menu --preflight`; when it
# ends (the person fixed what it offered and quit) the check runs again and the
# installer starts.
if command -v tmux >/dev/null; then
  reset "xsguard=menu"
  sock=$TMP/tmux.sock
  tmux -S "$sock" new-session -d -x 100 -y 30 "sleep 60"
  pane=$(tmux -S "$sock" display -p '#{pane_tty}')
  screen() { tmux -S "$sock" capture-pane -p -t 0; }
  wait_for() { for _ in $(seq 50); do screen | grep -q "$1" && return 0; sleep 0.1; done; return 1; }
  (FAKE_RC=2 FAKE_MENU_RC=0 XSGUARD_TTY=$pane timeout 20 sh initramfs/lib/preflight; echo "rc=$?" >"$TMP/menu.rc") &
  expect hooks_menu_started wait_for 'recovery menu (stand-in)'
  expect hooks_menu_preflight_mode grep -qx "menu --preflight" "$XSGUARD_STATE/calls"
  tmux -S "$sock" send-keys -t 0 Enter
  for _ in $(seq 50); do [ -e "$TMP/menu.rc" ] && break; sleep 0.1; done
  expect hooks_menu_done grep -q "rc=0" "$TMP/menu.rc"
  expect hooks_menu_rechecked [ "$(grep -c -- '^check --json' "$XSGUARD_STATE/calls")" -eq 2 ]
  expect hooks_menu_no_plain_prompt sh -c "! tmux -S '$sock' capture-pane -p -t 0 | grep -q 'continue anyway'"

  # The menu cannot start on this console (exit 64): the plain prompt takes over, and
  # fix there confirms each change.
  reset "xsguard=menu"
  rm -f "$TMP/menu.rc"
  (FAKE_RC=2 FAKE_MENU_RC=64 XSGUARD_TTY=$pane timeout 20 sh initramfs/lib/preflight; echo "rc=$?" >"$TMP/menu.rc") &
  expect hooks_menu_fallback_started wait_for 'recovery menu (stand-in)'
  tmux -S "$sock" send-keys -t 0 Enter
  expect hooks_menu_prompt wait_for 'continue anyway'
  expect hooks_menu_report_shown sh -c "tmux -S '$sock' capture-pane -p -t 0 | grep -q 'text report'"
  tmux -S "$sock" send-keys -t 0 f Enter
  expect hooks_menu_plan wait_for 'Apply this change'
  tmux -S "$sock" send-keys -t 0 y Enter
  expect hooks_menu_enter wait_for 'Press Enter'
  tmux -S "$sock" send-keys -t 0 Enter
  for _ in $(seq 50); do [ -e "$TMP/menu.rc" ] && break; sleep 0.1; done
  expect hooks_menu_fallback_done grep -q "rc=0" "$TMP/menu.rc"
  expect hooks_menu_fix_plan grep -qx "fix utility-partition --disk /dev/sdz" "$XSGUARD_STATE/calls"
  expect hooks_menu_fix_apply grep -qx "fix utility-partition --disk /dev/sdz --apply" "$XSGUARD_STATE/calls"
  # continue: straight on, nothing fixed.
  reset "xsguard=menu"
  rm -f "$TMP/menu.rc"
  (FAKE_RC=2 FAKE_MENU_RC=64 XSGUARD_TTY=$pane timeout 20 sh initramfs/lib/preflight; echo "rc=$?" >"$TMP/menu.rc") &
  expect hooks_menu_fallback_again wait_for 'recovery menu (stand-in)'
  tmux -S "$sock" send-keys -t 0 Enter
  expect hooks_menu_prompt_again wait_for 'continue anyway'
  tmux -S "$sock" send-keys -t 0 c Enter
  for _ in $(seq 50); do [ -e "$TMP/menu.rc" ] && break; sleep 0.1; done
  expect hooks_menu_continue grep -q "rc=0" "$TMP/menu.rc"
  expect hooks_menu_continue_no_fix [ ! -e "$XSGUARD_STATE/fixed" ]
  tmux -S "$sock" kill-server
else
  echo "SKIP hooks_menu: tmux not installed"
fi

# The monitor passes the stall threshold on.
reset "xsguard.stall-after=7"
FAKE_RC=0 expect_rc hooks_monitor 0 timeout 5 sh initramfs/lib/monitor --json
expect hooks_monitor_args grep -q -- "watch --stall-after 7 --json" "$XSGUARD_STATE/calls"
# On a console (here a tmux pane) it is the menu, opened on the log; quitting it ends
# the script (systemd starts it again).
if command -v tmux >/dev/null; then
  sock=$TMP/tmux-monitor.sock
  tmux -S "$sock" new-session -d -x 100 -y 30 \
    "XSGUARD=$XSGUARD XSGUARD_LIB=$XSGUARD_LIB XSGUARD_STATE=$XSGUARD_STATE CMDLINE_FILE=$CMDLINE_FILE FAKE_MENU_RC=1 sh initramfs/lib/monitor; echo monitor-rc=\$?; sleep 60"
  for _ in $(seq 50); do tmux -S "$sock" capture-pane -p -t 0 | grep -q 'recovery menu (stand-in)' && break; sleep 0.1; done
  expect hooks_monitor_menu grep -q -- "^menu --screen log --stall-after 7$" "$XSGUARD_STATE/calls"
  tmux -S "$sock" send-keys -t 0 Enter
  for _ in $(seq 50); do tmux -S "$sock" capture-pane -p -t 0 | grep -q 'monitor-rc=' && break; sleep 0.1; done
  expect hooks_monitor_menu_quit sh -c "tmux -S '$sock' capture-pane -p -t 0 | grep -q 'monitor-rc=0'"
  expect hooks_monitor_menu_no_watch sh -c "! grep -q '^watch --stall-after 7$' '$XSGUARD_STATE/calls'"
  tmux -S "$sock" kill-server
else
  echo "SKIP hooks_monitor_menu: tmux not installed"
fi

# Every hook parses under busybox sh (the stand-in installer) and bash (the installer).
for f in initramfs/lib/common.sh initramfs/lib/preflight initramfs/lib/monitor initramfs/answerfile/*; do
  expect "hooks_syntax_$(basename "$f")" sh -c "busybox sh -n '$f' && bash -n '$f'"
done
