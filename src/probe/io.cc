#include "probe/io.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "model/errors.h"

namespace xsguard {

bool Io::pwrite_all(int fd, const void* buf, size_t len, uint64_t offset) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = ::pwrite(fd, p, len, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    p += n, len -= size_t(n), offset += uint64_t(n);
  }
  return true;
}

bool Io::fsync(int fd) { return ::fsync(fd) == 0; }

Io& system_io() {
  static Io io;
  return io;
}

void write_file_durably(Io& io, const std::string& dir, const std::string& name,
                        const std::string& bytes) {
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(dir + "/" + name + ": " + what + ": " + std::strerror(errno));
  };
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("cannot open the directory");
  const std::string partial = name + ".partial";
  int fd = ::openat(dfd, partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    ::close(dfd);
    fail("cannot create");
  }
  bool ok = io.pwrite_all(fd, bytes.data(), bytes.size(), 0) && io.fsync(fd);
  int saved = errno;
  ::close(fd);
  if (ok) {
    struct stat st {};
    if (fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      saved = EEXIST;
      ok = false;
    } else {
      ok = renameat(dfd, partial.c_str(), dfd, name.c_str()) == 0 && io.fsync(dfd);
      saved = errno;
    }
  }
  if (!ok) unlinkat(dfd, partial.c_str(), 0);
  ::close(dfd);
  errno = saved;
  if (!ok) fail("cannot write");
}

std::string read_small_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(path + ": not a regular file");
  }
  if (uint64_t(st.st_size) > max_bytes) {
    ::close(fd);
    throw InputError(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out(size_t(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  ::close(fd);
  if (got != out.size()) throw InputError(path + ": short read");
  return out;
}

}  // namespace xsguard
