#include "capture/restore_list.h"

#include <doctest/doctest.h>

using namespace xsguard::capture;

TEST_CASE("capture restore list: what the upgrade brings back") {
  CHECK(carry_over("etc/resolv.conf").verdict == Carried::yes);
  CHECK(carry_over("root/.ssh/authorized_keys").verdict == Carried::yes);
  CHECK(carry_over("etc/ssh/ssh_host_rsa_key").verdict == Carried::yes);
  CHECK(carry_over("etc/ssh/sshd_config").verdict == Carried::no);
  CHECK(carry_over("etc/sysconfig/network-scripts/ifcfg-eth0").verdict == Carried::yes);
  CHECK(carry_over("etc/sysconfig/network-scripts/sub/ifcfg-eth0").verdict == Carried::no);
  CHECK(carry_over("etc/firstboot.d/data/host.conf").verdict == Carried::yes);
  CHECK(carry_over("etc/firstboot.d/data/host.txt").verdict == Carried::no);
  CHECK(carry_over("var/lib/xcp/blobs/messages/1").verdict == Carried::yes);
  CHECK(carry_over("etc/multipath.conf").verdict == Carried::aside);
  CHECK(carry_over("etc/ntp.conf").verdict == Carried::partly);
  for (const char* p : {"etc/fstab", "etc/crontab", "etc/cron.d/x", "var/spool/cron/root", "etc/rc.d/rc.local",
                        "etc/hosts", "etc/sysctl.conf", "etc/modprobe.d/x.conf", "etc/snmp/snmpd.conf",
                        "etc/yum.repos.d/mine.repo", "etc/iscsi/initiatorname.iscsi"})
    CHECK_MESSAGE(carry_over(p).verdict == Carried::no, p);
  CHECK(carry_over("etc/iscsi/initiatorname.iscsi").note.find("not confirmed") != std::string::npos);
}
