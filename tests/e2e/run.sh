#!/bin/bash
# End-to-end: a stand-in installer image (busybox, a script writing the installer's log)
# gets xsguard with `xsguard inject`, and boots under QEMU (TCG) with Debian's cloud
# kernel, three runs against two disks:
#   dell-halt  a utility partition ahead of GRUB's core.img, xsguard.on-inhibitor=halt:
#              the preflight names grub.embed on the serial line and the stand-in
#              installer never starts
#   healthy    an XS 7 GPT layout: the preflight passes, the install proceeds, sits at
#              72% restoring blobs, and the monitor reports log.stall with the measured
#              blob progress
#   dell-menu  the Dell disk again, attended: the recovery menu on the serial line,
#              driven from a tmux pane; Continue lets the installer start
# The guest prints "E2E-MARK ..." lines with exit codes; QEMU itself exits 0 either way,
# so a missing marker is a failure. Prints PASS/FAIL lines (tests/run.sh counts them), or
# one SKIP line and exit 0 when QEMU, a static busybox or the kernel cannot be had (and a
# SKIP line for dell-menu alone without tmux).
# The kernel is kept in $BUILD/e2e between runs. QEMU=... names another emulator binary.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
BUILD=${BUILD:-build}
skip() { echo "SKIP e2e: $*"; exit 0; }

QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || skip "$QEMU not installed (Debian: qemu-system-x86)"
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
  [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1 && { busybox=$b; break; }
done
[ -n "$busybox" ] || skip "no static busybox (Debian: busybox-static)"
[ -x "$XSGUARD" ] || { fail e2e_build "$XSGUARD missing"; exit 0; }

# Debian's cloud kernel, unpacked from its package (never installed).
kdir=$BUILD/e2e/kernel
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
  kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  [ -n "$kpkg" ] || skip "cannot resolve linux-image-cloud-amd64's kernel package"
  mkdir -p "$BUILD/e2e/dl"
  (cd "$BUILD/e2e/dl" && apt-get download -q "$kpkg" >/dev/null 2>&1) || skip "cannot download $kpkg"
  rm -rf "$kdir.partial"
  dpkg-deb -x "$BUILD/e2e/dl/${kpkg}"_*.deb "$kdir.partial" || skip "cannot unpack $kpkg"
  rm -rf "$kdir" && mv "$kdir.partial" "$kdir" && rm -rf "$BUILD/e2e/dl"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
kver=${vmlinuz##*/vmlinuz-}
moddir=$kdir/lib/modules/$kver/kernel/drivers

sh images/build.sh "$BUILD/images" utility-below-core xs7-gpt-bios >/dev/null || { fail e2e_images "images/build.sh failed"; exit 0; }

# The stand-in installer image, bzip2-compressed like XCP-ng's install.img.
root=$TMP/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,lib/modules,opt/installer,etc}
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
cp tests/e2e/standin/init "$root/init"
cp tests/e2e/standin/installer "$root/opt/installer/run"
cp tests/data/logs/upgrade-slow-72.log "$root/opt/installer/upgrade.log"
for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev \
         virtio/virtio_pci block/virtio_blk; do
  cp "$moddir/$m.ko" "$root/lib/modules/" || skip "kernel module $m.ko not in $kver"
done
chmod 755 "$root/init" "$root/opt/installer/run"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | bzip2 -9) >"$TMP/install.img"
base_len=$(stat -c %s "$TMP/install.img")
expect_rc e2e_inject 0 "$XSGUARD" inject "$TMP/install.img"
expect e2e_inject_appended [ "$(stat -c %s "$TMP/install.img")" -gt "$base_len" ]

# boot NAME DISK APPEND: one VM run; the serial log, without CRs, in $TMP/NAME.log.
boot() {
  local t0=$SECONDS
  timeout -k 5 90 "$QEMU" -accel tcg -m 384 -kernel "$vmlinuz" -initrd "$TMP/install.img" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 $3" \
    -drive "file=$2,format=raw,if=virtio,snapshot=on" -nographic -serial "file:$TMP/$1.raw" \
    -monitor none -nodefaults -no-reboot >"$TMP/$1.qemu" 2>&1
  echo "qemu rc=$? after $((SECONDS - t0))s" >>"$TMP/$1.qemu"
  tr -d '\r' <"$TMP/$1.raw" >"$TMP/$1.log"
}
# has NAME CHECK PATTERN: the marker (an extended regex) is in the run's serial log.
has() {
  if grep -aEq -- "$3" "$TMP/$1.log"; then pass "e2e_$1_$2"; else
    fail "e2e_$1_$2" "no /$3/ on the serial line; last lines: $(grep -a 'E2E-\|xsguard' "$TMP/$1.log" | tail -n 8 | tr '\n' '|') $(tail -n 1 "$TMP/$1.qemu")"
  fi
}
hasnt() {
  if grep -aEq -- "$3" "$TMP/$1.log"; then fail "e2e_$1_$2" "/$3/ on the serial line"; else pass "e2e_$1_$2"; fi
}

# 1. Utility partition ahead of the core size, unattended, halt.
boot dell-halt "$BUILD/images/utility-below-core.img" \
  "answerfile=file:///answer.xml install xsguard=check xsguard.on-inhibitor=halt"
has dell-halt booted 'E2E-MARK boot '
has dell-halt preflight_exit 'xsguard: preflight check exit 2, inhibitors: .*grub\.embed'
has dell-halt halted '^E2E-MARK halted$'
has dell-halt reason_on_serial '==== xsguard: installation halted ===='
has dell-halt report_ids '^E2E-MARK report /tmp/xsguard-preflight.json ids: .*"id": "grub\.embed"'
has dell-halt installer_not_started '^E2E-MARK installer-not-started$'
hasnt dell-halt no_installer 'E2E-MARK installer started'
has dell-halt clean_end '^E2E-MARK end$'

# 2 and 3. Healthy XS 7 GPT: the install proceeds; at 72% the log goes quiet for 6 s
# while a third of the blobs are copied, and the monitor measures it.
boot healthy "$BUILD/images/xs7-gpt-bios.img" \
  "xsguard=check xsguard.on-inhibitor=halt xsguard.stall-after=2 e2e.stall=6"
has healthy booted 'E2E-MARK boot '
has healthy preflight_rc '^E2E-MARK preflight rc=0$'
has healthy preflight_clean 'xsguard: preflight check exit 0'
hasnt healthy not_halted 'E2E-MARK halted'
has healthy installer_started '^E2E-MARK installer started$'
has healthy stage_start '^E2E-MARK stage installation-start rc=0$'
has healthy stage_fs_populated '^E2E-MARK stage filesystem-populated rc=[0-9]+$'
has healthy stage_complete '^E2E-MARK stage installation-complete rc=[0-9]+$'
has healthy installer_done '^E2E-MARK installer rc=0$'
has healthy stall_found '^E2E-MONITOR .*"id":"log\.stall"'
has healthy stall_at_72 '^E2E-MONITOR .*"bar_percent":72'
has healthy blob_source '^E2E-MARK blob-progress .*"source_entries":300$'
has healthy blob_measured '^E2E-MARK blob-progress "target_entries":([1-9][0-9]?|[12][0-9][0-9]),'
has healthy report_on_logs '^E2E-MARK log-partition .*xsguard-installation-complete\.json'
has healthy clean_end '^E2E-MARK end$'

# 4. The Dell disk again, attended (xsguard=menu, no answerfile): the recovery menu on
# the serial line, driven by key presses from a tmux pane that QEMU's serial port is
# attached to. TERM=vt220 has no entry in the image (inject copies linux, vt100, vt102
# and xterm; the stand-in has no terminfo database), so the menu must use its built-in
# one. Quitting with Continue lets the preflight go on and the installer start.
tm() { TMUX='' tmux -S "$TMP/tmux.sock" "$@"; }
# menu_boot NAME DISK APPEND: QEMU in a detached 80x24 tmux pane; the serial log, with
# the menu's escape sequences, in $TMP/NAME.raw.
menu_boot() {
  # QEMU must be in the pane's foreground process group (timeout --foreground), or it
  # stops on SIGTTOU when it puts the terminal in raw mode.
  cat >"$TMP/$1.sh" <<EOF
timeout --foreground -k 5 75 "$QEMU" -accel tcg -m 384 -kernel "$vmlinuz" -initrd "$TMP/install.img" \\
  -append "console=ttyS0,115200 quiet loglevel=3 panic=-1 $3" \\
  -drive "file=$2,format=raw,if=virtio,snapshot=on" -display none \\
  -chardev "stdio,id=serial,signal=off,logfile=$TMP/$1.raw" -serial chardev:serial \\
  -monitor none -nodefaults -no-reboot 2>"$TMP/$1.qemu"
echo "qemu rc=\$? after \${SECONDS}s" >>"$TMP/$1.qemu"
EOF
  : >"$TMP/$1.raw"
  : >"$TMP/$1.qemu"
  menu_run=$1
  tm -f /dev/null new-session -d -s e2e -x 80 -y 24 "bash $TMP/$1.sh" \; \
    set-option -t e2e status off \; set-option -t e2e remain-on-exit on
}
qemu_done() { grep -q '^qemu rc=' "$TMP/$menu_run.qemu"; }
# screen_shows SCREEN SECONDS PATTERN: wait until the pane shows the pattern (an
# extended regex), or QEMU is gone; the last capture is in $TMP/SCREEN.screen.
screen_shows() {
  local end=$((SECONDS + $2))
  while :; do
    tm capture-pane -p -t e2e >"$TMP/$1.screen" 2>/dev/null
    grep -aEq -- "$3" "$TMP/$1.screen" && return 0
    { [ $SECONDS -ge $end ] || qemu_done; } && return 1
    sleep 0.5
  done
}
# log_shows SECONDS PATTERN: wait until the serial log has the pattern, or QEMU is gone.
log_shows() {
  local end=$((SECONDS + $1))
  until grep -aEq -- "$2" "$TMP/$menu_run.raw"; do
    { [ $SECONDS -ge $end ] || qemu_done; } && return 1
    sleep 0.5
  done
}
# shown CHECK SCREEN PATTERN: the pattern was on that capture.
shown() {
  if grep -aEq -- "$3" "$TMP/$2.screen"; then pass "e2e_${menu_run}_$1"; else
    fail "e2e_${menu_run}_$1" "no /$3/ on the screen: $(grep -av '^ *$' "$TMP/$2.screen" | cut -c1-80 | tr '\n' '|') $(tail -n 1 "$TMP/$menu_run.qemu")"
  fi
}
keys() { tm send-keys -t e2e "$@"; }

if command -v tmux >/dev/null; then
  trap 'tm kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
  menu_boot dell-menu "$BUILD/images/utility-below-core.img" \
    "xsguard=menu e2e.console=ttyS0 e2e.term=vt220"
  version=$(cat VERSION)
  screen_shows menu-summary 45 'INHIBIT +grub\.embed'
  shown header menu-summary "^ xsguard ${version//./\\.} - upgrade recovery .* 1 inhibitor *$"
  shown summary_inhibitor menu-summary 'INHIBIT +grub\.embed'
  keys 2
  screen_shows menu-disks 10 'GRUB:'
  shown disks_map menu-disks 'MBR .*gap .*#1 utility'
  shown disks_grub menu-disks 'GRUB: grub-install fails'
  keys q
  screen_shows menu-quit 10 'Continue with the installer anyway\?'
  shown quit_question menu-quit 'Continue with the installer anyway\?'
  shown quit_buttons menu-quit '< Back > +< Continue >'
  keys Right
  sleep 0.5
  keys Enter
  log_shows 30 'E2E-MARK end'
  tm kill-server 2>/dev/null
  tr -d '\r' <"$TMP/dell-menu.raw" >"$TMP/dell-menu.log"
  has dell-menu booted 'E2E-MARK boot .*xsguard=menu'
  has dell-menu console '^E2E-MARK console /dev/ttyS0 TERM=vt220 24 80 terminfo: none$'
  has dell-menu preflight_exit 'xsguard: preflight check exit 2, inhibitors: .*grub\.embed'
  # The menu leaves the cursor on the last row without a newline, so the next markers
  # share a line with its escape sequences: no ^ for them.
  has dell-menu controlling_tty 'E2E-MARK preflight session-leader=yes ctty=4:64$'
  has dell-menu preflight_rc 'E2E-MARK preflight rc=0$'
  hasnt dell-menu no_plain_prompt 'xsguard found a problem that will make this installation fail'
  hasnt dell-menu not_halted 'E2E-MARK halted'
  has dell-menu installer_started '^E2E-MARK installer started$'
  has dell-menu clean_end '^E2E-MARK end$'
else
  echo "SKIP e2e_dell-menu: tmux not installed (Debian: tmux)"
fi
[ -n "${E2E_KEEP:-}" ] && cp "$TMP"/*.log "$TMP"/*.screen "$E2E_KEEP"/ 2>/dev/null
exit 0
