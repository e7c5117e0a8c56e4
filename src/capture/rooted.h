// A directory tree seen as the root of another system (an old root mounted read-only,
// or the installer's /tmp/root): every path is resolved inside it the way that system
// would resolve it when booted. A symlink's absolute target starts again at this root,
// ".." stops at it, and nothing outside it is ever opened, read or written.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probe/io.h"

namespace xsguard::capture {

struct FileRead {
  enum class Status { ok, missing, not_regular, too_large, unreadable };
  Status status = Status::missing;
  std::string bytes;     // ok only
  std::string why;       // one line for the other states
  std::string resolved;  // the path inside the root once symlinks are resolved
  bool via_symlink = false;
  uint32_t mode = 0, uid = 0, gid = 0;  // ok only: permission bits and owner
  int64_t mtime = 0;
  uint64_t size = 0;
};

struct DirEntry {
  enum class Type { file, directory, symlink, other };
  std::string name;
  Type type;
};

class RootedDir {
 public:
  // Throws InputError when path is not a directory that can be opened.
  explicit RootedDir(const std::string& path);
  ~RootedDir();
  RootedDir(const RootedDir&) = delete;
  RootedDir& operator=(const RootedDir&) = delete;

  const std::string& path() const { return path_; }

  // The whole regular file at rel (symlinks resolved inside the root); never more
  // than max_bytes are read. Devices, FIFOs and sockets are never opened.
  FileRead read(const std::string& rel, size_t max_bytes) const;
  // The entries of the directory at rel, sorted by name, at most max_entries
  // (more_entries tells when some were left out); nullopt when it is not a directory.
  std::optional<std::vector<DirEntry>> list(const std::string& rel, size_t max_entries,
                                            bool* more_entries = nullptr) const;
  // What rel resolves to, when anything: S_IFREG, S_IFDIR, ... or 0 when absent.
  unsigned type_of(const std::string& rel) const;
  // The target of the symlink at rel itself (its directories resolved); nullopt when
  // rel is not a symlink.
  std::optional<std::string> link_target(const std::string& rel) const;

  // Replaces (or creates) the regular file at rel so that it is either the old or
  // the new content: a temporary file beside it, fsync, rename, fsync of the
  // directory; missing parent directories are created (0755). All writes go through
  // io. Throws RefusedError with the reason.
  void write_file(Io& io, const std::string& rel, const std::string& bytes, uint32_t mode,
                  uint32_t uid, uint32_t gid) const;
  // Sets the permission bits of the regular file at rel (fsync'd). Throws RefusedError.
  void set_mode(Io& io, const std::string& rel, uint32_t mode) const;

 private:
  struct Walk;
  Walk resolve(const std::string& rel, bool follow_leaf, bool create_dirs, Io* io) const;
  std::string path_;
  int fd_ = -1;
};

}  // namespace xsguard::capture
