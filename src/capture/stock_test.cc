#include "capture/stock.h"

#include <doctest/doctest.h>

using namespace xsguard::capture;

TEST_CASE("capture stock: fstab entries the installer writes") {
  for (const char* l : {"LABEL=root-abcdef / ext3 defaults 1 1", "LABEL=swap-abcdef swap swap defaults 0 0",
                        "/var/swap/swap.001 swap swap defaults 0 0", "LABEL=logs-abcdef /var/log ext3 defaults 0 2",
                        "none /dev/pts devpts defaults 0 0", "none /proc proc defaults 0 0",
                        "UUID=1234-ABCD /boot/efi vfat defaults 0 2",
                        "/opt/xensource/packages/iso/XenCenter.iso /var/xen/xc-install iso9660 loop,ro 0 0",
                        "# comment", ""})
    CHECK_MESSAGE(is_stock_line(StockRule::fstab, l), l);
  for (const char* l : {"nfs1:/backup /mnt/backup nfs defaults 0 0", "/dev/sdb1 /var/log ext3 defaults 0 2",
                        "/dev/sdc1 swap swap defaults 0 0", "garbage"})
    CHECK_MESSAGE(!is_stock_line(StockRule::fstab, l), l);
}

TEST_CASE("capture stock: crontab, rc.local, hosts, unknown") {
  CHECK(is_stock_line(StockRule::crontab, "MAILTO=root"));
  CHECK(is_stock_line(StockRule::crontab, "01 * * * * root run-parts /etc/cron.hourly"));
  CHECK(!is_stock_line(StockRule::crontab, "*/5 * * * * root /usr/local/bin/check"));
  CHECK(!is_stock_line(StockRule::crontab, "0 0 * * * root run-parts /opt/mine"));
  CHECK(is_stock_line(StockRule::rc_local, "touch  /var/lock/subsys/local"));
  CHECK(is_stock_line(StockRule::rc_local, "#!/bin/bash"));
  CHECK(!is_stock_line(StockRule::rc_local, "/usr/local/bin/start"));
  CHECK(is_stock_line(StockRule::hosts, "127.0.0.1   localhost localhost.localdomain"));
  CHECK(is_stock_line(StockRule::hosts, "::1 localhost6"));
  CHECK(!is_stock_line(StockRule::hosts, "10.0.0.5 nas"));
  CHECK(!is_stock_line(StockRule::hosts, "127.0.0.1 localhost myhost"));
  CHECK(!is_stock_line(StockRule::unknown, "vm.swappiness = 10"));
  CHECK(is_stock_line(StockRule::unknown, "# only comments"));
  CHECK(std::string(stock_basis(StockRule::unknown)).find("merge base") != std::string::npos);
}

TEST_CASE("capture stock: line keys") {
  CHECK(line_key(KeyRule::fstab_mount, "nfs:/a /mnt/a nfs defaults 0 0") == "mount /mnt/a");
  CHECK(line_key(KeyRule::fstab_mount, "/dev/sdb2 swap swap defaults 0 0") == "");
  CHECK(line_key(KeyRule::sysctl, " vm.swappiness=10") == line_key(KeyRule::sysctl, "vm.swappiness = 60"));
  CHECK(line_key(KeyRule::sysctl, "; comment = x") == "");
  CHECK(line_key(KeyRule::modprobe, "options e1000e IntMode=1") == "options e1000e");
  CHECK(line_key(KeyRule::modprobe, "blacklist floppy") == "blacklist floppy");
  CHECK(line_key(KeyRule::iscsi_name, "InitiatorName=iqn.x") == "InitiatorName");
  CHECK(line_key(KeyRule::none, "anything") == "");
  CHECK(line_key(KeyRule::sysctl, "# k = v") == "");
}
