// Follows GRUB 2.06's util/setup.c, grub-core/partmap/msdos.c (iterate and
// pc_partition_map_embed) and grub-core/partmap/gpt.c (iterate and
// gpt_partition_map_embed) step by step, including their integer widths, so that
// odd tables get GRUB's answer rather than a plausible one. The GRUB differential
// test (tests/oracle) holds this file to GRUB's actual behaviour.
#include "model/grub_embed.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace xsguard {

const char* to_string(EmbedReason r) {
  switch (r) {
    case EmbedReason::fits: return "fits";
    case EmbedReason::no_post_mbr_gap: return "no_post_mbr_gap";
    case EmbedReason::core_too_large: return "core_too_large";
    case EmbedReason::area_too_small: return "area_too_small";
    case EmbedReason::other_software: return "other_software";
    case EmbedReason::no_bios_boot_partition: return "no_bios_boot_partition";
    case EmbedReason::bios_boot_too_small: return "bios_boot_too_small";
    case EmbedReason::bad_partition_map: return "bad_partition_map";
    case EmbedReason::no_partition_map: return "no_partition_map";
  }
  return "?";
}

const char* to_string(CoreSource s) {
  switch (s) {
    case CoreSource::file: return "file";
    case CoreSource::option: return "option";
    case CoreSource::target_root: return "target-root";
    case CoreSource::default_range: return "default-range";
  }
  return "?";
}

const char* to_string(EmbedVerdictKind v) {
  switch (v) {
    case EmbedVerdictKind::fits: return "fits";
    case EmbedVerdictKind::fails: return "fails";
    case EmbedVerdictKind::at_risk: return "at_risk";
  }
  return "?";
}

CoreSize default_core_range() {
  return {53, 70, CoreSource::default_range,
          "no core.img given: GRUB 2.02-2.06 builds for an ext3 root range from 53 sectors "
          "(biosdisk part_msdos ext2) to 70 (with part_gpt lvm mdraid1x diskfilter)"};
}

namespace {

// (0x78000 - GRUB_KERNEL_I386_PC_LINK_ADDR) / 512: what the real-mode loader can reach.
constexpr uint32_t kMaxEmbedSectors = (0x78000 - 0x9000) / 512;
constexpr uint64_t kMinRecommendedGap = 1900;  // GRUB_MIN_RECOMMENDED_MBR_GAP
// GRUB walks every entry a GPT header claims (up to 2^32 - 1) until a read fails.
// Past this many entries walked the simulation stops and calls the map bad rather
// than spin for hours as GRUB would.
constexpr uint64_t kMaxGptEntriesWalked = 1u << 20;

constexpr uint8_t kTypeGptProtective = 0xEE;

bool is_extended(uint8_t type) { return type == 0x05 || type == 0x0F || type == 0x85; }

struct Signature {
  const char* name;
  const char* bytes;
  size_t len;
  bool raid;  // RAID controllers get a different warning
};

const Signature kSignatures[] = {
    {"ZISD", "ZISD", 4, false},
    {"FlexNet", "\xd4\x41\xa0\xf5\x03\x00\x03\x00", 8, false},
    {"FlexNet", "\xd8\x41\xa0\xf5\x02\x00\x02\x00", 8, false},
    {"HP Backup and Recovery Manager (?)",
     "\x70\x8a\x5d\x46\x35\xc5\x1b\x93\xae\x3d\x86\xfd\xb1\x55\x3e\xe0", 16, false},
    {"HighPoint RAID controller", "ycgl", 4, true},
    {"Acer registration utility (?)", "GREGRegDone.Tag\x00", 16, false},
};

// A message as grub_util_warn and grub_util_error print it: they append a '.', even
// to a message that already ends in one.
std::string grub_line(const std::string& message) { return message + "."; }

// grub_disk_read semantics: 512-byte sectors, offset normalised into the sector,
// whole range inside the disk or an error naming the disk.
class GrubDisk {
 public:
  GrubDisk(const ByteSource& disk, uint32_t logical_sector_size, std::string name)
      : disk_(disk), total_(disk.size() / 512), name_(std::move(name)) {
    shift_ = 0;
    while ((512u << shift_) < logical_sector_size && shift_ < 7) ++shift_;
  }
  unsigned shift() const { return shift_; }
  uint64_t total_sectors() const { return total_; }
  const std::string& name() const { return name_; }

  // Returns the error message, or nothing on success.
  std::optional<std::string> read(uint64_t sector, uint64_t offset, void* buf, size_t len) const {
    sector += offset >> 9;
    offset &= 511;
    if (sector >= total_ || total_ - sector < ((offset + len + 511) >> 9) ||
        !disk_.read(sector * 512 + offset, buf, len))
      return "attempt to read or write outside of disk `" + name_ + "'";
    return std::nullopt;
  }

 private:
  const ByteSource& disk_;
  uint64_t total_;
  std::string name_;
  unsigned shift_;
};

struct MbrEntry {
  uint8_t flag, type;
  uint32_t start, length;
};

struct Mbr {
  MbrEntry entries[4];
  uint16_t signature;
};

Mbr parse_mbr(const uint8_t* s) {
  Mbr m{};
  for (int i = 0; i < 4; ++i) {
    const uint8_t* e = s + 446 + 16 * i;
    m.entries[i] = {e[0], e[4], le32(e + 8), le32(e + 12)};
  }
  m.signature = le16(s + 510);
  return m;
}

// grub_partition_msdos_iterate, reduced to "did it report any partition".
bool msdos_reports_partitions(const GrubDisk& d) {
  uint64_t offset = 0, ext_offset = 0, lastaddr = 1;
  int labeln = 0;
  bool any = false;
  for (;;) {
    uint8_t sector[512];
    if (d.read(offset, 0, sector, 512)) return any;
    Mbr mbr = parse_mbr(sector);
    if (offset == 0)
      for (const auto& e : mbr.entries)
        if (e.type == kTypeGptProtective) return any;
    if (labeln && lastaddr == offset) return any;
    ++labeln;
    if ((labeln & (labeln - 1)) == 0) lastaddr = offset;
    if (mbr.signature != 0xAA55) return any;
    for (const auto& e : mbr.entries)
      if (e.flag & 0x7f) return any;
    for (const auto& e : mbr.entries)
      if (e.type != 0 && !is_extended(e.type)) any = true;
    int i = 0;
    for (; i < 4; ++i) {
      if (is_extended(mbr.entries[i].type)) {
        offset = ext_offset + (uint64_t(mbr.entries[i].start) << d.shift());
        if (!ext_offset) ext_offset = offset;
        break;
      }
    }
    if (i == 4) return any;
  }
}

struct GptEntryRef {
  uint64_t start, len;  // 512-byte units
  bool bios_boot;
};

// grub_gpt_partition_map_iterate. Visits non-empty entries in table order until the
// visitor returns true; returns GRUB's error message if the walk failed.
template <typename Visit>
std::optional<std::string> gpt_iterate(const GrubDisk& d, Visit visit) {
  uint8_t mbr_sector[512];
  if (auto err = d.read(0, 0, mbr_sector, 512)) return err;
  Mbr mbr = parse_mbr(mbr_sector);
  if (mbr.signature != 0xAA55) return std::string("no signature");
  bool protective = false;
  for (const auto& e : mbr.entries) protective |= e.type == kTypeGptProtective;
  if (!protective) return std::string("no GPT partition map found");
  uint8_t header[92];
  unsigned sector_log = 0;
  for (; sector_log < 7; ++sector_log) {
    if (auto err = d.read(uint64_t(1) << sector_log, 0, header, sizeof header)) return err;
    if (std::memcmp(header, "EFI PART", 8) == 0) break;
  }
  if (sector_log == 7) return std::string("no valid GPT header");
  uint64_t entries = le64(header + 72) << sector_log;
  uint32_t maxpart = le32(header + 80);
  uint32_t entry_size = le32(header + 84);
  static const uint8_t kEmpty[16] = {};
  static const uint8_t kBiosBoot[16] = {0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
                                        0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49};
  uint64_t last_offset = 0;
  // With a zero entry size GRUB reads the same entry maxpart times: once is enough.
  uint64_t walk = entry_size == 0 ? std::min<uint64_t>(maxpart, 1) : maxpart;
  for (uint64_t i = 0; i < walk; ++i) {
    if (i == kMaxGptEntriesWalked)
      return "GPT header claims " + std::to_string(maxpart) + " partition entries";
    uint8_t entry[128];
    if (auto err = d.read(entries, last_offset, entry, sizeof entry)) return err;
    if (std::memcmp(entry, kEmpty, 16) != 0) {
      uint64_t first = le64(entry + 32), last = le64(entry + 40);
      GptEntryRef ref{first << sector_log, (last - first + 1) << sector_log,
                      std::memcmp(entry, kBiosBoot, 16) == 0};
      if (visit(ref)) return std::nullopt;
    }
    last_offset += entry_size;
    if (last_offset == 512) {
      last_offset = 0;
      ++entries;
    }
  }
  return std::nullopt;
}

EmbedOutcome fail(EmbedOutcome o, EmbedReason reason, const std::string& message) {
  o.fits = false;
  o.reason = reason;
  o.message = grub_line(message);
  o.embed_sectors.clear();
  return o;
}

// What GRUB learns from the partition map before the core size matters: the map,
// and where the embedding area is, or why the map is unusable. Computed once per disk.
struct EmbedArea {
  std::string partmap;               // "msdos", "gpt" or "" (none recognised)
  std::optional<std::string> error;  // the walk failed with this GRUB error
  uint64_t msdos_end = 0;            // msdos: lowest start of any non-empty entry
  std::optional<GptEntryRef> boot;   // gpt: the first BIOS Boot Partition in table order
};

// The table walk of pc_partition_map_embed, up to the point where the core size is used.
void walk_msdos(const GrubDisk& d, EmbedArea& a) {
  a.partmap = "msdos";
  uint64_t end = ~uint64_t(0), offset = 0, ext_offset = 0, lastaddr = 1;
  int labeln = 0;
  for (;;) {
    uint8_t sector[512];
    if (auto err = d.read(offset, 0, sector, 512)) {
      a.error = *err;
      return;
    }
    if (labeln && lastaddr == offset) {
      a.error = "loop detected";
      return;
    }
    ++labeln;
    if ((labeln & (labeln - 1)) == 0) lastaddr = offset;
    Mbr mbr = parse_mbr(sector);
    if (mbr.signature != 0xAA55) {
      a.error = "no signature";
      return;
    }
    for (const auto& e : mbr.entries)
      if (e.flag & 0x7f) {
        a.error = "bad boot flag";
        return;
      }
    for (int i = 0; i < 4; ++i) {
      const auto& e = mbr.entries[i];
      uint64_t at = offset + (uint64_t(e.start) << d.shift());
      if (e.type != 0 && end > at) end = at;
      if (e.type == kTypeGptProtective && i == 0) {
        a.error = "dummy mbr";
        return;
      }
    }
    int i = 0;
    for (; i < 4; ++i) {
      if (is_extended(mbr.entries[i].type)) {
        offset = ext_offset + (uint64_t(mbr.entries[i].start) << d.shift());
        if (!ext_offset) ext_offset = offset;
        break;
      }
    }
    if (i == 4) break;
  }
  a.msdos_end = end;
}

EmbedOutcome embed_msdos(const GrubDisk& d, const EmbedArea& a, uint32_t core,
                         uint32_t max_sectors, const EmbedOptions& options) {
  EmbedOutcome o;
  o.partmap = "msdos";
  o.area_start = 1;
  if (a.error) return fail(o, EmbedReason::bad_partition_map, *a.error);
  const uint64_t end = a.msdos_end;
  o.gap_sectors = end - 1;

  if (end >= uint64_t(core) + 1) {
    const uint32_t wanted = core;
    uint32_t nsectors = uint32_t(end - 1);  // GRUB stores it in an unsigned int
    uint32_t avail = nsectors;
    if (nsectors > max_sectors) nsectors = max_sectors;
    std::vector<uint64_t> sectors(nsectors);
    for (uint32_t i = 0; i < nsectors; ++i) sectors[i] = 1 + i;
    for (uint32_t i = 0; i < nsectors; ++i) {
      uint8_t buf[512];
      if (d.read(sectors[i], 0, buf, 512)) continue;
      const Signature* hit = nullptr;
      for (const auto& s : kSignatures)
        if (std::memcmp(buf, s.bytes, s.len) == 0) {
          hit = &s;
          break;
        }
      if (!hit) continue;
      std::string n = std::to_string(sectors[i]);
      o.warnings.push_back(grub_line(
          hit->raid ? "Sector " + n + " is already in use by raid controller `" + hit->name +
                          "'; avoiding it.  Please ask the manufacturer not to store data in "
                          "MBR gap"
                    : "Sector " + n + " is already in use by the program `" + hit->name +
                          "'; avoiding it.  This software may cause boot or other problems in "
                          "future.  Please ask its authors not to store data in the boot "
                          "track"));
      o.skipped_sectors.push_back(sectors[i]);
      --avail;
      if (avail < nsectors) nsectors = avail;
      for (uint32_t j = i; j < nsectors; ++j) ++sectors[j];
      if (avail < wanted) break;
      --i;  // look at the sector that slid into this slot
    }
    if (nsectors < wanted)
      return fail(o, EmbedReason::other_software,
                  "other software is using the embedding area, and there is not enough room "
                  "for core.img.  Such software is often trying to store data in a way that "
                  "avoids detection.  We recommend you investigate");
    sectors.resize(nsectors);
    o.embed_sectors = std::move(sectors);
    o.fits = true;
    o.reason = EmbedReason::fits;
    return o;
  }

  if (end < kMinRecommendedGap && options.warn_short_gap)
    o.warnings.push_back(grub_line(
        "You have a short MBR gap and use advanced config. Please increase post-MBR gap."));
  if (end <= 1)
    return fail(o, EmbedReason::no_post_mbr_gap,
                "this msdos-style partition label has no post-MBR gap; embedding won't be "
                "possible");
  if (core > 62)
    return fail(o, EmbedReason::core_too_large,
                "your core.img is unusually large.  It won't fit in the embedding area");
  return fail(o, EmbedReason::area_too_small,
              "your embedding area is unusually small.  core.img won't fit in it.");
}

void walk_gpt(const GrubDisk& d, EmbedArea& a) {
  a.partmap = "gpt";
  a.error = gpt_iterate(d, [&](const GptEntryRef& e) {
    if (!e.bios_boot) return false;
    a.boot = e;
    return true;
  });
}

EmbedOutcome embed_gpt(const EmbedArea& a, uint32_t core, uint32_t max_sectors) {
  EmbedOutcome o;
  o.partmap = "gpt";
  if (a.error) return fail(o, EmbedReason::bad_partition_map, *a.error);
  const auto& boot = a.boot;
  uint64_t len = boot ? boot->len : 0;
  o.gap_sectors = len;
  o.area_start = boot ? boot->start : 0;
  if (len == 0)
    return fail(o, EmbedReason::no_bios_boot_partition,
                "this GPT partition label contains no BIOS Boot Partition; embedding won't be "
                "possible");
  if (len < kMinRecommendedGap)
    o.warnings.push_back(
        grub_line("Your BIOS Boot Partition is under 1 MiB, please increase its size."));
  if (len < core)
    return fail(o, EmbedReason::bios_boot_too_small,
                "your BIOS Boot Partition is too small; embedding won't be possible");
  uint32_t nsectors = uint32_t(len);
  if (nsectors > max_sectors) nsectors = max_sectors;
  if (nsectors < core)  // setup.c's own check after a successful embed
    return fail(o, EmbedReason::area_too_small,
                "Your embedding area is unusually small.  core.img won't fit in it.");
  for (uint32_t i = 0; i < nsectors; ++i) o.embed_sectors.push_back(boot->start + i);
  o.fits = true;
  o.reason = EmbedReason::fits;
  return o;
}

// setup.c writes core.img sector by sector without checking each write, then
// writes boot.img; grub_disk_write returns the error still pending from a failed
// core.img write, so the install fails only then, with the read/write error, and
// leaves boot.img and a truncated core.img on the disk. Embedding sectors past the
// end of the disk (a BIOS Boot Partition or a first partition beyond it) end so.
EmbedOutcome check_writable(EmbedOutcome o, const GrubDisk& d) {
  if (!o.fits) return o;
  for (uint64_t sector : o.embed_sectors)
    if (sector >= d.total_sectors())
      return fail(std::move(o), EmbedReason::bad_partition_map,
                  "attempt to read or write outside of disk `" + d.name() + "'");
  return o;
}

// setup.c's identify_partmap: the first map that reports a partition wins. msdos
// refuses a protective MBR and GPT requires one, so at most one of them reports.
EmbedArea locate_embed_area(const GrubDisk& d) {
  EmbedArea a;
  if (msdos_reports_partitions(d)) {
    walk_msdos(d, a);
    return a;
  }
  bool gpt_reports = false;
  gpt_iterate(d, [&](const GptEntryRef&) {
    gpt_reports = true;
    return true;
  });
  if (gpt_reports) walk_gpt(d, a);
  return a;
}

EmbedOutcome place_core(const GrubDisk& d, const EmbedArea& a, uint32_t core_sectors,
                        const EmbedOptions& options) {
  uint64_t wanted = options.rs_codes ? 2 * uint64_t(core_sectors) : core_sectors;
  uint32_t max_sectors = uint32_t(std::min<uint64_t>(wanted, kMaxEmbedSectors));
  if (a.partmap == "msdos")
    return check_writable(embed_msdos(d, a, core_sectors, max_sectors, options), d);
  if (a.partmap == "gpt") return check_writable(embed_gpt(a, core_sectors, max_sectors), d);
  EmbedOutcome o;
  return fail(o, EmbedReason::no_partition_map,
              "unable to identify a filesystem in " + options.disk_name +
                  "; safety check can't be performed");
}

}  // namespace

EmbedOutcome simulate_grub_embed(const ByteSource& disk, uint32_t logical_sector_size,
                                 uint32_t core_sectors, const EmbedOptions& options) {
  GrubDisk d(disk, logical_sector_size, options.disk_name);
  return place_core(d, locate_embed_area(d), core_sectors, options);
}

EmbedVerdict judge_grub_embed(const ByteSource& disk, uint32_t logical_sector_size,
                              const CoreSize& core, const EmbedOptions& options) {
  if (core.low == 0 || core.low > core.high)
    throw std::invalid_argument("core size range must satisfy 1 <= low <= high");
  CachedSource cached(disk);
  GrubDisk d(cached, logical_sector_size, options.disk_name);
  const EmbedArea area = locate_embed_area(d);
  EmbedVerdict v;
  v.core = core;
  std::optional<EmbedOutcome> first_failure, last_fit;
  for (uint32_t c = core.low; c <= core.high && c >= core.low; ++c) {
    EmbedOutcome o = place_core(d, area, c, options);
    if (o.fits) {
      v.largest_fitting_core = c;
      last_fit = std::move(o);
    } else if (!first_failure) {
      v.smallest_failing_core = c;
      first_failure = std::move(o);
    }
    if (c == UINT32_MAX) break;
  }
  if (!first_failure) {
    v.verdict = EmbedVerdictKind::fits;
    v.outcome = std::move(*last_fit);
  } else {
    v.verdict = last_fit ? EmbedVerdictKind::at_risk : EmbedVerdictKind::fails;
    v.outcome = std::move(*first_failure);
  }
  return v;
}

}  // namespace xsguard
