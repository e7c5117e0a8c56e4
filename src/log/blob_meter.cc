#include "log/blob_meter.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xsguard::logwatch {

std::string blobs_dir(const std::string& root) {
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (r == "/") r.clear();
  return r + "/var/lib/xcp/blobs";
}

TreeCounter::TreeCounter(std::string root, size_t entry_budget, size_t stat_budget)
    : root_(std::move(root)),
      entry_budget_(entry_budget ? entry_budget : 1),
      stat_budget_(stat_budget ? stat_budget : 1) {}

TreeCounter::~TreeCounter() {
  if (scan_) closedir(scan_);
}

void TreeCounter::reset() {
  if (scan_) closedir(scan_);
  scan_ = nullptr;
  dirs_.clear();
  known_.clear();
  stat_cursor_ = dirty_cursor_ = 0;
}

void TreeCounter::add_dir(std::string rel) {
  if (!known_.insert(rel).second) return;
  Dir d;
  d.rel = std::move(rel);
  dirs_.push_back(std::move(d));
}

static int open_rel(int rootfd, const std::string& rel) {
  return openat(rootfd, rel.empty() ? "." : rel.c_str(),
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

void TreeCounter::stat_pass(int rootfd) {
  size_t n = dirs_.size();
  size_t todo = std::min(n, stat_budget_);
  for (size_t k = 0; k < todo; ++k) {
    if (stat_cursor_ >= n) stat_cursor_ = 0;
    Dir& d = dirs_[stat_cursor_++];
    if (d.gone || !d.read_once) continue;
    struct stat st {};
    if (fstatat(rootfd, d.rel.empty() ? "." : d.rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(st.st_mode)) {
      d.gone = true;
      d.count = 0;
      continue;
    }
    int64_t mt = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (mt == d.mtime_ns && int64_t(st.st_size) == d.size) continue;
    d.dirty = true;
    if (d.size > 0 && st.st_size > 0 && d.counted > 0)
      d.count = uint64_t(double(d.counted) * double(st.st_size) / double(d.size));
  }
}

bool TreeCounter::start_scan(int rootfd, size_t idx) {
  Dir& d = dirs_[idx];
  int fd = open_rel(rootfd, d.rel);
  if (fd < 0) {
    d.gone = true;
    d.dirty = false;
    d.count = 0;
    return false;
  }
  struct stat st {};
  fstat(fd, &st);
  scan_ = fdopendir(fd);
  if (!scan_) {
    close(fd);
    d.dirty = false;
    return false;
  }
  scan_idx_ = idx;
  scan_count_ = 0;
  scan_mtime_ = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  scan_size_ = int64_t(st.st_size);
  return true;
}

void TreeCounter::scan_pass(int rootfd) {
  size_t budget = entry_budget_;
  size_t tried = 0;
  while (budget > 0) {
    if (!scan_) {
      // Next directory to read: never read first, then changed ones, round-robin.
      size_t n = dirs_.size(), pick = n;
      for (size_t k = 0; k < n; ++k) {
        size_t i = (dirty_cursor_ + k) % n;
        if (!dirs_[i].gone && dirs_[i].dirty) {
          pick = i;
          break;
        }
      }
      if (pick == n || tried++ > n) return;
      dirty_cursor_ = pick + 1;
      if (!start_scan(rootfd, pick)) continue;
    }
    std::string parent = dirs_[scan_idx_].rel;
    int dfd = dirfd(scan_);
    while (budget > 0) {
      errno = 0;
      dirent* e = readdir(scan_);
      if (!e) break;
      if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
        continue;
      --budget;
      ++scan_count_;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st {};
        is_dir = fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) add_dir(parent.empty() ? std::string(e->d_name) : parent + '/' + e->d_name);
    }
    Dir& d = dirs_[scan_idx_];
    if (budget == 0) {
      // Out of budget mid-directory: show what is known, resume next tick.
      if (!d.read_once || scan_count_ > d.count) d.count = std::max(d.count, scan_count_);
      return;
    }
    closedir(scan_);
    scan_ = nullptr;
    d.counted = d.count = scan_count_;
    d.mtime_ns = scan_mtime_;
    d.size = scan_size_;
    d.read_once = true;
    d.dirty = false;
  }
}

TreeCounter::Count TreeCounter::tick() {
  Count c;
  // The root itself is not followed either: a blobs symlink is counted as nothing.
  int rootfd = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0) {
    reset();
    return c;
  }
  c.exists = true;
  if (dirs_.empty()) add_dir("");
  stat_pass(rootfd);
  scan_pass(rootfd);
  close(rootfd);
  c.exact = scan_ == nullptr;
  for (const auto& d : dirs_) {
    if (d.gone) continue;
    c.entries += d.count;
    if (d.dirty) c.exact = false;
  }
  return c;
}

void RateMeter::sample(int64_t now_ms, uint64_t value) {
  if (!samples_.empty() && value < samples_.back().second) samples_.clear();  // restarted
  samples_.emplace_back(now_ms, value);
  while (samples_.size() > 2 && now_ms - samples_.front().first > 60000) samples_.pop_front();
}

double RateMeter::rate_per_s() const {
  if (samples_.size() < 2) return 0;
  const auto& a = samples_.front();
  const auto& b = samples_.back();
  if (b.first <= a.first) return 0;
  return double(b.second - a.second) * 1000.0 / double(b.first - a.first);
}

int64_t RateMeter::eta_s(uint64_t target) const {
  double r = rate_per_s();
  if (samples_.empty() || r <= 0) return -1;
  uint64_t now = samples_.back().second;
  if (now >= target) return 0;
  return int64_t(double(target - now) / r + 0.5);
}

static std::string unescape_mount(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string find_upgrade_source(std::string_view text) {
  std::string found;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    size_t a = line.find(' ');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(' ', a + 1);
    std::string mnt = unescape_mount(line.substr(a + 1, b == std::string_view::npos ? line.npos : b - a - 1));
    size_t slash = mnt.rfind('/');
    std::string base = slash == std::string::npos ? mnt : mnt.substr(slash + 1);
    if (base.compare(0, 12, "upgrade-src-") == 0) found = mnt;
  }
  return found;
}

BlobMeter::BlobMeter(std::string target_root, std::string source_root, std::string mounts_file)
    : target_dir_(blobs_dir(target_root)),
      source_root_(std::move(source_root)),
      mounts_file_(std::move(mounts_file)),
      target_(target_dir_) {}

bool BlobMeter::target_exists() const {
  struct stat st {};
  return lstat(target_dir_.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::unique_ptr<ReadOnlyMount> ReadOnlyMount::mount(const std::string& device, std::string* error) {
  struct stat st {};
  if (stat(device.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) {
    *error = device + " is not a block device";
    return nullptr;
  }
  char tmpl[] = "/tmp/xsguard-src-XXXXXX";
  if (!mkdtemp(tmpl)) {
    *error = std::string("cannot create a mount point: ") + std::strerror(errno);
    return nullptr;
  }
  const unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  // The backup partition is ext3; the ext4 driver mounts it when ext3 is not built.
  for (const char* fs : {"ext3", "ext4"}) {
    if (::mount(device.c_str(), tmpl, fs, flags, nullptr) == 0)
      return std::unique_ptr<ReadOnlyMount>(new ReadOnlyMount(tmpl));
  }
  *error = "cannot mount " + device + " read-only: " + std::strerror(errno);
  rmdir(tmpl);
  return nullptr;
}

ReadOnlyMount::~ReadOnlyMount() {
  umount2(path_.c_str(), MNT_DETACH);
  rmdir(path_.c_str());
}

void BlobMeter::release() {
  if (!own_mount_) return;
  source_.reset();
  own_mount_.reset();
  mount_tried_ = false;
}

BlobMeasure BlobMeter::tick(int64_t now_ms) {
  BlobMeasure m;
  m.target_dir = target_dir_;
  if (!source_) {
    std::string root = source_root_;
    if (root.empty()) {
      std::ifstream f(mounts_file_);
      std::stringstream ss;
      ss << f.rdbuf();
      root = find_upgrade_source(ss.str());
    }
    // Not visible: mount the partition the log named, once per stall.
    if (root.empty() && !source_device_.empty() && !mount_tried_) {
      mount_tried_ = true;
      own_mount_ = ReadOnlyMount::mount(source_device_, &mount_error_);
      if (own_mount_) root = own_mount_->path();
    }
    if (!root.empty()) source_ = std::make_unique<TreeCounter>(blobs_dir(root));
  }
  m.source_mounted = own_mount_ != nullptr;
  if (!source_)
    m.note = !mount_error_.empty() ? mount_error_
                                   : "no upgrade-src-* mount found; give --source-root";
  // The source does not change: once read it is only stat'ed.
  if (source_) {
    auto s = source_->tick();
    m.source_dir = source_->root();
    if (s.exists) {
      m.source_known = true;
      m.source_entries = s.entries;
      m.estimate |= !s.exact;
    } else if (source_root_.empty() && !own_mount_) {
      source_.reset();  // the mount went away; look again next tick
    }
  }
  auto t = target_.tick();
  m.target_exists = t.exists;
  m.target_entries = t.entries;
  m.estimate |= !t.exact;
  if (t.exists) rate_.sample(now_ms, t.entries);
  m.rate_per_s = rate_.rate_per_s();
  if (m.source_known) m.eta_s = rate_.eta_s(m.source_entries);
  return m;
}

}  // namespace xsguard::logwatch
