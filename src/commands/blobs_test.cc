#include "commands/blobs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "model/errors.h"
#include "store/blob_tree.h"
#include "store/journal.h"
#include "store/tar_archive.h"

using namespace xsguard;
using namespace xsguard::store;

namespace {

constexpr int64_t kNow = 1700000000;  // all message times are relative to this

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/xsguard-blobs-test.XXXXXX";
    REQUIRE(mkdtemp(t) != nullptr);
    path = t;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (system(cmd.c_str()) != 0) {
    }
  }
};

void mkdirs(const std::string& p) {
  std::string cur;
  for (size_t i = 1; i <= p.size(); ++i)
    if (i == p.size() || p[i] == '/') mkdir(p.substr(0, i).c_str(), 0755);
}

void write_file(const std::string& p, const std::string& data, mode_t mode = 0600) {
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, data.data(), data.size()) == ssize_t(data.size()));
  close(fd);
  chmod(p.c_str(), mode);
}

void set_mtime(const std::string& p, int64_t s, long ns) {
  struct timespec ts[2] = {{time_t(s), ns}, {time_t(s), ns}};
  utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// ROOT/var/lib/xcp/blobs with `n` messages, message i being (n - i) days old, each a
// file plus its four absolute links; `dangling` extra links to missing messages.
std::string make_tree(const std::string& root, int n, int dangling = 0,
                      const char* host = "/var/lib/xcp/blobs") {
  std::string b = root + host;
  for (const char* d : {"/messages/uuids", "/messages/refs", "/messages/gen",
                        "/messages/VM/0a1b-vm", "/messages/Host/77-host", "/rrds"})
    mkdirs(b + d);
  for (int i = 0; i < n; ++i) {
    int64_t t = kNow - int64_t(n - i) * 86400 + 123;
    std::string ts = std::to_string(t) + "." + (i % 2 ? "50000" : "00000");
    const char* cls = i % 3 ? "VM" : "Host";
    std::string obj = i % 3 ? "0a1b-vm" : "77-host";
    write_file(b + "/messages/" + ts, "<message><generation>" + std::to_string(100 + i) +
                                          "</generation><ref>OpaqueRef:r" + std::to_string(i) +
                                          "</ref><name>" + (i % 2 ? "VM_STARTED" : "ALARM") +
                                          "</name><cls>" + cls + "</cls></message>");
    set_mtime(b + "/messages/" + ts, t, i % 2 ? 500000000 : 0);
    std::string target = std::string(host) + "/messages/" + ts;
    for (std::string l : {b + "/messages/" + cls + "/" + obj + "/" + ts,
                          b + "/messages/uuids/u" + std::to_string(i),
                          b + "/messages/refs/OpaqueRef:r" + std::to_string(i),
                          b + "/messages/gen/" + std::to_string(100 + i)}) {
      REQUIRE(symlink(target.c_str(), l.c_str()) == 0);
      set_mtime(l, t, 250000000);
    }
  }
  for (int k = 0; k < dangling; ++k)
    REQUIRE(
        symlink((std::string(host) + "/messages/1000000" + std::to_string(k) + ".00000").c_str(),
                (b + "/messages/uuids/dangling" + std::to_string(k)).c_str()) == 0);
  write_file(b + "/rrds/host.gz", std::string(3000, 'r'), 0644);
  return b;
}

// Everything about every non-directory entry below dir: name, type, mode, owner,
// mtime, link target, content.
std::string snapshot(const std::string& dir) {
  std::vector<std::string> lines;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    std::string p = dir + (rel.empty() ? "" : "/" + rel);
    DIR* d = opendir(p.c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string r = rel.empty() ? n : rel + "/" + n;
      struct stat st {};
      lstat((dir + "/" + r).c_str(), &st);
      std::ostringstream l;
      l << r << ' ' << std::oct << st.st_mode << std::dec << ' ' << st.st_uid << ' ' << st.st_gid;
      if (S_ISDIR(st.st_mode)) {
        lines.push_back(l.str());
        walk(r);
        continue;
      }
      l << ' ' << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec;
      if (S_ISLNK(st.st_mode)) {
        char buf[4096];
        ssize_t k = readlink((dir + "/" + r).c_str(), buf, sizeof buf);
        l << " -> " << std::string(buf, size_t(std::max<ssize_t>(k, 0)));
      } else {
        std::ifstream in(dir + "/" + r, std::ios::binary);
        l << ' ' << std::string(std::istreambuf_iterator<char>(in), {});
      }
      lines.push_back(l.str());
    }
    closedir(d);
  };
  walk("");
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

size_t count_entries(const std::string& dir) {
  std::string s = snapshot(dir);
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

bool exists(const std::string& p) {
  struct stat st {};
  return lstat(p.c_str(), &st) == 0;
}

// Fails the Nth write or fsync with a chosen errno.
struct FaultIo : Io {
  int fail_write_at = -1, fail_fsync_at = -1, err = EIO;
  int writes = 0, fsyncs = 0;
  bool pwrite_all(int fd, const void* b, size_t n, uint64_t off) override {
    if (writes++ == fail_write_at) return errno = err, false;
    return Io::pwrite_all(fd, b, n, off);
  }
  bool fsync(int fd) override {
    if (fsyncs++ == fail_fsync_at) return errno = err, false;
    return Io::fsync(fd);
  }
};

BlobsPruneOptions prune_opts(const std::string& root, const std::string& backup, int64_t days) {
  BlobsPruneOptions o;
  o.root = root;
  o.older_than_days = days;
  o.backup = backup;
  o.apply = true;
  o.now = kNow;
  return o;
}

int restore(const std::string& archive, const std::string& root) {
  std::ostringstream out;
  BlobsRestoreOptions r{archive, root, true};
  return run_blobs_restore(r, out);
}

}  // namespace

TEST_CASE("blobs: message names as keys") {
  CHECK(message_key("1498412345.12345") == 149841234512345);
  CHECK(message_key("1498412345.1") == 149841234510000);
  CHECK(key_to_name(149841234512345) == "1498412345.12345");
  CHECK(key_to_name(149841234500001) == "1498412345.00001");
  CHECK_FALSE(message_key("uuids"));
  CHECK_FALSE(message_key("1498412345"));
  CHECK_FALSE(message_key("1498412345.123456"));
  CHECK_FALSE(message_key(".5"));
  CHECK_FALSE(message_key("14984x2345.12345"));
}

TEST_CASE("blobs: link targets are resolved by hand, never followed") {
  const char* host = "/var/lib/xcp/blobs";
  auto t = resolve_link("/var/lib/xcp/blobs/messages/1498412345.12345", "messages/uuids", host);
  CHECK(t.kind == LinkTarget::message);
  CHECK(t.key == 149841234512345);
  // The pre-7.0 location names the same tree.
  CHECK(resolve_link("/var/xapi/blobs/messages/1.00000", "messages/gen", host).kind ==
        LinkTarget::message);
  CHECK(resolve_link("/etc", "messages/uuids", host).kind == LinkTarget::outside);
  CHECK(resolve_link("/etc/passwd", "messages/uuids", host).kind == LinkTarget::outside);
  CHECK(resolve_link("../../..", "messages/uuids", host).kind == LinkTarget::outside);
  CHECK(resolve_link("/var/lib/xcp/blobs/../../../etc", "messages/uuids", host).kind ==
        LinkTarget::outside);
  CHECK(resolve_link("/var/lib/xcp/blobs", "messages/uuids", host).kind == LinkTarget::outside);
  auto rel = resolve_link("../1498412345.12345", "messages/uuids", host);
  CHECK(rel.kind == LinkTarget::message);
  auto in = resolve_link("../../rrds/x.gz", "messages/uuids", host);
  CHECK(in.kind == LinkTarget::inside);
  CHECK(in.rel == "rrds/x.gz");
  CHECK(classify("messages/1.00000", false) == Part::message_file);
  CHECK(classify("messages/VM/abc/1.00000", true) == Part::class_link);
  CHECK(classify("messages/uuids/x", true) == Part::uuid_link);
  CHECK(classify("messages/refs/OpaqueRef:x", true) == Part::ref_link);
  CHECK(classify("messages/gen/12", true) == Part::gen_link);
  CHECK(classify("rrds/x.gz", false) == Part::rrd);
  CHECK(classify("other", false) == Part::other);
  CHECK(safe_entry_path("messages/uuids/x"));
  CHECK_FALSE(safe_entry_path("/messages/x"));
  CHECK_FALSE(safe_entry_path("messages/../x"));
  CHECK_FALSE(safe_entry_path("messages//x"));
  CHECK_FALSE(safe_entry_path("rrds/x"));
}

TEST_CASE("blobs: the prediction model and its severities") {
  RestoreCost c{200000, 800000, 100, 100000000};
  double s = predict_restore_seconds(c);  // measured: 66 to 71 s for such a tree
  CHECK(s > 60);
  CHECK(s < 80);
  CHECK(severity_for_seconds(10) == Severity::info);
  CHECK(severity_for_seconds(120) == Severity::low);
  CHECK(severity_for_seconds(600) == Severity::medium);
  CHECK(severity_for_seconds(3600) == Severity::high);
}

TEST_CASE("blobs scan: counts every part of the store") {
  TempDir d;
  std::string b = make_tree(d.path, 30, 2);
  REQUIRE(symlink("/etc", (b + "/messages/uuids/to-etc").c_str()) == 0);
  REQUIRE(symlink("../../..", (b + "/messages/gen/up").c_str()) == 0);
  BlobsScan s = scan_blobs(d.path, kNow);
  CHECK(s.messages == 30);
  CHECK(s.total_entries == count_entries(b));
  CHECK(s.symlinks == 30 * 4 + 2 + 2);
  CHECK(s.dangling == 2);
  CHECK(s.outside == 2);
  CHECK(s.directories == 9);  // messages, uuids, refs, gen, VM, VM/obj, Host, Host/obj, rrds
  auto part = [&](const char* n) {
    for (auto& [k, v] : s.parts)
      if (k == n) return v;
    return PartTally{};
  };
  CHECK(part("message_files").entries == 30);
  CHECK(part("class_links").entries == 30);
  CHECK(part("uuids").entries == 30 + 2 + 1);
  CHECK(part("gen").entries == 31);
  CHECK(part("rrds").bytes == 3000);
  REQUIRE(!s.classes.empty());
  CHECK(s.classes[0].first == "VM");
  CHECK(s.classes[0].second == 20);
  CHECK(s.names_sampled == 30);
  CHECK(s.age_histogram[2].second == 23);  // 7-30 days
  Finding f = blobs_finding(s);
  CHECK(f.id == "blobs.too_many");
  CHECK(f.severity == Severity::info);
  CHECK(f.evidence["subtrees"]["refs"]["entries"] == 30);
  // The pre-7.0 location is found too.
  TempDir old;
  make_tree(old.path, 3, 0, "/var/xapi/blobs");
  BlobsScan so = scan_blobs(old.path, kNow);
  CHECK(so.host_path == "/var/xapi/blobs");
  CHECK(so.dangling == 0);
  CHECK(so.messages == 3);
  TempDir none;
  CHECK_THROWS_AS(scan_blobs(none.path, kNow), InputError);
}

TEST_CASE("blobs scan: every spelling of a link target is judged against the tree") {
  TempDir d;
  std::string b = make_tree(d.path, 6);
  // A message named in a short form, one that is not a regular file, and links that
  // reach messages other ways than the usual absolute path.
  write_file(b + "/messages/1600000000.5", "<message><name>SHORT</name></message>");
  mkdirs(b + "/messages/1600000001.00000");
  struct L {
    const char* target;
    const char* at;
  };
  const L links[] = {
      {"/var/lib/xcp/blobs/messages/1600000000.5", "/messages/uuids/short"},        // ok
      {"/var/lib/xcp/blobs/messages/1600000000.50000", "/messages/uuids/long"},     // same key
      {"/var/lib/xcp/blobs/messages/1600000001.00000", "/messages/refs/adir"},      // ok (exists)
      {"/var/lib/xcp/blobs//messages/./1600000000.5", "/messages/gen/dots"},        // ok
      {"/var/xapi/blobs/messages/1600000000.5", "/messages/gen/old-host"},          // ok
      {"../1600000000.5", "/messages/gen/relative"},                                // ok
      {"../1700000000.00000", "/messages/gen/relative-gone"},                       // dangling
      {"/var/lib/xcp/blobs/messages/1600000000.5", "/rrds/to-message"},             // ok
      {"/var/lib/xcp/blobs/messages/1700000000.00000", "/rrds/to-nothing"},         // dangling
      {"/var/lib/xcp/blobs/messages/1700000000.00000", "/messages/VM/0a1b-vm/1700000000.00000"},
      {"/var/lib/xcp/blobs/messages/x.y", "/messages/refs/not-a-message"},          // dangling
      {"/var/lib/xcp/blobs/messages/1600000000.5", "/messages/top-level-link"},     // ok
  };
  for (const L& l : links) REQUIRE(symlink(l.target, (b + l.at).c_str()) == 0);
  BlobsScan s = scan_blobs(d.path, kNow);
  CHECK(s.messages == 7);
  CHECK(s.total_entries == count_entries(b));
  CHECK(s.symlinks == 6 * 4 + std::size(links));
  CHECK(s.dangling == 4);
  CHECK(s.outside == 0);
  auto part = [&](const char* n) {
    for (auto& [k, v] : s.parts)
      if (k == n) return v;
    return PartTally{};
  };
  CHECK(part("uuids").dangling == 0);
  CHECK(part("gen").dangling == 1);
  CHECK(part("refs").dangling == 1);
  CHECK(part("rrds").dangling == 1);
  CHECK(part("class_links").dangling == 1);
  CHECK(part("other").symlinks == 1);
  CHECK(part("other").dangling == 0);
  CHECK(part("message_files").entries == 7);
}

TEST_CASE("blobs scan: a symlinked directory is neither followed nor entered") {
  TempDir d, outside;
  std::string b = make_tree(d.path, 3);
  mkdirs(outside.path + "/x/y");
  write_file(outside.path + "/x/y/1600000000.00000", "outside");
  REQUIRE(symlink((outside.path + "/x").c_str(), (b + "/messages/SR").c_str()) == 0);
  BlobsScan s = scan_blobs(d.path, kNow);
  CHECK(s.messages == 3);
  CHECK(s.outside == 1);
  // The blobs directory itself may not be a symlink.
  TempDir l;
  mkdirs(l.path + "/var/lib/xcp");
  REQUIRE(symlink(b.c_str(), (l.path + "/var/lib/xcp/blobs").c_str()) == 0);
  CHECK_THROWS_AS(scan_blobs(l.path, kNow), InputError);
}

// Links placed twice, at messages/uuids/<i> (judged against the index of messages) and
// at rrds/sub/<i> (resolved against the tree alone): the verdicts must agree. Relative
// targets start with ../../ so that both places resolve them alike.
TEST_CASE("blobs scan: a link is dangling by the index exactly when it is by the tree") {
  TempDir d;
  std::string b = make_tree(d.path, 5);
  mkdirs(b + "/rrds/sub");
  mkdirs(b + "/messages/1600000002.00000");  // named like a message, but a directory
  const std::string ts = std::to_string(kNow - 5 * 86400 + 123) + ".00000";  // message 0
  const std::string gone = "1600000009.00000";
  const std::string targets[] = {
      "/var/lib/xcp/blobs/messages/" + ts,             // ok
      "/var/lib/xcp/blobs/messages/" + gone,           // dangling: a deleted message
      "../../messages/" + ts,                          // ok
      "../../messages/" + gone,                        // dangling
      "/var/xapi/blobs/messages/" + ts,                // ok: the pre-7.0 path of this tree
      "/var/lib/xcp/blobs/messages/" + ts + "/",       // ok
      "/var/lib/xcp/blobs/messages/./" + ts,           // ok
      "/var/lib/xcp/blobs/messages/1600000002.00000",  // ok: exists, though not a file
      "../../messages/VM",                             // ok: a directory
      "/var/lib/xcp/blobs/messages/gen",               // ok
      "../../messages/gen/100",                        // ok: another link
      "../../messages/gen/nothing",                    // dangling
      "/var/lib/xcp/blobs/rrds/host.gz",               // ok
      "/var/lib/xcp/blobs/rrds/gone.gz",               // dangling
      "/etc",                                          // leaves the tree
      "../../../../../../../..",                       // leaves the tree
      "/var/lib/xcp/blobs/../../../../etc",            // leaves the tree
  };
  int i = 0;
  for (const std::string& t : targets) {
    REQUIRE(symlink(t.c_str(), (b + "/messages/uuids/t" + std::to_string(i)).c_str()) == 0);
    REQUIRE(symlink(t.c_str(), (b + "/rrds/sub/t" + std::to_string(i)).c_str()) == 0);
    ++i;
  }
  BlobsScan s = scan_blobs(d.path, kNow);
  auto part = [&](const char* n) {
    for (auto& [k, v] : s.parts)
      if (k == n) return v;
    return PartTally{};
  };
  CHECK(part("uuids").symlinks == 5 + std::size(targets));
  CHECK(part("rrds").symlinks == std::size(targets));
  CHECK(part("uuids").dangling == 4);
  CHECK(part("rrds").dangling == 4);
  CHECK(part("uuids").outside == 3);
  CHECK(part("rrds").outside == 3);
  CHECK(s.dangling == 8);
}

// The links of the big directories are read while messages/ is still being listed:
// those wait for the index, in a bounded list, past which the reader waits too.
TEST_CASE("blobs scan: the same counts however the work is spread") {
  TempDir d;
  std::string b = make_tree(d.path, 60, 4);
  REQUIRE(symlink("/etc", (b + "/messages/refs/to-etc").c_str()) == 0);
  REQUIRE(symlink("../1700000000.00000", (b + "/messages/gen/relative-gone").c_str()) == 0);
  REQUIRE(symlink("../../rrds", (b + "/messages/gen/to-dir").c_str()) == 0);
  mkdirs(b + "/messages/uuids/nested/deeper");
  REQUIRE(symlink("/var/lib/xcp/blobs/messages/1.00000",
                  (b + "/messages/uuids/nested/deeper/gone").c_str()) == 0);
  for (int k = 0; k < 40; ++k)
    mkdirs(b + "/messages/SR/sr" + std::to_string(k));  // more directories than threads
  ScanTuning one;
  one.threads = 1;
  const std::string want = scan_to_json(scan_blobs(d.path, kNow, one)).dump();
  for (size_t max_deferred : {size_t(65536), size_t(3), size_t(0)}) {
    ScanTuning t;
    t.threads = 3;
    t.max_deferred = max_deferred;
    t.before_index = [] { usleep(100 * 1000); };  // the link directories are read meanwhile
    CAPTURE(max_deferred);
    CHECK(scan_to_json(scan_blobs(d.path, kNow, t)).dump() == want);
  }
  BlobsScan s = scan_blobs(d.path, kNow);
  CHECK(scan_to_json(s).dump() == want);
  CHECK(s.dangling == 4 + 2);
  CHECK(s.outside == 1);
  CHECK(s.directories == 9 + 2 + 1 + 40);
}

TEST_CASE("blobs prune: a dry run changes nothing and counts what would go") {
  TempDir d;
  std::string b = make_tree(d.path, 40, 3);
  std::string before = snapshot(d.path);
  BlobsPruneOptions o = prune_opts(d.path, "", 10);
  o.apply = false;
  std::ostringstream out;
  CHECK(run_blobs_prune(o, system_io(), out) == kExitClean);
  CHECK(snapshot(d.path) == before);
  CHECK(out.str().find("message files to remove: 30") != std::string::npos);
  CHECK(out.str().find("their symlinks:          120") != std::string::npos);
  CHECK(out.str().find("dangling symlinks:       3") != std::string::npos);
  o.older_than_days.reset();
  CHECK_THROWS_AS(run_blobs_prune(o, system_io(), out), UsageError);
}

TEST_CASE("blobs prune --apply then restore gives back the same tree") {
  TempDir d;
  std::string b = make_tree(d.path, 40, 3);
  REQUIRE(symlink("/etc", (b + "/messages/uuids/to-etc").c_str()) == 0);
  std::string before = snapshot(d.path);
  std::string archive = d.path + "/backup.tar.gz";
  std::ostringstream out;
  CHECK(run_blobs_prune(prune_opts(d.path, archive, 10), system_io(), out) == kExitClean);
  CHECK(exists(archive));
  CHECK_FALSE(exists(d.path + "/var/lib/xcp/xsguard-blobs-prune.journal"));
  BlobsScan s = scan_blobs(d.path, kNow);
  CHECK(s.messages == 10);
  CHECK(s.dangling == 0);
  CHECK(s.symlinks == 40 + 1);
  CHECK(exists(b + "/messages/uuids/to-etc"));  // leaves the tree: kept
  CHECK(verify_archive(archive).entries == 30 + 120 + 3);

  // Twice: nothing more to do, and no second archive.
  std::string after = snapshot(d.path);
  std::ostringstream out2;
  CHECK(run_blobs_prune(prune_opts(d.path, d.path + "/second.tar.gz", 10), system_io(), out2) ==
        kExitClean);
  CHECK(out2.str().find("Nothing to remove") != std::string::npos);
  CHECK_FALSE(exists(d.path + "/second.tar.gz"));
  CHECK(snapshot(d.path) == after);

  CHECK(restore(archive, d.path) == kExitClean);
  unlink((d.path + "/keep.tar.gz").c_str());
  REQUIRE(rename(archive.c_str(), (d.path + "/../" + d.path.substr(5) + ".keep").c_str()) == 0);
  CHECK(snapshot(d.path) == before);
  // Restoring again is a no-op.
  std::string kept = d.path + "/../" + d.path.substr(5) + ".keep";
  CHECK(restore(kept, d.path) == kExitClean);
  CHECK(snapshot(d.path) == before);
  unlink(kept.c_str());
}

TEST_CASE("blobs prune --keep-newest") {
  TempDir d;
  std::string b = make_tree(d.path, 20);
  BlobsPruneOptions o = prune_opts(d.path, d.path + "/k.tar.gz", 0);
  o.older_than_days.reset();
  o.keep_newest = 5;
  std::ostringstream out;
  CHECK(run_blobs_prune(o, system_io(), out) == kExitClean);
  CHECK(scan_blobs(d.path, kNow).messages == 5);
  // Both: older than 3 days AND not among the 4 newest.
  o.keep_newest = 4;
  o.older_than_days = 3;
  o.backup = d.path + "/k2.tar.gz";
  CHECK(run_blobs_prune(o, system_io(), out) == kExitClean);
  CHECK(scan_blobs(d.path, kNow).messages == 4);
}

TEST_CASE("blobs prune: any failed write or fsync of the backup removes nothing") {
  TempDir d;
  make_tree(d.path, 12, 1);
  const std::string before = snapshot(d.path);
  std::string archive = d.path + "/fail.tar.gz";
  // Count the writes and fsyncs of a clean run (on a copy).
  int writes = 0, fsyncs = 0;
  {
    TempDir c;
    make_tree(c.path, 12, 1);
    FaultIo io;
    std::ostringstream out;
    REQUIRE(run_blobs_prune(prune_opts(c.path, c.path + "/a.tar.gz", 3), io, out) == kExitClean);
    writes = io.writes, fsyncs = io.fsyncs;
  }
  REQUIRE(writes > 1);
  REQUIRE(fsyncs > 2);
  const int errs[] = {EIO, ENOSPC, EROFS, EACCES};
  int k = 0;
  auto once = [&](FaultIo& io) {
    std::ostringstream out;
    bool refused = false;
    std::string what;
    try {
      run_blobs_prune(prune_opts(d.path, archive, 3), io, out);
    } catch (const RefusedError& e) {
      refused = true;
      what = e.what();
    }
    CHECK(refused);
    CHECK(what.find("nothing was removed") != std::string::npos);
    CHECK(what.find(std::strerror(io.err)) != std::string::npos);
    CHECK(snapshot(d.path) == before);  // no archive, no journal, no partial file
  };
  // The writes before verification: backup data, journal; fsyncs: backup, directory,
  // journal (the last fsyncs belong to the removal and are not faults of the backup).
  for (int n = 0; n < writes - 1; ++n) {
    FaultIo io;
    io.fail_write_at = n, io.err = errs[k++ % 4];
    once(io);
  }
  for (int n = 0; n < 4; ++n) {
    FaultIo io;
    io.fail_fsync_at = n, io.err = errs[k++ % 4];
    once(io);
  }
}

TEST_CASE("blobs prune: interrupted removal resumes from the journal") {
  TempDir d;
  std::string b = make_tree(d.path, 20, 2);
  const std::string before = snapshot(d.path);
  std::string archive = d.path + "/r.tar.gz";
  int seen = 0;
  PruneHooks hooks;
  hooks.at = [&](const std::string& point, const std::string&) {
    if (point == "removing" && ++seen == 17) throw std::runtime_error("power cut");
  };
  std::ostringstream out;
  CHECK_THROWS_AS(run_blobs_prune(prune_opts(d.path, archive, 5), system_io(), out, hooks),
                  std::runtime_error);
  std::string journal = d.path + "/var/lib/xcp/xsguard-blobs-prune.journal";
  REQUIRE(exists(journal));
  PruneJournal j(system_io(), d.path + "/var/lib/xcp");
  CHECK(j.read().verified);
  // A dry run says so and changes nothing.
  BlobsPruneOptions dry = prune_opts(d.path, "", 5);
  dry.apply = false;
  std::string mid = snapshot(d.path);
  std::ostringstream o2;
  CHECK(run_blobs_prune(dry, system_io(), o2) == kExitClean);
  CHECK(o2.str().find("interrupted") != std::string::npos);
  CHECK(snapshot(d.path) == mid);
  // Resumed with other options: the journal's archive decides what goes.
  std::ostringstream o3;
  CHECK(run_blobs_prune(prune_opts(d.path, d.path + "/other.tar.gz", 100), system_io(), o3) ==
        kExitClean);
  CHECK(o3.str().find("Resuming") != std::string::npos);
  CHECK(o3.str().find("16 already gone") != std::string::npos);
  CHECK_FALSE(exists(journal));
  CHECK_FALSE(exists(d.path + "/other.tar.gz"));
  CHECK(scan_blobs(d.path, kNow).messages == 5);
  CHECK(restore(archive, d.path) == kExitClean);
  unlink(archive.c_str());
  CHECK(snapshot(d.path) == before);
}

TEST_CASE("blobs prune: a journal without verification is discarded and redone") {
  TempDir d;
  make_tree(d.path, 10);
  std::string archive = d.path + "/half.tar.gz";
  PruneJournal j(system_io(), d.path + "/var/lib/xcp");
  j.begin(d.path + "/var/lib/xcp/blobs", archive);
  write_file(archive + ".partial", "half a backup");
  std::ostringstream out;
  CHECK(run_blobs_prune(prune_opts(d.path, d.path + "/new.tar.gz", 5), system_io(), out) ==
        kExitClean);
  CHECK(out.str().find("discarded") != std::string::npos);
  CHECK_FALSE(exists(archive + ".partial"));
  CHECK(exists(d.path + "/new.tar.gz"));
  CHECK(scan_blobs(d.path, kNow).messages == 5);
}

TEST_CASE("blobs prune: a directory swapped for a symlink during the run is not followed") {
  TempDir d, outside;
  std::string b = make_tree(d.path, 10);
  std::string archive = d.path + "/swap.tar.gz";
  PruneHooks hooks;
  hooks.at = [&](const std::string& point, const std::string&) {
    if (point != "verified") return;
    // messages/uuids moves outside the tree and a symlink takes its place; a decoy
    // directory with the same names sits where the link points.
    REQUIRE(rename((b + "/messages/uuids").c_str(), (outside.path + "/uuids").c_str()) == 0);
    REQUIRE(symlink((outside.path + "/uuids").c_str(), (b + "/messages/uuids").c_str()) == 0);
  };
  std::ostringstream out;
  int rc = run_blobs_prune(prune_opts(d.path, archive, 5), system_io(), out, hooks);
  CHECK(rc == kExitRefused);
  CHECK(count_entries(outside.path + "/uuids") == 10);  // nothing outside changed
  CHECK(exists(b + "/messages/uuids"));
  CHECK(out.str().find("journal") != std::string::npos);
  // The rest went.
  CHECK_FALSE(exists(b + "/messages/gen/100"));
}

TEST_CASE("blobs restore: refuses hostile archives and never writes outside the tree") {
  TempDir d, outside;
  std::string b = make_tree(d.path, 2);
  std::string archive = d.path + "/evil.tar.gz";
  {
    struct archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax(a);
    REQUIRE(archive_write_open_filename(a, archive.c_str()) == ARCHIVE_OK);
    auto add = [&](const char* path, unsigned type, const char* link, const char* data) {
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, path);
      archive_entry_set_filetype(e, type);
      archive_entry_set_perm(e, 0644);
      if (link && type == AE_IFLNK) archive_entry_set_symlink(e, link);
      if (link && type == AE_IFREG) archive_entry_set_hardlink(e, link);
      archive_entry_set_size(e, data ? int64_t(strlen(data)) : 0);
      archive_write_header(a, e);
      if (data) archive_write_data(a, data, strlen(data));
      archive_entry_free(e);
    };
    std::string out_file = outside.path + "/pwned";
    add(("../../../../.." + out_file).c_str(), AE_IFREG, nullptr, "x");
    add(out_file.c_str(), AE_IFREG, nullptr, "x");
    add("messages/../../../pwned", AE_IFREG, nullptr, "x");
    add("rrds/other", AE_IFREG, nullptr, "x");
    add("messages/hard", AE_IFREG, "/etc/passwd", nullptr);
    add("messages/uuids/door", AE_IFLNK, outside.path.c_str(), nullptr);
    add("messages/uuids/door/pwned", AE_IFREG, nullptr, "through a link");
    add("messages/1.00000", AE_IFREG, nullptr, "fine");
    archive_write_close(a);
    archive_write_free(a);
  }
  int rc = restore(archive, d.path);
  CHECK(rc == kExitRefused);
  CHECK_FALSE(exists(outside.path + "/pwned"));
  CHECK(count_entries(outside.path) == 0);
  CHECK_FALSE(exists(d.path + "/pwned"));
  CHECK(exists(b + "/messages/1.00000"));
  CHECK(exists(b + "/messages/uuids/door"));  // the link itself is inside: harmless
  CHECK_FALSE(exists(b + "/rrds/other"));
  CHECK_FALSE(exists(b + "/messages/hard"));
}

TEST_CASE("blobs restore: a tree directory replaced by a symlink is not written through") {
  TempDir d, outside;
  std::string b = make_tree(d.path, 6);
  std::string archive = d.path + "/a.tar.gz";
  std::ostringstream out;
  REQUIRE(run_blobs_prune(prune_opts(d.path, archive, 3), system_io(), out) == kExitClean);
  REQUIRE(rename((b + "/messages/refs").c_str(), (outside.path + "/refs").c_str()) == 0);
  REQUIRE(symlink((outside.path + "/refs").c_str(), (b + "/messages/refs").c_str()) == 0);
  size_t outside_before = count_entries(outside.path);
  CHECK(restore(archive, d.path) == kExitRefused);
  CHECK(count_entries(outside.path) == outside_before);
  CHECK(scan_blobs(d.path, kNow).messages == 6);  // the rest came back
}
