// The backup archive of `xsguard blobs prune`: a gzip-compressed pax tar (readable by
// GNU tar) written with libarchive through the Io seam, and read back with libarchive
// to verify it and to drive removal and restore.
//
// Entries are regular files and symlinks only, named relative to the blobs directory
// ("messages/1498412345.12345", "messages/uuids/<uuid>"), with mode, numeric owner,
// mtime (nanoseconds, in pax extended headers) and, for links, the target verbatim.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>

#include "probe/io.h"

struct archive;
struct archive_entry;

namespace xsguard::store {

// What identifies an entry's content: compared between the tree, the archive written
// and the archive read back.
struct EntryMeta {
  std::string rel;
  bool symlink = false;
  uint32_t mode = 0;  // permission bits only
  uint32_t uid = 0, gid = 0;
  int64_t mtime_s = 0;
  int32_t mtime_ns = 0;
  uint64_t size = 0;        // files only
  std::string link_target;  // symlinks only
};
EntryMeta meta_from_stat(std::string rel, const struct stat& st);

// A running digest of entries (metadata and content, in
// order): what was written must read back identically.
class EntryDigest {
 public:
  void add_meta(const EntryMeta& m);
  void add_data(const void* p, size_t n);
  uint64_t value() const;

 private:
  void mix(uint64_t v);
  uint64_t h_ = 0x6a09e667f3bcc908ull;
  uint64_t pending_ = 0;
  unsigned npending_ = 0;
};
std::string digest_hex(uint64_t d);

// A path an archive entry may have: "messages/..." with no empty, "." or ".."
// component and no leading '/'.
bool safe_entry_path(const std::string& rel);

class ArchiveWriter {
 public:
  // Creates PATH.partial (exclusively, never through a symlink) for writing. Throws
  // RefusedError with the reason (read-only filesystem, permission, no space, exists).
  ArchiveWriter(Io& io, std::string path, int gzip_level);
  ~ArchiveWriter();  // unfinished: removes PATH.partial
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Adds a regular file whose content is read from fd (st from fstat of that fd).
  void add_file(const EntryMeta& m, int fd);
  void add_symlink(const EntryMeta& m);
  // Ends the stream, fsyncs it, renames PATH.partial to PATH (refusing to replace a
  // file) and fsyncs the directory.
  void finish();
  // Gives up: removes PATH.partial (also what the destructor does when unfinished).
  void abandon();

  uint64_t entries() const { return entries_; }
  uint64_t digest() const { return digest_.value(); }
  uint64_t bytes_written() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  void check(const std::string& what);  // fails when a write failed
  static long write_cb(struct archive*, void* self, const void* buf, size_t len);
  void header(const EntryMeta& m);

  Io& io_;
  std::string path_, dir_, partial_name_, final_name_;
  int dirfd_ = -1, fd_ = -1;
  struct archive* a_ = nullptr;
  uint64_t offset_ = 0, entries_ = 0;
  int write_errno_ = 0;
  bool finished_ = false;
  EntryDigest digest_;
};

// Reads an archive written by ArchiveWriter, entry by entry.
class ArchiveReader {
 public:
  // Throws InputError when it cannot be opened or is not a gzip tar.
  explicit ArchiveReader(const std::string& path, bool drop_cache = false);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;
  // The next entry; false at the end. Throws InputError on damage. Entries that are
  // neither files nor symlinks come back with `unsupported` set.
  bool next(EntryMeta& m, bool* unsupported = nullptr);
  // The current entry's data, fed to the digest (and to sink when given).
  void read_data(EntryDigest& d, const std::function<void(const void*, size_t)>& sink = {});
  struct archive* raw() {
    return a_;
  }
  struct archive_entry* entry() {
    return entry_;
  }  // the current entry
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  struct archive* a_ = nullptr;
  struct archive_entry* entry_ = nullptr;
  int fd_ = -1;
};

struct VerifyResult {
  uint64_t entries = 0;
  uint64_t digest = 0;
};
// Reads the whole archive (from the disk, not the page cache, when it can) and
// recomputes its digest. Throws InputError on any damage.
VerifyResult verify_archive(const std::string& path);

}  // namespace xsguard::store
