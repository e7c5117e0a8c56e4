#include "store/tar_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "model/errors.h"

namespace xsguard::store {

EntryMeta meta_from_stat(std::string rel, const struct stat& st) {
  EntryMeta m;
  m.rel = std::move(rel);
  m.symlink = S_ISLNK(st.st_mode);
  m.mode = uint32_t(st.st_mode & 07777);
  m.uid = uint32_t(st.st_uid);
  m.gid = uint32_t(st.st_gid);
  m.mtime_s = int64_t(st.st_mtim.tv_sec);
  m.mtime_ns = int32_t(st.st_mtim.tv_nsec);
  m.size = m.symlink ? 0 : uint64_t(st.st_size);
  return m;
}

void EntryDigest::mix(uint64_t v) {
  h_ ^= v;
  h_ *= 0x9E3779B97F4A7C15ull;
  h_ ^= h_ >> 29;
}

void EntryDigest::add_data(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    pending_ |= uint64_t(b[i]) << (8 * npending_);
    if (++npending_ == 8) {
      mix(pending_);
      pending_ = 0;
      npending_ = 0;
    }
  }
}

void EntryDigest::add_meta(const EntryMeta& m) {
  if (npending_) mix(pending_ ^ (uint64_t(npending_) << 60));
  pending_ = 0;
  npending_ = 0;
  mix(0x5a5a0000ull + m.rel.size());
  add_data(m.rel.data(), m.rel.size());
  if (npending_) mix(pending_);
  pending_ = 0, npending_ = 0;
  mix(m.symlink), mix(m.mode), mix(m.uid), mix(m.gid), mix(uint64_t(m.mtime_s)),
      mix(uint64_t(m.mtime_ns)), mix(m.size);
  mix(m.link_target.size());
  add_data(m.link_target.data(), m.link_target.size());
  if (npending_) mix(pending_);
  pending_ = 0, npending_ = 0;
}

uint64_t EntryDigest::value() const {
  EntryDigest c = *this;
  if (c.npending_) c.mix(c.pending_ ^ (uint64_t(c.npending_) << 60));
  return c.h_;
}

std::string digest_hex(uint64_t d) {
  char b[20];
  snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(d));
  return b;
}

bool safe_entry_path(const std::string& rel) {
  if (rel.compare(0, 9, "messages/") != 0 || rel.size() > 4000) return false;
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    std::string_view c(rel.data() + i, j - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = j + 1;
  }
  return true;
}

static std::string dir_of(const std::string& path) {
  size_t s = path.rfind('/');
  if (s == std::string::npos) return ".";
  if (s == 0) return "/";
  return path.substr(0, s);
}
static std::string base_of(const std::string& path) {
  size_t s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

void ArchiveWriter::fail(const std::string& what, int err) {
  throw RefusedError("cannot write the backup " + path_ + ": " + what +
                     (err ? std::string(": ") + std::strerror(err) : std::string()) +
                     "; nothing was removed");
}

ArchiveWriter::ArchiveWriter(Io& io, std::string path, int gzip_level)
    : io_(io), path_(std::move(path)) {
  dir_ = dir_of(path_);
  final_name_ = base_of(path_);
  partial_name_ = final_name_ + ".partial";
  if (final_name_.empty()) fail("not a file name", 0);
  dirfd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd_ < 0) fail("cannot open its directory", errno);
  struct stat st {};
  if (fstatat(dirfd_, final_name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    fail("it already exists", 0);
  // A partial file is only ever ours, left by an interrupted run.
  unlinkat(dirfd_, partial_name_.c_str(), 0);
  fd_ = openat(dirfd_, partial_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0600);
  if (fd_ < 0) fail("cannot create it", errno);
  a_ = archive_write_new();
  if (!a_) fail("out of memory", ENOMEM);
  archive_write_add_filter_gzip(a_);
  archive_write_set_filter_option(a_, "gzip", "compression-level",
                                  std::to_string(gzip_level).c_str());
  // Full pax (not "restricted"): every entry carries its mtime with nanoseconds.
  archive_write_set_format_pax(a_);
  archive_write_set_bytes_per_block(a_, 64 * 1024);
  archive_write_set_bytes_in_last_block(a_, 1);
  if (archive_write_open2(a_, this, nullptr, &ArchiveWriter::write_cb, nullptr, nullptr) !=
      ARCHIVE_OK)
    fail(archive_error_string(a_) ? archive_error_string(a_) : "libarchive", write_errno_);
}

ArchiveWriter::~ArchiveWriter() {
  abandon();
  if (dirfd_ >= 0) ::close(dirfd_);
}

void ArchiveWriter::abandon() {
  if (a_) archive_write_free(a_);  // also closes: a failed write just fails again
  a_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!finished_ && dirfd_ >= 0) unlinkat(dirfd_, partial_name_.c_str(), 0);
  finished_ = true;
}

long ArchiveWriter::write_cb(struct archive*, void* self, const void* buf, size_t len) {
  // A failure is recorded, not reported to libarchive: in its fatal state libarchive
  // would not end the zlib stream (and leak it). The caller checks after each step.
  auto* w = static_cast<ArchiveWriter*>(self);
  if (w->write_errno_) return long(len);
  if (!w->io_.pwrite_all(w->fd_, buf, len, w->offset_)) {
    w->write_errno_ = errno ? errno : EIO;
    return long(len);
  }
  w->offset_ += len;
  return long(len);
}

void ArchiveWriter::check(const std::string& what) {
  if (write_errno_) fail(what + ": write failed", write_errno_);
}

void ArchiveWriter::header(const EntryMeta& m) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                             archive_entry_free);
  archive_entry_set_pathname(e.get(), m.rel.c_str());
  archive_entry_set_filetype(e.get(), m.symlink ? AE_IFLNK : AE_IFREG);
  archive_entry_set_perm(e.get(), m.mode);
  archive_entry_set_uid(e.get(), m.uid);
  archive_entry_set_gid(e.get(), m.gid);
  archive_entry_set_mtime(e.get(), m.mtime_s, m.mtime_ns);
  if (m.symlink) {
    archive_entry_set_symlink(e.get(), m.link_target.c_str());
    archive_entry_set_size(e.get(), 0);
  } else {
    archive_entry_set_size(e.get(), int64_t(m.size));
  }
  if (archive_write_header(a_, e.get()) != ARCHIVE_OK)
    fail(std::string("adding ") + m.rel + ": " +
             (archive_error_string(a_) ? archive_error_string(a_) : "libarchive"),
         write_errno_);
  check("adding " + m.rel);
  digest_.add_meta(m);
  ++entries_;
}

void ArchiveWriter::add_symlink(const EntryMeta& m) { header(m); }

void ArchiveWriter::add_file(const EntryMeta& m, int fd) {
  header(m);
  char buf[64 * 1024];
  uint64_t left = m.size;
  off_t at = 0;
  while (left > 0) {
    ssize_t n = ::pread(fd, buf, size_t(std::min<uint64_t>(left, sizeof buf)), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The file shrank or cannot be read: the archive would not hold it whole.
      fail("reading " + m.rel, n < 0 ? errno : EIO);
    }
    if (archive_write_data(a_, buf, size_t(n)) != n) fail("adding " + m.rel, write_errno_);
    check("adding " + m.rel);
    digest_.add_data(buf, size_t(n));
    left -= uint64_t(n);
    at += n;
  }
}

void ArchiveWriter::finish() {
  if (archive_write_close(a_) != ARCHIVE_OK)
    fail(archive_error_string(a_) ? archive_error_string(a_) : "closing", write_errno_);
  check("closing");
  archive_write_free(a_);
  a_ = nullptr;
  if (!io_.fsync(fd_)) fail("fsync", errno);
  ::close(fd_);
  fd_ = -1;
  struct stat st {};
  if (fstatat(dirfd_, final_name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    fail("it appeared while xsguard wrote it", EEXIST);
  if (renameat(dirfd_, partial_name_.c_str(), dirfd_, final_name_.c_str()) != 0)
    fail("rename", errno);
  finished_ = true;
  if (!io_.fsync(dirfd_)) {
    int e = errno;
    unlinkat(dirfd_, final_name_.c_str(), 0);
    fail("fsync of its directory", e);
  }
}

ArchiveReader::ArchiveReader(const std::string& path, bool drop_cache) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) throw InputError(path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw InputError(path + ": not a regular file");
  }
  // Written and fsync'd: dropping the clean pages makes the read come from the disk.
  if (drop_cache) posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
  posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  a_ = archive_read_new();
  archive_read_support_filter_gzip(a_);
  archive_read_support_format_tar(a_);
  if (archive_read_open_fd(a_, fd_, 64 * 1024) != ARCHIVE_OK) {
    std::string why = archive_error_string(a_) ? archive_error_string(a_) : "unreadable";
    archive_read_free(a_);
    a_ = nullptr;
    ::close(fd_);
    fd_ = -1;
    throw InputError(path + ": not a gzip-compressed tar archive (" + why + ")");
  }
}

ArchiveReader::~ArchiveReader() {
  if (a_) archive_read_free(a_);
  if (fd_ >= 0) ::close(fd_);
}

bool ArchiveReader::next(EntryMeta& m, bool* unsupported) {
  archive_entry* e = nullptr;
  int r = archive_read_next_header(a_, &e);
  if (r == ARCHIVE_EOF) return false;
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    throw InputError(path_ + ": damaged archive: " +
                     (archive_error_string(a_) ? archive_error_string(a_) : "read error"));
  entry_ = e;
  m = EntryMeta{};
  const char* p = archive_entry_pathname(e);
  m.rel = p ? p : "";
  auto type = archive_entry_filetype(e);
  m.symlink = type == AE_IFLNK;
  if (unsupported)
    *unsupported = !(type == AE_IFLNK || type == AE_IFREG) || archive_entry_hardlink(e) != nullptr;
  m.mode = uint32_t(archive_entry_perm(e));
  m.uid = uint32_t(archive_entry_uid(e));
  m.gid = uint32_t(archive_entry_gid(e));
  m.mtime_s = int64_t(archive_entry_mtime(e));
  m.mtime_ns = int32_t(archive_entry_mtime_nsec(e));
  m.size = m.symlink ? 0 : uint64_t(archive_entry_size(e));
  if (m.symlink) {
    const char* t = archive_entry_symlink(e);
    m.link_target = t ? t : "";
  }
  return true;
}

void ArchiveReader::read_data(EntryDigest& d,
                              const std::function<void(const void*, size_t)>& sink) {
  char buf[64 * 1024];
  for (;;) {
    la_ssize_t n = archive_read_data(a_, buf, sizeof buf);
    if (n == 0) return;
    if (n < 0)
      throw InputError(path_ + ": damaged archive: " +
                       (archive_error_string(a_) ? archive_error_string(a_) : "read error"));
    d.add_data(buf, size_t(n));
    if (sink) sink(buf, size_t(n));
  }
}

VerifyResult verify_archive(const std::string& path) {
  ArchiveReader r(path, true);
  EntryDigest d;
  EntryMeta m;
  VerifyResult v;
  while (r.next(m)) {
    d.add_meta(m);
    uint64_t got = 0;
    r.read_data(d, [&](const void*, size_t n) { got += n; });
    if (!m.symlink && got != m.size)
      throw InputError(path + ": damaged archive: " + m.rel + " is short");
    ++v.entries;
  }
  v.digest = d.value();
  return v;
}

}  // namespace xsguard::store
