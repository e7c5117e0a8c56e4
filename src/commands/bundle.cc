#include "commands/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <linux/magic.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include "commands/check.h"
#include "commands/disk_change.h"
#include "commands/watch.h"
#include "log/clock.h"
#include "model/errors.h"
#include "model/table_text.h"
#include "probe/disk_guard.h"
#include "probe/disk_probe.h"
#include "report/report.h"

namespace xsguard {

namespace {

constexpr uint64_t kMiB = 1 << 20;
// The raw head of a disk runs to its first partition, at most this far (a first
// partition gigabytes in would make the bundle that large).
constexpr uint64_t kMaxHeadBytes = 64 * kMiB;
constexpr size_t kMaxProcFile = 16 * kMiB;
// klogctl's SYSLOG_ACTION_* numbers (sys/klog.h declares only the call).
constexpr int kSyslogReadAll = 3;
constexpr int kSyslogSizeBuffer = 10;

// ---- Where things live --------------------------------------------------------

std::string real(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

std::string sys_of_dev(dev_t dev) {
  return real("/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev)));
}

// True when the block device at sysfs path dev is disk_sys, one of its partitions, or
// a device-mapper/md device stacked on them (followed through slaves/).
bool built_on(const std::string& dev, const std::string& disk_sys, int depth = 0) {
  if (dev.empty() || disk_sys.empty()) return false;
  if (dev == disk_sys || dev.rfind(disk_sys + "/", 0) == 0) return true;
  if (depth > 8) return false;
  for (const auto& slave : list_dir_names(dev + "/slaves"))
    if (built_on(real(dev + "/slaves/" + slave), disk_sys, depth + 1)) return true;
  return false;
}

// The sysfs directories that stand for a disk path: a block device's own, or those of
// the loop devices an image file is attached to.
std::vector<std::string> disk_sys_dirs(const std::string& path) {
  std::vector<std::string> out;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return out;
  if (S_ISBLK(st.st_mode)) {
    out.push_back(sys_of_dev(st.st_rdev));
  } else if (S_ISREG(st.st_mode)) {
    const std::string target = real(path);
    for (const auto& name : list_dir_names("/sys/block")) {
      if (name.rfind("loop", 0) != 0) continue;
      std::ifstream in("/sys/block/" + name + "/loop/backing_file");
      std::string backing;
      if (std::getline(in, backing) && backing == target) out.push_back(real("/sys/block/" + name));
    }
  }
  return out;
}

bool writable_dir(const std::string& dir, uint64_t* free_bytes = nullptr) {
  struct stat st {};
  struct statvfs vfs {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || statvfs(dir.c_str(), &vfs) != 0 ||
      (vfs.f_flag & ST_RDONLY) || access(dir.c_str(), W_OK) != 0)
    return false;
  if (free_bytes) *free_bytes = uint64_t(vfs.f_bavail) * vfs.f_frsize;
  return true;
}

std::string safe_name(const std::string& s, const char* fallback) {
  std::string out = s;
  for (char& c : out)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  if (out.empty() || out[0] == '.') out = fallback + out;
  return out;
}

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return safe_name(name, "host");
}

std::string sha_hex(sha256_ctx& ctx) {
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) out += hex[b >> 4], out += hex[b & 15];
  return out;
}

// ---- The archive ----------------------------------------------------------------

struct Member {
  std::string name;  // below the top directory
  uint64_t size = 0;
  std::string sha256;
};

// A gzip-compressed pax tar written to DIR/NAME.partial through the Io seam, renamed
// into place only when complete. Every member's size is known before its data.
class BundleWriter {
 public:
  BundleWriter(Io& io, const std::string& dir, const std::string& name, std::string top,
               bool replace)
      : io_(io), path_(dir + "/" + name), name_(name), partial_(name + ".partial"),
        top_(std::move(top)), replace_(replace), now_(std::time(nullptr)) {
    dirfd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd_ < 0) fail("cannot open its directory", errno);
    // A partial file is only ever ours, left by an interrupted run.
    unlinkat(dirfd_, partial_.c_str(), 0);
    fd_ = openat(dirfd_, partial_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0600);
    if (fd_ < 0) fail("cannot create " + partial_, errno);
    a_ = archive_write_new();
    if (!a_) fail("out of memory", ENOMEM);
    archive_write_add_filter_gzip(a_);
    archive_write_set_format_pax_restricted(a_);
    archive_write_set_bytes_per_block(a_, 64 * 1024);
    archive_write_set_bytes_in_last_block(a_, 1);
    if (archive_write_open2(a_, this, nullptr, &BundleWriter::write_cb, nullptr, nullptr) !=
        ARCHIVE_OK)
      fail(archive_error_string(a_) ? archive_error_string(a_) : "libarchive", write_errno_);
  }

  ~BundleWriter() {
    if (a_) archive_write_free(a_);
    if (fd_ >= 0) ::close(fd_);
    if (!finished_ && dirfd_ >= 0) unlinkat(dirfd_, partial_.c_str(), 0);
    if (dirfd_ >= 0) ::close(dirfd_);
  }
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  int dirfd() const { return dirfd_; }
  const std::string& path() const { return path_; }
  const std::vector<Member>& members() const { return members_; }
  uint64_t bytes_written() const { return offset_; }

  void begin(const std::string& name, uint64_t size) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_set_pathname(e.get(), (top_ + "/" + name).c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_mtime(e.get(), now_, 0);
    archive_entry_set_size(e.get(), int64_t(size));
    if (archive_write_header(a_, e.get()) != ARCHIVE_OK)
      fail("adding " + name + ": " +
               (archive_error_string(a_) ? archive_error_string(a_) : "libarchive"),
           write_errno_);
    check("adding " + name);
    current_ = {name, size, ""};
    left_ = size;
    sha256_init(&sha_);
  }

  void data(const void* p, size_t n) {
    if (n > left_) throw std::logic_error("bundle member " + current_.name + " overruns its size");
    if (archive_write_data(a_, p, n) != la_ssize_t(n)) fail("adding " + current_.name, write_errno_);
    check("adding " + current_.name);
    sha256_update(&sha_, n, static_cast<const uint8_t*>(p));
    left_ -= n;
  }

  void end() {
    if (left_) throw std::logic_error("bundle member " + current_.name + " is short");
    current_.sha256 = sha_hex(sha_);
    members_.push_back(current_);
  }

  void add(const std::string& name, const std::string& bytes) {
    begin(name, bytes.size());
    data(bytes.data(), bytes.size());
    end();
  }

  void finish() {
    if (archive_write_close(a_) != ARCHIVE_OK)
      fail(archive_error_string(a_) ? archive_error_string(a_) : "closing", write_errno_);
    check("closing");
    archive_write_free(a_);
    a_ = nullptr;
    if (!io_.fsync(fd_)) fail("fsync", errno);
    ::close(fd_);
    fd_ = -1;
    struct stat st {};
    if (fstatat(dirfd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (!replace_ || !S_ISREG(st.st_mode)))
      fail("it appeared while xsguard wrote it", EEXIST);
    if (renameat(dirfd_, partial_.c_str(), dirfd_, name_.c_str()) != 0) fail("rename", errno);
    finished_ = true;
    if (!io_.fsync(dirfd_)) {
      int e = errno;
      unlinkat(dirfd_, name_.c_str(), 0);
      fail("fsync of its directory", e);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what, int err) {
    throw RefusedError("cannot write " + path_ + ": " + what +
                       (err ? std::string(": ") + std::strerror(err) : std::string()) +
                       "; nothing was left behind");
  }
  void check(const std::string& what) {
    if (write_errno_) fail(what + ": write failed", write_errno_);
  }
  // A failure is recorded, not reported to libarchive: in its fatal state it would not
  // end the zlib stream. The caller checks after each step.
  static la_ssize_t write_cb(struct archive*, void* self, const void* buf, size_t len) {
    auto* w = static_cast<BundleWriter*>(self);
    if (w->write_errno_) return la_ssize_t(len);
    if (!w->io_.pwrite_all(w->fd_, buf, len, w->offset_))
      w->write_errno_ = errno ? errno : EIO;
    else
      w->offset_ += len;
    return la_ssize_t(len);
  }

  Io& io_;
  std::string path_, name_, partial_, top_;
  bool replace_;
  time_t now_;
  int dirfd_ = -1, fd_ = -1;
  struct archive* a_ = nullptr;
  uint64_t offset_ = 0, left_ = 0;
  int write_errno_ = 0;
  bool finished_ = false;
  Member current_;
  sha256_ctx sha_{};
  std::vector<Member> members_;
};

// ---- What goes in -----------------------------------------------------------------

struct Notes {
  std::vector<std::pair<std::string, std::string>> items;  // member or source, why
  void add(std::string what, std::string why) { items.push_back({std::move(what), std::move(why)}); }
};

// Streams len bytes of fd from offset into the current member; a file that shrank
// meanwhile is padded with zeros. Returns the bytes that were really read.
uint64_t copy_range(BundleWriter& w, int fd, uint64_t offset, uint64_t len) {
  std::vector<char> buf(kMiB);
  uint64_t got = 0;
  while (got < len) {
    size_t want = size_t(std::min<uint64_t>(buf.size(), len - got));
    ssize_t n = ::pread(fd, buf.data(), want, off_t(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    w.data(buf.data(), size_t(n));
    got += uint64_t(n);
  }
  for (uint64_t pad = got; pad < len;) {
    size_t n = size_t(std::min<uint64_t>(buf.size(), len - pad));
    std::fill(buf.begin(), buf.begin() + long(n), '\0');
    w.data(buf.data(), n);
    pad += n;
  }
  return got;
}

// The log is still being written: its size is taken once and that many bytes copied.
// A log over the limit keeps its first quarter and its end (where a failure is),
// joined by a line saying how much was cut.
bool add_install_log(BundleWriter& w, const BundleOptions& o, Notes& notes) {
  int fd = ::open(o.log.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    notes.add("install-log", o.log + ": " + std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    notes.add("install-log", o.log + ": not a regular file");
    return false;
  }
  const uint64_t size = uint64_t(st.st_size);
  uint64_t got = 0;
  if (size <= o.max_log_bytes) {
    w.begin("install-log", size);
    got = copy_range(w, fd, 0, size);
    w.end();
  } else {
    const uint64_t head = o.max_log_bytes / 4;
    std::string marker;
    uint64_t tail = 0;
    // The marker's length depends on the numbers in it: settle them together.
    for (int i = 0; i < 3; ++i) {
      tail = o.max_log_bytes > head + marker.size() ? o.max_log_bytes - head - marker.size() : 0;
      marker = fmt::format("\n[xsguard bundle: {} bytes of the log cut here]\n", size - head - tail);
    }
    tail = o.max_log_bytes > head + marker.size() ? o.max_log_bytes - head - marker.size() : 0;
    w.begin("install-log", head + marker.size() + tail);
    got = copy_range(w, fd, 0, head);
    w.data(marker.data(), marker.size());
    got += copy_range(w, fd, size - tail, tail);
    w.end();
    notes.add("install-log", fmt::format("{} bytes, over the limit of {}: the first {} and the "
                                         "last {} bytes kept",
                                         size, o.max_log_bytes, head, tail));
    got += marker.size();
  }
  ::close(fd);
  if (got < w.members().back().size)
    notes.add("install-log", "the log shrank while it was read: the end is padded with zeros");
  return true;
}

// Runs `watch --once` over the log into an unlinked scratch file beside the bundle
// (its output grows with the log: not kept in memory), then copies it in.
void add_watch(BundleWriter& w, const BundleOptions& o, bool json, Notes& notes) {
  const std::string name = json ? "watch.json" : "watch.txt";
  const std::string scratch = ".xsguard-bundle-" + std::to_string(getpid()) + "-" + name;
  int fd = openat(w.dirfd(), scratch.c_str(),
                  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    notes.add(name, std::string("no scratch file: ") + std::strerror(errno));
    return;
  }
  unlinkat(w.dirfd(), scratch.c_str(), 0);
  WatchOptions wo;
  wo.log = o.log;
  wo.once = true;
  wo.json = json;
  try {
    logwatch::SystemClock clock;
    run_watch(wo, fd, clock);
    struct stat st {};
    if (fstat(fd, &st) != 0) throw std::runtime_error(std::strerror(errno));
    w.begin(name, uint64_t(st.st_size));
    if (copy_range(w, fd, 0, uint64_t(st.st_size)) < uint64_t(st.st_size))
      notes.add(name, "the scratch file could not be read back whole");
    w.end();
  } catch (const RefusedError&) {
    ::close(fd);
    throw;
  } catch (const std::exception& e) {
    notes.add(name, e.what());
  }
  ::close(fd);
}

// Reads a /proc file (stat says size 0: read to the end).
bool read_proc(const std::string& path, std::string& out, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = path + ": " + std::strerror(errno);
    return false;
  }
  out.clear();
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0 || out.size() >= kMaxProcFile) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return true;
}

void add_kernel_log(BundleWriter& w, Notes& notes) {
  int size = klogctl(kSyslogSizeBuffer, nullptr, 0);
  if (size <= 0) size = 1 << 20;
  std::string buf(size_t(size), '\0');
  int n = klogctl(kSyslogReadAll, buf.data(), size);
  if (n < 0) {
    notes.add("dmesg.txt", std::string("klogctl(SYSLOG_ACTION_READ_ALL): ") + std::strerror(errno));
    return;
  }
  buf.resize(size_t(n));
  w.add("dmesg.txt", buf);
}

void add_disk(BundleWriter& w, const std::string& path, const std::string& dir,
              const ProbedDisk& probed, Notes& notes) {
  const DiskLayout& l = probed.layout;
  const FileSource& src = *probed.source;
  w.add(dir + "/table.txt", table_as_sfdisk(l, src.is_block_device()));
  uint64_t first = UINT64_MAX;
  for (const Partition* p : l.by_start()) first = std::min(first, p->start);
  const uint64_t head = std::min(
      l.size_bytes,
      std::max(kMiB, first == UINT64_MAX ? 0 : std::min(first * l.logical_sector, kMaxHeadBytes)));
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> ranges = {
      {dir + "/head.bin", {0, head}}};
  // The backup GPT: its header and entries in the last 33 sectors.
  const uint64_t tail = 33ull * l.logical_sector;
  if (l.label == LabelKind::gpt && l.size_bytes > head + tail)
    ranges.push_back({dir + "/tail.bin", {l.size_bytes - tail, tail}});
  std::vector<char> buf(kMiB);
  for (const auto& [name, range] : ranges) {
    w.begin(name, range.second);
    bool short_read = false;
    for (uint64_t at = 0; at < range.second;) {
      size_t n = size_t(std::min<uint64_t>(buf.size(), range.second - at));
      if (!src.read(range.first + at, buf.data(), n)) {
        std::fill(buf.begin(), buf.begin() + long(n), '\0');
        short_read = true;
      }
      w.data(buf.data(), n);
      at += n;
    }
    w.end();
    if (short_read) notes.add(name, path + ": read errors: the unreadable parts are zeros");
  }
}

std::string dir_of(const std::string& path) {
  size_t s = path.rfind('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : path.substr(0, s);
}

std::string base_of(const std::string& path) {
  size_t s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

std::string manifest_text(const BundleOptions& o, const std::string& top,
                          const std::vector<std::string>& disks, const std::vector<Member>& members,
                          const Notes& notes) {
  std::ostringstream m;
  m << "xsguard support bundle " << top << "\n"
    << "created:     " << utc_now("%Y-%m-%dT%H:%M:%SZ") << "\n"
    << "xsguard:     " << XSGUARD_VERSION << "\n"
    << "install log: " << o.log << "\n"
    << "disks:      ";
  for (const auto& d : disks) m << ' ' << d;
  if (disks.empty()) m << " (none found)";
  m << "\nold root:    " << (o.root.empty() ? "(not given)" : o.root) << "\n\n";
  m << "check.json/check.txt: `xsguard check` over the disks above"
    << (o.root.empty() ? "" : " and the old root (with its blob store summary)") << ".\n"
    << "watch.json/watch.txt: `xsguard watch --once` over the install log (events, then the "
       "report).\n"
    << "disks/NAME/: table.txt (sfdisk dump), head.bin (the disk's first bytes up to its first "
       "partition, at least 1 MiB, at most 64 MiB), tail.bin (GPT only: the last 33 sectors).\n\n";
  m << "Files (sha256, size in bytes, name):\n";
  for (const auto& mem : members) m << mem.sha256 << "  " << mem.size << "  " << mem.name << "\n";
  m << "\nNot collected or incomplete:\n";
  for (const auto& [what, why] : notes.items) m << "  " << what << ": " << why << "\n";
  if (notes.items.empty()) m << "  (nothing)\n";
  return m.str();
}

}  // namespace

std::string disk_holding(const std::string& dir, const std::vector<std::string>& disks) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return "";
  const std::string dev = sys_of_dev(st.st_dev);
  if (dev.empty()) return "";  // tmpfs, proc and the like: no block device
  for (const auto& disk : disks)
    for (const auto& sys : disk_sys_dirs(disk))
      if (built_on(dev, sys)) return disk;
  return "";
}

std::string destination_note(const std::string& dir) {
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) != 0) return "";
  if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)
    return dir + " is in RAM (as /tmp is in the installer): the bundle is lost at reboot; copy "
                 "it off the host";
  return "";
}

std::vector<std::string> bundle_destinations(const std::vector<std::string>& disks,
                                             const std::string& sys_block) {
  const std::vector<std::string> examined = disks.empty() ? list_whole_disks(sys_block) : disks;
  std::vector<std::pair<uint64_t, std::string>> found;  // free bytes, directory
  std::vector<dev_t> seen;
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string source, target, type, options;
    fields >> source >> target >> type >> options;
    if (source.rfind("/dev/", 0) != 0 || ("," + options + ",").find(",ro,") != std::string::npos)
      continue;
    target = unescape_mount_field(target);
    uint64_t free_bytes = 0;
    struct stat st {};
    if (target == "/tmp" || !writable_dir(target, &free_bytes) || stat(target.c_str(), &st) != 0 ||
        std::find(seen.begin(), seen.end(), st.st_dev) != seen.end() ||
        !disk_holding(target, examined).empty())
      continue;
    seen.push_back(st.st_dev);
    found.push_back({free_bytes, target});
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  if (writable_dir("/tmp") && disk_holding("/tmp", examined).empty()) out.push_back("/tmp");
  return out;
}

std::string bundle_file_name() {
  return "xsguard-bundle-" + host_name() + "-" + utc_timestamp_compact() + ".tar.gz";
}

int run_bundle(const BundleOptions& o, Io& io, std::ostream& out) {
  if (o.out.empty()) throw UsageError("--out PATH is required");
  if (!o.root.empty()) {
    struct stat st {};
    if (stat(o.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw InputError(o.root + ": not a directory (--root)");
  }
  const std::string top = "xsguard-bundle-" + host_name() + "-" + utc_timestamp_compact();

  // Where: an existing directory gets the default name.
  std::string dir, name;
  struct stat st {};
  if (stat(o.out.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    dir = o.out;
    name = top + ".tar.gz";
  } else {
    dir = dir_of(o.out);
    name = base_of(o.out);
  }
  if (name.empty() || name == "." || name == "..") throw UsageError(o.out + ": not a file name");
  const std::string path = (dir == "/" ? "" : dir) + "/" + name;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw InputError(dir + ": no such directory");
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      throw RefusedError(path + " is a symbolic link: xsguard does not write through one");
    if (!S_ISREG(st.st_mode)) throw RefusedError(path + " exists and is not a regular file");
    if (!o.force) throw RefusedError(path + " already exists (--force replaces it)");
  }

  const bool listed = o.disks.empty();
  const std::vector<std::string> disks = listed ? list_whole_disks(o.sys_block) : o.disks;
  const std::string holder = disk_holding(dir, disks);
  if (!holder.empty()) {
    if (!o.force) {
      auto other = bundle_destinations(disks, o.sys_block);
      throw RefusedError(
          dir + " is on " + holder + ", a disk the bundle examines: write it to another disk" +
          (other.empty() ? std::string() : " (for example " + other.front() + ")") +
          ", or pass --force");
    }
    out << "WARNING: " << dir << " is on " << holder << ", a disk the bundle examines (--force).\n";
  }

  out << "Collecting a support bundle into " << path << "\n" << std::flush;
  BundleWriter w(io, dir, name, top, o.force);
  Notes notes;

  const bool have_log = add_install_log(w, o, notes);

  std::vector<std::string> checked;  // the disks that could be read
  std::vector<std::string> used_dirs;
  for (const auto& disk : disks) {
    std::string sub = "disks/" + safe_name(base_of(disk), "disk");
    for (int i = 2; std::find(used_dirs.begin(), used_dirs.end(), sub) != used_dirs.end(); ++i)
      sub = "disks/" + safe_name(base_of(disk), "disk") + "-" + std::to_string(i);
    used_dirs.push_back(sub);
    try {
      ProbedDisk probed = probe_disk(disk, o.sector_size);
      add_disk(w, disk, sub, probed, notes);
      checked.push_back(disk);
    } catch (const InputError& e) {
      notes.add(sub, e.what());
    }
  }

  CheckOptions co;
  co.disks = listed ? std::vector<std::string>{} : checked;
  co.old_root = o.root;
  co.sector_size = o.sector_size;
  if (!listed && checked.empty() && !disks.empty()) {
    notes.add("check.json", "no disk named with --disk could be read");
  } else {
    try {
      Report r = run_check(co);
      std::ostringstream json, text;
      write_json(json, r);
      write_text(text, r);
      w.add("check.json", json.str());
      w.add("check.txt", text.str());
    } catch (const RefusedError&) {
      throw;
    } catch (const std::exception& e) {
      notes.add("check.json", e.what());
    }
  }

  if (have_log) {
    add_watch(w, o, true, notes);
    add_watch(w, o, false, notes);
  } else {
    notes.add("watch.json", "no install log to read");
  }

  add_kernel_log(w, notes);
  for (const char* f : {"cmdline", "partitions", "mounts"}) {
    std::string text, why;
    if (read_proc(o.proc + "/" + f, text, why))
      w.add(std::string("proc/") + f, text);
    else
      notes.add(std::string("proc/") + f, why);
  }

  w.add("MANIFEST.txt", manifest_text(o, top, disks, w.members(), notes));
  w.finish();

  struct stat done {};
  const uint64_t size = stat(path.c_str(), &done) == 0 ? uint64_t(done.st_size) : w.bytes_written();
  for (const auto& [what, why] : notes.items) out << "  not collected: " << what << ": " << why << "\n";
  out << fmt::format("Bundle: {} ({} bytes, {} files)\n", path, size, w.members().size());
  std::string note = destination_note(dir);
  if (!note.empty()) out << "WARNING: " << note << ".\n";
  return kExitClean;
}

}  // namespace xsguard
