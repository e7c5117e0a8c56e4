#!/bin/bash
# `xsguard pool` end to end on generated databases: every finding, both encodings,
# gzip, --root, runbook, export; hostile input ends in one line and exit 66, never a
# crash, and a 1 GiB attribute is refused in bounded memory.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/integration/pool_lib.bash
[ -x "$MKXAPIDB" ] || { fail pool_cli.generator "could not build $MKXAPIDB"; exit 0; }

"$MKXAPIDB" >"$TMP/clean.xml"
expect_rc "pool clean: exit 0" 0 "$XSGUARD" pool --db "$TMP/clean.xml"
expect "pool clean: no findings" grep -q "0 findings" "$TMP/out"

for enc in "" --old-encoding; do
  "$MKXAPIDB" --hosts 3 $enc --ha --wlb --mixed --missing-update --local-vm --affinity --no-backup \
    --member-copy --host-free 536870912 --pool-name 'Pool  "A" & <B> 50%' >"$TMP/all.xml"
  expect_rc "pool all${enc}: exit 2 (inhibitor)" 2 "$XSGUARD" pool --db "$TMP/all.xml" --json
  cp "$TMP/out" "$TMP/all.json"
  for id in pool.ha_enabled pool.wlb_enabled pool.versions_mixed pool.updates_mismatch pool.vm_not_agile \
            pool.local_sr_in_use pool.capacity pool.no_metadata_backup pool.db_stale; do
    expect "pool all${enc}: $id" grep -qx "$id" <(ids "$TMP/all.json")
  done
  expect "pool all${enc}: pool name decoded" grep -qF '"Pool  \"A\" & <B> 50%"' "$TMP/all.json"
  expect "pool all${enc}: secret never printed" bash -c "! grep -q SECRET '$TMP/all.json'"
done

gzip -c "$TMP/all.xml" >"$TMP/all.db.gz"
expect_rc "pool gzip: exit 2" 2 "$XSGUARD" pool --db "$TMP/all.db.gz"
expect_rc "pool stdin pipe: exit 2" 2 bash -c "cat '$TMP/all.xml' | '$XSGUARD' pool --db /dev/stdin"

# --root: a member's old root with HA armed, a firstboot script that never ran
R=$TMP/root
mkdir -p "$R/etc/xensource" "$R/etc/firstboot.d/state" "$R/var/lib/xcp" "$R/var/update/applied"
"$MKXAPIDB" --hosts 2 >"$R/var/lib/xcp/state.db"
echo "slave:10.0.1.1" >"$R/etc/xensource/pool.conf"
echo '<config><row key="ha.armed" value="true"/></config>' >"$R/var/lib/xcp/local.db"
printf "INSTALLATION_UUID='x'\nCONTROL_DOMAIN_UUID='y'\n" >"$R/etc/xensource-inventory"
printf '#!/bin/sh\n' >"$R/etc/firstboot.d/10-example"; chmod +x "$R/etc/firstboot.d/10-example"
expect_rc "pool --root: exit 2" 2 "$XSGUARD" pool --root "$R" --json
cp "$TMP/out" "$TMP/root.json"
for id in pool.ha_enabled pool.master_first host.not_upgradeable pool.db_stale; do
  expect "pool --root: $id" grep -qx "$id" <(ids "$TMP/root.json")
done
expect_rc "pool --root missing dir: exit 66" 66 "$XSGUARD" pool --root "$TMP/nonexistent"
expect_rc "pool no database: exit 66" 66 "$XSGUARD" pool
expect_rc "pool --export csv without --out: exit 64" 64 "$XSGUARD" pool --db "$TMP/clean.xml" --export csv
expect_rc "pool --layout bad: exit 64" 64 "$XSGUARD" pool --db "$TMP/clean.xml" --layout sideways

# runbook and export
"$MKXAPIDB" --hosts 3 --local-vm >"$TMP/rb.xml"
expect_rc "pool runbook markdown (layout new: used local SR is an inhibitor)" 2 "$XSGUARD" pool --db "$TMP/rb.xml" --runbook markdown --layout new
expect "pool runbook: pool-eject, pool-join, designate-new-master" \
  bash -c "grep -q 'xe pool-eject host-uuid=' '$TMP/out' && grep -q 'xe pool-join master-address=' '$TMP/out' && grep -q 'xe pool-designate-new-master host-uuid=' '$TMP/out'"
mkdir -p "$TMP/outdir"
expect_rc "pool --export csv --out" 1 "$XSGUARD" pool --db "$TMP/rb.xml" --export csv --out "$TMP/outdir"
expect "pool export: 9 csv files and the report" \
  bash -c "[ \$(ls '$TMP/outdir'/*.csv | wc -l) -eq 9 ] && [ -s '$TMP/outdir/pool-report.txt' ]"
expect_rc "pool --out twice refuses to overwrite: exit 70" 70 "$XSGUARD" pool --db "$TMP/rb.xml" --export csv --out "$TMP/outdir"

# hostile input: one line on stderr, exit 66
for kind in truncated wrong-root dup-ref entity billion-laughs cdata not-xml; do
  "$MKXAPIDB" --hostile $kind >"$TMP/h.xml"
  expect_rc "pool hostile $kind: exit 66" 66 "$XSGUARD" pool --db "$TMP/h.xml"
  expect "pool hostile $kind: one line" [ "$(wc -l <"$TMP/err")" -eq 1 ]
done
"$MKXAPIDB" --hostile dangling >"$TMP/h.xml"
expect_rc "pool hostile dangling refs: tolerated (exit 1)" 1 "$XSGUARD" pool --db "$TMP/h.xml"
: >"$TMP/empty.xml"
expect_rc "pool empty file: exit 66" 66 "$XSGUARD" pool --db "$TMP/empty.xml"
head -c 5000 /dev/urandom >"$TMP/rand.bin"
expect_rc "pool random bytes: exit 66" 66 "$XSGUARD" pool --db "$TMP/rand.bin"
printf '\x1f\x8b\x08\x00garbage' >"$TMP/bad.gz"
expect_rc "pool corrupt gzip: exit 66" 66 "$XSGUARD" pool --db "$TMP/bad.gz"

# A 1 GiB attribute, streamed through a pipe: refused at the element limit, in bounded memory.
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f '%M' -o "$TMP/rss" bash -c "'$MKXAPIDB' --hostile huge-attr | '$XSGUARD' pool --db /dev/stdin" \
    >/dev/null 2>"$TMP/err"
  rc=$(bash -c "'$MKXAPIDB' --hostile huge-attr | '$XSGUARD' pool --db /dev/stdin" 2>&1 >/dev/null | head -1)
  expect "pool 1 GiB attribute: one-line error" bash -c "echo '$rc' | grep -q 'larger than'"
  rss=$(tail -1 "$TMP/rss")
  expect "pool 1 GiB attribute: peak RSS ${rss} kB < 400 MB" [ "${rss:-999999999}" -lt 409600 ]
else
  echo "SKIP pool 1 GiB attribute RSS: /usr/bin/time not installed"
fi
