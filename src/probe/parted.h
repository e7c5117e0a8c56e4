// libparted as a second, independent reader of a table xsguard has written, and as
// the way to tell the kernel about the change.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xsguard {

struct PartedPartition {
  int number;
  uint64_t start, sectors;
};

struct PartedTable {
  std::string error;  // "" when libparted read the table
  std::string label;  // libparted's name: "msdos", "gpt", ...
  std::vector<PartedPartition> partitions;  // primary and logical, not extended/free space
};

PartedTable parted_read(const std::string& path);

// Asks the kernel to re-read the table of a block device (BLKPG through libparted).
// Returns "" on success, else what libparted said.
std::string parted_inform_kernel(const std::string& path);

}  // namespace xsguard
