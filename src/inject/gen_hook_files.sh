#!/bin/sh
# Writes src/inject/hook_files.cc (to stdout) from the files under initramfs/ that go
# into the installer. Each source directory maps to one place in the installer's root:
#
#   initramfs/lib/*         -> usr/lib/xsguard/              (preflight, monitor, helpers)
#   initramfs/answerfile/*  -> usr/lib/xsguard/answerfile/   (answerfile <script>s)
#   initramfs/systemd/**    -> etc/systemd/system/           (units and drop-ins)
#
# Files keep their permission bits (executable or not). Usage, from the top directory:
#   sh src/inject/gen_hook_files.sh > src/inject/hook_files.cc
set -eu
cd "$(dirname "$0")/../.."
delim=xsguard_hook
echo '// Generated from initramfs/ by src/inject/gen_hook_files.sh. Do not edit.'
echo '#include "inject/hook_files.h"'
echo
echo 'namespace xsguard::inject {'
echo
table=$(mktemp); trap 'rm -f "$table"' EXIT
n=0
emit() {  # SOURCE TARGET
  if grep -q "$delim" "$1"; then echo "gen_hook_files: $1 contains $delim" >&2; exit 1; fi
  if [ -x "$1" ]; then mode=0755; else mode=0644; fi
  n=$((n + 1))
  printf 'const char kFile%d[] = R"%s(' "$n" "$delim"
  cat "$1"
  printf ')%s";\n\n' "$delim"
  printf '    {"%s", %s, kFile%d, sizeof kFile%d - 1},\n' "$2" "$mode" "$n" "$n" >>"$table"
}
echo 'namespace {'
echo
for f in $(find initramfs/lib initramfs/answerfile -type f | LC_ALL=C sort); do
  case $f in
    initramfs/lib/*) emit "$f" "usr/lib/xsguard/${f#initramfs/lib/}" ;;
    initramfs/answerfile/*) emit "$f" "usr/lib/xsguard/answerfile/${f#initramfs/answerfile/}" ;;
  esac
done
for f in $(find initramfs/systemd -type f | LC_ALL=C sort); do
  emit "$f" "etc/systemd/system/${f#initramfs/systemd/}"
done
echo '}  // namespace'
echo
echo 'const HookFile kHookFiles[] = {'
cat "$table"
echo '};'
echo
echo 'const size_t kHookFileCount = sizeof(kHookFiles) / sizeof(kHookFiles[0]);'
echo
echo '}  // namespace xsguard::inject'
