// A disk or disk image opened read-only, as a ByteSource.
#pragma once
#include <string>

#include "model/byte_source.h"

namespace xsguard {

class FileSource : public ByteSource {
 public:
  // Throws InputError (missing, unreadable, not a regular file or block device).
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, void* buf, size_t len) const override;
  bool is_block_device() const { return block_; }
  int fd() const { return fd_; }
  unsigned dev_major() const { return major_; }
  unsigned dev_minor() const { return minor_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  bool block_ = false;
  unsigned major_ = 0, minor_ = 0;
};

}  // namespace xsguard
