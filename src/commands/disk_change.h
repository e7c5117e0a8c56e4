// What fix and restore share: the checks before the first write, the confirmation,
// the exclusive open, and writing byte ranges with a rollback.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "model/disk_backup.h"
#include "model/disk_layout.h"
#include "probe/file_source.h"
#include "probe/io.h"

namespace xsguard {

// The person at the keyboard, if any.
class Console {
 public:
  virtual ~Console() = default;
  virtual bool interactive() const;
  virtual std::string read_line();
};

// Refuses (RefusedError) device-mapper disks and disks something uses.
void refuse_if_busy(const DiskLayout& layout, const FileSource& source);

// Asks for "yes" unless assume_yes; UsageError without a terminal, RefusedError on
// any other answer.
void confirm(Console& console, std::ostream& out, bool assume_yes, const std::string& question);

// Opens the disk for writing, exclusively for block devices (EBUSY: RefusedError).
class WritableDisk {
 public:
  explicit WritableDisk(const std::string& path, bool block_device);
  ~WritableDisk();
  WritableDisk(const WritableDisk&) = delete;
  WritableDisk& operator=(const WritableDisk&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Writes each region then fsyncs. On any failure puts `originals` back (same ranges)
// and throws std::runtime_error saying whether that rollback worked.
void write_regions(Io& io, const WritableDisk& disk, const std::vector<SavedRegion>& regions,
                   const std::vector<SavedRegion>& originals, const std::string& backup_path);

// The default place for a backup: DIR given, else a writable filesystem on another
// disk, else /tmp (returned with warn set: in the installer /tmp is RAM).
std::string choose_backup_dir(const std::string& given, const FileSource& disk,
                              uint64_t bytes_needed, bool& warn);

std::string utc_timestamp_compact();

}  // namespace xsguard
