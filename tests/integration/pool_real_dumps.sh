#!/bin/bash
# `xsguard pool` on the real pool databases kept beside the repository
# (../shared/data/xapi-db-dumps, or $XSGUARD_XAPI_DUMPS): every one parses, and the
# findings match what the files hold. Skips, saying so, when they are absent.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/integration/pool_lib.bash

if [ ! -d "$XAPI_DUMPS" ]; then
  echo "SKIP pool_real_dumps: no real dumps at $XAPI_DUMPS"
  exit 0
fi
n=0
for f in "$XAPI_DUMPS"/*.xml "$XAPI_DUMPS"/*.db; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  b=$(basename "$f")
  "$XSGUARD" pool --db "$f" --json >"$TMP/$b.json" 2>"$TMP/err"; rc=$?
  if [ "$rc" -le 2 ] && awk -f tests/integration/jflat.awk "$TMP/$b.json" >/dev/null 2>&1; then
    pass "real $b: parses (exit $rc)"
  else
    fail "real $b: parses" "exit $rc: $(head -c 300 "$TMP/err")"
    continue
  fi
  has_ha=$(ids "$TMP/$b.json" | grep -cx pool.ha_enabled)
  has_wlb=$(ids "$TMP/$b.json" | grep -cx pool.wlb_enabled)
  want_ha=0 want_wlb=0
  [ "$b" = state2.xml ] && want_ha=1
  [ "$b" = single-host-krakout.xml ] && want_wlb=1
  expect "real $b: pool.ha_enabled iff HA is on ($want_ha)" [ "$has_ha" -eq "$want_ha" ]
  expect "real $b: pool.wlb_enabled iff WLB is on ($want_wlb)" [ "$has_wlb" -eq "$want_wlb" ]
  if grep -q '"ctxs-pool-backup' "$f"; then :; else
    expect "real $b: pool.no_metadata_backup" grep -q '"pool.no_metadata_backup"' "$TMP/$b.json"
  fi
  # the secret table is never printed
  "$XSGUARD" pool --db "$f" --export json >"$TMP/$b.inv.json" 2>/dev/null
  "$XSGUARD" pool --db "$f" --runbook >"$TMP/$b.rb" 2>/dev/null
  leak=0
  while read -r v; do
    [ -n "$v" ] && [ "${#v}" -ge 6 ] && grep -qF -- "$v" "$TMP/$b.json" "$TMP/$b.inv.json" "$TMP/$b.rb" && leak=1
  done < <(python3 - "$f" 2>/dev/null <<'PY' || true
import sys, xml.etree.ElementTree as ET
for t in ET.parse(sys.argv[1]).getroot().iter('table'):
    if t.get('name') == 'secret':
        for r in t: print(r.get('value', ''))
PY
)
  expect "real $b: no secret value in report, export or runbook" [ "$leak" -eq 0 ]
done
expect "real dumps: 17 found" [ "$n" -eq 17 ]

# Specific facts of specific files.
ids "$TMP/state2.xml.json" >"$TMP/s2"
expect "real state2.xml: HA is an inhibitor (exit 2)" grep -qx pool.ha_enabled "$TMP/s2"
expect "real state2.xml: a member's copy (pool.db_stale)" grep -qx pool.db_stale "$TMP/s2"
expect "real state3.xml: the master's copy (no pool.db_stale)" bash -c "! grep -q '\"pool.db_stale\"' '$TMP/state3.xml.json'"
expect "real TampaTwoHostPoolSelectioniSCSI.xml: VM Local is not agile" \
  grep -q '"Local"' "$TMP/TampaTwoHostPoolSelectioniSCSI.xml.json"
"$XSGUARD" pool --db "$XAPI_DUMPS/TampaTwoHostPoolSelectioniSCSI.xml" --export json >"$TMP/t.json"
expect "real Tampa: the iSCSI SRs are exported" grep -q '"lvmoiscsi"' "$TMP/t.json"
"$XSGUARD" pool --db "$XAPI_DUMPS/TampaTwoHostPoolSelectioniSCSI.xml" --runbook --layout new >"$TMP/t.rb"
expect "real Tampa: runbook records the iSCSI target" grep -q "targetIQN=iqn.2004-04.com.qnap" "$TMP/t.rb"
expect "real Tampa: runbook hands over the master" grep -q "xe pool-designate-new-master host-uuid=" "$TMP/t.rb"
