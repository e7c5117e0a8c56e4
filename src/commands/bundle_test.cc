#include "commands/bundle.h"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "model/digest.h"
#include "model/errors.h"
#include "model/testing/disk_builder.h"
#include "store/tar_archive.h"

using namespace xsguard;
using namespace xsguard::testing;

namespace {

constexpr uint64_t kMiB = 1 << 20;

// Fails the Nth pwrite or fsync (1-based; 0 = never) with the given errno.
class FaultyIo : public Io {
 public:
  int fail_write_at = 0, fail_fsync_at = 0, error = ENOSPC;
  int writes = 0, fsyncs = 0;
  bool pwrite_all(int fd, const void* buf, size_t len, uint64_t offset) override {
    if (++writes == fail_write_at) {
      errno = error;
      return false;
    }
    return Io::pwrite_all(fd, buf, len, offset);
  }
  bool fsync(int fd) override {
    if (++fsyncs == fail_fsync_at) {
      errno = error;
      return false;
    }
    return Io::fsync(fd);
  }
};

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/xsguard-bundle-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A 64 MiB GPT image whose first partition (BIOS boot) starts at 2 MiB.
std::string make_image(const std::string& dir) {
  SparseDisk d(64 * kMiB);
  put_gpt(d, 512, {{kGptBiosBoot, 4096, 6143, ""}, {kGptLinuxData, 6144, 100000, "root"}});
  const std::string path = dir + "/disk.img";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, off_t(d.size())) == 0);
  std::vector<uint8_t> buf(kMiB);
  for (uint64_t at : {uint64_t(0), d.size() - kMiB}) {
    d.read(at, buf.data(), buf.size());
    REQUIRE(pwrite(fd, buf.data(), buf.size(), off_t(at)) == ssize_t(buf.size()));
  }
  close(fd);
  return path;
}

const char* kLog =
    "INFO     [2017-06-22 08:00:00] Version 7.1.0-137272c\n"
    "INFO     [2017-06-22 08:00:01] DISPATCH: NEW PHASE: Completing installation\n";

struct Fixture {
  TempDir tmp;
  std::string image, log;
  BundleOptions o;
  Fixture() {
    image = make_image(tmp.path);
    log = tmp.path + "/install-log";
    write_text_file(log, kLog);
    mkdir((tmp.path + "/out").c_str(), 0755);
    o.out = tmp.path + "/out/b.tar.gz";
    o.log = log;
    o.disks = {image};
  }
  int run(Io& io = system_io()) {
    std::ostringstream out;
    int rc = run_bundle(o, io, out);
    text = out.str();
    return rc;
  }
  std::string text;
};

// Every member of a bundle, by its name below the top directory.
std::map<std::string, std::string> read_bundle(const std::string& path, std::string* top = nullptr) {
  std::map<std::string, std::string> out;
  store::ArchiveReader r(path);
  store::EntryMeta m;
  while (r.next(m)) {
    std::string data;
    store::EntryDigest d;
    r.read_data(d, [&](const void* p, size_t n) { data.append(static_cast<const char*>(p), n); });
    size_t slash = m.rel.find('/');
    REQUIRE(slash != std::string::npos);
    if (top) *top = m.rel.substr(0, slash);
    out[m.rel.substr(slash + 1)] = data;
  }
  return out;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.' || e->d_name[1] > '.') names.push_back(e->d_name);
    closedir(d);
  }
  return names;
}

}  // namespace

TEST_CASE("bundle: every member is there and the manifest's sums and sizes match") {
  Fixture f;
  REQUIRE(f.run() == 0);
  CHECK(f.text.find("Bundle: " + f.o.out) != std::string::npos);
  std::string top;
  auto m = read_bundle(f.o.out, &top);
  CHECK(top.rfind("xsguard-bundle-", 0) == 0);
  for (const char* name : {"install-log", "check.json", "check.txt", "watch.json", "watch.txt",
                           "disks/disk.img/table.txt", "disks/disk.img/head.bin",
                           "disks/disk.img/tail.bin", "proc/cmdline", "proc/partitions",
                           "proc/mounts", "MANIFEST.txt"})
    CHECK_MESSAGE(m.count(name), name);
  CHECK(m["install-log"] == kLog);
  // Up to the first partition (2 MiB), so the BIOS boot partition's start is not in it.
  CHECK(m["disks/disk.img/head.bin"].size() == 2 * kMiB);
  CHECK(m["disks/disk.img/tail.bin"].size() == 33 * 512);
  CHECK(m["disks/disk.img/table.txt"].find("label: gpt") != std::string::npos);
  CHECK(nlohmann::json::parse(m["check.json"])["command"] == "check");
  CHECK(m["watch.txt"].find("xsguard watch:") != std::string::npos);

  const std::string& manifest = m["MANIFEST.txt"];
  std::istringstream lines(manifest.substr(manifest.find("Files (")));
  std::string line;
  std::getline(lines, line);
  size_t listed = 0;
  while (std::getline(lines, line) && !line.empty()) {
    std::istringstream w(line);
    std::string sha, name;
    uint64_t size = 0;
    w >> sha >> size >> name;
    REQUIRE(m.count(name));
    CHECK(m[name].size() == size);
    CHECK(sha256_hex(m[name].data(), m[name].size()) == sha);
    ++listed;
  }
  CHECK(listed == m.size() - 1);  // all but the manifest itself
  CHECK(dir_entries(f.tmp.path + "/out") == std::vector<std::string>{"b.tar.gz"});
  struct stat st {};
  REQUIRE(stat(f.o.out.c_str(), &st) == 0);
  CHECK(f.text.find(std::to_string(st.st_size) + " bytes") != std::string::npos);
}

TEST_CASE("bundle: a log over the limit keeps its start and its end and says so") {
  Fixture f;
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "INFO     [2017-06-22 08:00:00] line " + std::to_string(i) + "\n";
  write_text_file(f.log, big);
  f.o.max_log_bytes = 4000;
  REQUIRE(f.run() == 0);
  auto m = read_bundle(f.o.out);
  const std::string& cut = m["install-log"];
  CHECK(cut.size() == 4000);
  CHECK(cut.compare(0, 1000, big, 0, 1000) == 0);
  CHECK(big.compare(big.size() - 2000, 2000, cut, cut.size() - 2000, 2000) == 0);
  CHECK(cut.find("bytes of the log cut here") != std::string::npos);
  CHECK(m["MANIFEST.txt"].find("install-log: " + std::to_string(big.size()) + " bytes, over the limit") !=
        std::string::npos);
}

TEST_CASE("bundle: a missing log is noted in the manifest, not fatal") {
  Fixture f;
  f.o.log = f.tmp.path + "/no-such-log";
  REQUIRE(f.run() == 0);
  auto m = read_bundle(f.o.out);
  CHECK(!m.count("install-log"));
  CHECK(!m.count("watch.txt"));
  CHECK(m.count("check.json"));
  CHECK(m["MANIFEST.txt"].find("install-log: " + f.o.log + ": No such file or directory") !=
        std::string::npos);
  CHECK(f.text.find("not collected: install-log") != std::string::npos);
}

TEST_CASE("bundle: an unreadable disk is noted; the others are still examined") {
  Fixture f;
  f.o.disks = {f.tmp.path + "/missing.img", f.image};
  REQUIRE(f.run() == 0);
  auto m = read_bundle(f.o.out);
  CHECK(m.count("disks/disk.img/table.txt"));
  CHECK(m["MANIFEST.txt"].find("disks/missing.img: ") != std::string::npos);
  CHECK(nlohmann::json::parse(m["check.json"])["disks"].size() == 1);
}

TEST_CASE("bundle: refuses to replace a file unless forced, and a symbolic link always") {
  Fixture f;
  write_text_file(f.o.out, "precious");
  CHECK_THROWS_AS(f.run(), RefusedError);
  std::ifstream in(f.o.out);
  std::string kept((std::istreambuf_iterator<char>(in)), {});
  CHECK(kept == "precious");
  f.o.force = true;
  REQUIRE(f.run() == 0);
  CHECK(read_bundle(f.o.out).count("MANIFEST.txt"));

  const std::string target = f.tmp.path + "/target";
  write_text_file(target, "elsewhere");
  const std::string link = f.tmp.path + "/out/link.tar.gz";
  REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
  f.o.out = link;
  CHECK_THROWS_WITH_AS(f.run(), doctest::Contains("symbolic link"), RefusedError);
  std::ifstream t(target);
  std::string still((std::istreambuf_iterator<char>(t)), {});
  CHECK(still == "elsewhere");
}

TEST_CASE("bundle: a directory as --out gets the default name") {
  Fixture f;
  f.o.out = f.tmp.path + "/out";
  REQUIRE(f.run() == 0);
  auto names = dir_entries(f.o.out);
  REQUIRE(names.size() == 1);
  CHECK(names[0].rfind("xsguard-bundle-", 0) == 0);
  CHECK(names[0].size() > 7);
  CHECK(names[0].compare(names[0].size() - 7, 7, ".tar.gz") == 0);
  CHECK(bundle_file_name().rfind("xsguard-bundle-", 0) == 0);
}

TEST_CASE("bundle: no such directory is exit 66; no --out is a usage error") {
  Fixture f;
  f.o.out = f.tmp.path + "/nope/b.tar.gz";
  CHECK_THROWS_AS(f.run(), InputError);
  f.o.out = "";
  CHECK_THROWS_AS(f.run(), UsageError);
}

TEST_CASE("bundle: a failed write or fsync (no space) leaves nothing behind") {
  // Incompressible log: the bundle takes many writes.
  std::mt19937 rng(7);
  std::string noise(1 << 20, ' ');
  for (char& c : noise) c = char(' ' + rng() % 90);
  for (int at : {1, 5}) {
    CAPTURE(at);
    Fixture f;
    write_text_file(f.log, noise);
    FaultyIo io;
    io.fail_write_at = at;
    CHECK_THROWS_WITH_AS(f.run(io), doctest::Contains("No space left on device"), RefusedError);
    CHECK(dir_entries(f.tmp.path + "/out").empty());
  }
  for (int at : {1, 2}) {  // the file's fsync, then the directory's
    CAPTURE(at);
    Fixture f;
    FaultyIo io;
    io.error = EIO;
    io.fail_fsync_at = at;
    CHECK_THROWS_AS(f.run(io), RefusedError);
    CHECK(dir_entries(f.tmp.path + "/out").empty());
  }
}

TEST_CASE("bundle: destinations and the disk a directory is on") {
  TempDir tmp;
  const std::string image = make_image(tmp.path);
  // An image that is not attached to a loop device holds no filesystem.
  CHECK(disk_holding(tmp.path, {image}) == "");
  auto dests = bundle_destinations({image});
  struct stat st {};
  if (stat("/tmp", &st) == 0 && access("/tmp", W_OK) == 0) {
    REQUIRE(!dests.empty());
    CHECK(dests.back() == "/tmp");
  }
  for (const auto& d : dests) CHECK(disk_holding(d, {image}) == "");
  // /dev/shm is a tmpfs wherever there is one: in RAM, which the note says.
  if (stat("/dev/shm", &st) == 0) CHECK(destination_note("/dev/shm").find("RAM") != std::string::npos);
}
