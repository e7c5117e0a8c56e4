// GRUB differential test. Generates disk layouts from a fixed seed, writes each one
// byte by byte into an image file (so that tables no partitioning tool would write
// are possible), and asks both GRUB 2.06's grub-bios-setup and xsguard's model
// whether core.img can be embedded. The verdict, the warning lines, the failure line
// and, when it fits, the embedded sector list must agree exactly.
//
// Prints "PASS <case>" or "FAIL <case>: <difference>" per layout x core.img, then a
// per-reason tally. Exits 0 when everything agrees, 1 on any disagreement, 2 when
// the run itself could not be set up.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "model/grub_embed.h"
#include "probe/file_source.h"

namespace fs = std::filesystem;
using xsguard::EmbedOutcome;
using xsguard::EmbedReason;

namespace {

constexpr uint64_t kSeed = 0x7873677561726431;  // fixed: every run checks the same layouts
constexpr int kLayouts = 400;
// Each reason must be reached by at least this many comparisons, or the generator
// has drifted away from the code paths this test exists to check.
constexpr int kMinComparisonsPerReason = 5;
constexpr const char* kDefaultBiosSetup = "/usr/lib/grub/i386-pc/grub-bios-setup";

// std::uniform_int_distribution is implementation-defined; a plain modulo keeps the
// layouts identical on every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t below(uint64_t n) { return engine_() % n; }
  uint64_t between(uint64_t low, uint64_t high) { return low + below(high - low + 1); }
  bool percent(unsigned p) { return below(100) < p; }
  uint8_t byte() { return uint8_t(engine_()); }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

uint32_t crc32(const uint8_t* data, size_t len) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    c ^= data[i];
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// A disk image held as its non-zero sectors; written out sparse.
class Image {
 public:
  explicit Image(uint64_t sectors) : sectors_(sectors) {}
  uint64_t sectors() const { return sectors_; }

  // Bytes past the end of the disk are dropped: a table entry may well point there.
  void put(uint64_t offset, const void* data, size_t len) {
    const auto* in = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < len; ++i) {
      uint64_t at = offset + i;
      if (at / 512 >= sectors_) return;
      data_[at / 512][at % 512] = in[i];
    }
  }
  void put_le(uint64_t offset, uint64_t value, size_t width) {
    uint8_t bytes[8];
    for (size_t i = 0; i < width; ++i) bytes[i] = uint8_t(value >> (8 * i));
    put(offset, bytes, width);
  }
  bool sector_used(uint64_t lba) const { return data_.count(lba) != 0; }

  void write_file(const std::string& path) const {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + path);
    bool ok = ::ftruncate(fd, off_t(sectors_ * 512)) == 0;
    for (const auto& [lba, bytes] : data_)
      ok = ok && ::pwrite(fd, bytes.data(), 512, off_t(lba * 512)) == 512;
    ok = ::close(fd) == 0 && ok;
    if (!ok) throw std::runtime_error("cannot write " + path);
  }

 private:
  uint64_t sectors_;
  std::map<uint64_t, std::array<uint8_t, 512>> data_;
};

// ---------------------------------------------------------------- msdos tables

struct MbrEntry {
  uint8_t flag = 0, type = 0;
  uint32_t start = 0, length = 0;
};
using MbrTable = std::array<MbrEntry, 4>;

void write_table(Image& img, uint64_t lba, const MbrTable& table, bool signed_table) {
  for (int i = 0; i < 4; ++i) {
    uint64_t e = lba * 512 + 446 + 16 * uint64_t(i);
    img.put_le(e, table[i].flag, 1);
    img.put_le(e + 4, table[i].type, 1);
    img.put_le(e + 8, table[i].start, 4);
    img.put_le(e + 12, table[i].length, 4);
  }
  if (signed_table) img.put_le(lba * 512 + 510, 0xAA55, 2);
}

std::string hex2(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02x", v & 0xffu);
  return buf;
}

std::string describe_table(const MbrTable& table) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const auto& e = table[i];
    if (!e.type && !e.start && !e.length && !e.flag) continue;
    s += " " + std::to_string(i) + ":" + hex2(e.type) + "@" + std::to_string(e.start) + "+" +
         std::to_string(e.length);
    if (e.flag) s += "/f" + hex2(e.flag);
  }
  return s.empty() ? " (empty)" : s;
}

struct Signature {
  const char* name;
  std::vector<uint8_t> bytes;
};

const std::vector<Signature>& signatures() {
  static const std::vector<Signature> all = {
      {"ZISD", {'Z', 'I', 'S', 'D'}},
      {"FlexNet-1", {0xd4, 0x41, 0xa0, 0xf5, 0x03, 0x00, 0x03, 0x00}},
      {"FlexNet-2", {0xd8, 0x41, 0xa0, 0xf5, 0x02, 0x00, 0x02, 0x00}},
      {"HP",
       {0x70, 0x8a, 0x5d, 0x46, 0x35, 0xc5, 0x1b, 0x93, 0xae, 0x3d, 0x86, 0xfd, 0xb1, 0x55, 0x3e,
        0xe0}},
      {"HighPoint", {'y', 'c', 'g', 'l'}},
      {"Acer", {'G', 'R', 'E', 'G', 'R', 'e', 'g', 'D', 'o', 'n', 'e', '.', 'T', 'a', 'g', 0}},
  };
  return all;
}

// The sizes, in sectors, of the core images actually built: generated partition
// starts and BIOS Boot Partition sizes straddle the thresholds each one sets.
struct Targets {
  std::vector<uint32_t> cores;
};

uint8_t pick_data_type(Rng& r) {
  static const std::vector<uint8_t> common = {0x83, 0x83, 0x07, 0x0b, 0x82, 0xde,
                                              0x8e, 0xfd, 0x42, 0xef, 0x00, 0x00};
  if (r.percent(75)) return r.pick(common);
  // Any other byte; extended and protective types are placed on purpose elsewhere.
  for (;;) {
    uint8_t t = r.byte();
    if (t != 0x05 && t != 0x0f && t != 0x85 && t != 0xee) return t;
  }
}

uint8_t pick_extended_type(Rng& r) {
  static const std::vector<uint8_t> types = {0x05, 0x0f, 0x85};
  return r.pick(types);
}

uint8_t pick_flag(Rng& r) { return r.percent(30) ? 0x80 : 0x00; }

uint8_t pick_bad_flag(Rng& r) {
  static const std::vector<uint8_t> flags = {0x01, 0x7f, 0x81, 0xff, 0x40};
  return r.pick(flags);
}

// Starts chosen to land on every side of GRUB's thresholds: sectors 0 and 1, C and
// C + 1 for each core size, 2C (how far the signature scan reaches), gaps up to the
// traditional 62 sectors, 2048.
uint32_t pick_start(Rng& r, const Targets& t) {
  switch (r.below(9)) {
    case 0: return uint32_t(r.below(3));
    case 1:
    case 2: return uint32_t(r.pick(t.cores) - 2 + r.below(5));
    case 3: return uint32_t(2 * r.pick(t.cores) - 1 + r.below(3));
    case 4: return uint32_t(r.between(2, 64));  // small gaps up to the DOS-era 63
    case 5: return 2048;
    default: return uint32_t(r.between(1, 3000));
  }
}

uint32_t pick_length(Rng& r) {
  switch (r.below(6)) {
    case 0: return 0;  // a zero-length entry with a type still bounds the gap
    case 1: return 0xFFFFFFFFu;
    default: return uint32_t(r.between(1, 100000));
  }
}

struct Layout {
  std::string family;
  std::string description;
  Image image;
};

// Puts signatures at distinct, otherwise unused sectors in [1, last].
void scatter_signatures(Rng& r, Image& img, std::string& desc, unsigned count, uint64_t last) {
  for (unsigned n = 0; n < count && last >= 1; ++n) {
    uint64_t lba = r.between(1, last);
    if (img.sector_used(lba)) continue;
    const auto& s = r.pick(signatures());
    img.put(lba * 512, s.bytes.data(), s.bytes.size());
    desc += " sig:" + std::string(s.name) + "@" + std::to_string(lba);
  }
}

// Random bytes in the gap: GRUB must ignore (and later overwrite) them.
void maybe_add_noise(Rng& r, Image& img, std::string& desc, uint64_t last) {
  if (last < 1 || !r.percent(15)) return;
  uint64_t lba = r.between(1, last);
  if (img.sector_used(lba)) return;
  std::array<uint8_t, 512> junk;
  for (auto& b : junk) b = r.byte();
  img.put(lba * 512, junk.data(), junk.size());
  desc += " noise@" + std::to_string(lba);
}

uint64_t pick_disk_sectors(Rng& r) {
  // The small ones leave GRUB embedding sectors past the end of the disk.
  static const std::vector<uint64_t> sizes = {8192, 8192, 8192, 16384, 4096, 2048, 600, 300};
  return r.pick(sizes);
}

Layout msdos_primaries(Rng& r, const Targets& t) {
  Layout l{"msdos", "", Image(pick_disk_sectors(r))};
  MbrTable mbr{};
  unsigned count = unsigned(r.between(1, 4));
  uint64_t lowest = UINT64_MAX;
  for (unsigned n = 0; n < count; ++n) {
    auto& e = mbr[r.below(4)];
    e = {pick_flag(r), pick_data_type(r), pick_start(r, t), pick_length(r)};
    if (e.type) lowest = std::min<uint64_t>(lowest, e.start);
  }
  write_table(l.image, 0, mbr, true);
  l.description = "MBR" + describe_table(mbr);
  uint64_t gap_end = std::min<uint64_t>(lowest == UINT64_MAX ? 600 : lowest, 1200);
  if (gap_end > 1 && r.percent(35))
    scatter_signatures(r, l.image, l.description, unsigned(r.between(1, 3)), gap_end - 1);
  maybe_add_noise(r, l.image, l.description, gap_end > 1 ? gap_end - 1 : 0);
  return l;
}

// An extended partition with a chain of EBRs. Logical starts are relative to their
// own EBR, chain links relative to the extended partition, as on real disks; the
// odd variants break the chain the ways GRUB checks for.
Layout msdos_extended(Rng& r, const Targets& t) {
  Layout l{"msdos-ext", "", Image(pick_disk_sectors(r))};
  MbrTable mbr{};
  unsigned ext_slot = unsigned(r.below(4));
  uint32_t ext_start = r.percent(60) ? pick_start(r, t) : uint32_t(r.between(1, 6000));
  if (ext_start == 0) ext_start = 1;  // an EBR at sector 0 would be the MBR itself
  mbr[ext_slot] = {pick_flag(r), pick_extended_type(r), ext_start, uint32_t(r.between(0, 8000))};
  unsigned primaries = unsigned(r.below(3));
  for (unsigned n = 0; n < primaries; ++n) {
    unsigned slot = unsigned(r.below(4));
    if (slot == ext_slot) continue;
    mbr[slot] = {pick_flag(r), pick_data_type(r), pick_start(r, t), pick_length(r)};
  }
  if (r.percent(10)) {  // a second extended entry: GRUB follows only the first
    unsigned slot = unsigned(r.below(4));
    if (slot != ext_slot) mbr[slot] = {0, pick_extended_type(r), uint32_t(r.between(1, 6000)), 100};
  }
  write_table(l.image, 0, mbr, true);
  l.description = "MBR" + describe_table(mbr);

  // GRUB follows the first extended entry in slot order, wherever it starts.
  uint64_t ext_offset = 0;
  for (const auto& e : mbr)
    if (e.type == 0x05 || e.type == 0x0f || e.type == 0x85) {
      ext_offset = e.start;
      break;
    }
  unsigned ebrs = unsigned(r.below(5));
  enum class Oddity { none, loop, self_loop, unsigned_ebr, bad_flag, dummy, beyond_disk };
  Oddity odd = Oddity::none;
  if (ebrs > 0 && r.percent(45)) odd = Oddity(r.between(1, 6));
  std::vector<uint32_t> rel(ebrs);
  uint32_t cursor = 0;
  for (unsigned k = 0; k < ebrs; ++k) {
    rel[k] = cursor;
    cursor += uint32_t(r.between(1, 700));
  }
  if (odd == Oddity::beyond_disk) rel[ebrs - 1] = uint32_t(l.image.sectors() + r.below(5000));
  for (unsigned k = 0; k < ebrs; ++k) {
    MbrTable ebr{};
    static const std::vector<uint32_t> logical_starts = {1, 63, 2048, 0};
    uint32_t lstart = r.percent(60) ? r.pick(logical_starts) : uint32_t(r.between(1, 3000));
    ebr[0] = {pick_flag(r), r.percent(85) ? pick_data_type(r) : uint8_t(0), lstart, pick_length(r)};
    if (k + 1 < ebrs) ebr[1] = {0, pick_extended_type(r), rel[k + 1], 100};
    bool last = k + 1 == ebrs;
    if (last && odd == Oddity::loop) ebr[1] = {0, 0x05, rel[r.below(ebrs)], 100};
    if (last && odd == Oddity::self_loop) ebr[1] = {0, 0x05, rel[k], 100};
    if (last && odd == Oddity::bad_flag) {
      unsigned slot = unsigned(r.below(4));
      ebr[slot].flag = pick_bad_flag(r);
    }
    if (last && odd == Oddity::dummy) ebr[0].type = 0xee;
    write_table(l.image, ext_offset + rel[k], ebr, !(last && odd == Oddity::unsigned_ebr));
    l.description += " EBR@" + std::to_string(ext_offset + rel[k]) + describe_table(ebr);
  }
  if (odd == Oddity::unsigned_ebr) l.description += " (last EBR unsigned)";
  uint64_t gap_end = std::min<uint64_t>(ext_start, 1200);
  for (const auto& e : mbr)
    if (e.type) gap_end = std::min<uint64_t>(gap_end, e.start);
  if (gap_end > 1 && r.percent(30))
    scatter_signatures(r, l.image, l.description, unsigned(r.between(1, 3)), gap_end - 1);
  return l;
}

// The signature scan at its limits: mostly a gap of C to C + 5 sectors for one core
// size, with signatures inside it, so that skipping them decides the verdict.
Layout msdos_crowded_gap(Rng& r, const Targets& t) {
  Layout l{"msdos-sig", "", Image(8192)};
  uint32_t core = r.pick(t.cores);
  uint32_t gap = std::max<uint32_t>(1, core + uint32_t(r.below(6)));
  if (r.percent(25)) gap = uint32_t(r.between(2, 1100));
  MbrTable mbr{};
  unsigned slot = unsigned(r.below(4));
  uint8_t type = pick_data_type(r);
  mbr[slot] = {pick_flag(r), type ? type : uint8_t(0x83), gap + 1, pick_length(r)};
  write_table(l.image, 0, mbr, true);
  l.description = "MBR" + describe_table(mbr);
  // GRUB scans at most min(gap, 2C, 888) sectors; aim inside that window mostly.
  uint64_t window = std::min<uint64_t>({gap, 2ull * core, 888});
  uint64_t last = r.percent(80) ? window : gap;
  // At most four: each one splits the embedded run, and past fifteen pieces GRUB's
  // blocklist would stop fitting in core.img's first sector (not an embedding rule).
  scatter_signatures(r, l.image, l.description, unsigned(r.between(1, 4)), last);
  return l;
}

// Tables GRUB must reject or not recognise at all.
Layout msdos_odd(Rng& r, const Targets& t) {
  Layout l{"msdos-odd", "", Image(8192)};
  MbrTable mbr{};
  bool signed_table = true;
  std::string what;
  switch (r.below(6)) {
    case 0: what = "empty table"; break;
    case 1:
      what = "no 55aa";
      signed_table = false;
      mbr[0] = {0x80, 0x83, 2048, 4096};
      break;
    case 2:
      what = "bad boot flag";
      mbr[0] = {pick_bad_flag(r), 0x83, pick_start(r, t), 4096};
      mbr[1] = {0, pick_data_type(r), pick_start(r, t), 100};
      break;
    case 3: {
      what = "0xEE without a GPT header";
      unsigned ee_slot = unsigned(r.below(4)), data_slot = unsigned(r.below(4));
      mbr[ee_slot] = {0, 0xee, 1, 8191};
      mbr[data_slot] = {0, 0x83, pick_start(r, t), 100};
      break;
    }
    case 4: {
      what = "extended only";
      uint32_t ext = pick_start(r, t);
      if (ext == 0) ext = 1;
      unsigned slot = unsigned(r.below(4));
      mbr[slot] = {0, pick_extended_type(r), ext, 4000};
      MbrTable ebr{};
      if (r.percent(50)) ebr[0] = {0, 0, 63, 100};  // a logical slot left empty
      write_table(l.image, ext, ebr, r.percent(70));
      l.description = " EBR@" + std::to_string(ext) + describe_table(ebr);
      break;
    }
    default:
      what = "type-0 entries only";
      mbr[0] = {0, 0, 2048, 4096};
      mbr[2] = {0x80, 0, 63, 100};
      break;
  }
  write_table(l.image, 0, mbr, signed_table);
  l.description = what + ": MBR" + describe_table(mbr) + l.description;
  return l;
}

// ---------------------------------------------------------------- GPT

using Guid = std::array<uint8_t, 16>;

const Guid kBiosBoot = {0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
                        0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49};

const std::vector<std::pair<const char*, Guid>>& other_gpt_types() {
  // No LDM metadata type: it would send GRUB down its Windows LDM path.
  static const std::vector<std::pair<const char*, Guid>> types = {
      {"linux",
       {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d,
        0xe4}},
      {"esp",
       {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9,
        0x3b}},
      {"msdata",
       {0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99,
        0xc7}},
      {"swap",
       {0x6d, 0xfd, 0x57, 0x06, 0xab, 0xa4, 0xc4, 0x43, 0x84, 0xe5, 0x09, 0x33, 0xc8, 0x4b, 0x4f,
        0x4f}},
      {"lvm",
       {0x79, 0xd3, 0xd6, 0xe6, 0x07, 0xf5, 0xc2, 0x44, 0xa2, 0x3c, 0x23, 0x8f, 0x2a, 0x3d, 0xf9,
        0x28}},
  };
  return types;
}

struct GptPart {
  uint32_t slot;
  Guid type;
  std::string type_name;
  uint64_t first, last;  // in the table's own units
};

struct GptShape {
  unsigned sector_log = 0;  // 3: LBAs count 4096-byte units, as GRUB probes for
  bool header = true;
  bool signed_mbr = true;
  bool valid_crcs = true;
  uint64_t entries_lba = 2;  // table units
  uint32_t max_entries = 128;
  uint32_t entry_size = 128;
  int ee_slot = 0;
  MbrTable hybrid{};  // other MBR entries next to the 0xEE one
};

void write_gpt(Image& img, const GptShape& shape, const std::vector<GptPart>& parts, Rng& r) {
  const uint64_t unit = 512ull << shape.sector_log;
  const uint64_t units = img.sectors() * 512 / unit;
  MbrTable mbr = shape.hybrid;
  mbr[shape.ee_slot] = {0, 0xee, 1, uint32_t(std::min<uint64_t>(units - 1, 0xFFFFFFFFu))};
  write_table(img, 0, mbr, shape.signed_mbr);
  if (!shape.header) return;

  // The array as the header claims it, and the part of it actually written: a
  // claim of billions of entries is stored as its first 128.
  const uint64_t claimed_bytes = uint64_t(shape.max_entries) * shape.entry_size;
  const bool whole_array = shape.max_entries <= 128;
  // With an entry size of 0 GRUB reads the first entry over and over: it must exist.
  std::vector<uint8_t> array(
      std::max<uint64_t>(whole_array ? claimed_bytes : 128ull * shape.entry_size, 128), 0);
  const uint64_t array_units = (array.size() + unit - 1) / unit;
  for (const auto& p : parts) {
    if ((uint64_t(p.slot) + 1) * shape.entry_size > array.size())
      throw std::logic_error("GPT slot " + std::to_string(p.slot) +
                             " lies outside the stored array");
    uint8_t* e = array.data() + uint64_t(p.slot) * shape.entry_size;
    std::memcpy(e, p.type.data(), 16);
    for (int i = 16; i < 32; ++i) e[i] = r.byte();
    for (int i = 0; i < 8; ++i) e[32 + i] = uint8_t(p.first >> (8 * i));
    for (int i = 0; i < 8; ++i) e[40 + i] = uint8_t(p.last >> (8 * i));
  }
  const uint32_t array_crc = crc32(array.data(), whole_array ? claimed_bytes : array.size());
  Guid disk_guid;
  for (auto& b : disk_guid) b = r.byte();

  auto write_header = [&](uint64_t my_lba, uint64_t alternate_lba, uint64_t entries_lba) {
    std::array<uint8_t, 92> h{};
    std::memcpy(h.data(), "EFI PART", 8);
    auto le = [&h](size_t at, uint64_t v, size_t width) {
      for (size_t i = 0; i < width; ++i) h[at + i] = uint8_t(v >> (8 * i));
    };
    le(8, 0x00010000, 4);
    le(12, 92, 4);
    le(24, my_lba, 8);
    le(32, alternate_lba, 8);
    le(40, 2 + array_units, 8);
    le(48, units - 2 - array_units, 8);
    std::memcpy(h.data() + 56, disk_guid.data(), 16);
    le(72, entries_lba, 8);
    le(80, shape.max_entries, 4);
    le(84, shape.entry_size, 4);
    le(88, array_crc, 4);
    le(16, crc32(h.data(), h.size()), 4);
    if (!shape.valid_crcs) h[16] ^= 0x5a;
    img.put(my_lba * unit, h.data(), h.size());
    img.put(entries_lba * unit, array.data(), array.size());
  };
  write_header(1, units - 1, shape.entries_lba);
  if (shape.entries_lba == 2 && whole_array) write_header(units - 1, 1, units - 1 - array_units);
}

// BIOS boot sizes (512-byte sectors) on each side of GRUB's limits: empty, around
// C for each core, under and over the 1900-sector recommendation.
uint64_t pick_bios_boot_sectors(Rng& r, const Targets& t) {
  switch (r.below(7)) {
    case 0: return 0;
    case 1:
    case 2: return r.pick(t.cores) - 2 + r.below(5);
    case 3: return r.between(1900, 2100);
    case 4: return r.between(1, 40);
    default: return r.between(1, 3000);
  }
}

Layout gpt_layout(Rng& r, const Targets& t) {
  Layout l{"gpt", "", Image(pick_disk_sectors(r) < 4096 ? 8192 : 16384)};
  GptShape shape;
  if (r.percent(12)) shape.sector_log = 3;
  const uint64_t per_unit = 1ull << shape.sector_log;
  const uint64_t units = l.image.sectors() / per_unit;
  const uint64_t array_units =
      (uint64_t(shape.max_entries) * shape.entry_size + 512 * per_unit - 1) / (512 * per_unit);
  const uint64_t first_usable = 2 + array_units, last_usable = units - 2 - array_units;

  unsigned count = unsigned(r.between(1, 5));
  unsigned bios_boots = r.percent(20) ? 0 : r.percent(20) ? 2 : 1;
  if (bios_boots > count) count = bios_boots;
  // Table slots: usually packed from 0, sometimes scattered over all 128.
  std::vector<uint32_t> slots;
  bool scattered = r.percent(30);
  while (slots.size() < count) {
    uint32_t s = scattered ? uint32_t(r.below(shape.max_entries)) : uint32_t(slots.size());
    if (std::find(slots.begin(), slots.end(), s) == slots.end()) slots.push_back(s);
  }
  // Which parts are BIOS boot: any table position, so that table order and disk
  // order disagree.
  std::vector<bool> is_bios(count, false);
  for (unsigned n = 0; n < bios_boots;) {
    unsigned i = unsigned(r.below(count));
    if (!is_bios[i]) is_bios[i] = true, ++n;
  }
  std::vector<GptPart> parts;
  uint64_t cursor =
      r.percent(50) ? std::max<uint64_t>(first_usable, 2048 / per_unit) : first_usable;
  // Lay partitions out on disk in a random order of their table slots.
  std::vector<unsigned> disk_order(count);
  for (unsigned i = 0; i < count; ++i) disk_order[i] = i;
  for (unsigned i = count; i > 1; --i) std::swap(disk_order[i - 1], disk_order[r.below(i)]);
  for (unsigned i : disk_order) {
    GptPart p;
    p.slot = slots[i];
    uint64_t sectors;
    if (is_bios[i]) {
      p.type = kBiosBoot;
      p.type_name = "bios";
      sectors = pick_bios_boot_sectors(r, t);
    } else {
      const auto& [name, guid] = r.pick(other_gpt_types());
      p.type = guid;
      p.type_name = name;
      sectors = r.between(1, 3000);
    }
    uint64_t len = (sectors + per_unit - 1) / per_unit;
    p.first = cursor;
    p.last = p.first + len - 1;  // len 0 gives last = first - 1, GRUB's length 0
    if (is_bios[i] && r.percent(4)) p.last = p.first - 2;  // end before start
    cursor = std::min(p.first + len + r.below(64), last_usable);
    parts.push_back(p);
  }
  write_gpt(l.image, shape, parts, r);
  std::ostringstream d;
  d << "GPT" << (shape.sector_log ? " (4K units)" : "");
  std::vector<GptPart> by_slot = parts;
  std::sort(by_slot.begin(), by_slot.end(),
            [](const GptPart& a, const GptPart& b) { return a.slot < b.slot; });
  for (const auto& p : by_slot)
    d << " " << p.slot << ":" << p.type_name << "@" << p.first << "-" << p.last;
  l.description = d.str();
  return l;
}

Layout gpt_odd(Rng& r, const Targets& t) {
  Layout l{"gpt-odd", "", Image(8192)};
  GptShape shape;
  std::vector<GptPart> parts;
  const auto& [name, guid] = r.pick(other_gpt_types());
  GptPart data{0, guid, name, 2048, 4095};
  GptPart bios{1, kBiosBoot, "bios", 40, 40 + pick_bios_boot_sectors(r, t) - 1};
  std::string what;
  switch (r.below(10)) {
    case 0:
      what = "protective MBR, no header";
      shape.header = false;
      parts = {data, bios};
      break;
    case 1: what = "header, no entries"; break;
    case 2:
      // The entry array runs off the end of the disk before any BIOS boot entry.
      what = "entry array past the end";
      shape.entries_lba = l.image.sectors() - 2;
      bios.slot = 40;
      parts = {data, bios};
      break;
    case 3:
      what = "bad CRCs";
      shape.valid_crcs = false;
      parts = {data, bios};
      break;
    case 4:
      what = "hybrid MBR";
      shape.ee_slot = int(r.between(1, 3));
      shape.hybrid[0] = {0x80, 0x83, uint32_t(pick_start(r, t)), 1000};
      parts = {bios, data};
      break;
    case 5:
      // GRUB walks every entry the header claims, until a read fails past the end.
      what = "header claims 2^32-1 entries";
      shape.max_entries = 0xFFFFFFFFu;
      bios.slot = uint32_t(r.between(2, 127));
      parts = {data, bios};
      break;
    case 6:
      what = "entry size 256";
      shape.entry_size = 256;
      shape.max_entries = 64;
      bios.slot = uint32_t(r.below(64));
      parts = {data, bios};
      break;
    case 7:
      // GRUB checks neither containment nor the disk size before embedding.
      what = "BIOS boot past the end of the disk";
      bios.first = l.image.sectors() + r.below(3000);
      bios.last = bios.first + r.between(1, 2500);
      parts = {data, bios};
      break;
    case 8:
      what = "protective MBR without 55aa";  // GRUB's GPT code wants it too
      shape.signed_mbr = false;
      parts = {data, bios};
      break;
    default:
      what = "entry size 0";
      shape.entry_size = 0;
      shape.max_entries = 8;
      parts = {r.percent(50) ? bios : data};
      parts[0].slot = 0;
      break;
  }
  write_gpt(l.image, shape, parts, r);
  l.description = what + ":";
  for (const auto& p : parts)
    l.description += " " + std::to_string(p.slot) + ":" + p.type_name + "@" +
                     std::to_string(p.first) + "-" + std::to_string(p.last);
  return l;
}

Layout generate(Rng& r, const Targets& t) {
  uint64_t roll = r.below(100);
  if (roll < 22) return msdos_primaries(r, t);
  if (roll < 42) return msdos_extended(r, t);
  if (roll < 57) return msdos_crowded_gap(r, t);
  if (roll < 67) return msdos_odd(r, t);
  if (roll < 92) return gpt_layout(r, t);
  return gpt_odd(r, t);
}

// ---------------------------------------------------------------- running GRUB

struct Command {
  std::vector<std::string> argv;
  std::string cwd;
};

// Runs a command with stdout and stderr to a file; returns its exit status, or -1
// when it did not exit normally.
int run(const Command& cmd, const std::string& output_path) {
  std::vector<char*> argv;
  for (const auto& a : cmd.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (!cmd.cwd.empty() && chdir(cmd.cwd.c_str()) != 0)) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    alarm(60);  // a GRUB stuck walking a table is a failure, not a hang
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// grub-bios-setup guesses the device of --directory from /proc/self/mountinfo. On
// /dev/shm the mount source is a bare word ("tmpfs" or "shm"), which GRUB resolves
// relative to its working directory: a symlink of that name there, pointing at the
// image, makes the image the root device, with no loop device or mount.
std::string shm_mount_source() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, source;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::vector<std::string> fields;
    for (std::string w; f >> w;) fields.push_back(w);
    if (fields.size() < 5 || fields[4] != "/dev/shm") continue;
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (dash != fields.end() && dash + 2 < fields.end()) source = *(dash + 2);
  }
  return source;
}

struct CoreImage {
  std::string label;
  uint32_t sectors;
  std::string dir;  // holds boot.img and core.img: grub-bios-setup's --directory
};

struct GrubRun {
  int rc = 0;
  std::vector<std::string> messages;  // its own warning and error texts, in order
  std::vector<uint64_t> embedded;     // from "saving <N,0,512>"
  unsigned probe_errors = 0;          // unprefixed "error: ..." lines, see parse_grub
  std::string raw;
};

// Lines that only follow a failed embedding and say nothing about it: the model
// stops at the embedding verdict.
bool is_after_embedding(const std::string& text) {
  return text.rfind("Embedding is not possible.", 0) == 0 ||
         text == "will not proceed with blocklists." ||
         text.rfind("can't determine filesystem on ", 0) == 0;
}

// grub-bios-setup prefixes everything it says itself with its path. Lines without
// the prefix come from grub_print_error deep in partition probing (e.g. a BSD label
// looked for inside an OpenBSD partition that lies past the end of the disk): GRUB
// prints them and carries on, so they are no part of the embedding verdict.
GrubRun parse_grub(const std::string& program, int rc, const std::string& output) {
  GrubRun g;
  g.rc = rc;
  const std::string info = program + ": info: ", warning = program + ": warning: ",
                    error = program + ": error: ";
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(info, 0) == 0) {
      size_t s = line.find("saving <", info.size());
      if (s != std::string::npos)
        g.embedded.push_back(std::strtoull(line.c_str() + s + 8, nullptr, 10));
      continue;
    }
    g.raw += line + "\n";
    std::string text;
    if (line.rfind(warning, 0) == 0)
      text = line.substr(warning.size());
    else if (line.rfind(error, 0) == 0)
      text = line.substr(error.size());
    else if (line.rfind("error: ", 0) == 0) {
      ++g.probe_errors;
      continue;
    } else
      text = line;  // unknown output: let it show up as a difference
    if (!is_after_embedding(text)) g.messages.push_back(text);
  }
  return g;
}

std::string ranges(const std::vector<uint64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!s.empty()) s += ",";
    s += std::to_string(v[i]) + (j > i ? "-" + std::to_string(v[j]) : "");
    i = j + 1;
  }
  return std::to_string(v.size()) + " [" + s + "]";
}

std::string quoted(const std::vector<std::string>& lines) {
  std::string s = "[";
  for (const auto& l : lines) s += (s.size() > 1 ? " | " : "") + l;
  return s + "]";
}

// Empty when GRUB and the model agree.
std::string compare(const EmbedOutcome& model, const GrubRun& grub) {
  const bool grub_fits = grub.rc == 0;
  std::vector<std::string> grub_warnings = grub.messages;
  std::string grub_failure;
  if (!grub_fits && !grub_warnings.empty()) {
    grub_failure = grub_warnings.back();
    grub_warnings.pop_back();
  }
  std::string diff;
  if (model.fits != grub_fits)
    diff += std::string("verdict: model ") + (model.fits ? "fits" : "fails") + ", GRUB " +
            (grub_fits ? "fits" : "fails (rc " + std::to_string(grub.rc) + ")") + "; ";
  if (model.message != grub_failure)
    diff += "failure line: model [" + model.message + "], GRUB [" + grub_failure + "]; ";
  if (model.warnings != grub_warnings)
    diff += "warnings: model " + quoted(model.warnings) + ", GRUB " + quoted(grub_warnings) + "; ";
  if (model.fits && grub_fits && model.embed_sectors != grub.embedded)
    diff +=
        "embedded: model " + ranges(model.embed_sectors) + ", GRUB " + ranges(grub.embedded) + "; ";
  return diff;
}

struct Job {
  size_t layout, core;
};

struct Result {
  std::string line;
  EmbedReason reason = EmbedReason::fits;
  std::string message;  // the model's failure line
  bool pass = false;
  unsigned probe_errors = 0;
};

class Oracle {
 public:
  Oracle(std::string bios_setup, std::string root, std::string mount_source)
      : bios_setup_(std::move(bios_setup)),
        root_(std::move(root)),
        mount_source_(std::move(mount_source)) {}

  // One worker's private directory: the image, the device map naming it, and the
  // symlink grub-bios-setup's root guess resolves to it.
  std::string make_worker_dir(unsigned worker) const {
    std::string dir = root_ + "/worker" + std::to_string(worker);
    fs::create_directories(dir);
    std::string image = dir + "/disk.img";
    fs::create_symlink(image, dir + "/" + mount_source_);
    std::ofstream(dir + "/device.map") << "(hd0) " << image << "\n";
    return dir;
  }

  Result check(const std::string& worker_dir, const Layout& layout, const CoreImage& core,
               const std::string& name) const {
    const std::string image = worker_dir + "/disk.img";
    layout.image.write_file(image);
    EmbedOutcome model;
    {
      xsguard::FileSource disk(image);
      model = xsguard::simulate_grub_embed(disk, 512, core.sectors);
    }
    Command cmd{{bios_setup_, "-v", "--directory=" + core.dir,
                 "--device-map=" + worker_dir + "/device.map", image},
                worker_dir};
    const std::string out = worker_dir + "/grub.out";
    const int rc = run(cmd, out);
    GrubRun grub = parse_grub(bios_setup_, rc, read_text(out));
    Result res;
    res.reason = model.reason;
    res.message = model.message;
    res.probe_errors = grub.probe_errors;
    std::string diff = compare(model, grub);
    res.pass = diff.empty();
    if (res.pass) {
      res.line = "PASS " + name + " (" + xsguard::to_string(model.reason) + ")";
    } else {
      std::string shown = grub.raw.size() > 600 ? grub.raw.substr(0, 600) + "..." : grub.raw;
      std::replace(shown.begin(), shown.end(), '\n', '|');
      res.line =
          "FAIL " + name + ": " + diff + "layout: " + layout.description + "; GRUB said: " + shown;
    }
    return res;
  }

 private:
  std::string bios_setup_, root_, mount_source_;
};

uint32_t sectors_of(const std::string& path) { return uint32_t((fs::file_size(path) + 511) / 512); }

// Builds the core images: three grub-mkimage module sets of increasing size, one
// near the loader's 888-sector limit (a memdisk of incompressible bytes), and one
// past it. grub-mkimage refuses to build the last, so it is a real core.img padded
// with zeros: the only way to reach GRUB's embedding checks for such a size.
std::vector<CoreImage> build_cores(const std::string& root, const std::string& grub_dir,
                                   const std::string& mkimage, Rng& r) {
  const std::string base = "biosdisk part_msdos ext2";
  const std::string gpt = base + " part_gpt lvm mdraid1x diskfilter";
  const std::vector<std::pair<std::string, std::string>> module_sets = {
      {"plain", base},
      {"gpt-lvm-raid", gpt},
      {"with-normal", gpt + " gzio search configfile normal"}};
  std::vector<CoreImage> cores;
  auto make = [&](const std::string& label, const std::string& modules, const std::string& extra) {
    std::string dir = root + "/core-" + label;
    fs::create_directories(dir);
    fs::copy_file(grub_dir + "/boot.img", dir + "/boot.img");
    std::vector<std::string> argv = {mkimage,
                                     "-d",
                                     grub_dir,
                                     "-O",
                                     "i386-pc",
                                     "-o",
                                     dir + "/core.img",
                                     "-p",
                                     "(hd0,msdos1)/boot/grub"};
    if (!extra.empty()) argv.insert(argv.end(), {"-m", extra});
    std::istringstream mods(modules);
    for (std::string m; mods >> m;) argv.push_back(m);
    if (run({argv, ""}, dir + "/mkimage.out") != 0)
      throw std::runtime_error("grub-mkimage failed: " + read_text(dir + "/mkimage.out"));
    cores.push_back({label, sectors_of(dir + "/core.img"), dir});
  };
  for (const auto& [label, modules] : module_sets) make(label, modules, "");

  std::string memdisk = root + "/memdisk.bin";
  {
    std::vector<uint8_t> bytes(320 * 1024);
    for (auto& b : bytes) b = r.byte();
    std::ofstream(memdisk, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  make("memdisk", base + " memdisk", memdisk);

  std::string dir = root + "/core-padded";
  fs::create_directories(dir);
  fs::copy_file(grub_dir + "/boot.img", dir + "/boot.img");
  fs::copy_file(cores[0].dir + "/core.img", dir + "/core.img");
  fs::resize_file(dir + "/core.img", 900 * 512);
  cores.push_back({"padded", 900, dir});
  return cores;
}

std::string make_temp_root() {
  std::string pattern = "/dev/shm/xsguard-oracle.XXXXXX";
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("cannot create a directory under /dev/shm");
  return pattern;
}

int run_oracle() {
  const char* env_setup = std::getenv("GRUB_BIOS_SETUP");
  const std::string bios_setup = env_setup ? env_setup : kDefaultBiosSetup;
  const std::string mkimage = find_in_path("grub-mkimage");
  if (::access(bios_setup.c_str(), X_OK) != 0) {
    std::printf("SKIP grub oracle: grub-pc-bin not installed\n");
    return 0;
  }
  if (mkimage.empty()) {
    std::printf("SKIP grub oracle: grub-mkimage not installed\n");
    return 0;
  }
  const std::string source = shm_mount_source();
  if (source.empty() || source.find('/') != std::string::npos) {
    std::printf("SKIP grub oracle: /dev/shm is not a tmpfs with a plain mount source [%s]\n",
                source.c_str());
    return 0;
  }

  const auto started = std::chrono::steady_clock::now();
  const std::string root = make_temp_root();
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{root};

  Rng rng(kSeed);
  // grub-bios-setup lives with the modules and boot.img it goes with.
  const std::string grub_dir = fs::path(bios_setup).parent_path().string();
  const std::vector<CoreImage> cores = build_cores(root, grub_dir, mkimage, rng);
  Targets targets;
  for (const auto& c : cores) targets.cores.push_back(c.sectors);
  std::printf("core images:");
  for (const auto& c : cores) std::printf(" %s=%u", c.label.c_str(), c.sectors);
  std::printf(" sectors\n");

  std::vector<Layout> layouts;
  for (int i = 0; i < kLayouts; ++i) layouts.push_back(generate(rng, targets));

  std::vector<Job> jobs;
  for (size_t l = 0; l < layouts.size(); ++l)
    for (size_t c = 0; c < cores.size(); ++c) jobs.push_back({l, c});
  std::vector<Result> results(jobs.size());

  Oracle oracle(bios_setup, root, source);
  const unsigned workers = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    std::string dir = oracle.make_worker_dir(w);
    threads.emplace_back([&, dir] {
      for (size_t j; (j = next++) < jobs.size();) {
        const Job& job = jobs[j];
        char name[96];
        std::snprintf(name, sizeof name, "L%03zu-%s/%s-%u", job.layout,
                      layouts[job.layout].family.c_str(), cores[job.core].label.c_str(),
                      cores[job.core].sectors);
        try {
          results[j] = oracle.check(dir, layouts[job.layout], cores[job.core], name);
        } catch (const std::exception& e) {
          results[j].line = std::string("FAIL ") + name + ": " + e.what();
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  std::map<std::string, int> tally, by_failure_line;
  int agree = 0, differ = 0, coverage_gaps = 0, runs_with_probe_errors = 0;
  for (const auto& r : results) {
    std::printf("%s\n", r.line.c_str());
    (r.pass ? agree : differ)++;
    ++tally[xsguard::to_string(r.reason)];
    if (!r.message.empty())
      ++by_failure_line[std::string(xsguard::to_string(r.reason)) + ": " + r.message];
    runs_with_probe_errors += r.probe_errors > 0;
  }
  std::printf("GRUB runs with partition-probing \"error:\" lines (not compared): %d\n",
              runs_with_probe_errors);
  for (EmbedReason reason :
       {EmbedReason::fits, EmbedReason::no_post_mbr_gap, EmbedReason::core_too_large,
        EmbedReason::area_too_small, EmbedReason::other_software,
        EmbedReason::no_bios_boot_partition, EmbedReason::bios_boot_too_small,
        EmbedReason::bad_partition_map, EmbedReason::no_partition_map}) {
    int n = tally[xsguard::to_string(reason)];
    std::printf("tally %-24s %5d\n", xsguard::to_string(reason), n);
    if (n < kMinComparisonsPerReason) {
      std::printf("FAIL coverage-%s: only %d comparisons reach it\n", xsguard::to_string(reason),
                  n);
      ++coverage_gaps;
    }
  }
  for (const auto& [line, n] : by_failure_line) std::printf("  %5d  %.90s\n", n, line.c_str());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%zu layouts x %zu core images: %d agree, %d differ, %.1f s on %u workers\n",
              layouts.size(), cores.size(), agree, differ, seconds, workers);
  return differ || coverage_gaps ? 1 : 0;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    return run_oracle();
  } catch (const std::exception& e) {
    std::printf("FAIL grub oracle setup: %s\n", e.what());
    return 2;
  }
}
