// Test-only: writes MBR, EBR and GPT structures into a SparseDisk, so unit tests
// describe disks in a few lines instead of shipping image files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/byte_source.h"
#include "model/partition_table.h"

namespace xsguard::testing {

struct MbrSlot {
  uint8_t type = 0;
  uint32_t start = 0, length = 0;
  uint8_t flag = 0;
};

inline void put_slot(SparseDisk& d, uint64_t sector_offset, int slot, const MbrSlot& s) {
  uint64_t at = sector_offset + 446 + 16 * uint64_t(slot);
  d.put_u8(at, s.flag);
  d.put_u8(at + 4, s.type);
  d.put_le32(at + 8, s.start);
  d.put_le32(at + 12, s.length);
}

// An MBR (or, at a non-zero byte offset, an EBR) with up to four slots and 55AA.
inline void put_mbr(SparseDisk& d, const std::vector<MbrSlot>& slots, uint64_t byte_offset = 0) {
  for (size_t i = 0; i < slots.size() && i < 4; ++i) put_slot(d, byte_offset, int(i), slots[i]);
  d.put_le16(byte_offset + 510, 0xAA55);
}

struct GptPart {
  std::string type;  // GUID text, upper or lower case
  uint64_t first = 0, last = 0;
  std::string name;
};

inline void put_guid(SparseDisk& d, uint64_t at, const std::string& text) {
  std::vector<uint8_t> raw;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    raw.push_back(uint8_t(std::stoi(text.substr(i, 2), nullptr, 16)));
    ++i;
  }
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; ++i) d.put_u8(at + uint64_t(order[i]), raw[size_t(i)]);
}

// A protective MBR plus primary and backup GPT with correct CRCs.
inline void put_gpt(SparseDisk& d, uint32_t lss, const std::vector<GptPart>& parts,
                    uint32_t entry_count = 128) {
  const uint64_t sectors = d.size() / lss;
  const uint64_t array_sectors = (uint64_t(entry_count) * 128 + lss - 1) / lss;
  put_mbr(d, {{0xEE, 1, uint32_t(std::min<uint64_t>(sectors - 1, 0xFFFFFFFF)), 0}});
  std::vector<uint8_t> entries(size_t(entry_count) * 128, 0);
  SparseDisk scratch(entries.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    put_guid(scratch, i * 128, parts[i].type);
    scratch.put_le64(i * 128 + 16, 0x1122334455667788ull + i);
    scratch.put_le64(i * 128 + 32, parts[i].first);
    scratch.put_le64(i * 128 + 40, parts[i].last);
    for (size_t c = 0; c < parts[i].name.size() && c < 36; ++c)
      scratch.put_le16(i * 128 + 56 + 2 * c, uint8_t(parts[i].name[c]));
  }
  scratch.read(0, entries.data(), entries.size());
  const uint32_t array_crc = crc32_ieee(entries.data(), entries.size());
  auto header = [&](uint64_t my, uint64_t alt, uint64_t array_lba) {
    SparseDisk h(92);
    h.write(0, "EFI PART", 8);
    h.put_le32(8, 0x00010000);
    h.put_le32(12, 92);
    h.put_le64(24, my);
    h.put_le64(32, alt);
    h.put_le64(40, 2 + array_sectors);
    h.put_le64(48, sectors - 2 - array_sectors);
    h.put_le64(72, array_lba);
    h.put_le32(80, entry_count);
    h.put_le32(84, 128);
    h.put_le32(88, array_crc);
    std::vector<uint8_t> bytes(92);
    h.read(0, bytes.data(), 92);
    uint32_t crc = crc32_ieee(bytes.data(), 92);
    h.put_le32(16, crc);
    h.read(0, bytes.data(), 92);
    d.write(my * lss, bytes.data(), 92);
    d.write(array_lba * lss, entries.data(), entries.size());
  };
  header(1, sectors - 1, 2);
  header(sectors - 1, 1, sectors - 1 - array_sectors);
}

}  // namespace xsguard::testing
