#include "capture/rooted.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "model/errors.h"

namespace xsguard::capture {

namespace {

// Symlinks followed while resolving one path, as the kernel's own limit.
constexpr int kMaxLinks = 40;

std::deque<std::string> components(const std::string& p) {
  std::deque<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

struct RootedDir::Walk {
  Fd dir;                  // the directory that holds the leaf
  std::string leaf;        // "" when rel names the root itself
  std::string resolved;    // inside the root, without a leading '/'
  bool via_symlink = false;
  int err = 0;             // errno of the first failure; ENOENT: a component is missing
};

RootedDir::RootedDir(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(path + ": " + errno_text(errno));
}

RootedDir::~RootedDir() {
  if (fd_ >= 0) ::close(fd_);
}

RootedDir::Walk RootedDir::resolve(const std::string& rel, bool follow_leaf, bool create_dirs,
                                   Io* io) const {
  Walk w;
  std::vector<std::pair<Fd, std::string>> stack;  // directories below the root
  auto top = [&] { return stack.empty() ? fd_ : stack.back().first.get(); };
  auto here = [&] {
    std::string s;
    for (const auto& d : stack) s += (s.empty() ? "" : "/") + d.second;
    return s;
  };
  std::deque<std::string> todo = components(rel);
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    const bool last = todo.empty();
    struct stat st {};
    if (fstatat(top(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      int e = errno;
      if (e == ENOENT && last) {
        w.leaf = c;
        break;
      }
      if (e == ENOENT && create_dirs) {
        if (mkdirat(top(), c.c_str(), 0755) != 0 && errno != EEXIST) {
          w.err = errno;
          return w;
        }
        if (io && !io->fsync(top())) {
          w.err = errno;
          return w;
        }
        if (fstatat(top(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          w.err = errno;
          return w;
        }
      } else {
        // What the path would be, so that two names of one missing file compare equal.
        w.resolved = here();
        w.resolved += (w.resolved.empty() ? "" : "/") + c;
        for (const auto& rest : todo) w.resolved += "/" + rest;
        w.err = e;
        return w;
      }
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_leaf)) {
      if (++links > kMaxLinks) {
        w.err = ELOOP;
        return w;
      }
      std::string target(size_t(st.st_size > 0 && st.st_size < 4096 ? st.st_size : 4096), '\0');
      ssize_t n = readlinkat(top(), c.c_str(), target.data(), target.size());
      if (n < 0) {
        w.err = errno;
        return w;
      }
      target.resize(size_t(n));
      w.via_symlink = true;
      if (!target.empty() && target[0] == '/') stack.clear();
      auto more = components(target);
      todo.insert(todo.begin(), more.begin(), more.end());
      continue;
    }
    if (last) {
      w.leaf = c;
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      w.err = ENOTDIR;
      return w;
    }
    int d = openat(top(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) {
      w.err = errno;
      return w;
    }
    stack.emplace_back(Fd(d), c);
  }
  w.resolved = here();
  if (!w.leaf.empty()) w.resolved += (w.resolved.empty() ? "" : "/") + w.leaf;
  w.dir = Fd(stack.empty() ? fcntl(fd_, F_DUPFD_CLOEXEC, 0) : stack.back().first.release());
  if (w.dir.get() < 0) w.err = errno;
  return w;
}

FileRead RootedDir::read(const std::string& rel, size_t max_bytes) const {
  FileRead r;
  Walk w = resolve(rel, true, false, nullptr);
  r.resolved = w.resolved;
  r.via_symlink = w.via_symlink;
  auto fail = [&](FileRead::Status s, std::string why) {
    r.status = s;
    r.why = std::move(why);
    return r;
  };
  if (w.err == ENOENT || w.err == ENOTDIR) return fail(FileRead::Status::missing, "absent");
  if (w.err) return fail(FileRead::Status::unreadable, errno_text(w.err));
  if (w.leaf.empty()) return fail(FileRead::Status::not_regular, "a directory");
  struct stat st {};
  if (fstatat(w.dir.get(), w.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? fail(FileRead::Status::missing, "absent")
                           : fail(FileRead::Status::unreadable, errno_text(errno));
  if (!S_ISREG(st.st_mode)) return fail(FileRead::Status::not_regular, "not a regular file");
  if (uint64_t(st.st_size) > max_bytes)
    return fail(FileRead::Status::too_large,
                "larger than " + std::to_string(max_bytes) + " bytes (" +
                    std::to_string(st.st_size) + ")");
  Fd f(openat(w.dir.get(), w.leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (f.get() < 0) return fail(FileRead::Status::unreadable, errno_text(errno));
  if (fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail(FileRead::Status::not_regular, "not a regular file");
  // One byte more than allowed tells a file that grew since fstat.
  std::string buf(size_t(std::min<uint64_t>(uint64_t(st.st_size), max_bytes)) + 1, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(f.get(), buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(FileRead::Status::unreadable, errno_text(errno));
    if (n == 0) break;
    got += size_t(n);
  }
  if (got > max_bytes)
    return fail(FileRead::Status::too_large,
                "larger than " + std::to_string(max_bytes) + " bytes (it grew while read)");
  buf.resize(got);
  r.status = FileRead::Status::ok;
  r.bytes = std::move(buf);
  r.mode = uint32_t(st.st_mode & 07777);
  r.uid = uint32_t(st.st_uid);
  r.gid = uint32_t(st.st_gid);
  r.mtime = int64_t(st.st_mtim.tv_sec);
  r.size = got;
  return r;
}

std::optional<std::vector<DirEntry>> RootedDir::list(const std::string& rel, size_t max_entries,
                                                     bool* more_entries) const {
  if (more_entries) *more_entries = false;
  Walk w = resolve(rel, true, false, nullptr);
  if (w.err) return std::nullopt;
  int d = w.leaf.empty()
              ? fcntl(w.dir.get(), F_DUPFD_CLOEXEC, 0)
              : openat(w.dir.get(), w.leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0) return std::nullopt;
  DIR* dir = fdopendir(d);
  if (!dir) {
    ::close(d);
    return std::nullopt;
  }
  std::vector<DirEntry> out;
  while (dirent* e = readdir(dir)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (out.size() >= max_entries) {
      if (more_entries) *more_entries = true;
      break;
    }
    struct stat st {};
    DirEntry::Type t = DirEntry::Type::other;
    if (fstatat(dirfd(dir), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(st.st_mode)) t = DirEntry::Type::file;
      else if (S_ISDIR(st.st_mode)) t = DirEntry::Type::directory;
      else if (S_ISLNK(st.st_mode)) t = DirEntry::Type::symlink;
    }
    out.push_back({n, t});
  }
  closedir(dir);
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

unsigned RootedDir::type_of(const std::string& rel) const {
  Walk w = resolve(rel, true, false, nullptr);
  if (w.err) return 0;
  if (w.leaf.empty()) return S_IFDIR;
  struct stat st {};
  if (fstatat(w.dir.get(), w.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
  return st.st_mode & S_IFMT;
}

std::optional<std::string> RootedDir::link_target(const std::string& rel) const {
  Walk w = resolve(rel, false, false, nullptr);
  if (w.err || w.leaf.empty()) return std::nullopt;
  char buf[4096];
  ssize_t n = readlinkat(w.dir.get(), w.leaf.c_str(), buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(buf, size_t(n));
}

void RootedDir::write_file(Io& io, const std::string& rel, const std::string& bytes, uint32_t mode,
                           uint32_t uid, uint32_t gid) const {
  auto refuse = [&](const std::string& what, int e) {
    throw RefusedError(rel + ": " + what + (e ? ": " + errno_text(e) : std::string()));
  };
  Walk w = resolve(rel, true, true, &io);
  if (w.err) refuse("cannot reach its directory in " + path_, w.err);
  if (w.leaf.empty()) refuse("is the root directory", 0);
  struct stat st {};
  if (fstatat(w.dir.get(), w.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
    refuse("exists and is not a regular file; left alone", 0);
  const std::string partial = "." + w.leaf + ".xsguard-partial";
  // A partial file by this name is only ever one an interrupted run left.
  unlinkat(w.dir.get(), partial.c_str(), 0);
  Fd f(openat(w.dir.get(), partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600));
  if (f.get() < 0) refuse("cannot create a temporary file beside it", errno);
  bool ok = io.pwrite_all(f.get(), bytes.data(), bytes.size(), 0) &&
            fchown(f.get(), uid_t(uid), gid_t(gid)) == 0 && fchmod(f.get(), mode_t(mode & 07777)) == 0 &&
            io.fsync(f.get());
  int e = errno;
  f.reset();
  if (ok) {
    ok = renameat(w.dir.get(), partial.c_str(), w.dir.get(), w.leaf.c_str()) == 0;
    e = errno;
  }
  if (!ok) {
    unlinkat(w.dir.get(), partial.c_str(), 0);
    refuse("cannot write", e);
  }
  if (!io.fsync(w.dir.get())) refuse("written, but the fsync of its directory failed", errno);
}

void RootedDir::set_mode(Io& io, const std::string& rel, uint32_t mode) const {
  Walk w = resolve(rel, true, false, nullptr);
  if (w.err || w.leaf.empty()) throw RefusedError(rel + ": cannot reach it: " + errno_text(w.err ? w.err : EISDIR));
  Fd f(openat(w.dir.get(), w.leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (f.get() < 0 || fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode))
    throw RefusedError(rel + ": not a regular file that can be opened");
  if (fchmod(f.get(), mode_t(mode & 07777)) != 0 || !io.fsync(f.get()))
    throw RefusedError(rel + ": cannot change its mode: " + errno_text(errno));
}

}  // namespace xsguard::capture
