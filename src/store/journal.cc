#include "store/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "model/errors.h"

namespace xsguard::store {

static constexpr const char* kMagic = "xsguard-blobs-prune 1";

PruneJournal::PruneJournal(Io& io, std::string dir)
    : io_(io), dir_(std::move(dir)), name_("xsguard-blobs-prune.journal") {
  path_ = dir_ + "/" + name_;
}

JournalState PruneJournal::read() const {
  JournalState s;
  struct stat st {};
  if (lstat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return s;
    throw InputError(path_ + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw InputError(path_ + ": not a regular file");
  std::istringstream in(read_small_file(path_, 64 * 1024));
  std::string line;
  if (!std::getline(in, line) || line != kMagic)
    throw InputError(path_ + ": not an xsguard prune journal");
  s.exists = true;
  while (std::getline(in, line)) {
    if (line.rfind("blobs ", 0) == 0) {
      s.blobs = line.substr(6);
    } else if (line.rfind("archive ", 0) == 0) {
      s.archive = line.substr(8);
    } else if (line.rfind("verified ", 0) == 0) {
      std::istringstream v(line.substr(9));
      std::string digest;
      if (v >> s.entries >> digest) {
        s.digest = std::stoull(digest, nullptr, 16);
        s.verified = true;
      }
    }
  }
  if (s.archive.empty()) throw InputError(path_ + ": journal names no archive");
  return s;
}

void PruneJournal::begin(const std::string& blobs, const std::string& archive) {
  try {
    write_file_durably(io_, dir_, name_,
                       std::string(kMagic) + "\nblobs " + blobs + "\narchive " + archive + "\n");
  } catch (const std::exception& e) {
    unlink(path_.c_str());  // it may have been renamed into place before the failure
    throw RefusedError(std::string("cannot write the journal: ") + e.what() +
                       "; nothing was removed");
  }
}

void PruneJournal::mark_verified(uint64_t entries, uint64_t digest) {
  char d[20];
  snprintf(d, sizeof d, "%016llx", static_cast<unsigned long long>(digest));
  std::string line = "verified " + std::to_string(entries) + " " + d + "\n";
  int fd = ::open(path_.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st {};
  bool ok = fd >= 0 && fstat(fd, &st) == 0 &&
            io_.pwrite_all(fd, line.data(), line.size(), uint64_t(st.st_size)) && io_.fsync(fd);
  int e = errno;
  if (fd >= 0) ::close(fd);
  if (!ok)
    throw RefusedError(path_ + ": cannot record the verified archive: " + std::strerror(e) +
                       "; nothing was removed");
}

void PruneJournal::finish() {
  if (unlink(path_.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error(path_ + ": cannot remove: " + std::strerror(errno));
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    io_.fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace xsguard::store
