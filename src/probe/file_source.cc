#include "probe/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "model/errors.h"

namespace xsguard {

FileSource::FileSource(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd_ < 0) throw InputError(path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd_, &st) != 0) {
    int e = errno;
    ::close(fd_);
    throw InputError(path + ": " + std::strerror(e));
  }
  if (S_ISBLK(st.st_mode)) {
    block_ = true;
    major_ = ::major(st.st_rdev);
    minor_ = ::minor(st.st_rdev);
    if (ioctl(fd_, BLKGETSIZE64, &size_) != 0) {
      int e = errno;
      ::close(fd_);
      throw InputError(path + ": cannot read the device size: " + std::strerror(e));
    }
  } else if (S_ISREG(st.st_mode)) {
    size_ = uint64_t(st.st_size);
  } else {
    ::close(fd_);
    throw InputError(path + ": not a block device or a disk image file");
  }
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileSource::read(uint64_t offset, void* buf, size_t len) const {
  if (offset > size_ || len > size_ - offset) return false;
  auto* out = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = ::pread(fd_, out, len, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n, offset += uint64_t(n), len -= size_t(n);
  }
  return true;
}

}  // namespace xsguard
