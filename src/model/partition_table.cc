#include "model/partition_table.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

namespace xsguard {

const char* to_string(LabelKind k) {
  switch (k) {
    case LabelKind::none: return "none";
    case LabelKind::msdos: return "msdos";
    case LabelKind::gpt: return "gpt";
    case LabelKind::unknown: return "unknown";
  }
  return "unknown";
}

std::vector<const Partition*> DiskLayout::by_start() const {
  std::vector<const Partition*> out;
  for (const auto& p : partitions)
    if (!p.extended) out.push_back(&p);
  std::stable_sort(out.begin(), out.end(),
                   [](const Partition* a, const Partition* b) { return a->start < b->start; });
  return out;
}

const Partition* DiskLayout::find(int number) const {
  for (const auto& p : partitions)
    if (p.number == number) return &p;
  return nullptr;
}

std::string partition_device(const std::string& disk, int number, bool is_block_device) {
  if (!is_block_device) return disk + "#" + std::to_string(number);
  bool digit_last = !disk.empty() && disk.back() >= '0' && disk.back() <= '9';
  return disk + (digit_last ? "p" : "") + std::to_string(number);
}

uint32_t crc32_ieee(const uint8_t* data, size_t len, uint32_t crc) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < len; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

namespace {

// Bounds that keep a lying table from costing time or memory.
constexpr uint64_t kMaxGptArrayBytes = 4u << 20;  // 32768 entries of 128 bytes
constexpr int kMaxLogicals = 256;

bool is_extended_type(uint8_t t) { return t == 0x05 || t == 0x0F || t == 0x85; }

void problem(DiskLayout& l, std::string code, std::string detail) {
  l.problems.push_back({std::move(code), std::move(detail)});
}

std::string guid_text(const uint8_t* g) {
  static const char* hex = "0123456789ABCDEF";
  // Mixed endian: the first three fields are little-endian.
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += hex[g[order[i]] >> 4];
    s += hex[g[order[i]] & 15];
  }
  return s;
}

std::string utf16_name(const uint8_t* p, size_t units) {
  std::string s;
  for (size_t i = 0; i < units; ++i) {
    uint16_t c = le16(p + 2 * i);
    if (c == 0) break;
    s += (c >= 0x20 && c < 0x7F) ? char(c) : '?';
  }
  return s;
}

struct GptHeader {
  uint64_t my_lba = 0, alternate_lba = 0, first_usable = 0, last_usable = 0, entries_lba = 0;
  uint32_t entry_count = 0, entry_size = 0, entries_crc = 0;
};

// Reads and validates a GPT header at lba. Returns a problem description, or "" when
// the header is sound (and then fills h).
std::string read_gpt_header(const ByteSource& disk, uint32_t lss, uint64_t lba, GptHeader& h) {
  if (lba == 0 || lba > disk.size() / lss) return "outside the disk";
  std::vector<uint8_t> s(lss);
  if (!disk.read(lba * lss, s.data(), lss)) return "unreadable";
  if (std::memcmp(s.data(), "EFI PART", 8) != 0) return "no EFI PART signature";
  uint32_t header_size = le32(&s[12]);
  if (header_size < 92 || header_size > lss) return "header size " + std::to_string(header_size);
  uint32_t stored = le32(&s[16]);
  std::memset(&s[16], 0, 4);
  if (crc32_ieee(s.data(), header_size) != stored) return "header CRC mismatch";
  h.my_lba = le64(&s[24]);
  h.alternate_lba = le64(&s[32]);
  h.first_usable = le64(&s[40]);
  h.last_usable = le64(&s[48]);
  h.entries_lba = le64(&s[72]);
  h.entry_count = le32(&s[80]);
  h.entry_size = le32(&s[84]);
  h.entries_crc = le32(&s[88]);
  if (h.my_lba != lba) return "header says it is at LBA " + std::to_string(h.my_lba);
  if (h.entry_size < 128 || (h.entry_size & (h.entry_size - 1)) != 0)
    return "entry size " + std::to_string(h.entry_size);
  uint64_t bytes = uint64_t(h.entry_count) * h.entry_size;
  if (bytes > kMaxGptArrayBytes)
    return "claims " + std::to_string(h.entry_count) + " entries of " +
           std::to_string(h.entry_size) + " bytes";
  uint64_t sectors = disk.size() / lss;
  if (h.entries_lba >= sectors || (bytes + lss - 1) / lss > sectors - h.entries_lba)
    return "entry array at LBA " + std::to_string(h.entries_lba) + " lies beyond the disk";
  return "";
}

bool read_gpt_entries(const ByteSource& disk, uint32_t lss, const GptHeader& h,
                      std::vector<uint8_t>& out) {
  out.resize(size_t(h.entry_count) * h.entry_size);
  return disk.read(h.entries_lba * lss, out.data(), out.size());
}

void read_gpt(const ByteSource& disk, DiskLayout& l) {
  const uint32_t lss = l.logical_sector;
  const uint64_t last_lba = l.sectors() ? l.sectors() - 1 : 0;
  GptHeader primary, backup, h;
  std::string primary_err = read_gpt_header(disk, lss, 1, primary);
  std::vector<uint8_t> entries;
  bool primary_ok = primary_err.empty();
  if (primary_ok && (!read_gpt_entries(disk, lss, primary, entries) ||
                     crc32_ieee(entries.data(), entries.size()) != primary.entries_crc)) {
    problem(l, "gpt_entries_crc", "primary GPT partition entry array fails its CRC");
    primary_ok = false;
  }
  uint64_t backup_lba = primary_err.empty() ? primary.alternate_lba : last_lba;
  std::string backup_err = read_gpt_header(disk, lss, backup_lba, backup);
  std::vector<uint8_t> backup_entries;
  if (backup_err.empty() && (!read_gpt_entries(disk, lss, backup, backup_entries) ||
                             crc32_ieee(backup_entries.data(), backup_entries.size()) !=
                                 backup.entries_crc))
    backup_err = "entry array fails its CRC";

  if (!primary_err.empty())
    problem(l, primary_err == "header CRC mismatch" ? "gpt_header_crc" : "gpt_header_bad",
            "primary GPT header: " + primary_err);
  if (!backup_err.empty())
    problem(l, "gpt_backup_bad",
            "backup GPT header at LBA " + std::to_string(backup_lba) + ": " + backup_err);
  else if (backup_lba != last_lba)
    problem(l, "gpt_backup_misplaced",
            "backup GPT header at LBA " + std::to_string(backup_lba) + ", not at the last LBA " +
                std::to_string(last_lba) + " (disk grown or image truncated)");

  if (primary_ok) {
    h = primary;
  } else if (backup_err.empty()) {
    h = backup;
    entries = std::move(backup_entries);
  } else {
    l.label = LabelKind::unknown;  // protective MBR, but no GPT we can trust
    return;
  }
  l.label = LabelKind::gpt;
  const uint64_t array_sectors = (uint64_t(h.entry_count) * h.entry_size + lss - 1) / lss;
  if (h.my_lba == 1 && h.entries_lba + array_sectors > h.first_usable)
    problem(l, "gpt_array_overlaps",
            "the entry array (LBA " + std::to_string(h.entries_lba) + "-" +
                std::to_string(h.entries_lba + array_sectors - 1) +
                ") runs into the usable area starting at LBA " + std::to_string(h.first_usable));
  if (primary_err.empty() && backup_err.empty() &&
      (primary.entry_count != backup.entry_count || primary.first_usable != backup.first_usable ||
       primary.last_usable != backup.last_usable))
    problem(l, "gpt_headers_disagree",
            "the primary and backup GPT headers describe different tables (" +
                std::to_string(primary.entry_count) + " vs " + std::to_string(backup.entry_count) +
                " entries)");
  static const uint8_t kEmpty[16] = {};
  for (uint32_t i = 0; i < h.entry_count; ++i) {
    const uint8_t* e = entries.data() + size_t(i) * h.entry_size;
    if (std::memcmp(e, kEmpty, 16) == 0) continue;
    Partition p;
    p.number = int(i + 1);
    p.gpt_type = guid_text(e);
    p.start = le64(e + 32);
    uint64_t last = le64(e + 40);
    p.sectors = last >= p.start ? last - p.start + 1 : 0;
    p.gpt_name = utf16_name(e + 56, 36);
    if (last < p.start)
      problem(l, "gpt_entry_inverted",
              "partition " + std::to_string(p.number) + " ends before it starts");
    else if (p.start < h.first_usable || last > h.last_usable)
      problem(l, "outside_usable",
              "partition " + std::to_string(p.number) + " lies outside the usable LBAs " +
                  std::to_string(h.first_usable) + "-" + std::to_string(h.last_usable));
    l.partitions.push_back(std::move(p));
  }
}

void read_msdos(const ByteSource& disk, const uint8_t* mbr, DiskLayout& l) {
  l.label = LabelKind::msdos;
  const uint64_t sectors = l.sectors();
  uint64_t extended_start = 0;
  int extended_count = 0;
  for (int i = 0; i < 4; ++i) {
    const uint8_t* e = mbr + 446 + 16 * i;
    if (e[0] != 0 && e[0] != 0x80)
      problem(l, "bad_boot_flag",
              "slot " + std::to_string(i + 1) + " has boot flag 0x" +
                  "0123456789abcdef"[e[0] >> 4] + "0123456789abcdef"[e[0] & 15]);
    if (e[4] == 0) continue;
    Partition p;
    p.number = i + 1;
    p.mbr_type = e[4];
    p.bootable = e[0] == 0x80;
    p.start = le32(e + 8);
    p.sectors = le32(e + 12);
    p.extended = is_extended_type(p.mbr_type);
    if (p.extended && ++extended_count == 1) extended_start = p.start;
    l.partitions.push_back(std::move(p));
  }
  if (extended_count > 1) problem(l, "multiple_extended", "more than one extended partition");
  if (extended_count == 0) return;

  std::set<uint64_t> seen;
  uint64_t ebr = extended_start;
  int number = 5;
  std::vector<uint8_t> s(l.logical_sector);
  for (;;) {
    if (!seen.insert(ebr).second) {
      problem(l, "ebr_loop", "the EBR chain returns to LBA " + std::to_string(ebr));
      return;
    }
    if (number - 5 >= kMaxLogicals) {
      problem(l, "ebr_too_long", "more than " + std::to_string(kMaxLogicals) + " logical partitions");
      return;
    }
    if (ebr == 0 || ebr >= sectors || !disk.read(ebr * l.logical_sector, s.data(), s.size())) {
      problem(l, "ebr_beyond_end", "an EBR at LBA " + std::to_string(ebr) + " lies beyond the disk");
      return;
    }
    if (le16(&s[510]) != 0xAA55) {
      problem(l, "ebr_no_signature", "the EBR at LBA " + std::to_string(ebr) + " has no 55AA signature");
      return;
    }
    const uint8_t* logical = &s[446];
    const uint8_t* link = &s[462];
    if (logical[4] != 0) {
      Partition p;
      p.number = number++;
      p.logical = true;
      p.mbr_type = logical[4];
      p.bootable = logical[0] == 0x80;
      p.start = ebr + le32(logical + 8);
      p.sectors = le32(logical + 12);
      l.partitions.push_back(std::move(p));
    }
    // GRUB and the kernel follow any extended-type link, even one back to the start.
    if (!is_extended_type(link[4])) return;
    ebr = extended_start + le32(link + 8);
  }
}

void check_extents(DiskLayout& l) {
  const uint64_t sectors = l.sectors();
  for (const auto& p : l.partitions)
    if (p.start + p.sectors > sectors || p.start + p.sectors < p.start)
      problem(l, "beyond_end",
              "partition " + std::to_string(p.number) + " ends at LBA " +
                  std::to_string(p.start + p.sectors - 1) + ", past the disk's last LBA " +
                  std::to_string(sectors ? sectors - 1 : 0));
  auto ordered = l.by_start();
  for (size_t i = 1; i < ordered.size(); ++i) {
    const Partition* a = ordered[i - 1];
    const Partition* b = ordered[i];
    if (a->sectors && b->sectors && b->start <= a->end())
      problem(l, "overlap",
              "partitions " + std::to_string(a->number) + " and " + std::to_string(b->number) +
                  " overlap");
  }
}

}  // namespace

uint32_t guess_logical_sector_size(const ByteSource& disk) {
  char sig[8];
  if (disk.read(512, sig, 8) && std::memcmp(sig, "EFI PART", 8) == 0) return 512;
  if (disk.read(4096, sig, 8) && std::memcmp(sig, "EFI PART", 8) == 0) return 4096;
  return 512;
}

void read_partition_table(const ByteSource& disk, DiskLayout& l) {
  l.partitions.clear();
  l.problems.clear();
  std::vector<uint8_t> mbr(std::max<uint32_t>(l.logical_sector, 512));
  if (!disk.read(0, mbr.data(), 512)) {
    l.label = LabelKind::unknown;
    problem(l, "unreadable", "the first sector cannot be read (the disk is smaller than 512 bytes)");
    return;
  }
  if (le16(&mbr[510]) != 0xAA55) {
    bool blank = std::all_of(mbr.begin(), mbr.begin() + 512, [](uint8_t b) { return b == 0; });
    l.label = blank ? LabelKind::none : LabelKind::unknown;
    return;
  }
  bool protective = false;
  for (int i = 0; i < 4; ++i) protective |= mbr[446 + 16 * i + 4] == 0xEE;
  if (protective)
    read_gpt(disk, l);
  else
    read_msdos(disk, mbr.data(), l);
  check_extents(l);
}

std::vector<TableEdit> plan_partition_removal(const ByteSource& disk, const DiskLayout& l,
                                              int number) {
  std::vector<TableEdit> edits;
  const Partition* p = l.find(number);
  if (!p) return edits;
  if (l.label == LabelKind::msdos) {
    if (p->logical || number > 4) return edits;  // relinking an EBR chain is not offered
    edits.push_back({446 + 16 * uint64_t(number - 1), std::vector<uint8_t>(16, 0)});
    return edits;
  }
  if (l.label != LabelKind::gpt) return edits;
  const uint32_t lss = l.logical_sector;
  GptHeader primary, backup;
  if (!read_gpt_header(disk, lss, 1, primary).empty()) return edits;
  if (!read_gpt_header(disk, lss, primary.alternate_lba, backup).empty()) return edits;
  for (const GptHeader* h : {&primary, &backup}) {
    std::vector<uint8_t> entries;
    if (!read_gpt_entries(disk, lss, *h, entries) || uint32_t(number) > h->entry_count) return {};
    size_t at = size_t(number - 1) * h->entry_size;
    std::fill(entries.begin() + at, entries.begin() + at + h->entry_size, 0);
    edits.push_back({h->entries_lba * lss + at, std::vector<uint8_t>(h->entry_size, 0)});
    std::vector<uint8_t> header(lss);
    if (!disk.read(h->my_lba * lss, header.data(), lss)) return {};
    uint32_t crc = crc32_ieee(entries.data(), entries.size());
    for (int i = 0; i < 4; ++i) header[88 + i] = uint8_t(crc >> (8 * i));
    uint32_t header_size = le32(&header[12]);
    std::memset(&header[16], 0, 4);
    uint32_t hcrc = crc32_ieee(header.data(), header_size);
    for (int i = 0; i < 4; ++i) header[16 + i] = uint8_t(hcrc >> (8 * i));
    edits.push_back({h->my_lba * lss, std::vector<uint8_t>(header.begin(), header.begin() + header_size)});
  }
  return edits;
}

}  // namespace xsguard
