#include "store/blob_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "model/errors.h"

namespace xsguard::store {

std::optional<int64_t> message_key(std::string_view name) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 12) return std::nullopt;
  int64_t secs = 0;
  for (size_t i = 0; i < dot; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    secs = secs * 10 + (c - '0');
  }
  std::string_view frac = name.substr(dot + 1);
  if (frac.empty() || frac.size() > 5) return std::nullopt;
  int64_t f = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    f = f * 10 + (c - '0');
  }
  for (size_t i = frac.size(); i < 5; ++i) f *= 10;
  return secs * 100000 + f;
}

std::string key_to_name(int64_t key) {
  char buf[40];
  snprintf(buf, sizeof buf, "%lld.%05lld", static_cast<long long>(key / 100000),
           static_cast<long long>(key % 100000));
  return buf;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}
Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}
void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int open_dir_nofollow(int dirfd, const char* name) {
  return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static bool is_real_dir(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

BlobsLocation find_blobs(const std::string& root) {
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (r == "/") r.clear();
  struct stat st {};
  if (stat((r.empty() ? "/" : r).c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw InputError(root + ": not a directory");
  // Inside the root nothing may be a symlink: the tree we work on must be the one
  // the root holds, not somewhere a link points to.
  const char* candidates[][3] = {{"/var", "/var/lib", "/var/lib/xcp"}, {"/var", "/var/xapi", ""}};
  const char* tails[] = {"/var/lib/xcp/blobs", "/var/xapi/blobs"};
  for (int i = 0; i < 2; ++i) {
    bool ok = true;
    for (const char* c : candidates[i])
      if (*c && !is_real_dir(r + c)) ok = false;
    if (!ok) continue;
    std::string path = r + tails[i];
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode))
      throw InputError(path + " is a symlink: xsguard works only on the tree itself");
    if (!S_ISDIR(st.st_mode)) continue;
    std::string parent = r + (i == 0 ? "/var/lib/xcp" : "/var/xapi");
    return {path, tails[i], parent};
  }
  throw InputError("no xapi blob store under " + (r.empty() ? std::string("/") : r) +
                   " (looked for var/lib/xcp/blobs and var/xapi/blobs)");
}

// Lexically normalises an absolute-or-relative path into components; ".." above the
// start makes it escape (returns false).
static bool normalise(std::string_view path, std::vector<std::string_view>& parts) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c.empty() || c == ".") {
    } else if (c == "..") {
      if (parts.empty()) return false;
      parts.pop_back();
    } else {
      parts.push_back(c);
    }
    i = j + 1;
  }
  return true;
}

LinkTarget resolve_link(std::string_view target, std::string_view link_dir,
                        std::string_view host_path) {
  LinkTarget out;
  std::vector<std::string_view> parts;
  if (target.empty()) return out;
  if (target[0] == '/') {
    std::vector<std::string_view> host, abs;
    if (!normalise(target, abs)) return out;
    // Both the current and the pre-7.0 location name this tree on a host that was
    // upgraded in place; anything else is outside.
    static const std::string_view kHosts[] = {"/var/lib/xcp/blobs", "/var/xapi/blobs"};
    bool matched = false;
    for (std::string_view h : {host_path, kHosts[0], kHosts[1]}) {
      host.clear();
      normalise(h, host);
      if (abs.size() < host.size() || !std::equal(host.begin(), host.end(), abs.begin())) continue;
      parts.assign(abs.begin() + long(host.size()), abs.end());
      matched = true;
      break;
    }
    if (!matched) return out;
  } else {
    if (!normalise(link_dir, parts)) return out;
    if (!normalise(target, parts)) return out;
  }
  if (parts.empty()) return out;  // the tree itself: treat as outside (never removed)
  if (parts.size() == 2 && parts[0] == "messages") {
    if (auto k = message_key(parts[1])) {
      out.kind = LinkTarget::message;
      out.key = *k;
      out.rel = "messages/" + std::string(parts[1]);
      return out;
    }
  }
  out.kind = LinkTarget::inside;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out.rel += '/';
    out.rel += parts[k];
  }
  return out;
}

const char* part_name(Part p) {
  switch (p) {
    case Part::message_file:
      return "message_files";
    case Part::class_link:
      return "class_links";
    case Part::uuid_link:
      return "uuids";
    case Part::ref_link:
      return "refs";
    case Part::gen_link:
      return "gen";
    case Part::rrd:
      return "rrds";
    case Part::other:
      return "other";
  }
  return "other";
}

Part classify(std::string_view rel, bool is_link) {
  auto slash = [](std::string_view s) { return std::count(s.begin(), s.end(), '/'); };
  if (rel.substr(0, 5) == "rrds/") return Part::rrd;
  if (rel.substr(0, 9) != "messages/") return Part::other;
  std::string_view r = rel.substr(9);
  long n = slash(r);
  if (n == 0) return is_link ? Part::other : Part::message_file;
  if (n == 1 && is_link) {
    if (r.substr(0, 6) == "uuids/") return Part::uuid_link;
    if (r.substr(0, 5) == "refs/") return Part::ref_link;
    if (r.substr(0, 4) == "gen/") return Part::gen_link;
  }
  if (n == 2 && is_link) return Part::class_link;
  return Part::other;
}

namespace {
struct LinuxDirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

unsigned dtype_mode(unsigned char t) {
  switch (t) {
    case DT_DIR:
      return S_IFDIR;
    case DT_LNK:
      return S_IFLNK;
    case DT_REG:
      return S_IFREG;
    case DT_CHR:
      return S_IFCHR;
    case DT_BLK:
      return S_IFBLK;
    case DT_FIFO:
      return S_IFIFO;
    case DT_SOCK:
      return S_IFSOCK;
    default:
      return 0;
  }
}
}  // namespace

void Walker::walk(int dirfd, const std::string& prefix) {
  // A fresh open, not a dup: a dup would share the directory's read position.
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (error) error({prefix, errno});
    return;
  }
  std::string rel = prefix;
  walk_dir(fd, rel, 0);
}

DirReader::DirReader(int fd) : fd_(fd), buf_(new char[kBuf]) {}

bool DirReader::next(DirEntry& e) {
  for (;;) {
    if (off_ >= len_) {
      long n = syscall(SYS_getdents64, fd_, buf_.get(), kBuf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err_ = n < 0 ? errno : 0;
        return false;
      }
      len_ = n;
      off_ = 0;
    }
    auto* d = reinterpret_cast<LinuxDirent64*>(buf_.get() + off_);
    off_ += d->d_reclen;
    const char* name = d->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    e.name = name;
    e.type = dtype_mode(d->d_type);
    return true;
  }
}

void Walker::walk_dir(int fd, std::string& rel, size_t depth) {
  Fd dir(fd);
  DirReader reader(dir.get());
  const size_t base = rel.size();
  for (DirEntry d; reader.next(d);) {
    rel.resize(base);
    if (base) rel += '/';
    rel += d.name;
    WalkEntry e{dir.get(), d.name, rel, d.type};
    if (visit) visit(e);
    bool is_dir = d.type == S_IFDIR;
    if (d.type == 0) {
      struct stat st {};
      is_dir = fstatat(dir.get(), d.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (!is_dir || depth + 1 >= max_depth) continue;
    if (enter && !enter(e)) continue;
    int sub = open_dir_nofollow(dir.get(), d.name);
    if (sub < 0) {
      if (error) error({rel, errno});
      continue;
    }
    walk_dir(sub, rel, depth + 1);
  }
  rel.resize(base);
  if (reader.err() && error) error({rel, reader.err()});
}

int DirCache::dir_of(std::string_view rel, std::string* leaf) {
  size_t slash = rel.rfind('/');
  std::string_view dir =
      slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash);
  *leaf = std::string(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  if (dir.empty()) return rootfd_;
  if (fd_.ok() && dir == dir_) return fd_.get();
  fd_.reset();
  dir_.clear();
  Fd cur;
  int at = rootfd_;
  size_t i = 0;
  while (i < dir.size()) {
    size_t j = dir.find('/', i);
    if (j == std::string_view::npos) j = dir.size();
    std::string comp(dir.substr(i, j - i));
    if (comp.empty() || comp == "." || comp == "..") {
      errno = EINVAL;
      return -1;
    }
    int next = open_dir_nofollow(at, comp.c_str());
    if (next < 0) return -1;
    cur.reset(next);
    at = next;
    i = j + 1;
  }
  dir_ = std::string(dir);
  fd_ = std::move(cur);
  return fd_.get();
}

bool exists_in_tree(int rootfd, std::string_view rel) {
  DirCache c(rootfd);
  std::string leaf;
  int d = c.dir_of(rel, &leaf);
  if (d < 0 || leaf.empty() || leaf == "." || leaf == "..") return false;
  struct stat st {};
  return fstatat(d, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

bool read_link(int dirfd, const char* name, std::string& target) {
  char buf[4096];
  ssize_t n = readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0 || size_t(n) >= sizeof buf) return false;
  target.assign(buf, size_t(n));
  return true;
}

}  // namespace xsguard::store
