#include "log/stall_detector.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "log/blob_meter.h"
#include "log/clock.h"
#include "log/install_log_parser.h"
#include "log/known_failures.h"
#include "log/test_support.h"

using namespace xsguard::logwatch;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/xsguard-stall-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

void mkdirs(const std::string& p) { std::system(("mkdir -p '" + p + "'").c_str()); }

void touch(const std::string& p) { std::ofstream(p) << "x"; }

// xapi's layout: a message file plus four absolute symlinks to it.
void add_messages(const std::string& blobs, int from, int to) {
  for (int i = from; i < to; ++i) {
    std::string ts = std::to_string(1498412345 + i) + ".00000";
    std::string file = blobs + "/messages/" + ts;
    touch(file);
    std::string abs = "/var/lib/xcp/blobs/messages/" + ts;
    symlink(abs.c_str(), (blobs + "/messages/uuids/u" + std::to_string(i)).c_str());
    symlink(abs.c_str(), (blobs + "/messages/refs/r" + std::to_string(i)).c_str());
    symlink(abs.c_str(), (blobs + "/messages/gen/" + std::to_string(i)).c_str());
    symlink(abs.c_str(), (blobs + "/messages/VM/obj/" + ts).c_str());
  }
}

void make_blob_tree(const std::string& blobs) {
  for (const char* d : {"messages/uuids", "messages/refs", "messages/gen", "messages/VM/obj", "rrds"})
    mkdirs(blobs + "/" + d);
}
// Directories in make_blob_tree below blobs: messages, uuids, refs, gen, VM, obj, rrds.
constexpr uint64_t kDirs = 7;

}  // namespace

TEST_CASE("stall: fires once after the silence, then refreshes; activity ends it") {
  FakeClock clock;
  StallDetector d(120000, 5000);
  CHECK(d.next_deadline() == StallDetector::kNever);
  CHECK(d.poll(clock.monotonic_ms()) == StallDetector::Action::none);
  d.activity(clock.monotonic_ms());
  clock.advance_ms(119999);
  CHECK(d.poll(clock.monotonic_ms()) == StallDetector::Action::none);
  clock.advance_ms(1);
  CHECK(d.poll(clock.monotonic_ms()) == StallDetector::Action::stalled);
  CHECK(d.stalled());
  CHECK(d.poll(clock.monotonic_ms()) == StallDetector::Action::none);
  // Nothing measurable: report again only after another full stall period.
  CHECK(d.next_deadline() == clock.monotonic_ms() + 120000);
  d.set_measuring(true);
  CHECK(d.next_deadline() == clock.monotonic_ms() + 5000);
  clock.advance_ms(5000);
  CHECK(d.poll(clock.monotonic_ms()) == StallDetector::Action::refresh);
  CHECK(d.silent_ms(clock.monotonic_ms()) == 125000);
  CHECK(d.activity(clock.monotonic_ms()));
  CHECK_FALSE(d.stalled());
  CHECK_FALSE(d.activity(clock.monotonic_ms()));
}

TEST_CASE("stall: a target tree that grows while watched, against the source") {
  TempDir tmp;
  std::string src_root = tmp.path + "/upgrade-src-AbC123", dst_root = tmp.path + "/root";
  std::string src = blobs_dir(src_root), dst = blobs_dir(dst_root);
  make_blob_tree(src);
  add_messages(src, 0, 400);  // 400 messages = 2000 entries + directories
  const uint64_t total = 400 * 5 + kDirs;
  // The installer mounted the source: find it through a mounts file.
  std::string mounts = tmp.path + "/mounts";
  std::ofstream(mounts) << "/dev/sda1 / ext3 rw 0 0\n/dev/sda2 " << src_root
                        << " ext3 ro,relatime 0 0\n";

  FakeClock clock;
  StallDetector detector(120000, 5000);
  BlobMeter meter(dst_root, "", mounts);
  CHECK_FALSE(meter.target_exists());
  detector.activity(clock.monotonic_ms());

  make_blob_tree(dst);
  CHECK(meter.target_exists());
  clock.advance_ms(120000);
  REQUIRE(detector.poll(clock.monotonic_ms()) == StallDetector::Action::stalled);
  detector.set_measuring(true);
  BlobMeasure m = meter.tick(clock.monotonic_ms());
  CHECK(m.source_known);
  CHECK(m.source_entries == total);
  CHECK(m.target_entries == kDirs);
  uint64_t last = m.target_entries;
  for (int step = 1; step <= 4; ++step) {
    add_messages(dst, (step - 1) * 100, step * 100);  // the copy goes on
    clock.advance_ms(5000);
    REQUIRE(detector.poll(clock.monotonic_ms()) == StallDetector::Action::refresh);
    m = meter.tick(clock.monotonic_ms());
    CHECK(m.target_entries > last);
    last = m.target_entries;
  }
  // Let any estimate settle into exact counts.
  for (int i = 0; i < 5 && m.estimate; ++i) m = meter.tick(clock.monotonic_ms());
  CHECK(m.target_entries == total);
  CHECK(m.rate_per_s > 0);
  CHECK(m.eta_s == 0);
}

TEST_CASE("tree counter: counts like find, never follows symlinks, bounded per tick") {
  TempDir tmp;
  std::string root = tmp.path + "/blobs";
  make_blob_tree(root);
  add_messages(root, 0, 50);
  // A symlink to a big directory must count as one entry.
  mkdirs(tmp.path + "/elsewhere/a/b");
  symlink((tmp.path + "/elsewhere").c_str(), (root + "/link-to-dir").c_str());
  const uint64_t want = 50 * 5 + kDirs + 1;
  TreeCounter c(root, /*entry_budget=*/16, /*stat_budget=*/3);
  TreeCounter::Count n;
  int ticks = 0;
  do {
    n = c.tick();
    ++ticks;
  } while (!n.exact && ticks < 1000);
  CHECK(n.exists);
  CHECK(n.entries == want);
  CHECK(ticks >= int(want / 16));  // the budget really limits each tick
  TreeCounter missing(tmp.path + "/nope");
  CHECK_FALSE(missing.tick().exists);
}

TEST_CASE("tree counter: a changed directory is estimated, then counted exactly") {
  TempDir tmp;
  std::string root = tmp.path + "/blobs";
  mkdirs(root + "/m");
  for (int i = 0; i < 300; ++i) touch(root + "/m/f" + std::to_string(1000 + i));
  TreeCounter c(root, 100, 100);
  TreeCounter::Count n;
  for (int i = 0; i < 20 && !(n = c.tick()).exact; ++i) {}
  CHECK(n.entries == 301);
  for (int i = 300; i < 900; ++i) touch(root + "/m/f" + std::to_string(1000 + i));
  n = c.tick();  // re-reading 900 entries takes several ticks of 100
  CHECK_FALSE(n.exact);
  CHECK(n.entries > 301);
  for (int i = 0; i < 30 && !(n = c.tick()).exact; ++i) {}
  CHECK(n.entries == 901);
}

TEST_CASE("blob meter: the upgrade-src mount is read from /proc/mounts text") {
  CHECK(find_upgrade_source("/dev/sda1 /tmp/root ext3 rw 0 0\n"
                            "/dev/sda2 /tmp/upgrade-src-7GdpXq ext3 ro 0 0\n") ==
        "/tmp/upgrade-src-7GdpXq");
  CHECK(find_upgrade_source("/dev/sdb2 /tmp/with\\040space/upgrade-src-x ext3 ro 0 0") ==
        "/tmp/with space/upgrade-src-x");
  CHECK(find_upgrade_source("proc /proc proc rw 0 0\n") == "");
  CHECK(blobs_dir("/tmp/root/") == "/tmp/root/var/lib/xcp/blobs");
  CHECK(blobs_dir("/") == "/var/lib/xcp/blobs");
}

TEST_CASE("rate meter: rate and time left") {
  RateMeter r;
  CHECK(r.eta_s(100) == -1);
  r.sample(0, 0);
  r.sample(10000, 5000);
  CHECK(r.rate_per_s() == doctest::Approx(500));
  CHECK(r.eta_s(10000) == 10);
  r.sample(20000, 100);  // went backwards: a new copy, start over
  CHECK(r.rate_per_s() == 0);
}
