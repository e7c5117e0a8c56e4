#include "tui/disk_map.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace xsguard::tui {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kBiosBootGuid = "21686148-6449-6E6F-744E-656564454649";
constexpr const char* kEspGuid = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

struct Part {
  int number = 0;
  uint64_t start = 0, end = 0;  // end exclusive
  std::string type, fs_label, fs_type;
  bool extended = false, logical = false;
};

std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string get_string(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t get_u64(const Json& j, const char* key) {
  auto it = j.find(key);
  // Reports built in memory hold signed integers, parsed ones unsigned.
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t(std::max<int64_t>(0, it->get<int64_t>()));
}

std::vector<Part> partitions(const Json& disk) {
  std::vector<Part> out;
  auto list = disk.find("partitions");
  if (list == disk.end() || !list->is_array()) return out;
  for (const auto& p : *list) {
    if (!p.is_object()) continue;
    Part part;
    part.number = int(get_u64(p, "number"));
    part.start = get_u64(p, "start");
    part.end = get_u64(p, "end") + 1;
    part.type = upper(get_string(p, "type"));
    part.fs_label = get_string(p, "fs_label");
    part.fs_type = get_string(p, "fs_type");
    auto flag = [&](const char* k) {
      auto it = p.find(k);
      return it != p.end() && it->is_boolean() && it->get<bool>();
    };
    part.extended = flag("extended");
    part.logical = flag("logical");
    if (part.end > part.start && !part.logical) out.push_back(part);
  }
  std::sort(out.begin(), out.end(), [](const Part& a, const Part& b) { return a.start < b.start; });
  return out;
}

MapRegion region_for(const Part& p, int utility) {
  MapRegion r;
  r.start = p.start;
  r.end = p.end;
  const std::string num = "#" + std::to_string(p.number);
  if (p.number == utility) {
    r.kind = MapRegion::Kind::utility;
    r.label = num + " utility";
  } else if (p.type == kBiosBootGuid) {
    r.kind = MapRegion::Kind::bios_boot;
    r.label = num + " BIOS boot";
    r.embed_area = true;
  } else if (p.type == kEspGuid || p.type == "0XEF") {
    r.kind = MapRegion::Kind::esp;
    r.label = num + " EFI system";
  } else {
    r.kind = MapRegion::Kind::partition;
    r.label = num + (p.extended ? " extended" : "");
    if (!p.fs_label.empty()) r.label += " " + p.fs_label;
    else if (!p.fs_type.empty()) r.label += " " + p.fs_type;
  }
  return r;
}

}  // namespace

std::vector<MapRegion> disk_start_map(const Json& disk, int utility) {
  std::vector<MapRegion> out;
  const uint64_t sector = std::max<uint64_t>(512, get_u64(disk, "logical_sector_size"));
  const uint64_t mib = (1u << 20) / sector;
  const uint64_t disk_sectors = get_u64(disk, "size_bytes") / sector;
  const bool gpt = get_string(disk, "label") == "gpt";
  const std::vector<Part> parts = partitions(disk);

  const std::string label = get_string(disk, "label");
  out.push_back({MapRegion::Kind::table, 0, 1,
                 gpt ? "PMBR" : label == "msdos" ? "MBR" : "sector 0", false, false});
  uint64_t cursor = 1;
  if (gpt) {
    // Header at 1, the 128 standard entries right after it.
    const uint64_t entries_end = 2 + 16384 / sector;
    out.push_back({MapRegion::Kind::table, 1, entries_end, "GPT", false, false});
    cursor = entries_end;
  }
  const uint64_t window_end = std::max<uint64_t>(mib, cursor + 1);
  auto free_region = [&](uint64_t from, uint64_t to) {
    // On msdos the sectors before the first partition are GRUB's embedding area.
    const bool embed = !gpt && from == 1;
    MapRegion gap{MapRegion::Kind::free, from, std::min(to, window_end), embed ? "gap" : "free",
                  embed, to > window_end};
    out.push_back(gap);
  };
  bool bios_boot_shown = false, cut = false;
  for (const auto& p : parts) {
    if (p.end <= cursor) continue;  // overlaps are the table checks' business
    MapRegion r = region_for(p, utility);
    if (p.start > cursor) {
      free_region(cursor, p.start);
      if (out.back().continues) {
        // The first partition starts past the window: the gap is drawn up to the
        // window's edge, then the partition's start after a break.
        out.back().continues = false;
        out.push_back({MapRegion::Kind::skipped, window_end, p.start, "...", false, false});
        bios_boot_shown |= r.kind == MapRegion::Kind::bios_boot;
        r.end = r.start + 1;
        r.continues = true;
        out.push_back(r);
        cursor = p.end;
        cut = true;
        break;
      }
    }
    bios_boot_shown |= r.kind == MapRegion::Kind::bios_boot;
    cursor = p.end;
    // A partition starting at the window's edge is drawn as its first sector only.
    if (r.start >= window_end) r.end = r.start + 1;
    r.continues = cursor > window_end;
    out.push_back(r);
    if (cursor >= window_end) {
      cut = true;
      break;
    }
  }
  if (!cut && cursor < disk_sectors) free_region(cursor, disk_sectors);
  if (!bios_boot_shown)
    for (const auto& p : parts)
      if (p.type == kBiosBootGuid && p.start >= cursor) {
        out.push_back({MapRegion::Kind::skipped, cursor, p.start, "...", false, false});
        out.push_back(region_for(p, utility));
        break;
      }
  return out;
}

std::vector<int> layout_map(const std::vector<MapRegion>& regions, int width) {
  std::vector<int> x;
  if (regions.empty() || width <= 0) return {0};
  std::vector<int> min(regions.size());
  std::vector<double> weight(regions.size());
  int need = 1;  // the closing border
  for (size_t i = 0; i < regions.size(); ++i) {
    const auto& r = regions[i];
    // A border column plus the label (cut at 14: the table has it in full) or the start
    // sector printed under it, whichever is wider.
    const int digits = int(std::to_string(r.start).size());
    const int label = r.kind == MapRegion::Kind::skipped ? 3 : std::min<int>(int(r.label.size()), 14);
    min[i] = 1 + std::max(label, digits);
    weight[i] = r.kind == MapRegion::Kind::skipped ? 0 : std::log2(double(r.end - r.start) + 1.0);
    need += min[i];
  }
  if (need > width) {
    // More regions than room: each gets its share (labels are cut when drawn).
    const int per = std::max(1, (width - 1) / int(regions.size()));
    for (auto& m : min) m = std::min(m, per);
    need = 1;
    for (int m : min) need += m;
  }
  const int spare = std::max(0, width - need);
  double total = 0;
  for (double w : weight) total += w;
  int pos = 0, given = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    x.push_back(pos);
    int extra = total > 0 ? int(spare * weight[i] / total) : 0;
    given += extra;
    if (i + 1 == regions.size()) extra += spare - given;  // rounding leftovers
    pos += min[i] + extra;
  }
  x.push_back(pos);
  // Never past the bar, even when there are more regions than columns.
  for (auto& v : x) v = std::min(v, width - 1);
  return x;
}

std::string sectors_text(uint64_t sectors, uint64_t sector_size) {
  const double bytes = double(sectors) * double(sector_size);
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = bytes;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu sectors (%.0f B)", (unsigned long long)sectors, v);
  else
    std::snprintf(buf, sizeof buf, "%llu sectors (%.1f %s)", (unsigned long long)sectors, v, units[u]);
  return buf;
}

}  // namespace xsguard::tui
