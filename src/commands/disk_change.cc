#include "commands/disk_change.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <stdexcept>

#include "model/errors.h"
#include "probe/disk_guard.h"
#include "report/report.h"

namespace xsguard {

bool Console::interactive() const { return isatty(0) && isatty(1); }

std::string Console::read_line() {
  std::string line;
  std::getline(std::cin, line);
  return line;
}

void refuse_if_busy(const DiskLayout& layout, const FileSource& source) {
  if (layout.dm)
    throw RefusedError(layout.path + " is a device-mapper device (multipath or LVM): xsguard "
                       "does not write through device-mapper; change the underlying paths "
                       "with the map stopped");
  auto users = disk_users(source, layout.path);
  if (!users.empty()) {
    std::string what;
    for (const auto& u : users) what += (what.empty() ? "" : "; ") + u;
    throw RefusedError(layout.path + " is in use: " + what);
  }
}

void confirm(Console& console, std::ostream& out, bool assume_yes, const std::string& question) {
  if (assume_yes) return;
  if (!console.interactive())
    throw UsageError("no terminal to confirm on: pass --yes to confirm non-interactively");
  out << question << "\nType yes to go ahead: " << std::flush;
  if (console.read_line() != "yes") throw RefusedError("not confirmed; nothing was written");
}

WritableDisk::WritableDisk(const std::string& path, bool block_device) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | (block_device ? O_EXCL : 0));
  if (fd_ < 0 && errno == EBUSY)
    throw RefusedError(path + " is held by another process (exclusive open failed)");
  if (fd_ < 0) throw InputError(path + ": cannot open for writing: " + std::strerror(errno));
}

WritableDisk::~WritableDisk() {
  if (fd_ >= 0) ::close(fd_);
}

void write_regions(Io& io, const WritableDisk& disk, const std::vector<SavedRegion>& regions,
                   const std::vector<SavedRegion>& originals, const std::string& backup_path) {
  std::string failure;
  for (const auto& r : regions)
    if (!io.pwrite_all(disk.fd(), r.bytes.data(), r.bytes.size(), r.offset)) {
      failure = "write at byte " + std::to_string(r.offset) + " failed: " + std::strerror(errno);
      break;
    }
  if (failure.empty() && !io.fsync(disk.fd()))
    failure = std::string("flushing the disk failed: ") + std::strerror(errno);
  if (failure.empty()) return;

  bool rolled_back = true;
  for (const auto& r : originals)
    rolled_back &= io.pwrite_all(disk.fd(), r.bytes.data(), r.bytes.size(), r.offset);
  rolled_back = rolled_back && io.fsync(disk.fd());
  throw std::runtime_error(
      failure + (rolled_back ? "; the original bytes were written back"
                             : "; putting the original bytes back ALSO failed: run `xsguard "
                               "restore " + backup_path + " --disk DISK --apply`"));
}

std::string choose_backup_dir(const std::string& given, const FileSource& disk,
                              uint64_t bytes_needed, bool& warn) {
  warn = false;
  if (!given.empty()) return given;
  std::string other = backup_dir_on_other_disk(disk, bytes_needed);
  if (!other.empty()) return other;
  warn = true;
  return "/tmp";
}

std::string utc_timestamp_compact() { return utc_now("%Y%m%dT%H%M%SZ"); }

}  // namespace xsguard
