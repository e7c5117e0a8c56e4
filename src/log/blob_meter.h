// Measures the restore the installer does silently at 72%: entries under the new
// root's var/lib/xcp/blobs against entries under the old one (the backup partition
// the installer mounted read-only on an "upgrade-src-*" directory, or --source-root).
#pragma once
#include <dirent.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace xsguard::logwatch {

// Counts every entry below a directory (files, symlinks, subdirectories; like
// `find DIR -mindepth 1 | wc -l`) with bounded work per tick, never following a
// symlink (xapi's message links are absolute and point into the installer's own
// tree).
//
// Cost: a directory is read again only when its mtime or size changed. While `cp`
// fills a directory of a million entries, re-reading it every tick would be a
// million getdents entries per tick, so a changed directory is first estimated from
// its size (ext4 and tmpfs directory sizes grow in proportion to their entries:
// count = last exact count * size / size at that count) and re-read exactly in slices
// of at most `entry_budget` entries per tick, resuming where the last tick stopped.
// Each tick also stats at most `stat_budget` known directories, round-robin.
class TreeCounter {
 public:
  explicit TreeCounter(std::string root, size_t entry_budget = 100000, size_t stat_budget = 20000);
  ~TreeCounter();
  TreeCounter(const TreeCounter&) = delete;
  TreeCounter& operator=(const TreeCounter&) = delete;

  struct Count {
    bool exists = false;
    uint64_t entries = 0;
    bool exact = false;  // every directory read since its last change
  };
  Count tick();
  const std::string& root() const { return root_; }

 private:
  struct Dir {
    std::string rel;          // "" for the root
    int64_t mtime_ns = -1;    // at the last completed read
    int64_t size = -1;        // at the last completed read
    uint64_t counted = 0;     // entries at the last completed read
    uint64_t count = 0;       // best current value (exact or estimated)
    bool read_once = false, dirty = true, gone = false;
  };
  void reset();
  void stat_pass(int rootfd);
  void scan_pass(int rootfd);
  bool start_scan(int rootfd, size_t idx);
  void add_dir(std::string rel);

  std::string root_;
  size_t entry_budget_, stat_budget_;
  std::vector<Dir> dirs_;
  std::unordered_set<std::string> known_;
  size_t stat_cursor_ = 0, dirty_cursor_ = 0;
  DIR* scan_ = nullptr;
  size_t scan_idx_ = 0;
  uint64_t scan_count_ = 0;
  int64_t scan_mtime_ = 0, scan_size_ = 0;
};

// Entries per second over the last minute of samples, and the time left.
class RateMeter {
 public:
  void sample(int64_t now_ms, uint64_t value);
  double rate_per_s() const;
  int64_t eta_s(uint64_t target) const;  // -1 unknown

 private:
  std::deque<std::pair<int64_t, uint64_t>> samples_;
};

// Mount point of the installer's read-only "upgrade-src-*" mount in /proc/mounts
// text (last one wins), with the \040-style escapes undone. "" if none.
std::string find_upgrade_source(std::string_view proc_mounts);

// A read-only mount of the backup partition that xsguard makes itself when the
// installer's own upgrade-src-* mount is not visible (another mount namespace, or
// between the installer's mount and the copy). Unmounted (lazily) when destroyed.
class ReadOnlyMount {
 public:
  // Mounts a block device read-only, nosuid, nodev, noexec on a new directory under
  // /tmp. Returns nullptr and sets *error when it cannot.
  static std::unique_ptr<ReadOnlyMount> mount(const std::string& device, std::string* error);
  ~ReadOnlyMount();
  ReadOnlyMount(const ReadOnlyMount&) = delete;
  ReadOnlyMount& operator=(const ReadOnlyMount&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit ReadOnlyMount(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct BlobMeasure {
  bool target_exists = false;
  uint64_t target_entries = 0;
  bool source_known = false;
  uint64_t source_entries = 0;
  bool estimate = false;  // a count is still partly estimated or being walked
  bool source_mounted = false;  // xsguard mounted the source itself
  std::string note;             // why the source is unknown, when it is
  double rate_per_s = 0;
  int64_t eta_s = -1;
  std::string target_dir, source_dir;
};

class BlobMeter {
 public:
  // target_root: the new root (/tmp/root). source_root: the old root; "" to look for
  // the installer's upgrade-src-* mount in mounts_file on each tick until found.
  BlobMeter(std::string target_root, std::string source_root,
            std::string mounts_file = "/proc/mounts");
  bool target_exists() const;
  // The backup partition, as the installer's log names it (its mount command); used
  // to mount it read-only when no upgrade-src-* mount is visible.
  void set_source_device(const std::string& device) { source_device_ = device; }
  BlobMeasure tick(int64_t now_ms);  // bounded work, see TreeCounter
  // Lets go of a mount made by xsguard (the stall is over).
  void release();

 private:
  std::string target_dir_, source_root_, mounts_file_, source_device_;
  TreeCounter target_;
  std::unique_ptr<TreeCounter> source_;
  std::unique_ptr<ReadOnlyMount> own_mount_;
  std::string mount_error_;
  bool mount_tried_ = false;
  RateMeter rate_;
};

std::string blobs_dir(const std::string& root);  // ROOT/var/lib/xcp/blobs

}  // namespace xsguard::logwatch
