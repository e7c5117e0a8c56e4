#include "capture/collect.h"

#include <doctest/doctest.h>

#include "capture/testing/tree.h"

using namespace xsguard::capture;
using xsguard::capture::testing::TempTree;

namespace {
const CapturedItem* find(const Collected& c, const std::string& path) {
  for (const auto& it : c.inventory.items)
    if (it.path == path) return &it;
  return nullptr;
}
}  // namespace

TEST_CASE("capture collect: customised lines, skip reasons, symlinks recorded") {
  TempTree t;
  t.put("etc/xensource-inventory", "INSTALLATION_UUID='u-1'\nPRODUCT_BRAND='XenServer'\nPRODUCT_VERSION='7.2.0'\n");
  t.put("etc/fstab", "LABEL=root-a / ext3 defaults 1 1\nnas:/b /mnt/b nfs defaults 0 0\n");
  t.put("etc/crontab", "SHELL=/bin/bash\nMAILTO=root\n");
  t.put("etc/rc.d/rc.local", "#!/bin/sh\n# header\n/usr/bin/a\n# inside\n/usr/bin/b\ntouch /var/lock/subsys/local\n");
  t.put("etc/sysctl.conf", std::string(300, 'x'));
  t.put("var/spool/cron/root", std::string("\0\1\2", 3));
  t.link("etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
  t.put("etc/iscsi/initiatorname.iscsi", "# generated\nInitiatorName=iqn.x:h\n");
  CollectLimits l;
  l.max_file = 200;
  Collected c = collect(RootedDir(t.path()), "2024-01-01T00:00:00Z", l);

  CHECK(c.inventory.installation_uuid == "u-1");
  CHECK(c.inventory.version == "7.2.0");
  const CapturedItem* fstab = find(c, "etc/fstab");
  REQUIRE(fstab);
  CHECK(fstab->customised == "yes");
  CHECK(fstab->custom_lines == Lines{"nas:/b /mnt/b nfs defaults 0 0"});
  CHECK(fstab->archived == "files/etc/fstab");
  CHECK(find(c, "etc/crontab")->customised == "no");
  CHECK(find(c, "etc/rc.d/rc.local")->custom_lines == Lines{"/usr/bin/a", "# inside", "/usr/bin/b"});
  CHECK(find(c, "etc/sysctl.conf")->skipped_why.find("larger than 200") == 0);
  CHECK(find(c, "var/spool/cron/root")->skipped_why.find("not a text file") == 0);
  CHECK(find(c, "etc/sysctl.d/99-sysctl.conf")->skipped_why == "a symlink to ../sysctl.conf; recorded, not copied");
  CHECK(find(c, "etc/iscsi/initiatorname.iscsi")->custom_lines == Lines{"InitiatorName=iqn.x:h"});
  CHECK(find(c, "etc/iscsi/initiatorname.iscsi")->customised == "host-specific");
  CHECK(!find(c, "etc/hosts"));  // absent: nothing to record
  CHECK(c.inventory.xapi["status"] == "absent");
  CHECK(c.files.size() == 4);  // fstab, crontab, rc.local, initiatorname
  for (const auto& s : catalog()) CHECK(find_spec(s.id) == &s);
}
