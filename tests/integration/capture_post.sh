#!/bin/bash
# `xsguard capture` and `xsguard post` end to end: a generated old root with
# customisations of every kind (and its own xapi database), a stock new root;
# capture, dry run, apply, apply again; conflicts; hostile roots and captures.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

# snap DIR: one line per entry (path, type, mode, content digest or link target).
snap() {
  (cd "$1" && find . -printf '%p %y %m %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# ---- the old root ---------------------------------------------------------------
OLD=$TMP/old NEW=$TMP/new OUTSIDE=$TMP/outside
mkdir -p "$OLD"/etc/{cron.d,rc.d,sysctl.d,modprobe.d,iscsi,ssh,snmp,yum.repos.d,xensource} \
  "$OLD"/var/spool/cron "$OLD"/var/lib/xcp "$OLD"/root/.ssh "$OUTSIDE"
echo "OUTSIDE-SECRET" >"$OUTSIDE/secret"
printf "INSTALLATION_UUID='11111111-2222-3333-4444-555555555555'\nPRODUCT_BRAND='XenServer'\nPRODUCT_VERSION='7.1.0'\nBUILD_NUMBER='137272c'\n" >"$OLD/etc/xensource-inventory"
cat >"$OLD/etc/fstab" <<'X'
LABEL=root-abcdef    /         ext3     defaults   1  1
LABEL=swap-abcdef    swap      swap     defaults   0  0
LABEL=logs-abcdef    /var/log  ext3     defaults   0  2
nas01:/export/backup /mnt/backup nfs    defaults   0  0
X
printf 'SHELL=/bin/bash\nPATH=/sbin:/bin:/usr/sbin:/usr/bin\nMAILTO=root\n*/10 * * * * root /usr/local/bin/health-check\n' >"$OLD/etc/crontab"
printf '30 2 * * * root /opt/scripts/backup-metadata.sh\n' >"$OLD/etc/cron.d/metadata-backup"
printf '15 * * * * /root/bin/rotate\n' >"$OLD/var/spool/cron/root"; chmod 600 "$OLD/var/spool/cron/root"
printf '#!/bin/bash\n# stock header\ntouch /var/lock/subsys/local\n# ours\nethtool -K eth0 gro off\n/opt/scripts/start-monitor &\n' >"$OLD/etc/rc.d/rc.local"
chmod 755 "$OLD/etc/rc.d/rc.local"
printf 'net.ipv4.ip_forward = 0\nvm.dirty_ratio = 5\n' >"$OLD/etc/sysctl.conf"
ln -s ../sysctl.conf "$OLD/etc/sysctl.d/99-sysctl.conf"
printf 'net.core.rmem_max = 16777216\n' >"$OLD/etc/sysctl.d/90-storage.conf"
printf 'options bnx2x disable_tpa=1\nblacklist floppy\n' >"$OLD/etc/modprobe.d/site.conf"
printf 'InitiatorName=iqn.2017-06.com.example:host1\n' >"$OLD/etc/iscsi/initiatorname.iscsi"
printf '127.0.0.1 localhost localhost.localdomain\n10.0.0.50 nas01\n' >"$OLD/etc/hosts"
printf 'nameserver 10.0.0.53\n' >"$OLD/etc/resolv.conf"
printf 'server 0.pool.ntp.org\nrestrict default nomodify\n' >"$OLD/etc/ntp.conf"
printf 'defaults {\n  user_friendly_names no\n}\n' >"$OLD/etc/multipath.conf"
printf 'rocommunity monitoring 10.0.0.0/24\n' >"$OLD/etc/snmp/snmpd.conf"
printf 'ssh-rsa AAAA admin@desk\n' >"$OLD/root/.ssh/authorized_keys"
printf 'PermitRootLogin without-password\nPort 22\n' >"$OLD/etc/ssh/sshd_config"
printf '[local]\nbaseurl=http://mirror.example/xs\n' >"$OLD/etc/yum.repos.d/local.repo"

# Its xapi database: bond0 (eth0+eth1) carrying management, VLAN 30 on it, an iSCSI
# SR with a CHAP password, an NFS SR, hand-set other-config on host and pool.
H=OpaqueRef:00000000-0000-0000-0000-00000000h001
cat >"$OLD/var/lib/xcp/state.db" <<X
<?xml version="1.0" encoding="UTF-8"?>
<database><manifest><pair key="schema_major_vsn" value="5"/><pair key="schema_minor_vsn" value="108"/><pair key="generation_count" value="9"/></manifest><table name="Bond"><row ref="OpaqueRef:b1" _ref="OpaqueRef:b1" uuid="bond-1" master="OpaqueRef:pb" mode="lacp" primary_slave="OpaqueRef:p0"/></table><table name="PBD"><row ref="OpaqueRef:d1" _ref="OpaqueRef:d1" host="$H" SR="OpaqueRef:s1" device_config="(('target'%.'10.0.0.20')%.('targetIQN'%.'iqn.2004-04.com.qnap:ts-1')%.('chappassword'%.'CHAP-SECRET-VALUE'))"/><row ref="OpaqueRef:d2" _ref="OpaqueRef:d2" host="$H" SR="OpaqueRef:s2" device_config="(('server'%.'10.0.0.9')%.('serverpath'%.'/export/vms'))"/></table><table name="PIF"><row ref="OpaqueRef:p0" _ref="OpaqueRef:p0" device="eth0" host="$H" network="OpaqueRef:n9" VLAN="-1" management="false" bond_slave_of="OpaqueRef:b1"/><row ref="OpaqueRef:p1" _ref="OpaqueRef:p1" device="eth1" host="$H" network="OpaqueRef:n9" VLAN="-1" management="false" bond_slave_of="OpaqueRef:b1"/><row ref="OpaqueRef:pb" _ref="OpaqueRef:pb" device="bond0" host="$H" network="OpaqueRef:n1" VLAN="-1" management="true" ip_configuration_mode="Static" IP="10.0.1.11" netmask="255.255.255.0" gateway="10.0.1.254" DNS="10.0.0.53" bond_slave_of="OpaqueRef:NULL"/><row ref="OpaqueRef:pv" _ref="OpaqueRef:pv" device="bond0" host="$H" network="OpaqueRef:n2" VLAN="30" management="false" bond_slave_of="OpaqueRef:NULL"/></table><table name="SR"><row ref="OpaqueRef:s1" _ref="OpaqueRef:s1" uuid="sr-iscsi" name__label="iSCSI%.store" type="lvmoiscsi" shared="true"/><row ref="OpaqueRef:s2" _ref="OpaqueRef:s2" uuid="sr-nfs" name__label="NFS%.VMs" type="nfs" shared="true"/></table><table name="VLAN"><row ref="OpaqueRef:v1" _ref="OpaqueRef:v1" tagged_PIF="OpaqueRef:pb" untagged_PIF="OpaqueRef:pv" tag="30"/></table><table name="host"><row ref="$H" _ref="$H" uuid="11111111-2222-3333-4444-555555555555" name__label="xs-host-1" hostname="xs-host-1" other_config="(('iscsi_iqn'%.'iqn.2017-06.com.example:host1')%.('agent_start_time'%.'1.')%.('rack'%.'B4'))"/></table><table name="network"><row ref="OpaqueRef:n1" _ref="OpaqueRef:n1" bridge="xapi1"/><row ref="OpaqueRef:n2" _ref="OpaqueRef:n2" bridge="xapi2"/></table><table name="pool"><row ref="OpaqueRef:pool" _ref="OpaqueRef:pool" uuid="pool-1" name_label="Production" master="$H" other_config="(('auto_poweron'%.'true'))"/></table><table name="secret"><row ref="OpaqueRef:sec" _ref="OpaqueRef:sec" uuid="sec-1" value="TOP-SECRET-VALUE"/></table></database>
X

# ---- the stock new root -------------------------------------------------------------
mkdir -p "$NEW"/etc/{cron.d,rc.d,sysctl.d,modprobe.d,iscsi,ssh,snmp,yum.repos.d} "$NEW"/var/spool/cron \
  "$NEW"/var/lib/xcp "$NEW"/root/.ssh "$NEW"/usr/lib/systemd/system "$NEW"/usr/lib/systemd/system-generators
printf 'LABEL=root-zzzzzz / ext3 defaults 1 1\nLABEL=swap-zzzzzz swap swap defaults 0 0\nLABEL=logs-zzzzzz /var/log ext3 defaults 0 2\n' >"$NEW/etc/fstab"
printf 'SHELL=/bin/bash\nPATH=/sbin:/bin:/usr/sbin:/usr/bin\nMAILTO=root\n' >"$NEW/etc/crontab"
printf '01 * * * * root run-parts /etc/cron.hourly\n' >"$NEW/etc/cron.d/0hourly"
printf '#!/bin/bash\n# stock header of the new release\ntouch /var/lock/subsys/local\n' >"$NEW/etc/rc.d/rc.local"; chmod 644 "$NEW/etc/rc.d/rc.local"
printf 'net.ipv4.ip_forward = 0\n' >"$NEW/etc/sysctl.conf"
ln -s ../sysctl.conf "$NEW/etc/sysctl.d/99-sysctl.conf"
printf 'InitiatorName=iqn.2020-01.com.xenserver:generated\n' >"$NEW/etc/iscsi/initiatorname.iscsi"
printf '127.0.0.1 localhost localhost.localdomain\n' >"$NEW/etc/hosts"
printf 'nameserver 10.0.0.53\n' >"$NEW/etc/resolv.conf"
printf 'server 0.pool.ntp.org\n' >"$NEW/etc/ntp.conf"
printf 'defaults {\n  user_friendly_names no\n  find_multipaths yes\n}\n' >"$NEW/etc/multipath.conf"
printf 'ssh-rsa AAAA admin@desk\n' >"$NEW/root/.ssh/authorized_keys"
printf 'PermitRootLogin yes\n' >"$NEW/etc/ssh/sshd_config"
cp "$OLD/var/lib/xcp/state.db" "$NEW/var/lib/xcp/state.db"
printf '[Unit]\nDescription=rc.local\n[Service]\nExecStart=/etc/rc.d/rc.local start\n' >"$NEW/usr/lib/systemd/system/rc-local.service"
printf '#!/bin/sh\n' >"$NEW/usr/lib/systemd/system-generators/systemd-rc-local-generator"; chmod 755 "$NEW/usr/lib/systemd/system-generators/systemd-rc-local-generator"
cp -a "$NEW" "$TMP/new-pristine"

# ---- capture ---------------------------------------------------------------------
expect_rc "capture: exit 0" 0 "$XSGUARD" capture --root "$OLD" --out "$TMP/cap.tgz" --json
cp "$TMP/out" "$TMP/capture.json"
expect "capture: the archive holds the inventory and the files" \
  bash -c "tar tzf '$TMP/cap.tgz' | grep -qx inventory.json && tar tzf '$TMP/cap.tgz' | grep -qx inventory.txt && tar tzf '$TMP/cap.tgz' | grep -qx files/etc/fstab && tar tzf '$TMP/cap.tgz' | grep -qx files/etc/modprobe.d/site.conf"
tar xzf "$TMP/cap.tgz" -C "$TMP" inventory.json inventory.txt
for p in etc/fstab etc/crontab etc/cron.d/metadata-backup var/spool/cron/root etc/rc.d/rc.local etc/sysctl.conf \
         etc/sysctl.d/90-storage.conf etc/modprobe.d/site.conf etc/iscsi/initiatorname.iscsi etc/hosts \
         etc/resolv.conf etc/ntp.conf etc/multipath.conf etc/snmp/snmpd.conf root/.ssh/authorized_keys \
         etc/ssh/sshd_config etc/yum.repos.d/local.repo; do
  expect "capture: inventory lists $p" grep -q "\"path\": \"$p\"" "$TMP/inventory.json"
done
expect "capture: fstab's customised line, not its stock ones" \
  bash -c "grep -q 'nas01:/export/backup' '$TMP/inventory.json' && ! grep -q '\"LABEL=root-abcdef' '$TMP/inventory.json'"
expect "capture: carried-over verdicts (resolv.conf yes, multipath aside, ntp partly, fstab no)" \
  bash -c "grep -A30 '\"path\": \"etc/resolv.conf\"' '$TMP/inventory.json' | grep -m1 carried_over\\\" | grep -q yes && grep -A30 '\"path\": \"etc/multipath.conf\"' '$TMP/inventory.json' | grep -m1 carried_over\\\" | grep -q aside && grep -A30 '\"path\": \"etc/ntp.conf\"' '$TMP/inventory.json' | grep -m1 carried_over\\\" | grep -q partly && grep -A30 '\"path\": \"etc/fstab\"' '$TMP/inventory.json' | grep -m1 carried_over\\\" | grep -q '\"no\"'"
expect "capture: xapi management, bond, VLAN, storage, IQN, hand-set keys" \
  bash -c "grep -q '\"bond0\"' '$TMP/inventory.json' && grep -q '\"lacp\"' '$TMP/inventory.json' && grep -q '\"tag\": 30' '$TMP/inventory.json' && grep -q 'iqn.2004-04.com.qnap:ts-1' '$TMP/inventory.json' && grep -q '/export/vms' '$TMP/inventory.json' && grep -q '\"rack\": \"B4\"' '$TMP/inventory.json' && grep -q '\"auto_poweron\"' '$TMP/inventory.json' && ! grep -q agent_start_time '$TMP/inventory.json'"
expect "capture: no password or secret anywhere in the capture" \
  bash -c "! (zcat '$TMP/cap.tgz' | grep -aq -e CHAP-SECRET-VALUE -e TOP-SECRET-VALUE) && ! grep -q SECRET '$TMP/capture.json'"
expect "capture: the text inventory says what is known and assumed" \
  bash -c "grep -q 'stock: known' '$TMP/inventory.txt' && grep -q 'stock: unknown' '$TMP/inventory.txt' && grep -q 'bond bond0 (lacp): eth0+eth1' '$TMP/inventory.txt'"
expect "capture: the report is the standard document with a capture section" \
  bash -c "grep -q '\"schema\": \"xsguard.report/1\"' '$TMP/capture.json' && grep -q '\"capture\": {' '$TMP/capture.json' && grep -q capture.not_carried_over '$TMP/capture.json'"
expect_rc "capture: never replaces its output (exit 3)" 3 "$XSGUARD" capture --root "$OLD" --out "$TMP/cap.tgz"

# ---- post: dry run, apply, again ---------------------------------------------------
snap "$NEW" >"$TMP/snap0"
expect_rc "post dry run: exit 1 (customisations not yet back)" 1 "$XSGUARD" post --target-root "$NEW" --from "$TMP/cap.tgz"
cp "$TMP/out" "$TMP/dry.txt"
snap "$NEW" >"$TMP/snap1"
expect "post dry run: changes nothing" cmp -s "$TMP/snap0" "$TMP/snap1"
expect "post dry run: shows each change as a diff" \
  bash -c "grep -q '+nas01:/export/backup /mnt/backup nfs' '$TMP/dry.txt' && grep -q '+InitiatorName=iqn.2017-06.com.example:host1' '$TMP/dry.txt' && grep -q -- '-InitiatorName=iqn.2020-01' '$TMP/dry.txt' && grep -q -- '--- /dev/null' '$TMP/dry.txt'"
expect "post dry run: post.rc_local_disabled" grep -q 'post.rc_local_disabled' "$TMP/dry.txt"

expect_rc "post --apply: exit 1 (report-only items remain)" 1 "$XSGUARD" post --target-root "$NEW" --from "$TMP/cap.tgz" --apply --json
cp "$TMP/out" "$TMP/apply.json"
expect "post --apply: fstab line" grep -q '^nas01:/export/backup /mnt/backup nfs' "$NEW/etc/fstab"
expect "post --apply: crontab entry" grep -q '^\*/10 \* \* \* \* root /usr/local/bin/health-check' "$NEW/etc/crontab"
expect "post --apply: cron.d job, same mode" bash -c "cmp -s '$OLD/etc/cron.d/metadata-backup' '$NEW/etc/cron.d/metadata-backup'"
expect "post --apply: root's crontab, mode 600" bash -c "cmp -s '$OLD/var/spool/cron/root' '$NEW/var/spool/cron/root' && [ \$(stat -c %a '$NEW/var/spool/cron/root') = 600 ]"
expect "post --apply: rc.local content, in order" bash -c "grep -A1 'ethtool -K eth0 gro off' '$NEW/etc/rc.d/rc.local' | grep -q start-monitor"
expect "post --apply: rc.local executable" test -x "$NEW/etc/rc.d/rc.local"
expect "post --apply: sysctl line and drop-in" bash -c "grep -q '^vm.dirty_ratio = 5' '$NEW/etc/sysctl.conf' && cmp -s '$OLD/etc/sysctl.d/90-storage.conf' '$NEW/etc/sysctl.d/90-storage.conf'"
expect "post --apply: sysctl.d/99-sysctl.conf is still the release's symlink" test -L "$NEW/etc/sysctl.d/99-sysctl.conf"
expect "post --apply: modprobe options" bash -c "cmp -s '$OLD/etc/modprobe.d/site.conf' '$NEW/etc/modprobe.d/site.conf'"
expect "post --apply: the host's IQN" bash -c "grep -qx 'InitiatorName=iqn.2017-06.com.example:host1' '$NEW/etc/iscsi/initiatorname.iscsi'"
expect "post --apply: says rc-local.service will start" grep -q 'rc-local.service will start at boot' "$TMP/apply.json"
for p in etc/hosts etc/ssh/sshd_config etc/snmp/snmpd.conf etc/yum.repos.d/local.repo etc/ntp.conf; do
  expect "post --apply: $p reported lost, not written" \
    bash -c "grep -q '\"title\": \"$p: customisation not in the new root\"' '$TMP/apply.json'"
done
expect "post --apply: carried-over files are not reported (resolv.conf, authorized_keys)" \
  bash -c "! grep -q -e '\"title\": \"etc/resolv.conf' -e '\"title\": \"root/.ssh/authorized_keys' '$TMP/apply.json'"
snap "$NEW" >"$TMP/snap2"
diff "$TMP/snap0" "$TMP/snap2" | sed -n 's/^[<>] \.\/\([^ ]*\) .*/\1/p; s/^[<>] [0-9a-f]\{64\}  \.\/\(.*\)/\1/p' | sort -u >"$TMP/changed"
printf '%s\n' etc/cron.d/metadata-backup etc/crontab etc/fstab etc/iscsi/initiatorname.iscsi etc/modprobe.d/site.conf \
  etc/rc.d/rc.local etc/sysctl.conf etc/sysctl.d/90-storage.conf var/spool/cron/root | sort >"$TMP/expected"
expect "post --apply: nothing else changed" diff "$TMP/expected" "$TMP/changed"
expect "post --apply: no temporary files left" bash -c "! find '$NEW' -name '*xsguard-partial*' | grep -q ."

expect_rc "post again: exit 1 (same report-only items)" 1 "$XSGUARD" post --target-root "$NEW" --from "$TMP/cap.tgz" --apply --json
snap "$NEW" >"$TMP/snap3"
expect "post again: a no-op" cmp -s "$TMP/snap2" "$TMP/snap3"
expect "post again: nothing written" bash -c "! grep -q '\"outcome\": \"written\"' '$TMP/out' && ! grep -q post.rc_local_disabled '$TMP/out'"

# ---- conflicts ---------------------------------------------------------------------
rm -rf "$TMP/new2"; cp -a "$TMP/new-pristine" "$TMP/new2"
printf 'net.ipv4.ip_forward = 0\nvm.dirty_ratio = 20\n' >"$TMP/new2/etc/sysctl.conf"
printf 'LABEL=root-zzzzzz / ext3 defaults 1 1\n/dev/sdb1 /mnt/backup ext4 defaults 0 2\n' >"$TMP/new2/etc/fstab"
expect_rc "conflict: exit 1" 1 "$XSGUARD" post --target-root "$TMP/new2" --from "$TMP/cap.tgz" --apply --json
expect "conflict: post.conflict for sysctl.conf and fstab" \
  bash -c "grep -q '\"title\": \"etc/sysctl.conf: changed by the administrator and by the new release\"' '$TMP/out' && grep -q '\"title\": \"etc/fstab: changed by the administrator and by the new release\"' '$TMP/out'"
expect "conflict: the new release's lines are kept (not clobbered)" \
  bash -c "grep -qx 'vm.dirty_ratio = 20' '$TMP/new2/etc/sysctl.conf' && ! grep -q 'dirty_ratio = 5' '$TMP/new2/etc/sysctl.conf' && ! grep -q nas01 '$TMP/new2/etc/fstab'"

# ---- rc.local without a capture -------------------------------------------------------
rm -rf "$TMP/new3"; cp -a "$TMP/new-pristine" "$TMP/new3"
expect_rc "rc.local only, dry run: exit 1" 1 "$XSGUARD" post --target-root "$TMP/new3"
expect "rc.local only, dry run: still not executable" test ! -x "$TMP/new3/etc/rc.d/rc.local"
expect_rc "rc.local only, --apply: exit 0" 0 "$XSGUARD" post --target-root "$TMP/new3" --apply
expect "rc.local only, --apply: executable" test -x "$TMP/new3/etc/rc.d/rc.local"
rm "$TMP/new3/usr/lib/systemd/system/rc-local.service"
expect_rc "rc.local without rc-local.service: exit 1" 1 "$XSGUARD" post --target-root "$TMP/new3" --apply
expect "rc.local without rc-local.service: says so" grep -q 'no rc-local.service' "$TMP/out"

# ---- hostile old roots -----------------------------------------------------------------
BAD=$TMP/bad
mkdir -p "$BAD"/etc/{rc.d,cron.d,ssh} "$BAD"/var/spool/cron "$BAD/root/.ssh"
ln -s "$OUTSIDE/secret" "$BAD/etc/hosts"                        # absolute, outside: resolved under the root
ln -s ../../../../../../../../"$OUTSIDE"/secret "$BAD/etc/resolv.conf"  # ".." stops at the root
ln -s /etc/hosts "$BAD/etc/ntp.conf"                            # a link to a link, inside
ln -s loop "$BAD/etc/sysctl.conf"; ln -s sysctl.conf "$BAD/etc/loop"
ln -s "$OUTSIDE" "$BAD/etc/cron.d/outside"
head -c 3000000 /dev/zero | tr '\0' 'x' >"$BAD/etc/fstab"        # huge
printf 'root\0\x01\x02binary' >"$BAD/var/spool/cron/root"         # binary crontab
printf '* * * * * root /bin/true\n' >"$BAD/etc/crontab"; chmod 000 "$BAD/etc/crontab"
mkfifo "$BAD/etc/rc.d/rc.local"                                   # never opened
printf 'ssh-rsa KEY\n' >"$BAD/root/.ssh/authorized_keys"
chmod 755 "$TMP"; chmod -R a+rX "$BAD"; chmod 000 "$BAD/etc/crontab"
mkdir -p "$TMP/capout"; chmod 777 "$TMP/capout"
# As an unprivileged user, so that the unreadable file really is unreadable.
expect_rc "hostile root: capture exits 1 (items skipped), no crash" 1 \
  setpriv --reuid=65534 --regid=65534 --clear-groups timeout 60 "$XSGUARD" capture --root "$BAD" --out "$TMP/capout/bad.tgz" --json
cp "$TMP/out" "$TMP/bad.json"
expect "hostile root: nothing from outside the root is captured" \
  bash -c "! (zcat '$TMP/capout/bad.tgz' | grep -aq OUTSIDE-SECRET) && ! grep -q OUTSIDE-SECRET '$TMP/bad.json'"
expect "hostile root: huge, binary, unreadable, looping, FIFO: each skipped with a reason" \
  bash -c "grep -q 'etc/fstab: not captured' '$TMP/bad.json' && grep -q 'var/spool/cron/root: not captured' '$TMP/bad.json' && grep -q 'etc/crontab: not captured' '$TMP/bad.json' && grep -q 'etc/sysctl.conf: not captured' '$TMP/bad.json' && grep -q 'etc/rc.d/rc.local: not captured' '$TMP/bad.json'"
expect "hostile root: reasons say why (larger than, not a text file, Permission denied)" \
  bash -c "grep -q 'larger than' '$TMP/bad.json' && grep -q 'not a text file' '$TMP/bad.json' && grep -q 'Permission denied' '$TMP/bad.json'"
expect "hostile root: the outside directory is untouched" bash -c "[ \"\$(ls '$OUTSIDE')\" = secret ]"
expect_rc "capture: missing root: exit 66" 66 "$XSGUARD" capture --root "$TMP/nonexistent" --out "$TMP/x.tgz"
expect_rc "capture: no --out: exit 64" 64 "$XSGUARD" capture --root "$OLD"

# ---- hostile targets and captures -------------------------------------------------------
rm -rf "$TMP/new4"; cp -a "$TMP/new-pristine" "$TMP/new4"
rm -rf "$TMP/new4/etc/cron.d" "$TMP/new4/var/spool/cron"
ln -s "$OUTSIDE" "$TMP/new4/etc/cron.d"        # absolute link out of the target
ln -s ../../../../../../"$OUTSIDE" "$TMP/new4/var/spool/cron"
snap "$OUTSIDE" >"$TMP/out0"
expect_rc "hostile target: post --apply works" 1 "$XSGUARD" post --target-root "$TMP/new4" --from "$TMP/cap.tgz" --apply
snap "$OUTSIDE" >"$TMP/out1"
expect "hostile target: nothing written outside the target root" cmp -s "$TMP/out0" "$TMP/out1"
expect "hostile target: written under the target, where the links resolve inside it" \
  bash -c "[ -f '$TMP/new4$OUTSIDE/metadata-backup' ] && [ -f '$TMP/new4$OUTSIDE/root' ]"

mkdir -p "$TMP/evil"
printf 'x' >"$TMP/evil/passwd"
tar czf "$TMP/evil.tgz" -C "$TMP" --transform 's|^evil/passwd|files/../../etc/passwd|' evil/passwd 2>/dev/null
expect_rc "hostile capture: entry outside files/: exit 66" 66 "$XSGUARD" post --target-root "$TMP/new4" --from "$TMP/evil.tgz" --apply
echo "not a capture" >"$TMP/plain.tgz"
expect_rc "hostile capture: not a tar.gz: exit 66" 66 "$XSGUARD" post --target-root "$TMP/new4" --from "$TMP/plain.tgz"
mkdir -p "$TMP/forged/files/etc"
sed 's|"path": "etc/fstab"|"path": "etc/../../fstab"|' "$TMP/inventory.json" >"$TMP/forged/inventory.json"
tar xzf "$TMP/cap.tgz" -C "$TMP/forged" files
tar czf "$TMP/forged.tgz" -C "$TMP/forged" inventory.json files
expect_rc "hostile capture: an item path outside its place: exit 66" 66 "$XSGUARD" post --target-root "$TMP/new4" --from "$TMP/forged.tgz" --apply
sed 's|"path": "etc/fstab"|"path": "etc/fstab"|' "$TMP/inventory.json" >"$TMP/forged/inventory.json"
echo "tampered" >>"$TMP/forged/files/etc/fstab"
rm -f "$TMP/forged.tgz"; tar czf "$TMP/forged.tgz" -C "$TMP/forged" inventory.json files
expect_rc "hostile capture: a file that does not match its digest: exit 66" 66 "$XSGUARD" post --target-root "$TMP/new4" --from "$TMP/forged.tgz"
expect_rc "post: missing target root: exit 66" 66 "$XSGUARD" post --target-root "$TMP/nonexistent"
expect_rc "post: no --target-root: exit 64" 64 "$XSGUARD" post
