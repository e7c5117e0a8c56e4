// xapi's blob store on disk, read without ever following a symlink.
//
// Layout (xen-api's xapi_message.ml and xcp-rrdd): ROOT/var/lib/xcp/blobs (before 7.0:
// ROOT/var/xapi/blobs) holds
//   messages/<ts>                      one file per message; <ts> is the Unix time
//                                      printed "%0.5f", the file's mtime that time
//   messages/<cls>/<obj_uuid>/<ts>     four ABSOLUTE symlinks per message, each
//   messages/uuids/<uuid>              to /var/lib/xcp/blobs/messages/<ts>
//   messages/refs/<ref>
//   messages/gen/<generation>
//   rrds/<uuid>.gz and other blobs
// On a mounted old root the absolute links point into the running system, so they
// are never followed: their targets are resolved by hand against the tree.
//
// Every walk here works on directory file descriptors (openat with O_NOFOLLOW |
// O_DIRECTORY, fstatat/readlinkat/unlinkat relative to them): a path component that
// is, or becomes, a symlink is never traversed.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xsguard::store {

// A message name as a number: the timestamp in units of 10 microseconds
// ("1498412345.12345" -> 149841234512345). nullopt for anything else.
std::optional<int64_t> message_key(std::string_view name);
std::string key_to_name(int64_t key);  // "%0.5f" form
inline int64_t key_seconds(int64_t key) { return key / 100000; }
inline int64_t seconds_to_key(int64_t s) { return s * 100000; }

// The blobs directory under a root: the first of var/lib/xcp/blobs and var/xapi/blobs
// that is a real directory (a symlink anywhere below ROOT is refused). host_path is
// the path the running system gives it ("/var/lib/xcp/blobs"), against which absolute
// link targets are resolved.
struct BlobsLocation {
  std::string path;       // ROOT/var/lib/xcp/blobs
  std::string host_path;  // /var/lib/xcp/blobs
  std::string parent;     // ROOT/var/lib/xcp (the journal lives here)
};
// Throws InputError when there is none.
BlobsLocation find_blobs(const std::string& root);

// Opens DIR (a directory) without following a symlink at its last component.
// Returns -1 with errno set.
int open_dir_nofollow(int dirfd, const char* name);

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Where a symlink inside the tree points, resolved lexically (by hand, never by the
// kernel). link_dir is the link's directory relative to the tree ("messages/uuids").
struct LinkTarget {
  enum Kind {
    message,  // messages/<ts> of this tree: key is set
    inside,   // another path inside the tree: rel is set
    outside,  // leaves the tree (e.g. /etc, ../../..): never touched
  } kind = outside;
  int64_t key = 0;
  std::string rel;
};
LinkTarget resolve_link(std::string_view target, std::string_view link_dir,
                        std::string_view host_path);

// Which part of the store an entry belongs to (for counting).
enum class Part { message_file, class_link, uuid_link, ref_link, gen_link, rrd, other };
const char* part_name(Part p);
// rel: the entry's path relative to the tree. is_link: a symlink.
Part classify(std::string_view rel, bool is_link);

// The entries of one directory, read with getdents64 into a 32 KiB buffer: names point
// into the buffer and stay valid until the next call. "." and ".." are skipped.
struct DirEntry {
  const char* name;
  unsigned type;  // S_IFDIR, S_IFLNK, S_IFREG, ... ; 0 when the filesystem does not say
};
class DirReader {
 public:
  explicit DirReader(int fd);  // not owned; read from its current position
  // False at the end, or on an error (err() then says which).
  bool next(DirEntry& e);
  int err() const { return err_; }

 private:
  static constexpr size_t kBuf = 32 * 1024;
  int fd_;
  std::unique_ptr<char[]> buf_;
  long len_ = 0, off_ = 0;
  int err_ = 0;
};

// Depth-first walk of every entry below a directory, in getdents order, without
// following symlinks. The callback gets the directory's fd, the entry's name, its path
// relative to the walk's start and its d_type-derived mode bits (S_IFDIR, S_IFLNK,
// S_IFREG, ... ; 0 when the filesystem does not say: call fstatat). Return false from
// `enter` to skip a directory. Memory: one DirReader and one fd per level.
struct WalkEntry {
  int dirfd;
  const char* name;
  const std::string& rel;
  unsigned type;  // S_IF* or 0
};
struct WalkError {
  std::string rel;
  int err;
};
class Walker {
 public:
  std::function<void(const WalkEntry&)> visit;  // every entry
  std::function<bool(const WalkEntry&)> enter;  // directories; default: yes
  std::function<void(const WalkError&)> error;  // unreadable directory
  size_t max_depth = 64;
  // Walks below dirfd (not closed); prefix is prepended to relative paths.
  void walk(int dirfd, const std::string& prefix = "");

 private:
  void walk_dir(int fd, std::string& rel, size_t depth);
};

// Resolves a relative path inside the tree one component at a time (O_NOFOLLOW), and
// opens its directory. Caches the last directory: consecutive entries in one
// directory cost one fstatat/unlinkat each. Returns -1 (errno set) when any component
// is missing, not a directory, or a symlink.
class DirCache {
 public:
  explicit DirCache(int rootfd) : rootfd_(rootfd) {}
  // The fd of rel's directory and rel's last component.
  int dir_of(std::string_view rel, std::string* leaf);

 private:
  int rootfd_;
  std::string dir_;
  Fd fd_;
};

// True when rel exists inside the tree (no component followed).
bool exists_in_tree(int rootfd, std::string_view rel);

// Reads a symlink's target relative to dirfd; false on error.
bool read_link(int dirfd, const char* name, std::string& target);

}  // namespace xsguard::store
