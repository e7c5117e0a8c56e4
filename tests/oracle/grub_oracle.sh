#!/bin/bash
# The GRUB differential test: xsguard's embedding model against grub-bios-setup on
# generated disk images (see grub_oracle_test.cc). Prints one PASS/FAIL line per
# layout x core.img; tests/run.sh counts them.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
GRUB_BIOS_SETUP=${GRUB_BIOS_SETUP:-/usr/lib/grub/i386-pc/grub-bios-setup}
export GRUB_BIOS_SETUP
if [ ! -x "$GRUB_BIOS_SETUP" ]; then
  echo "SKIP grub oracle: grub-pc-bin not installed"
  exit 0
fi
if ! command -v grub-mkimage >/dev/null; then
  echo "SKIP grub oracle: grub-mkimage not installed"
  exit 0
fi
if [ ! -x "$BUILD/grub_oracle_test" ]; then
  echo "FAIL grub oracle: $BUILD/grub_oracle_test is not built (make $BUILD/grub_oracle_test)"
  exit 1
fi
exec "$BUILD/grub_oracle_test"
