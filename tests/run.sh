#!/bin/bash
# Runs every suite and adds them up. The last line is the total, "N passed, N failed".
#   unit:        the doctest binary (one count per test case)
#   oracle:      the GRUB differential test (one count per layout x core size)
#   integration: tests/integration/*.sh (one count per PASS/FAIL line)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD XSGUARD="$PWD/$BUILD/xsguard"
passed=0 failed=0
out=$(mktemp); trap 'rm -f "$out"' EXIT

tally() {  # suite-name passed failed
  printf '== %-28s %6d passed, %d failed\n' "$1" "$2" "$3"
  passed=$((passed + $2)); failed=$((failed + $3))
}

"$BUILD/unit_tests" >"$out" 2>&1; rc=$?
summary=$(grep -E '^\[doctest\] test cases:' "$out" | tail -1)
p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$summary"); f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$summary")
[[ $p =~ ^[0-9]+$ ]] || p=0; [[ $f =~ ^[0-9]+$ ]] || f=1
if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then cat "$out"; [ "$f" -eq 0 ] && f=1; fi
tally unit "$p" "$f"

for t in tests/integration/*.sh tests/oracle/*.sh; do
  [ -e "$t" ] || continue
  bash "$t" >"$out" 2>&1; rc=$?
  p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then echo "$t exited $rc with no FAIL line"; f=1; fi
  [ "$f" -ne 0 ] && { grep -v '^PASS ' "$out" | tail -40; }
  grep '^SKIP ' "$out"
  tally "$(basename "$t" .sh)" "$p" "$f"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
