#include "capture/restore_list.h"

namespace xsguard::capture {

namespace {

// pattern: an exact path; "dir/" for a whole directory; or one '*' in the last
// component ("etc/ssh/ssh_host_*", "etc/firstboot.d/data/*.conf").
struct Entry {
  const char* pattern;
  Carried verdict;
  const char* note;
};

const Entry kRestoreList[] = {
    // Pool membership and identity.
    {"etc/xensource/ptoken", Carried::yes, "restored by the upgrade (pool secret)"},
    {"etc/xensource/pool.conf", Carried::yes, "restored by the upgrade (pool role)"},
    {"etc/xensource/xapi-ssl.pem", Carried::yes, "restored by the upgrade (TLS certificate)"},
    {"etc/xensource/license", Carried::yes, "restored by the upgrade"},
    {"etc/xensource/syslog.conf", Carried::yes, "restored by the upgrade"},
    {"etc/xensource-inventory", Carried::aside,
     "kept only as var/tmp/.previousInventory; the new release writes its own inventory"},
    {"etc/ssh/ssh_host_*", Carried::yes, "restored by the upgrade (SSH host keys)"},
    // Networking as the host boots it.
    {"etc/sysconfig/network", Carried::yes, "restored by the upgrade"},
    {"etc/sysconfig/network-scripts/ifcfg-*", Carried::yes, "restored by the upgrade"},
    {"etc/sysconfig/network-scripts/interface-rename-data/", Carried::yes,
     "restored by the upgrade (NIC naming)"},
    {"var/lib/xcp/networkd.db", Carried::yes, "restored by the upgrade"},
    {"etc/resolv.conf", Carried::yes, "restored by the upgrade"},
    // xapi's state: the pool database (bonds, VLANs, PBD device-config, other-config
    // and the IQN in host other-config all live in it), licences, RRDs and messages.
    {"var/lib/xcp/state.db", Carried::yes, "restored by the upgrade (the xapi database)"},
    {"var/xapi/state.db", Carried::yes, "restored by the upgrade as var/lib/xcp/state.db"},
    {"var/lib/xcp/lpe-cache", Carried::yes, "restored by the upgrade"},
    {"var/xapi/lpe-cache", Carried::yes, "restored by the upgrade under var/lib/xcp"},
    {"var/lib/xcp/blobs/", Carried::yes, "restored by the upgrade"},
    {"var/xapi/blobs/", Carried::yes, "restored by the upgrade under var/lib/xcp"},
    {"var/lib/xcp/verify_certificates", Carried::yes, "restored by the later 7.x upgrades"},
    {"etc/firstboot.d/data/*.conf", Carried::yes, "restored by the upgrade"},
    // Active Directory.
    {"etc/krb5.conf", Carried::yes, "restored by the upgrade"},
    {"etc/krb5.keytab", Carried::yes, "restored by the upgrade"},
    {"etc/nsswitch.conf", Carried::yes, "restored by the 7.0-7.2 upgrades only"},
    {"etc/pam.d/sshd", Carried::yes, "restored by the 7.0-7.2 upgrades only"},
    {"var/lib/likewise/", Carried::yes, "restored by the upgrade"},
    {"var/lib/samba/", Carried::yes, "restored by the upgrade"},
    {"var/lib/pbis/", Carried::yes, "restored by the later 7.x upgrades"},
    // root's SSH state: authorized_keys and known_hosts come back.
    {"root/.ssh/", Carried::yes, "restored by the upgrade (the whole of root/.ssh)"},
    // Storage and the rest.
    {"etc/multipath.conf", Carried::aside,
     "kept only as etc/multipath.conf.bak: the new release's own multipath.conf is the one "
     "in effect"},
    {"etc/mdadm.conf", Carried::yes, "restored by the later 7.x upgrades"},
    {"etc/sysconfig/mkinitrd.latches", Carried::yes, "restored by the upgrade"},
    {"etc/sysconfig/logrotate", Carried::yes, "restored by the later 7.x upgrades"},
    {"etc/pygrub/rules.d/oracle-5.6", Carried::yes, "restored by the upgrade"},
    {"etc/locale.conf", Carried::yes, "restored by the upgrade"},
    {"etc/machine-id", Carried::yes, "restored by the upgrade"},
    {"etc/vconsole.conf", Carried::yes, "restored by the upgrade"},
    // Read from the old root and written anew by the installer.
    {"etc/ntp.conf", Carried::partly,
     "only its \"server\" lines: the installer reads them and writes a new ntp.conf; "
     "anything else in it is lost"},
    {"etc/sysconfig/clock", Carried::partly, "only the time zone, re-created by the installer"},
    // Not on the list, worth saying why.
    {"etc/iscsi/initiatorname.iscsi", Carried::no,
     "not restored; xapi also keeps the IQN in host other-config:iscsi_iqn (restored with "
     "state.db), but that it rewrites this file from there at boot is not confirmed"},
};

bool matches(std::string_view pattern, std::string_view rel) {
  if (!pattern.empty() && pattern.back() == '/') return rel.substr(0, pattern.size()) == pattern;
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == rel;
  std::string_view pre = pattern.substr(0, star), post = pattern.substr(star + 1);
  if (rel.size() < pre.size() + post.size() || rel.substr(0, pre.size()) != pre ||
      rel.substr(rel.size() - post.size()) != post)
    return false;
  std::string_view middle = rel.substr(pre.size(), rel.size() - pre.size() - post.size());
  return middle.find('/') == std::string_view::npos;
}

}  // namespace

const char* to_string(Carried c) {
  switch (c) {
    case Carried::yes:
      return "yes";
    case Carried::partly:
      return "partly";
    case Carried::aside:
      return "aside";
    case Carried::no:
      return "no";
  }
  return "no";
}

CarryOver carry_over(std::string_view rel) {
  for (const Entry& e : kRestoreList)
    if (matches(e.pattern, rel)) return {e.verdict, e.note};
  return {Carried::no,
          "not in the installer's restore list: the new root has the release's own file, or none"};
}

}  // namespace xsguard::capture
