#!/bin/bash
# The QEMU end-to-end test (tests/e2e/run.sh) as part of `make test`. It prints one SKIP
# line and passes when QEMU, a static busybox or Debian's cloud kernel cannot be had.
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/e2e/run.sh
