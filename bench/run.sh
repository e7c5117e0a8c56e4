#!/bin/bash
# Runs every benchmark in bench/ (not a test: prints figures, checks no thresholds).
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build} XSGUARD="$PWD/${BUILD:-build}/xsguard"
for b in bench/*.bench.sh; do
  echo "### $b"; bash "$b"
done
