// The start of a disk as the Disks screen draws it: the partition table's own
// sectors, the post-MBR gap, a vendor utility partition, the first OS partition and
// the BIOS boot partition, with their sector numbers. Pure: built from a disk object
// of check's report ("disks" array) and laid out for a given width.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/finding.h"  // nlohmann::ordered_json

namespace xsguard::tui {

struct MapRegion {
  enum class Kind { table, free, utility, bios_boot, esp, partition, skipped };
  Kind kind = Kind::free;
  uint64_t start = 0, end = 0;  // sectors, end exclusive; skipped: the sectors left out
  std::string label;
  bool embed_area = false;  // where GRUB puts core.img (post-MBR gap or BIOS boot)
  bool continues = false;   // drawn cut at the right edge of the window
};

// Regions from sector 0 to the first MiB (further when the first partition starts
// later, cut there), then the BIOS boot partition when it lies beyond. `utility` is the
// number of the vendor utility partition (0: none).
std::vector<MapRegion> disk_start_map(const nlohmann::ordered_json& disk, int utility);

// Column of each region's left edge in a bar `width` columns wide (one more entry for
// the right edge). Every region is at least wide enough for a border and a short
// label; the rest is shared by the logarithm of the sizes, so that a 1-sector MBR and
// a 60-sector gap are both visible next to a 32 MiB partition.
std::vector<int> layout_map(const std::vector<MapRegion>& regions, int width);

// "62 sectors (31.0 KiB)".
std::string sectors_text(uint64_t sectors, uint64_t sector_size);

}  // namespace xsguard::tui
