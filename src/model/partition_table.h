// xsguard's own reader of MBR (with the whole EBR chain) and GPT tables. It never
// trusts a field: every count, offset and link is checked against the disk, and what
// is wrong becomes a TableProblem instead of a crash. This is the libFuzzer target.
#pragma once
#include <cstdint>

#include "model/byte_source.h"
#include "model/disk_layout.h"

namespace xsguard {

// Logical sector size of a disk image with no device to ask: 4096 when a GPT header
// sits at byte 4096 and none at byte 512, else 512.
uint32_t guess_logical_sector_size(const ByteSource& disk);

// Reads the table; fills label, partitions and problems of a layout whose size and
// sector sizes are already set.
void read_partition_table(const ByteSource& disk, DiskLayout& layout);

// The 16-byte MBR slot or 128-byte GPT entry that describes a partition, and the
// other places a removal must update (GPT: both entry arrays and headers' CRCs).
// Used to model "this disk with partition N removed" without writing.
struct TableEdit {
  uint64_t offset;
  std::vector<uint8_t> bytes;
};
std::vector<TableEdit> plan_partition_removal(const ByteSource& disk, const DiskLayout& layout,
                                              int number);

uint32_t crc32_ieee(const uint8_t* data, size_t len, uint32_t crc = 0);

}  // namespace xsguard
