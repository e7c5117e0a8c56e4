#!/bin/bash
# xsguard inject on small generated initrds: every accepted format, GNU cpio reading the
# overlay back, idempotent re-inject, --list, --remove byte for byte, -o, bad input.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

# An initrd holding init and etc/motd, in one of: none gzip bzip2 xz.
mkimg() {  # OUT FILTER
  rm -rf "$TMP/src"; mkdir -p "$TMP/src/etc"
  printf '#!/bin/sh\necho base\n' >"$TMP/src/init"; chmod 755 "$TMP/src/init"
  echo "original motd" >"$TMP/src/etc/motd"
  (cd "$TMP/src" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$TMP/raw.cpio"
  case $2 in
    none) cp "$TMP/raw.cpio" "$1" ;;
    gzip) gzip -9n <"$TMP/raw.cpio" >"$1" ;;
    bzip2) bzip2 -9 <"$TMP/raw.cpio" >"$1" ;;
    xz) xz --check=crc32 <"$TMP/raw.cpio" >"$1" ;;
  esac
}

for f in none gzip bzip2 xz; do
  img=$TMP/$f.img
  mkimg "$img" "$f"
  cp "$img" "$TMP/$f.orig"
  len=$(stat -c %s "$img")
  expect_rc "inject_${f}_rc" 0 "$XSGUARD" inject "$img"
  # The original bytes are untouched and the overlay is a gzip member right after them.
  expect "inject_${f}_prefix" cmp -s -n "$len" "$img" "$TMP/$f.orig"
  rm -rf "$TMP/x"; mkdir "$TMP/x"
  if tail -c +$((len + 1)) "$img" | gzip -dc | (cd "$TMP/x" && cpio -idm --quiet 2>"$TMP/cpio.err"); then
    pass "inject_${f}_gnu_cpio"
  else
    fail "inject_${f}_gnu_cpio" "$(cat "$TMP/cpio.err")"
  fi
  expect "inject_${f}_binary_runs" sh -c "'$TMP/x/usr/bin/xsguard' --version | grep -q '^xsguard '"
  size1=$(stat -c %s "$img")
  expect_rc "inject_${f}_again" 0 "$XSGUARD" inject "$img"
  expect "inject_${f}_idempotent" [ "$(stat -c %s "$img")" = "$size1" ]
  expect "inject_${f}_says_replaced" grep -q "replaced the xsguard overlay" "$TMP/out"
  expect_rc "inject_${f}_remove" 0 "$XSGUARD" inject --remove "$img"
  expect "inject_${f}_remove_exact" cmp -s "$img" "$TMP/$f.orig"
done

# The whole image, base then overlay, read by GNU cpio as the kernel sees it: for a raw
# base the overlay's files come after the base's.
img=$TMP/none.img
"$XSGUARD" inject "$img" >/dev/null
rm -rf "$TMP/y"; mkdir "$TMP/y"
(cd "$TMP/y" && cpio -idm --quiet <"$img" && tail -c +$(($(stat -c %s "$TMP/none.orig") + 1)) "$img" | gzip -dc | cpio -idm --quiet)
expect inject_layered_base [ -x "$TMP/y/init" ]
for p in usr/bin/xsguard usr/lib/xsguard/preflight usr/lib/xsguard/monitor \
         usr/lib/xsguard/answerfile/installation-start usr/lib/xsguard/answerfile/filesystem-populated \
         usr/lib/xsguard/answerfile/installation-complete; do
  expect "inject_exec_$(basename "$p")" [ -x "$TMP/y/$p" ]
done
expect inject_dropin [ -f "$TMP/y/etc/systemd/system/installer.service.d/xsguard.conf" ]
expect inject_monitor_unit [ -f "$TMP/y/etc/systemd/system/xsguard-monitor.service" ]
for t in l/linux v/vt100 v/vt102 x/xterm; do
  expect "inject_terminfo_${t#*/}" [ -s "$TMP/y/usr/share/xsguard/terminfo/$t" ]
done
expect inject_manifest grep -q '"original_length": '"$(stat -c %s "$TMP/none.orig")" "$TMP/y/usr/lib/xsguard/overlay.json"
expect inject_checksum_file [ "$(cut -c1-64 "$TMP/y/usr/lib/xsguard/overlay.sha256")" = "$(sha256sum <"$TMP/none.orig" | cut -c1-64)" ]

# --list
expect_rc inject_list 0 "$XSGUARD" inject --list "$img"
expect inject_list_binary grep -q ' usr/bin/xsguard$' "$TMP/out"
expect inject_list_offset grep -q "^overlay at byte $(stat -c %s "$TMP/none.orig") " "$TMP/out"
expect_rc inject_list_plain 0 "$XSGUARD" inject --list "$TMP/none.orig"
expect inject_list_plain_says grep -q '^no xsguard overlay$' "$TMP/out"

# -o: the input stays as it is; -o onto the input itself works in place.
mkimg "$TMP/o.img" bzip2; cp "$TMP/o.img" "$TMP/o.orig"
expect_rc inject_out 0 "$XSGUARD" inject "$TMP/o.img" -o "$TMP/o.out"
expect inject_out_input_kept cmp -s "$TMP/o.img" "$TMP/o.orig"
expect inject_out_no_partial [ ! -e "$TMP/o.out.partial" ]
expect_rc inject_out_remove 0 "$XSGUARD" inject --remove "$TMP/o.out" -o "$TMP/o.back"
expect inject_out_remove_exact cmp -s "$TMP/o.back" "$TMP/o.orig"

# A changed original is not cut back.
cp "$TMP/o.out" "$TMP/o.bad"
printf 'X' | dd of="$TMP/o.bad" bs=1 seek=20 conv=notrunc status=none
cp "$TMP/o.bad" "$TMP/o.bad.before"
expect_rc inject_changed_refused 66 "$XSGUARD" inject --remove "$TMP/o.bad"
expect inject_changed_one_line [ "$(wc -l <"$TMP/err")" -eq 1 ]
expect inject_changed_kept cmp -s "$TMP/o.bad" "$TMP/o.bad.before"

# Bad input: one line on stderr, exit 66, nothing written.
printf 'MZ\220\0not an initrd' >"$TMP/pe.img"
expect_rc inject_bad_magic 66 "$XSGUARD" inject "$TMP/pe.img"
expect inject_bad_magic_one_line [ "$(wc -l <"$TMP/err")" -eq 1 ]
expect inject_bad_magic_untouched [ "$(stat -c %s "$TMP/pe.img")" -eq 17 ]
: >"$TMP/empty.img"
expect_rc inject_empty 66 "$XSGUARD" inject "$TMP/empty.img"
expect_rc inject_missing 66 "$XSGUARD" inject "$TMP/nope.img"
expect_rc inject_directory 66 "$XSGUARD" inject "$TMP"
printf '\037\213\010\000garbage garbage garbage' >"$TMP/badgz.img"
expect_rc inject_gzip_not_cpio 66 "$XSGUARD" inject "$TMP/badgz.img"
ln -s "$TMP/o.img" "$TMP/link.img"
expect_rc inject_symlink_refused 66 "$XSGUARD" inject "$TMP/link.img"
expect_rc inject_usage 64 "$XSGUARD" inject --list --remove "$TMP/o.img"

# The embedded hook files are what initramfs/ holds.
sh src/inject/gen_hook_files.sh >"$TMP/hook_files.cc"
expect inject_hooks_in_sync cmp -s "$TMP/hook_files.cc" src/inject/hook_files.cc
