#include "tui/demo.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "commands/blobs.h"
#include "commands/check.h"
#include "tui/demo_assets.h"

using namespace xsguard;
using namespace xsguard::tui;

namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return lstat(p.c_str(), &st) == 0;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("demo: the bundled image is the Dell layout and check says so") {
  Demo demo(10);
  struct stat st {};
  REQUIRE(stat(demo.disk().c_str(), &st) == 0);
  CHECK(uint64_t(st.st_size) == kDemoAssets.image_size);
  CHECK(uint64_t(st.st_blocks) * 512 < 64ull << 20);  // sparse
  CheckOptions c;
  c.disks = {demo.disk()};
  c.firmware = "bios";
  Report r = run_check(c);
  bool utility = false, grub = false;
  for (const auto& f : r.findings) {
    utility |= f.id == "disk.utility_partition";
    grub |= f.id == "grub.embed" && f.evidence["verdict"] == "at_risk";
  }
  CHECK(utility);
  CHECK(grub);
  // The same table as the image `make images` builds from images/dell-xs65.spec.
  const std::string built = "build/images/dell-xs65.img";
  if (exists(built)) {
    c.disks = {built};
    Report b = run_check(c);
    REQUIRE(b.disks.size() == 1);
    REQUIRE(r.disks.size() == 1);
    CHECK(b.disks[0]["partitions"] == r.disks[0]["partitions"]);
    CHECK(b.disks[0]["grub_embed"] == r.disks[0]["grub_embed"]);
  }
}

TEST_CASE("demo: the old root's message store has xapi's layout and no dangling links") {
  char dir[] = "/tmp/xsguard-demo-blobs-XXXXXX";
  REQUIRE(mkdtemp(dir));
  make_demo_blobs(dir, 200, 730, 1700000000);
  BlobsScan s = scan_blobs(dir, 1700000000);
  CHECK(s.messages == 200);
  CHECK(s.dangling == 0);
  CHECK(s.symlinks == 800);
  CHECK(s.outside == 0);
  CHECK(system((std::string("rm -rf ") + dir).c_str()) == 0);
}

TEST_CASE("demo: the log is replayed into the file and everything goes at the end") {
  std::string dir;
  {
    Demo demo(10);
    dir = demo.dir();
    CHECK(exists(demo.old_root() + "/var/lib/xcp/blobs/messages"));
    CHECK(slurp(demo.log()).empty());
    demo.start();
    for (int i = 0; i < 50 && slurp(demo.log()).find("Version 7.1.0") == std::string::npos; ++i)
      usleep(20000);
    CHECK(slurp(demo.log()).find("Version 7.1.0") != std::string::npos);
  }  // stops the replay at once and removes the directory
  CHECK_FALSE(exists(dir));
}
