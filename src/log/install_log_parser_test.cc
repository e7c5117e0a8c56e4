#include "log/install_log_parser.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "log/test_support.h"

using namespace xsguard::logwatch;
using namespace xsguard::logwatch::testing;

namespace {

std::vector<Record> parse_all(const std::string& text, size_t chunk = 0, ParserOptions o = {}) {
  CollectingSink sink;
  InstallLogParser p(sink, o);
  if (!chunk) {
    p.feed(text);
  } else {
    for (size_t i = 0; i < text.size(); i += chunk)
      p.feed(text.data() + i, std::min(chunk, text.size() - i));
  }
  p.finish();
  return sink.records;
}

const std::string kGrubErr =
    "Installing for i386-pc platform.\n"
    "/usr/sbin/grub-install: warning: your embedding area is unusually small.  core.img won't "
    "fit in it..\n"
    "/usr/sbin/grub-install: warning: Embedding is not possible.  GRUB can only be installed in "
    "this setup by using blocklists.  However, blocklists are UNRELIABLE and their use is "
    "discouraged..\n"
    "/usr/sbin/grub-install: error: will not proceed with blocklists.";

std::string grub_failure_excerpt() {
  return rec("TASK: Evaluating <function installBootLoader at 0x7f1b2c1c0dd5>[]", 0) +
         rec("ran ['chroot', '/tmp/root', '/usr/sbin/grub-install', '--target=i386-pc', "
             "'/dev/sda']; rc 1\nSTANDARD ERROR:\n" + kGrubErr, 2) +
         rec("INSTALL FAILED.", 3) + rec("A fatal exception occurred:", 3) +
         rec("Traceback (most recent call last):\n"
             "  File \"/opt/xensource/installer/backend.py\", line 1041, in installBootLoader\n"
             "    raise RuntimeError(\"Failed to install bootloader: %s\" % err)\n"
             "RuntimeError: Failed to install bootloader: " + kGrubErr, 3);
}

}  // namespace

TEST_CASE("parser: a record's continuation lines belong to it") {
  auto r = parse_all(rec("Upgradeability test failed:\n  Firstboot:- 05-prepare-networking\n"
                         "  Firstboot:- 60-import-keys") +
                     rec("next", 1));
  REQUIRE(r.size() == 2);
  CHECK(r[0].first_line == 1);
  CHECK(r[0].last_line == 3);
  CHECK(r[0].body_lines == 2);
  CHECK(r[0].message == "Upgradeability test failed:");
  CHECK(r[0].body == "  Firstboot:- 05-prepare-networking\n  Firstboot:- 60-import-keys");
  CHECK(r[0].level == "INFO");
  CHECK(r[0].time == "2017-06-20 09:00:00");
  CHECK(r[1].first_line == 4);
  CHECK(r[1].message == "next");
}

TEST_CASE("parser: a subprocess record becomes one command with argv, rc, stdout, stderr") {
  auto r = parse_all(rec("ran ['cp', '-a', '/tmp/upgrade-src-7GdpXq/var/lib/xcp/blobs', "
                         "'/tmp/root/var/lib/xcp']; rc 1\nSTANDARD OUT:\nline one\nline two\n"
                         "STANDARD ERROR:\ncp: cannot create directory: No space left on device") +
                     rec("ran ['umount', '/tmp/x']; rc 0", 1));
  REQUIRE(r.size() == 2);
  CHECK(r[0].kind == RecordKind::command);
  CHECK(r[0].command.argv ==
        std::vector<std::string>{"cp", "-a", "/tmp/upgrade-src-7GdpXq/var/lib/xcp/blobs",
                                 "/tmp/root/var/lib/xcp"});
  CHECK(r[0].command.rc == 1);
  CHECK(r[0].command.out == "line one\nline two");
  CHECK(r[0].command.err == "cp: cannot create directory: No space left on device");
  CHECK(r[0].last_line == 6);
  CHECK(r[1].kind == RecordKind::command);
  CHECK(r[1].command.argv.size() == 2);
  CHECK(r[1].command.out.empty());
}

TEST_CASE("parser: CRLF line ends give the same records as LF") {
  std::string lf = grub_failure_excerpt();
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto a = parse_all(lf), b = parse_all(crlf);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].message == b[i].message);
    CHECK(a[i].body == b[i].body);
    CHECK(a[i].kind == b[i].kind);
    CHECK(a[i].command.err == b[i].command.err);
  }
}

TEST_CASE("parser: any split of the input gives the same records") {
  std::string text = grub_failure_excerpt() + rec("tail record", 9);
  auto whole = parse_all(text);
  for (size_t chunk : {1, 2, 3, 7, 64, 4096}) {
    auto split = parse_all(text, chunk);
    REQUIRE(split.size() == whole.size());
    for (size_t i = 0; i < whole.size(); ++i) {
      CHECK(split[i].message == whole[i].message);
      CHECK(split[i].body == whole[i].body);
      CHECK(split[i].first_line == whole[i].first_line);
    }
  }
}

TEST_CASE("parser: a truncated last line is still read, and said to be cut") {
  CollectingSink sink;
  InstallLogParser p(sink);
  p.feed(rec("one") + "INFO     [2017-06-20 09:00:01] TASK: Evaluating <function wri");
  CHECK(sink.records.size() == 0);  // the first record is complete only at the next
  p.flush();
  CHECK(sink.records.size() == 1);
  p.finish();
  REQUIRE(sink.records.size() == 2);
  CHECK(sink.records[1].message == "TASK: Evaluating <function wri");
  CHECK(sink.has_notice("no_newline"));
  CHECK(p.lines() == 2);
}

TEST_CASE("parser: binary garbage never crashes and every line is counted") {
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::string junk(20000 + round * 1000, '\0');
    for (auto& c : junk) c = char(rng() & 0xff);
    // Sprinkle real records among the garbage.
    junk += rec("ran ['x']; rc 0\nSTANDARD OUT:\n\x01\x02\xff");
    junk += std::string("\0\0\r\r\n", 5);
    CollectingSink sink;
    ParserOptions o;
    o.max_line = 4096;
    InstallLogParser p(sink, o);
    size_t pos = 0;
    while (pos < junk.size()) {
      size_t n = std::min<size_t>(rng() % 5000 + 1, junk.size() - pos);
      p.feed(junk.data() + pos, n);
      pos += n;
    }
    p.finish();
    size_t nl = size_t(std::count(junk.begin(), junk.end(), '\n'));
    CHECK(p.lines() == nl + (junk.back() == '\n' ? 0 : 1));
    uint64_t last = 0;
    for (const auto& r : sink.records) {
      CHECK(r.first_line > last);
      last = r.last_line;
      CHECK(r.message.size() <= o.max_line);
    }
  }
}

TEST_CASE("parser: a 1 MB single line is cut to the limit and reported") {
  std::string big = "INFO     [2017-06-20 09:00:00] " + std::string(1 << 20, 'x') + "\n" + rec("after", 1);
  for (size_t chunk : {size_t(0), size_t(65536), size_t(1000)}) {
    CollectingSink sink;
    InstallLogParser p(sink);
    if (!chunk)
      p.feed(big);
    else
      for (size_t i = 0; i < big.size(); i += chunk) p.feed(big.data() + i, std::min(chunk, big.size() - i));
    p.finish();
    REQUIRE(sink.records.size() == 2);
    CHECK(sink.records[0].cut);
    CHECK(sink.records[0].message.size() <= 64 * 1024);
    CHECK(sink.records[1].message == "after");
    CHECK(sink.records[1].first_line == 2);
    CHECK(sink.has_notice("line_cut"));
  }
}

TEST_CASE("parser: lines before the first record are an orphan record") {
  auto r = parse_all("stray line\nanother\n" + rec("real"));
  REQUIRE(r.size() == 2);
  CHECK(r[0].kind == RecordKind::orphan);
  CHECK(r[0].message == "stray line");
  CHECK(r[0].body == "another");
  CHECK(r[1].first_line == 3);
}

TEST_CASE("parser: a huge record keeps a bounded body") {
  std::string text = rec("ran ['find', '/']; rc 0\nSTANDARD OUT:");
  for (int i = 0; i < 50000; ++i) text += "/var/lib/xcp/blobs/messages/refs/OpaqueRef:" + std::to_string(i) + "\n";
  CollectingSink sink;
  ParserOptions o;
  o.max_body = 64 * 1024;
  InstallLogParser p(sink, o);
  p.feed(text);
  p.finish();
  REQUIRE(sink.records.size() == 1);
  CHECK(sink.records[0].body.size() <= o.max_body);
  CHECK(sink.records[0].dropped_lines > 0);
  CHECK(sink.records[0].last_line == 50002);
  CHECK(sink.has_notice("record_cut"));
}

TEST_CASE("parser: phases and tasks give the bar's percentage (completeUpgrade at 72%)") {
  static const char* kTasks[] = {"writeResolvConf", "writeMachineID", "writeKeyboardConfiguration",
                                 "configureNetworking", "prepareSwapfile", "writeFstab", "enableAgent",
                                 "mkinitrd", "configureISCSI", "touchSshAuthorizedKeys", "setRootPassword",
                                 "setTimeZone", "writeXencommons", "configureSRMultipathing",
                                 "adjustISCSITimeoutForFile", "writeInventory"};
  std::string text = rec("DISPATCH: NEW PHASE: Completing installation");
  int t = 1;
  for (const char* task : kTasks)
    text += rec(std::string("TASK: Evaluating <function ") + task + " at 0x7f1b2c1c0dd5>[]", t++);
  text += rec("TASK: Evaluating <bound method ThirdGenUpgrader.completeUpgrade of "
              "<upgrade.ThirdGenUpgrader object at 0x7f1b2c3d4e50>>['mounts', 'primary-disk', "
              "'backup-partnum']", t++);
  text += rec("Restoring /var/lib/xcp/blobs", t++);
  CollectingSink sink;
  ParserOptions o;
  o.boot_mode = BootMode::bios;
  InstallLogParser p(sink, o);
  p.feed(text);
  p.finish();
  const Progress& pr = p.progress();
  CHECK(pr.phase == "Completing installation");
  CHECK(pr.task == "completeUpgrade");
  CHECK(pr.task_index == 16);
  CHECK(pr.tasks_total == 22);
  CHECK(pr.percent == 72);
  CHECK(pr.restoring == "/var/lib/xcp/blobs");
  CHECK(sink.progress.front().what == std::string("phase"));

  o.boot_mode = BootMode::uefi;
  CollectingSink s2;
  InstallLogParser p2(s2, o);
  p2.feed(text);
  p2.finish();
  CHECK(p2.progress().percent == 76);
}

TEST_CASE("parser: yum package progress") {
  CollectingSink sink;
  InstallLogParser p(sink);
  p.feed(rec("DISPATCH: NEW PHASE: Installing XenServer") +
         rec("YUM:   Installing : kernel-4.4.27-600.1.24.x86_64   1/4", 1) +
         rec("YUM:   Installing : xapi-core-1.49.0-1.x86_64   3/4", 2) +
         rec("YUM stderr: warning: NOKEY", 3));
  p.finish();
  CHECK(p.progress().yum_done == 3);
  CHECK(p.progress().yum_total == 4);
  CHECK(p.progress().percent == 75);
  CHECK(sink.records[1].kind == RecordKind::yum);
}

TEST_CASE("parser: silences between records are remembered with the running task") {
  ParserOptions o;
  o.stall_after_s = 120;
  CollectingSink sink;
  InstallLogParser p(sink, o);
  p.feed(rec("TASK: Evaluating <function completeUpgrade at 0x1>[]", 0) +
         rec("Restoring /var/lib/xcp/blobs", 1) +
         rec("ran ['cp', '-a', 'a', 'b']; rc 0", 2401) + rec("quick", 2402));
  p.finish();
  REQUIRE(p.gaps().size() == 1);
  CHECK(p.gaps()[0].seconds == 2400);
  CHECK(p.gaps()[0].task == "completeUpgrade");
  CHECK(p.gaps()[0].restoring == "/var/lib/xcp/blobs");
  CHECK(p.gaps()[0].line_before == 2);
  CHECK(p.gaps()[0].line_after == 3);
}

TEST_CASE("parser: truncation restarts line numbers and keeps findings") {
  CollectingSink sink;
  InstallLogParser p(sink);
  p.feed(rec("Script returned 2") + rec("x", 1));
  p.restart("truncated");
  p.feed(rec("again"));
  p.finish();
  REQUIRE(sink.records.size() == 3);
  CHECK(sink.records[2].first_line == 1);
  CHECK(sink.has_notice("restarted"));
  CHECK(p.findings().size() == 1);
}

// --- known failures, each on a realistic excerpt

namespace {
// The findings as the final report has them (repeated hits merged).
struct Result {
  std::vector<xsguard::Finding> findings;
};
Result run(const std::string& text) {
  CollectingSink sink;
  InstallLogParser p(sink);
  p.feed(text);
  p.finish();
  CHECK(sink.findings.size() == p.findings().size());  // each id shown once, live
  return {p.findings()};
}
const xsguard::Finding* find(const Result& s, const std::string& id) {
  for (const auto& f : s.findings)
    if (f.id == id) return &f;
  return nullptr;
}
}  // namespace

TEST_CASE("failure: GRUB embedding, bootloader and install failure from one excerpt") {
  auto s = run(grub_failure_excerpt());
  const auto* g = find(s, "log.grub_embed");
  REQUIRE(g);
  CHECK(g->inhibitor);
  CHECK(g->evidence["disk"] == "/dev/sda");
  CHECK(g->evidence["lines"][0] == 5);  // the first embedding message, in the command
  CHECK(g->evidence["task"] == "installBootLoader");
  REQUIRE(g->remediation.size() >= 2);
  CHECK(g->remediation[0].argv == std::vector<std::string>{"xsguard", "check", "--disk", "/dev/sda"});
  CHECK(g->remediation[1].argv ==
        std::vector<std::string>{"xsguard", "fix", "utility-partition", "--disk", "/dev/sda"});
  const auto* b = find(s, "log.bootloader_failed");
  REQUIRE(b);
  const auto* f = find(s, "log.install_failed");
  REQUIRE(f);
  CHECK(f->evidence["exception_type"] == "RuntimeError");
  CHECK(f->evidence["exception_message"].get<std::string>().rfind("Failed to install bootloader", 0) == 0);
  CHECK(f->evidence["lines"].size() == 2);
}

TEST_CASE("failure: GRUB's message without the grub-install prefix, lower case") {
  auto s = run(rec("Failed to install bootloader: error: embedding is not possible, but this is "
                   "required for cross-disk install."));
  const auto* g = find(s, "log.grub_embed");
  REQUIRE(g);
  CHECK_FALSE(g->evidence.contains("disk"));
  CHECK(g->remediation[0].kind == xsguard::Remediation::Kind::hint);
  CHECK(find(s, "log.bootloader_failed"));
}

TEST_CASE("failure: install failed without a traceback still reports") {
  auto s = run(rec("INSTALL FAILED."));
  const auto* f = find(s, "log.install_failed");
  REQUIRE(f);
  CHECK(f->evidence["lines"][0] == 1);
}

TEST_CASE("failure: not upgradeable (missing first-boot state)") {
  auto s = run(rec("Cannot upgrade nvme0n1, expected file missing: var/lib/misc/ran-storage-init "
                   "(installation never booted?)") +
               rec("Upgradeability test failed:\n  Firstboot:- 05-prepare-networking", 1));
  const auto* f = find(s, "log.not_upgradeable");
  REQUIRE(f);
  CHECK(f->evidence["disk"] == "nvme0n1");
  CHECK(f->evidence["missing_file"] == "var/lib/misc/ran-storage-init");
  CHECK(f->evidence["lines"].size() == 2);
  CHECK(f->inhibitor);
}

TEST_CASE("failure: scan failed, boot mode, no disks, HA, master first") {
  CHECK(find(run(rec("A problem occurred whilst scanning for existing installations:")), "log.scan_failed"));
  auto bm = run(rec("Installer mode (BIOS) is mismatched with target boot mode (UEFI)"));
  const auto* f = find(bm, "log.boot_mode_mismatch");
  REQUIRE(f);
  CHECK(f->evidence["installer_mode"] == "BIOS");
  CHECK(f->evidence["target_mode"] == "UEFI");
  CHECK(find(run(rec("No Disks: no disks were found to install on.")), "log.no_disks"));
  CHECK(find(run(rec("No disks found")), "log.no_disks"));
  CHECK(find(run(rec("HA is enabled on the pool this host belongs to")), "log.ha_enabled"));
  CHECK(find(run(rec("This host is a pool member: the pool master must be upgraded first")),
             "log.master_first"));
}

TEST_CASE("failure: script returned N, no space left") {
  auto s = run(rec("ran ['/tmp/scripts/post.sh', '0']; rc 3") + rec("Script returned 3", 1));
  const auto* f = find(s, "log.script_failed");
  REQUIRE(f);
  CHECK(f->evidence["rc"] == 3);
  CHECK(f->evidence["lines"][0] == 2);
  auto n = run(rec("ran ['cp', '-a', 'a', 'b']; rc 1\nSTANDARD ERROR:\ncp: cannot create symbolic "
                   "link 'x': No space left on device\ncp: cannot create symbolic link 'y': No "
                   "space left on device"));
  const auto* ns = find(n, "log.no_space");
  REQUIRE(ns);
  CHECK(ns->evidence["lines"].size() == 2);
  CHECK(n.findings.size() == 1);  // repeated hits merge into one finding
}

TEST_CASE("failure: an ordinary upgrade log has none") {
  auto s = run(rec("Restoring /var/lib/xcp/blobs") + rec("ran ['cp', '-a', 'a', 'b']; rc 0", 1) +
               rec("WARNING: /etc/xensource/license did not exist in the backup image.", 2));
  CHECK(s.findings.empty());
}
