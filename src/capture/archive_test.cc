#include "capture/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>

#include "capture/testing/tree.h"
#include "model/errors.h"

using namespace xsguard;
using namespace xsguard::capture;
using xsguard::capture::testing::FailingIo;
using xsguard::capture::testing::TempTree;

namespace {

// A tar.gz with the given entries, written by libarchive directly (hostile captures).
void raw_archive(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries,
                 bool symlink = false) {
  struct archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax(a);
  archive_write_open_filename(a, path.c_str());
  for (const auto& [name, bytes] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, symlink ? AE_IFLNK : AE_IFREG);
    if (symlink) archive_entry_set_symlink(e, "/etc/passwd");
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, symlink ? 0 : la_int64_t(bytes.size()));
    archive_write_header(a, e);
    if (!symlink) archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace

TEST_CASE("capture archive: written durably, read back whole") {
  TempTree t;
  std::vector<ArchivedFile> in = {{"inventory.json", "{}\n", 0644, 0, 0, 1},
                                  {"files/etc/fstab", "a b c\n", 0600, 1, 2, 3},
                                  {"files/etc/empty", "", 0644, 0, 0, 0}};
  write_capture(system_io(), t / "cap.tgz", in);
  auto out = read_capture(t / "cap.tgz");
  REQUIRE(out.size() == 3);
  CHECK(out["files/etc/fstab"].bytes == "a b c\n");
  CHECK(out["files/etc/fstab"].mode == 0600);
  CHECK(out["files/etc/fstab"].gid == 2);
  CHECK(out["files/etc/empty"].bytes.empty());
  CHECK(!t.exists("cap.tgz.partial"));
  // Never replaced.
  CHECK_THROWS_AS(write_capture(system_io(), t / "cap.tgz", in), RefusedError);
  // A failed fsync leaves nothing behind.
  FailingIo io;
  io.fail_fsync_at = 1;
  CHECK_THROWS_AS(write_capture(io, t / "other.tgz", in), RefusedError);
  CHECK(!t.exists("other.tgz"));
  CHECK(!t.exists("other.tgz.partial"));
}

TEST_CASE("capture archive: hostile captures are refused") {
  TempTree t;
  raw_archive(t / "dotdot.tgz", {{"files/../../etc/passwd", "x"}});
  raw_archive(t / "abs.tgz", {{"/etc/passwd", "x"}});
  raw_archive(t / "other.tgz", {{"etc/passwd", "x"}});
  raw_archive(t / "link.tgz", {{"files/etc/fstab", ""}}, true);
  raw_archive(t / "dup.tgz", {{"files/a", "x"}, {"files/a", "y"}});
  raw_archive(t / "big.tgz", {{"files/a", std::string(2000, 'x')}});
  t.put("notgz.tgz", "plain text");
  for (const char* f : {"dotdot.tgz", "abs.tgz", "other.tgz", "link.tgz", "dup.tgz", "notgz.tgz", "missing.tgz"})
    CHECK_THROWS_AS_MESSAGE(read_capture(t / f), InputError, f);
  CaptureLimits small;
  small.max_entry = 1000;
  CHECK_THROWS_AS(read_capture(t / "big.tgz", small), InputError);
  CHECK(read_capture(t / "big.tgz").size() == 1);
}
