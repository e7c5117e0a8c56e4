# Shared by the pool_*.sh tests (sourced after tests/lib.sh): builds the database
# generator and finds the real dumps beside the repository.
BUILD=${BUILD:-build}
MKXAPIDB=$PWD/$BUILD/mkxapidb
if [ ! -x "$MKXAPIDB" ] || [ tools/mkxapidb.cc -nt "$MKXAPIDB" ] || [ src/xapi/testing/dbgen.h -nt "$MKXAPIDB" ]; then
  mkdir -p "$BUILD"
  g++ -std=c++17 -O2 -Isrc -o "$MKXAPIDB.tmp.$$" tools/mkxapidb.cc && mv "$MKXAPIDB.tmp.$$" "$MKXAPIDB"
fi
top=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
XAPI_DUMPS=${XSGUARD_XAPI_DUMPS:-$top/../shared/data/xapi-db-dumps}
# ids FILE: the finding ids of a --json report, one per line
ids() { awk -F'\t' '$1 ~ /^findings\.[0-9]+\.id$/ { print $2 }' <(awk -f tests/integration/jflat.awk "$1"); }
