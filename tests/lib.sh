# Helpers for integration tests. Each check prints one line, "PASS name" or
# "FAIL name: why"; tests/run.sh counts them.
XSGUARD=${XSGUARD:-$PWD/build/xsguard}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# expect_rc NAME WANT CMD...: run CMD, compare its exit code.
expect_rc() {
  local name=$1 want=$2; shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
  if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $rc, wanted $want: $(head -c 300 "$TMP/err")"; fi
}
# expect NAME CONDITION-COMMAND...: pass when the command succeeds.
expect() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name" "condition failed: $*"; fi
}
