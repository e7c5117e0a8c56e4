#include "capture/catalog.h"

#include <cstring>

namespace xsguard::capture {

const char* to_string(PostAction a) {
  switch (a) {
    case PostAction::lines:
      return "add missing lines";
    case PostAction::block:
      return "add the customised block";
    case PostAction::new_file:
      return "add the file, or its missing lines";
    case PostAction::iqn:
      return "set the IQN";
    case PostAction::report:
      return "report only";
  }
  return "";
}

const std::vector<ItemSpec>& catalog() {
  using S = StockRule;
  using K = KeyRule;
  using A = PostAction;
  static const std::vector<ItemSpec> items = {
      {"fstab", "etc/fstab", false, S::fstab, K::fstab_mount, A::lines, "file systems mounted at boot"},
      {"crontab", "etc/crontab", false, S::crontab, K::none, A::lines, "the system crontab"},
      {"cron.d", "etc/cron.d", true, S::unknown, K::none, A::new_file, "cron jobs"},
      {"spool-cron", "var/spool/cron", true, S::unknown, K::none, A::new_file, "users' crontabs"},
      {"rc.local", "etc/rc.d/rc.local", false, S::rc_local, K::none, A::block,
       "commands run at the end of boot"},
      {"sysctl.conf", "etc/sysctl.conf", false, S::unknown, K::sysctl, A::lines, "kernel settings"},
      {"sysctl.d", "etc/sysctl.d", true, S::unknown, K::sysctl, A::new_file, "kernel settings"},
      {"modprobe.d", "etc/modprobe.d", true, S::unknown, K::modprobe, A::new_file,
       "kernel module options and blacklists"},
      {"iscsi-iqn", "etc/iscsi/initiatorname.iscsi", false, S::unknown, K::iscsi_name, A::iqn,
       "this host's iSCSI initiator name (IQN)"},
      {"hosts", "etc/hosts", false, S::hosts, K::none, A::report, "static host names"},
      {"resolv.conf", "etc/resolv.conf", false, S::unknown, K::none, A::report, "DNS resolvers"},
      {"ntp.conf", "etc/ntp.conf", false, S::unknown, K::none, A::report, "time servers (ntpd)"},
      {"chrony.conf", "etc/chrony.conf", false, S::unknown, K::none, A::report, "time servers (chrony)"},
      {"multipath.conf", "etc/multipath.conf", false, S::unknown, K::none, A::report,
       "multipath devices"},
      {"snmp", "etc/snmp", true, S::unknown, K::none, A::report, "SNMP agent configuration"},
      {"authorized_keys", "root/.ssh/authorized_keys", false, S::unknown, K::none, A::report,
       "keys allowed to log in as root"},
      {"sshd_config", "etc/ssh/sshd_config", false, S::unknown, K::none, A::report,
       "SSH server configuration"},
      {"yum.repos.d", "etc/yum.repos.d", true, S::unknown, K::none, A::report, "package repositories"},
  };
  return items;
}

const ItemSpec* find_spec(const char* id) {
  for (const auto& s : catalog())
    if (std::strcmp(s.id, id) == 0) return &s;
  return nullptr;
}

}  // namespace xsguard::capture
