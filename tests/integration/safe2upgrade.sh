#!/bin/bash
# xsguard safe2upgrade on generated old roots: what the dry run says for a disk that
# converts (old-gpt), one with the new layout and an msdos one; the VMs and virtual
# disks named from the old root's database, "unknown" when it is missing or hostile;
# apply, a second apply, remove; symbolic links out of the root and read-only mounts
# refused. Needs bash, awk and coreutils; the read-only test needs root.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
IMG=${IMAGES:-${BUILD:-build}/images}
JFLAT=tests/integration/jflat.awk

if ! sh images/build.sh "$IMG" old-gpt xs7-gpt-bios old-msdos >"$TMP/build.log" 2>&1; then
  fail safe2upgrade.images "$(tail -3 "$TMP/build.log")"
  exit 0
fi
GPT=$IMG/old-gpt.img

MOUNTS=()
cleanup() {
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# An XS 6.5 host's database, as xapi writes it (one line, "%_" for two spaces): this
# host's local LVM SR holds two virtual disks used by "web server" (running) and
# "build box" (halted); "nfs vm" has its disk on shared NFS; the other host's local SR
# and VM are not this host's.
db() {
  printf '%s' '<?xml version="1.0" encoding="UTF-8"?>
<database><manifest><pair key="schema_major_vsn" value="5"/><pair key="schema_minor_vsn" value="73"/><pair key="generation_count" value="120"/></manifest>'\
'<table name="PBD"><row ref="OpaqueRef:0a1" uuid="pbd-1" host="OpaqueRef:h01" SR="OpaqueRef:s01" device_config="((%apos;device%apos; %apos;/dev/disk/by-id/scsi-SATA_WDC_WD3000-part3%apos;))" currently_attached="true"/>'\
'<row ref="OpaqueRef:0a2" uuid="pbd-2" host="OpaqueRef:h02" SR="OpaqueRef:s02" device_config="((%apos;device%apos; %apos;/dev/sda3%apos;))" currently_attached="true"/>'\
'<row ref="OpaqueRef:0a3" uuid="pbd-3" host="OpaqueRef:h01" SR="OpaqueRef:s03" device_config="((%apos;server%apos; %apos;10.0.0.9%apos;))" currently_attached="true"/></table>'\
'<table name="SR"><row ref="OpaqueRef:s01" uuid="7d3c1a52-local-sr-a" name__label="Local storage" type="lvm" content_type="user" shared="false" physical_size="2995093127168" physical_utilisation="171798691840"/>'\
'<row ref="OpaqueRef:s02" uuid="9e11b0aa-local-sr-b" name__label="Local storage" type="lvm" content_type="user" shared="false" physical_size="1" physical_utilisation="1"/>'\
'<row ref="OpaqueRef:s03" uuid="nfs-sr" name__label="NFS%_VM store" type="nfs" content_type="" shared="true" physical_size="1" physical_utilisation="1"/></table>'\
'<table name="VBD"><row ref="OpaqueRef:b01" VM="OpaqueRef:v01" VDI="OpaqueRef:d01" type="Disk" empty="false" userdevice="0"/>'\
'<row ref="OpaqueRef:b02" VM="OpaqueRef:v02" VDI="OpaqueRef:d02" type="Disk" empty="false" userdevice="0"/>'\
'<row ref="OpaqueRef:b03" VM="OpaqueRef:v03" VDI="OpaqueRef:d03" type="Disk" empty="false" userdevice="0"/>'\
'<row ref="OpaqueRef:b04" VM="OpaqueRef:v04" VDI="OpaqueRef:d04" type="Disk" empty="false" userdevice="0"/></table>'\
'<table name="VDI"><row ref="OpaqueRef:d01" uuid="vdi-web-0" name__label="web server 0" SR="OpaqueRef:s01" type="user" virtual_size="42949672960" is_a_snapshot="false" other_config="()"/>'\
'<row ref="OpaqueRef:d02" uuid="vdi-build-0" name__label="build box 0" SR="OpaqueRef:s01" type="user" virtual_size="128849018880" is_a_snapshot="false" other_config="()"/>'\
'<row ref="OpaqueRef:d03" uuid="vdi-nfs-0" name__label="nfs vm 0" SR="OpaqueRef:s03" type="user" virtual_size="1" is_a_snapshot="false" other_config="()"/>'\
'<row ref="OpaqueRef:d04" uuid="vdi-other" name__label="other host disk" SR="OpaqueRef:s02" type="user" virtual_size="1" is_a_snapshot="false" other_config="()"/></table>'\
'<table name="VM"><row ref="OpaqueRef:v01" uuid="vm-web" name__label="web server" power_state="Running" resident_on="OpaqueRef:h01" is_control_domain="false" is_a_template="false" is_a_snapshot="false"/>'\
'<row ref="OpaqueRef:v02" uuid="vm-build" name__label="build box" power_state="Halted" resident_on="OpaqueRef:NULL" is_control_domain="false" is_a_template="false" is_a_snapshot="false"/>'\
'<row ref="OpaqueRef:v03" uuid="vm-nfs" name__label="nfs vm" power_state="Running" resident_on="OpaqueRef:h01" is_control_domain="false" is_a_template="false" is_a_snapshot="false"/>'\
'<row ref="OpaqueRef:v04" uuid="vm-other" name__label="other host vm" power_state="Running" resident_on="OpaqueRef:h02" is_control_domain="false" is_a_template="false" is_a_snapshot="false"/></table>'\
'<table name="host"><row ref="OpaqueRef:h01" uuid="11111111-host-a" name__label="xs65-a" hostname="xs65-a" address="10.0.0.1" enabled="true"/>'\
'<row ref="OpaqueRef:h02" uuid="22222222-host-b" name__label="xs65-b" hostname="xs65-b" address="10.0.0.2" enabled="true"/></table>'\
'<table name="pool"><row ref="OpaqueRef:p01" uuid="pool-1" name_label="" master="OpaqueRef:h01" ha_enabled="false"/></table></database>' |
    sed "s/%apos;/'/g"
}

# new_root NAME [DB-TEXT-FILE]: an old root with the inventory naming host a.
new_root() {
  local r=$TMP/$1
  mkdir -p "$r/var/xapi" "$r/var/preserve" "$r/etc"
  printf "PRODUCT_VERSION='6.5.0'\nINSTALLATION_UUID='11111111-host-a'\n" >"$r/etc/xensource-inventory"
  [ -n "${2:-}" ] && cp "$2" "$r/var/xapi/state.db"
  echo "$r"
}
# json LABEL ARGS...: runs with --json, keeps the flattened report in $TMP/LABEL.flat
json() {
  local label=$1; shift
  "$XSGUARD" safe2upgrade "$@" --json >"$TMP/$label.json" 2>"$TMP/$label.err"
  RC=$?
  awk -f "$JFLAT" "$TMP/$label.json" >"$TMP/$label.flat" 2>/dev/null || echo "not JSON" >"$TMP/$label.flat"
}
has() { grep -qF -- "$2" "$TMP/$1.flat"; }

db >"$TMP/state.db"
R=$(new_root old "$TMP/state.db")
S=$R/var/preserve/safe2upgrade

# --- the dry run ----------------------------------------------------------------------
json plan --root "$R" --disk "$GPT"
expect "plan: exit 1 (a warning: nothing destroyed until the file exists)" test "$RC" -eq 1
expect "plan: the report parses" has plan "command	safe2upgrade"
expect "plan: old-gpt converts" has plan "converts	true"
expect "plan: destroys_local_sr finding" has plan "id	safe2upgrade.destroys_local_sr"
expect "plan: names this host's local SR" has plan "uuid	7d3c1a52-local-sr-a"
expect "plan: not the other host's" bash -c "! grep -q 9e11b0aa-local-sr-b '$TMP/plan.flat'"
expect "plan: lists the VDIs with sizes" has plan "virtual_size	128849018880"
expect "plan: lists the VMs and power states" bash -c "grep -q 'name_label	web server$' '$TMP/plan.flat' && grep -q 'power_state	Halted$' '$TMP/plan.flat'"
expect "plan: not a VM whose disks are on NFS" bash -c "! grep -q 'nfs vm$' '$TMP/plan.flat'"
expect "plan: the SR's partition" has plan "sr_partition	$GPT#3"
expect "plan: nothing created" test ! -e "$S"
"$XSGUARD" safe2upgrade --root "$R" --disk "$GPT" >"$TMP/plan.txt" 2>&1
expect "plan text: says what would be destroyed" grep -q 'Creating safe2upgrade would destroy the local SR "Local storage" (2 virtual disks, 2 VMs)' "$TMP/plan.txt"
expect "plan text: says it is a dry run" grep -q '^Dry run: nothing was written' "$TMP/plan.txt"

json new --root "$R" --disk "$IMG/xs7-gpt-bios.img"
expect "new layout: exit 0, the file would have no effect" test "$RC" -eq 0
expect "new layout: converts false" has new "converts	false"
expect "new layout: no destroys finding" bash -c "! grep -q destroys_local_sr '$TMP/new.flat'"
json msdos --root "$R" --disk "$IMG/old-msdos.img"
expect "msdos: converts false" has msdos "converts	false"
expect "msdos: says why" has msdos "has an msdos partition table"

# Without --disk, the disk comes from the root's filesystem; a root on no partition
# (or on a whole disk) leaves it unknown, and the plan still lists what is at risk.
json nodisk --root "$R"
expect "no disk found: converts unknown" has nodisk "converts	unknown"
expect "no disk found: still lists the VMs" has nodisk "name_label	build box"

# --- the database: missing, hostile, behind a link ----------------------------------
M=$(new_root missing)
json missing --root "$M" --disk "$GPT"
expect "missing db: exit 1" test "$RC" -eq 1
expect "missing db: status missing" has missing "status	missing"
expect "missing db: VMs unknown" has missing "vms	unknown"
"$XSGUARD" safe2upgrade --root "$M" --disk "$GPT" >"$TMP/missing.txt" 2>&1
expect "missing db: the text says unknown" grep -q 'What it holds is unknown: no xapi database' "$TMP/missing.txt"

head -c 1500 "$TMP/state.db" >"$TMP/truncated.db"
T=$(new_root truncated "$TMP/truncated.db")
json truncated --root "$T" --disk "$GPT"
expect "truncated db: unreadable" has truncated "status	unreadable"
expect "truncated db: VDIs unknown" has truncated "vdis	unknown"
{ printf '<?xml version="1.0"?>\n<!DOCTYPE database [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
  sed 's/^<?xml[^>]*>//' "$TMP/state.db" | sed 's/Local storage/\&lol2;/'; } >"$TMP/entity.db"
E=$(new_root entity "$TMP/entity.db")
json entity --root "$E" --disk "$GPT"
expect "DTD/entities: refused by the reader" has entity "DTD or entity declarations are not accepted"
expect "DTD/entities: VMs unknown" has entity "vms	unknown"
L=$(new_root linkeddb)
ln -s "$TMP/state.db" "$L/var/xapi/state.db"
json linkeddb --root "$L" --disk "$GPT"
expect "db behind a symbolic link: not followed" has linkeddb "is a symbolic link or not a directory (not followed)"
mkdir -p "$TMP/new74/var/lib/xcp" && cp -r "$R/etc" "$TMP/new74/" && cp "$TMP/state.db" "$TMP/new74/var/lib/xcp/state.db"
json xs7db --root "$TMP/new74" --disk "$GPT"
expect "db in var/lib/xcp (XS 7) is read too" has xs7db "name_label	web server"

# --- apply, again, remove -------------------------------------------------------------
expect_rc "apply without a terminal or --yes: exit 64" 64 "$XSGUARD" safe2upgrade --root "$R" --disk "$GPT" --apply </dev/null
expect "... nothing created" test ! -e "$S"
expect_rc "apply: answered no: exit 3" 3 bash -c "echo no | script -qec '$XSGUARD safe2upgrade --root $R --disk $GPT --apply' /dev/null >/dev/null; exit \${PIPESTATUS[1]}"
expect "... nothing created" test ! -e "$S"
expect_rc "apply --yes: exit 0" 0 "$XSGUARD" safe2upgrade --root "$R" --disk "$GPT" --apply --yes
expect "apply: an empty regular file" bash -c "[ -f '$S' ] && [ ! -L '$S' ] && [ ! -s '$S' ]"
expect "apply: mode 0644" test "$(stat -c %a "$S")" = 644
expect "apply: prints the undo" grep -q "Undo: xsguard safe2upgrade --root $R --disk $GPT --remove --apply" "$TMP/out"
expect_rc "second apply: exit 0" 0 "$XSGUARD" safe2upgrade --root "$R" --disk "$GPT" --apply --yes
expect "second apply: already present" grep -q 'already present: nothing to do' "$TMP/out"
json present --root "$R" --disk "$GPT"
expect "present: the plan is now an inhibitor (exit 2)" test "$RC" -eq 2
expect "present: the upgrade will destroy" has present "The upgrade will destroy the local SR"
"$XSGUARD" check --disk "$GPT" --root "$R" --core-sectors 53 --firmware bios --json >"$TMP/check.json" 2>/dev/null
expect "check --root agrees: xs.local_sr_destroyed" grep -q '"id": "xs.local_sr_destroyed"' "$TMP/check.json"
expect_rc "remove --apply --yes: exit 0" 0 "$XSGUARD" safe2upgrade --root "$R" --disk "$GPT" --remove --apply --yes
expect "remove: gone" test ! -e "$S"
expect_rc "second remove: exit 0" 0 "$XSGUARD" safe2upgrade --root "$R" --disk "$GPT" --remove --apply --yes
expect "second remove: already absent" grep -q 'already absent' "$TMP/out"
json applied --root "$R" --disk "$GPT" --apply --yes
expect "--json --apply: the report says what was done" has applied "id	safe2upgrade.applied"
rm -f "$S"

# --- symbolic links out of the root, read-only -------------------------------------
mkdir -p "$TMP/outside-etc"
P=$(new_root linked "$TMP/state.db")
rmdir "$P/var/preserve" && ln -s "$TMP/outside-etc" "$P/var/preserve"
expect_rc "var/preserve -> a directory outside: refused (exit 3)" 3 "$XSGUARD" safe2upgrade --root "$P" --disk "$GPT" --apply --yes
expect "... one line" test "$(wc -l <"$TMP/err")" -eq 1
expect "... nothing created outside the root" test ! -e "$TMP/outside-etc/safe2upgrade"
V=$(new_root linkedvar "$TMP/state.db")
mkdir -p "$TMP/outside-var/preserve" && rm -rf "$V/var" && ln -s "$TMP/outside-var" "$V/var"
expect_rc "var -> a directory outside: refused (exit 3)" 3 "$XSGUARD" safe2upgrade --root "$V" --disk "$GPT" --apply --yes
expect "... nothing created outside the root" test ! -e "$TMP/outside-var/preserve/safe2upgrade"
expect_rc "a root that is not a directory: exit 66" 66 "$XSGUARD" safe2upgrade --root "$TMP/state.db" --disk "$GPT"

if [ "$(id -u)" != 0 ]; then
  echo "SKIP safe2upgrade: the read-only bind mount needs root"
  exit 0
fi
O=$(new_root readonly "$TMP/state.db")
mkdir -p "$TMP/ro"
if mount --bind "$O" "$TMP/ro" 2>/dev/null && MOUNTS+=("$TMP/ro") && mount -o remount,bind,ro "$TMP/ro" 2>/dev/null; then
  expect_rc "read-only root: refused (exit 3)" 3 "$XSGUARD" safe2upgrade --root "$TMP/ro" --disk "$GPT" --apply --yes
  expect "... saying read-only" grep -q 'mounted read-only' "$TMP/err"
  expect_rc "read-only root: remove refused too" 3 "$XSGUARD" safe2upgrade --root "$TMP/ro" --disk "$GPT" --remove --apply --yes
  expect_rc "read-only root: the dry run still works" 1 "$XSGUARD" safe2upgrade --root "$TMP/ro" --disk "$GPT"
  expect "... nothing created" test ! -e "$O/var/preserve/safe2upgrade"
else
  echo "SKIP safe2upgrade: cannot make a read-only bind mount"
fi
