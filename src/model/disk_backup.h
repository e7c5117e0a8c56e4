// The backup xsguard writes before it changes a disk: one self-describing file with
// the disk's identity, its table as text, the saved byte regions and checksums.
//
//   xsguard disk backup v1
//   # comment lines explaining the format and how to restore
//   key: value lines (created, tool_version, disk, size_bytes, logical_sector, ...)
//   table-lines: N, then N lines of the table in sfdisk's format
//   region: OFFSET LENGTH SHA256   (one line per saved region)
//   data-follows
//   the regions' bytes, back to back, in the order listed
//   end: SHA256 of every byte before this line
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xsguard {

struct SavedRegion {
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;
};

struct DiskBackup {
  std::string created;
  std::string tool_version;
  std::string disk;
  uint64_t size_bytes = 0;
  uint32_t logical_sector = 512;
  uint32_t physical_sector = 512;
  std::string model, serial;
  std::string label;
  std::string purpose;
  std::string table_text;
  std::vector<SavedRegion> regions;
};

std::string serialize_backup(const DiskBackup& backup);

// Strict: any inconsistency (bad checksum, truncated data, regions that overlap or lie
// outside the recorded disk size) is an error, described in error.
std::optional<DiskBackup> parse_backup(std::string_view bytes, std::string& error);

// Merges [offset, offset+length) ranges, sector-aligns them and clips them to the disk.
std::vector<std::pair<uint64_t, uint64_t>> backup_ranges(
    std::vector<std::pair<uint64_t, uint64_t>> ranges, uint32_t sector, uint64_t disk_size);

}  // namespace xsguard
