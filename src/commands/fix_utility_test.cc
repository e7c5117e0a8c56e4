#include "commands/fix_utility.h"

#include <doctest/doctest.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "commands/restore.h"
#include "model/digest.h"
#include "model/errors.h"
#include "model/testing/disk_builder.h"

using namespace xsguard;
using namespace xsguard::testing;

namespace {

constexpr uint64_t kMiB = 1 << 20;

// Fails the Nth pwrite or the Nth fsync (1-based; 0 = never), counting every call.
class FaultyIo : public Io {
 public:
  int fail_write_at = 0, fail_fsync_at = 0;
  int writes = 0, fsyncs = 0;
  bool pwrite_all(int fd, const void* buf, size_t len, uint64_t offset) override {
    if (++writes == fail_write_at) {
      // A torn write: half of it lands, then the error.
      Io::pwrite_all(fd, buf, len / 2, offset);
      errno = EIO;
      return false;
    }
    return Io::pwrite_all(fd, buf, len, offset);
  }
  bool fsync(int fd) override {
    if (++fsyncs == fail_fsync_at) {
      errno = EIO;
      return false;
    }
    return Io::fsync(fd);
  }
};

class ScriptedConsole : public Console {
 public:
  bool tty = true;
  std::string answer = "yes";
  std::function<void()> while_asking;
  bool interactive() const override { return tty; }
  std::string read_line() override {
    if (while_asking) while_asking();
    return answer;
  }
};

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/xsguard-fix-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// Writes the first and last MiB of an in-memory disk to a sparse file.
std::string write_image(const SparseDisk& d, const std::string& path) {
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

std::string digest_of(const std::string& path) {
  FileSource f(path);
  std::vector<uint8_t> buf(2 * kMiB);
  f.read(0, buf.data(), kMiB);
  f.read(f.size() - kMiB, buf.data() + kMiB, kMiB);
  return sha256_hex(buf.data(), buf.size());
}

SparseDisk dell_msdos() {
  SparseDisk d(2ull << 30);
  put_mbr(d, {{0xDE, 63, 65000}, {0x83, 65536, 1000000, 0x80}, {0x83, 1065536, 1000000}});
  return d;
}

// DELLUTILITY first, then a BIOS boot partition and root; sector numbers scale with lss.
SparseDisk dell_gpt(uint32_t lss) {
  SparseDisk d(4ull << 30);
  const uint64_t mib = kMiB / lss;
  put_gpt(d, lss, {{kGptEsp, mib, 33 * mib - 1, "DELLUTILITY"},
                   {kGptBiosBoot, 33 * mib, 34 * mib - 1, ""},
                   {kGptLinuxData, 34 * mib, 1000 * mib, "root"}});
  return d;
}

FixOptions options(const std::string& image, const std::string& backup_dir, uint32_t core = 63) {
  FixOptions o;
  o.disk = image;
  o.apply = true;
  o.yes = true;
  o.backup_dir = backup_dir;
  o.core.core_sectors = core;
  return o;
}

std::string only_backup(const std::string& dir) {
  std::string found;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).find(".xsgbak") != std::string::npos &&
          std::string(e->d_name).find(".partial") == std::string::npos)
        found = dir + "/" + e->d_name;
    closedir(d);
  }
  return found;
}

int restore(const std::string& backup, const std::string& image) {
  RestoreOptions r{backup, image, true, true};
  ScriptedConsole console;
  std::ostringstream out;
  return run_restore(r, system_io(), console, out);
}

}  // namespace

TEST_CASE("dry run writes nothing; apply removes the Dell partition; restore undoes it") {
  TempDir t;
  std::string img = write_image(dell_msdos(), t.path + "/dell.img");
  std::string original = digest_of(img);
  FixOptions dry = options(img, t.path);
  dry.apply = false;
  ScriptedConsole console;
  std::ostringstream out;
  CHECK(run_fix_utility(dry, system_io(), console, out) == 0);
  CHECK(digest_of(img) == original);
  CHECK(out.str().find("Dry run") != std::string::npos);
  CHECK(only_backup(t.path).empty());

  std::ostringstream applied;
  CHECK(run_fix_utility(options(img, t.path), system_io(), console, applied) == 0);
  CHECK(digest_of(img) != original);
  std::string backup = only_backup(t.path);
  REQUIRE(!backup.empty());
  CHECK(applied.str().find("Backup: " + backup) < applied.str().find("Removed partition 1"));
  CHECK(restore(backup, img) == 0);
  CHECK(digest_of(img) == original);
}

TEST_CASE("fault injection: every failed write or fsync leaves the disk unchanged or planned") {
  TempDir t;
  SparseDisk model = dell_msdos();
  std::string img = write_image(model, t.path + "/dell.img");
  const std::string original = digest_of(img);
  // The planned result, made once without faults.
  {
    ScriptedConsole console;
    std::ostringstream out;
    REQUIRE(run_fix_utility(options(img, t.path + "/"), system_io(), console, out) == 0);
  }
  const std::string planned = digest_of(img);
  REQUIRE(planned != original);

  FaultyIo counter;
  {
    write_image(model, img);
    TempDir d;
    ScriptedConsole console;
    std::ostringstream out;
    REQUIRE(run_fix_utility(options(img, d.path), counter, console, out) == 0);
  }
  REQUIRE(counter.writes >= 2);  // the backup file, then the table entry
  REQUIRE(counter.fsyncs >= 3);  // backup file, its directory, the disk

  for (int kind = 0; kind < 2; ++kind) {
    int points = kind == 0 ? counter.writes : counter.fsyncs;
    for (int n = 1; n <= points; ++n) {
      CAPTURE(kind);
      CAPTURE(n);
      write_image(model, img);
      TempDir d;
      FaultyIo io;
      (kind == 0 ? io.fail_write_at : io.fail_fsync_at) = n;
      ScriptedConsole console;
      std::ostringstream out;
      CHECK_THROWS(run_fix_utility(options(img, d.path), io, console, out));
      std::string now = digest_of(img);
      CHECK((now == original || now == planned));
      std::string backup = only_backup(d.path);
      if (!backup.empty()) {
        CHECK(restore(backup, img) == 0);
        CHECK(digest_of(img) == original);
      }
    }
  }
}

TEST_CASE("refusals: no terminal, not confirmed, disk changed during the prompt") {
  TempDir t;
  std::string img = write_image(dell_msdos(), t.path + "/dell.img");
  std::string original = digest_of(img);
  FixOptions o = options(img, t.path);
  o.yes = false;
  ScriptedConsole no_tty;
  no_tty.tty = false;
  std::ostringstream out;
  CHECK_THROWS_AS(run_fix_utility(o, system_io(), no_tty, out), UsageError);
  ScriptedConsole says_no;
  says_no.answer = "y";
  CHECK_THROWS_AS(run_fix_utility(o, system_io(), says_no, out), RefusedError);
  ScriptedConsole meddler;
  meddler.while_asking = [&] {
    int fd = open(img.c_str(), O_WRONLY);
    uint8_t type = 0x0C;
    REQUIRE(pwrite(fd, &type, 1, 446 + 16 + 4) == 1);
    close(fd);
  };
  CHECK_THROWS_AS(run_fix_utility(o, system_io(), meddler, out), RefusedError);
  CHECK(only_backup(t.path).empty());
  write_image(dell_msdos(), img);
  CHECK(digest_of(img) == original);
}

TEST_CASE("refusals: no utility partition, two of them, removal that does not help") {
  TempDir t;
  ScriptedConsole console;
  std::ostringstream out;
  SparseDisk plain(1ull << 30);
  put_mbr(plain, {{0x83, 2048, 100000}});
  std::string a = write_image(plain, t.path + "/plain.img");
  CHECK_THROWS_AS(run_fix_utility(options(a, t.path), system_io(), console, out), RefusedError);

  SparseDisk two(1ull << 30);
  put_mbr(two, {{0xDE, 63, 1000}, {0x83, 2048, 100000}, {0xDE, 200000, 1000}});
  std::string b = write_image(two, t.path + "/two.img");
  CHECK_THROWS_AS(run_fix_utility(options(b, t.path), system_io(), console, out), RefusedError);

  SparseDisk tight(1ull << 30);
  put_mbr(tight, {{0xDE, 2, 30}, {0x83, 40, 100000}});  // the next partition starts at 40
  std::string c = write_image(tight, t.path + "/tight.img");
  std::string before = digest_of(c);
  try {
    run_fix_utility(options(c, t.path, 53), system_io(), console, out);
    FAIL("expected a refusal");
  } catch (const RefusedError& e) {
    CHECK(std::string(e.what()).find("would not make GRUB fit") != std::string::npos);
  }
  CHECK(digest_of(c) == before);
  CHECK(only_backup(t.path).empty());
}

TEST_CASE("GPT DELLUTILITY (512 and 4Kn): GRUB uses the BIOS boot partition, nothing to fix") {
  for (uint32_t lss : {512u, 4096u}) {
    TempDir t;
    std::string img = write_image(dell_gpt(lss), t.path + "/gpt.img");
    std::string original = digest_of(img);
    FixOptions o = options(img, t.path, 70);
    o.sector_size = lss;
    ScriptedConsole console;
    std::ostringstream out;
    CHECK(run_fix_utility(o, system_io(), console, out) == 0);
    CHECK(out.str().find("nothing to fix") != std::string::npos);
    CHECK(out.str().find("byte ") != std::string::npos);  // the planned GPT writes are shown
    CHECK(digest_of(img) == original);
    CHECK(only_backup(t.path).empty());
  }
}

TEST_CASE("fault injection in restore: the disk stays as it was, and a second restore works") {
  TempDir t;
  SparseDisk model = dell_msdos();
  std::string img = write_image(model, t.path + "/dell.img");
  const std::string original = digest_of(img);
  ScriptedConsole console;
  std::ostringstream out;
  REQUIRE(run_fix_utility(options(img, t.path), system_io(), console, out) == 0);
  const std::string fixed = digest_of(img);
  const std::string backup = only_backup(t.path);
  for (int kind = 0; kind < 2; ++kind) {
    FaultyIo io;
    (kind == 0 ? io.fail_write_at : io.fail_fsync_at) = 1;
    RestoreOptions r{backup, img, true, true};
    CHECK_THROWS(run_restore(r, io, console, out));
    CHECK(digest_of(img) == fixed);
  }
  CHECK(restore(backup, img) == 0);
  CHECK(digest_of(img) == original);
}
