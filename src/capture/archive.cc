#include "capture/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "model/errors.h"
#include "store/tar_archive.h"

namespace xsguard::capture {

namespace {

struct Sink {
  Io& io;
  int fd;
  uint64_t offset = 0;
  int err = 0;
};

la_ssize_t write_cb(struct archive*, void* p, const void* buf, size_t len) {
  // Failures are recorded, not returned: libarchive would not end the gzip stream.
  auto* s = static_cast<Sink*>(p);
  if (!s->err && !s->io.pwrite_all(s->fd, buf, len, s->offset)) s->err = errno ? errno : EIO;
  s->offset += len;
  return la_ssize_t(len);
}

bool safe_name(const std::string& n) {
  if (n == "inventory.json" || n == "inventory.txt") return true;
  if (n.compare(0, 6, "files/") != 0 || n.size() > 4096) return false;
  size_t i = 6;
  while (i <= n.size()) {
    size_t j = n.find('/', i);
    if (j == std::string::npos) j = n.size();
    std::string_view c(n.data() + i, j - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = j + 1;
  }
  return true;
}

}  // namespace

void write_capture(Io& io, const std::string& path, const std::vector<ArchivedFile>& entries) {
  size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string partial = name + ".partial";
  auto refuse = [&](const std::string& what, int e) {
    throw RefusedError("cannot write the capture " + path + ": " + what +
                       (e ? std::string(": ") + std::strerror(e) : std::string()));
  };
  if (name.empty()) refuse("not a file name", 0);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) refuse("cannot open its directory", errno);
  std::unique_ptr<int, void (*)(int*)> dguard(&dfd, [](int* f) { ::close(*f); });
  struct stat st {};
  if (fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) refuse("it already exists", 0);
  unlinkat(dfd, partial.c_str(), 0);  // only ever one an interrupted capture left
  int fd = openat(dfd, partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) refuse("cannot create it", errno);
  Sink sink{io, fd};
  struct archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax(a);
  archive_write_set_bytes_in_last_block(a, 1);
  bool ok = archive_write_open2(a, &sink, nullptr, write_cb, nullptr, nullptr) == ARCHIVE_OK;
  std::string why;
  for (const auto& e : entries) {
    if (!ok) break;
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> h(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(h.get(), e.name.c_str());
    archive_entry_set_filetype(h.get(), AE_IFREG);
    archive_entry_set_perm(h.get(), e.mode & 07777);
    archive_entry_set_uid(h.get(), e.uid);
    archive_entry_set_gid(h.get(), e.gid);
    archive_entry_set_mtime(h.get(), e.mtime, 0);
    archive_entry_set_size(h.get(), la_int64_t(e.bytes.size()));
    ok = archive_write_header(a, h.get()) == ARCHIVE_OK &&
         (e.bytes.empty() ||
          archive_write_data(a, e.bytes.data(), e.bytes.size()) == la_ssize_t(e.bytes.size()));
    if (!ok) why = "adding " + e.name;
  }
  if (ok) {
    ok = archive_write_close(a) == ARCHIVE_OK;
    if (!ok) why = "closing";
  }
  if (!ok && archive_error_string(a)) why += std::string(" (") + archive_error_string(a) + ")";
  archive_write_free(a);
  int e = sink.err;
  if (ok && !e && !io.fsync(fd)) e = errno ? errno : EIO;
  ::close(fd);
  if (!ok || e) {
    unlinkat(dfd, partial.c_str(), 0);
    refuse(why.empty() ? "write failed" : why, e);
  }
  if (fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    unlinkat(dfd, partial.c_str(), 0);
    refuse("it appeared while xsguard wrote it", 0);
  }
  if (renameat(dfd, partial.c_str(), dfd, name.c_str()) != 0) {
    e = errno;
    unlinkat(dfd, partial.c_str(), 0);
    refuse("rename", e);
  }
  if (!io.fsync(dfd)) refuse("fsync of its directory", errno);
}

std::map<std::string, ArchivedFile> read_capture(const std::string& path, const CaptureLimits& l) {
  std::map<std::string, ArchivedFile> out;
  store::ArchiveReader r(path);
  store::EntryMeta m;
  bool unsupported = false;
  uint64_t total = 0;
  while (r.next(m, &unsupported)) {
    auto bad = [&](const std::string& why) {
      return InputError(path + ": not a capture xsguard wrote: " + why);
    };
    if (unsupported || m.symlink) throw bad("an entry that is not a regular file");
    if (!safe_name(m.rel)) throw bad("an entry named outside files/");
    if (m.size > l.max_entry) throw bad(m.rel + " is larger than " + std::to_string(l.max_entry) + " bytes");
    if (out.size() >= l.max_entries) throw bad("more than " + std::to_string(l.max_entries) + " entries");
    total += m.size;
    if (total > l.max_total) throw bad("more than " + std::to_string(l.max_total) + " bytes in all");
    if (out.count(m.rel)) throw bad(m.rel + " appears twice");
    ArchivedFile f;
    f.name = m.rel;
    f.mode = m.mode;
    f.uid = m.uid;
    f.gid = m.gid;
    f.mtime = m.mtime_s;
    store::EntryDigest ignored;
    r.read_data(ignored, [&](const void* p, size_t n) {
      if (f.bytes.size() + n > m.size) throw bad(m.rel + " holds more than its header says");
      f.bytes.append(static_cast<const char*>(p), n);
    });
    if (f.bytes.size() != m.size) throw bad(m.rel + " is short");
    out.emplace(f.name, std::move(f));
  }
  return out;
}

}  // namespace xsguard::capture
