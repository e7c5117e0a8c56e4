#!/bin/bash
# The QEMU end-to-end test (tests/e2e/run.sh) as part of `make test`. It prints one SKIP
# line and passes when QEMU, a static busybox or Debian's cloud kernel cannot be had.
cd "$(dirname "$0")/../.." || exit 1
XSGUARD=${XSGUARD:-$PWD/${BUILD:-build}/xsguard}
# The guest has no shared libraries: only the static build can boot in it (the
# sanitizer build links dynamically).
if ! file -L "$XSGUARD" | grep -q 'statically linked'; then
  echo "SKIP e2e: $XSGUARD is not statically linked (sanitizer build)"
  exit 0
fi
exec bash tests/e2e/run.sh
