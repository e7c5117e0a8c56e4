#include "probe/disk_probe.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "model/errors.h"

using namespace xsguard;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text << "\n";
}

// A fake /sys/block: each disk a directory with a size (and dm/uuid for maps).
std::string fake_sys_block() {
  char tmpl[] = "/tmp/xsguard-sysblock-XXXXXX";
  std::string root = mkdtemp(tmpl);
  for (const char* name : {"sda", "nvme0n1", "loop0", "ram0", "zram0", "sr0", "md127", "dm-0",
                           "dm-1", "sdb"}) {
    std::string dir = root + "/" + name;
    mkdir(dir.c_str(), 0755);
    write_file(dir + "/size", std::string(name) == "sdb" ? "0" : "1000");
  }
  mkdir((root + "/dm-0/dm").c_str(), 0755);
  write_file(root + "/dm-0/dm/uuid", "mpath-3600508b1001c");
  mkdir((root + "/dm-1/dm").c_str(), 0755);
  write_file(root + "/dm-1/dm/uuid", "LVM-abcdef");
  return root;
}

}  // namespace

TEST_CASE("whole disks: skips virtual devices, LVM maps and empty drives") {
  std::string root = fake_sys_block();
  auto disks = list_whole_disks(root);
  CHECK(disks == std::vector<std::string>{"/dev/dm-0", "/dev/nvme0n1", "/dev/sda"});
  CHECK(list_whole_disks(root + "/missing").empty());
  std::string cmd = "rm -rf '" + root + "'";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("probing refuses missing, empty and non-disk paths with InputError") {
  CHECK_THROWS_AS(probe_disk("/nonexistent/disk.img", 0), InputError);
  char tmpl[] = "/tmp/xsguard-empty-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  CHECK_THROWS_AS(probe_disk(tmpl, 0), InputError);
  unlink(tmpl);
  CHECK_THROWS_AS(probe_disk("/tmp", 0), InputError);
}
