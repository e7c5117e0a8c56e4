#include "tui/demo.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <poll.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "tui/demo_assets.h"

namespace xsguard::tui {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("demo: " + what + ": " + std::strerror(errno));
}

void make_dirs(const std::string& path) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir " + cur);
  }
}

void write_file(const std::string& path, const std::string& bytes, mode_t mode, int64_t mtime) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) fail("create " + path);
  if (::write(fd, bytes.data(), bytes.size()) != ssize_t(bytes.size())) {
    ::close(fd);
    fail("write " + path);
  }
  if (mtime) {
    timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ::futimens(fd, times);
  }
  ::close(fd);
}

std::string uuid_from(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                (unsigned long long)(n * 2654435761u & 0xffffffffu), (unsigned long long)(n & 0xffff),
                (unsigned long long)(n >> 4 & 0xfff), (unsigned long long)(n >> 8 & 0xfff),
                (unsigned long long)(n * 0x9E3779B97F4A7C15ull & 0xffffffffffffull));
  return buf;
}

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}

// Copies one entry of the restore (a file, link or directory), like `cp -a` would.
void copy_entry(const std::string& from, const std::string& to) {
  struct stat st {};
  if (::lstat(from.c_str(), &st) != 0) return;  // pruned meanwhile: cp would skip it too
  if (S_ISDIR(st.st_mode)) {
    ::mkdir(to.c_str(), st.st_mode & 07777);
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(from.c_str(), target, sizeof target - 1);
    if (n > 0) {
      target[n] = '\0';
      ::symlink(target, to.c_str());
    }
  } else if (S_ISREG(st.st_mode)) {
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return;
    std::string bytes(size_t(st.st_size), '\0');
    const ssize_t n = ::read(in, bytes.data(), bytes.size());
    ::close(in);
    if (n >= 0) {
      bytes.resize(size_t(n));
      try {
        write_file(to, bytes, st.st_mode & 07777, st.st_mtime);
      } catch (const std::runtime_error&) {
        // the demo goes on without this entry
      }
    }
  }
}

// Every entry under root, parents before children, links not followed.
void list_tree(const std::string& root, std::vector<std::string>& out) {
  DIR* dir = ::opendir(root.c_str());
  if (!dir) return;
  std::vector<std::string> subdirs;
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    out.push_back(root + "/" + name);
    if (e->d_type == DT_DIR) subdirs.push_back(out.back());
  }
  ::closedir(dir);
  for (const auto& d : subdirs) list_tree(d, out);
}

}  // namespace

void make_demo_blobs(const std::string& root, int messages, int days, int64_t now) {
  const std::string blobs = root + "/var/lib/xcp/blobs";
  const std::string msgs = blobs + "/messages";
  for (const char* sub : {"uuids", "refs", "gen"}) make_dirs(msgs + "/" + sub);
  make_dirs(blobs + "/rrds");
  const char* classes[] = {"VM", "Host", "SR", "Pool"};
  const char* names[] = {"VM_STARTED", "VM_SHUTDOWN", "HA_POOL_OVERCOMMITTED", "PBD_PLUG_FAILED_ON_SERVER_START",
                         "ALARM", "VM_CLONED", "HOST_SYNC_DATA_FAILED", "MULTIPATH_PERIODIC_ALERT"};
  std::vector<std::string> objects;
  for (int i = 0; i < 12; ++i) {
    const std::string dir = msgs + "/" + classes[i % 4] + "/" + uuid_from(uint64_t(i) + 1000);
    make_dirs(dir);
    objects.push_back(dir);
  }
  const int64_t span = int64_t(days) * 86400;
  for (int i = 0; i < messages; ++i) {
    const int64_t age = span - span * int64_t(i) / messages;
    const int64_t t = now - age;
    char ts[64];
    std::snprintf(ts, sizeof ts, "%lld.%05d", (long long)t, (i * 7919) % 100000);
    const std::string file = msgs + "/" + ts;
    const std::string uuid = uuid_from(uint64_t(i));
    write_file(file,
               "<message><ref>OpaqueRef:" + uuid + "</ref><name>" + names[i % 8] +
                   "</name><priority>3</priority><cls>" + classes[i % 12 % 4] + "</cls><uuid>" +
                   uuid + "</uuid><timestamp>" + std::to_string(t) + "</timestamp><body/></message>",
               0600, t);
    // xapi's links are absolute paths on the host; under a mounted old root they
    // point into the machine xsguard runs on, which is why xsguard never follows them.
    const std::string target = std::string("/var/lib/xcp/blobs/messages/") + ts;
    (void)!::symlink(target.c_str(), (objects[size_t(i % 12)] + "/" + ts).c_str());
    (void)!::symlink(target.c_str(), (msgs + "/uuids/" + uuid).c_str());
    (void)!::symlink(target.c_str(), (msgs + "/refs/OpaqueRef:" + uuid).c_str());
    (void)!::symlink(target.c_str(), (msgs + "/gen/" + std::to_string(100000 + i)).c_str());
  }
}

Demo::Demo(int messages) {
  const char* tmp = std::getenv("TMPDIR");
  dir_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/xsguard-demo-XXXXXX";
  if (!::mkdtemp(dir_.data())) fail("mkdtemp " + dir_);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  try {
    if (stop_fd_ < 0) fail("eventfd");
    make_dirs(backup_dir());
    make_dirs(target_root() + "/var/lib/xcp");
    write_image();
    write_old_root(messages);
    write_file(log(), "", 0644, 0);
  } catch (...) {
    ::nftw(dir_.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
    if (stop_fd_ >= 0) ::close(stop_fd_);
    throw;
  }
}

Demo::~Demo() {
  stopping_ = true;
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(stop_fd_);
  ::nftw(dir_.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

void Demo::write_image() const {
  const DemoAssets& a = kDemoAssets;
  std::string raw(a.image_data_raw_size, '\0');
  uLongf size = uLongf(raw.size());
  if (::uncompress(reinterpret_cast<Bytef*>(raw.data()), &size, a.image_data, uLong(a.image_data_size)) != Z_OK ||
      size != raw.size())
    throw std::runtime_error("demo: the built-in disk image is damaged");
  const std::string path = disk();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail("create " + path);
  // Sparse: only the extents that hold data are written.
  bool ok = ::ftruncate(fd, off_t(a.image_size)) == 0;
  size_t pos = 0;
  for (size_t i = 0; ok && i < a.extent_count; ++i) {
    ok = ::pwrite(fd, raw.data() + pos, a.extents[i].length, off_t(a.extents[i].offset)) ==
         ssize_t(a.extents[i].length);
    pos += a.extents[i].length;
  }
  ::close(fd);
  if (!ok) fail("write " + path);
}

void Demo::write_old_root(int messages) const {
  // Two years of messages: the store the upgrade copies at 72%.
  make_demo_blobs(old_root(), messages, 730, int64_t(::time(nullptr)));
}

void Demo::start() { thread_ = std::thread([this] { replay(); }); }

bool Demo::pause_ms(int ms) {
  pollfd p{stop_fd_, POLLIN, 0};
  return ::poll(&p, 1, ms) == 0 && !stopping_;
}

void Demo::replay() {
  const std::string text(reinterpret_cast<const char*>(kDemoAssets.log), kDemoAssets.log_size);
  int fd = ::open(log().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  size_t pos = 0;
  bool restored = false;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    const std::string line = text.substr(pos, end - pos);
    pos = end;
    if (::write(fd, line.data(), line.size()) != ssize_t(line.size())) break;
    if (!pause_ms(40)) break;
    if (!restored && line.find("Restoring /var/lib/xcp/blobs") != std::string::npos) {
      restored = true;
      // The installer's silent minutes: the copy, entry by entry, at a steady pace.
      const std::string from = old_root() + "/var/lib/xcp/blobs";
      const std::string to = target_root() + "/var/lib/xcp/blobs";
      ::mkdir(to.c_str(), 0755);
      std::vector<std::string> entries;
      list_tree(from, entries);
      for (size_t i = 0; i < entries.size(); ++i) {
        copy_entry(entries[i], to + entries[i].substr(from.size()));
        if (i % 25 == 24 && !pause_ms(50)) break;
      }
      if (stopping_) break;
    }
  }
  ::close(fd);
}

}  // namespace xsguard::tui
