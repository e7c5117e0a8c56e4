#include "model/disk_backup.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "model/digest.h"

namespace xsguard {

namespace {

constexpr std::string_view kMagic = "xsguard disk backup v1\n";
constexpr size_t kMaxHeaderBytes = 1 << 20;

// Keeps one value on one line whatever a sysfs attribute holds.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  return out;
}

bool parse_u64(std::string_view s, uint64_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string serialize_backup(const DiskBackup& b) {
  std::string out(kMagic);
  out += "# Saved by xsguard before changing the disk below. To put these bytes back:\n";
  out += "#   xsguard restore THIS-FILE --disk " + one_line(b.disk) + " --apply\n";
  out += "created: " + one_line(b.created) + "\n";
  out += "tool_version: " + one_line(b.tool_version) + "\n";
  out += "disk: " + one_line(b.disk) + "\n";
  out += "size_bytes: " + std::to_string(b.size_bytes) + "\n";
  out += "logical_sector: " + std::to_string(b.logical_sector) + "\n";
  out += "physical_sector: " + std::to_string(b.physical_sector) + "\n";
  out += "model: " + one_line(b.model) + "\n";
  out += "serial: " + one_line(b.serial) + "\n";
  out += "label: " + one_line(b.label) + "\n";
  out += "purpose: " + one_line(b.purpose) + "\n";
  std::vector<std::string> table;
  size_t start = 0;
  while (start < b.table_text.size()) {
    size_t nl = b.table_text.find('\n', start);
    if (nl == std::string::npos) nl = b.table_text.size();
    table.push_back(one_line(b.table_text.substr(start, nl - start)));
    start = nl + 1;
  }
  out += "table-lines: " + std::to_string(table.size()) + "\n";
  for (const auto& line : table) out += line + "\n";
  for (const auto& r : b.regions)
    out += "region: " + std::to_string(r.offset) + " " + std::to_string(r.bytes.size()) + " " +
           sha256_hex(r.bytes.data(), r.bytes.size()) + "\n";
  out += "data-follows\n";
  for (const auto& r : b.regions) out.append(r.bytes.begin(), r.bytes.end());
  out += "end: " + sha256_hex(out.data(), out.size()) + "\n";
  return out;
}

std::optional<DiskBackup> parse_backup(std::string_view bytes, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<DiskBackup> {
    error = std::move(why);
    return std::nullopt;
  };
  if (bytes.substr(0, kMagic.size()) != kMagic) return fail("not an xsguard disk backup");
  // The trailer: "end: " + 64 hex + "\n" over everything before it.
  constexpr size_t kTrailer = 5 + 64 + 1;
  if (bytes.size() < kMagic.size() + kTrailer) return fail("truncated");
  std::string_view trailer = bytes.substr(bytes.size() - kTrailer);
  if (trailer.substr(0, 5) != "end: " || trailer.back() != '\n')
    return fail("truncated: no end line");
  std::string_view body = bytes.substr(0, bytes.size() - kTrailer);
  if (sha256_hex(body.data(), body.size()) != trailer.substr(5, 64))
    return fail("checksum mismatch: the file is damaged");

  DiskBackup b;
  std::map<std::string, std::string> fields;
  struct RegionLine {
    uint64_t offset, length;
    std::string sha;
  };
  std::vector<RegionLine> region_lines;
  size_t pos = kMagic.size();
  size_t table_left = 0;
  bool data = false;
  while (pos < body.size() && pos < kMaxHeaderBytes) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) return fail("truncated header");
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (table_left) {
      b.table_text.append(line).append("\n");
      --table_left;
      continue;
    }
    if (line == "data-follows") {
      data = true;
      break;
    }
    if (!line.empty() && line[0] == '#') continue;
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) return fail("malformed header line");
    std::string key(line.substr(0, colon));
    std::string_view value = line.substr(colon + 2);
    if (key == "table-lines") {
      uint64_t n = 0;
      if (!parse_u64(value, n) || n > 4096) return fail("bad table-lines");
      table_left = n;
    } else if (key == "region") {
      RegionLine r;
      size_t a = value.find(' '), c = value.rfind(' ');
      if (a == std::string_view::npos || c == a || !parse_u64(value.substr(0, a), r.offset) ||
          !parse_u64(value.substr(a + 1, c - a - 1), r.length))
        return fail("malformed region line");
      r.sha = std::string(value.substr(c + 1));
      region_lines.push_back(std::move(r));
    } else {
      fields[key] = std::string(value);
    }
  }
  if (!data) return fail("no data section");

  uint64_t n = 0;
  b.created = fields["created"];
  b.tool_version = fields["tool_version"];
  b.disk = fields["disk"];
  if (!parse_u64(fields["size_bytes"], b.size_bytes)) return fail("bad size_bytes");
  if (!parse_u64(fields["logical_sector"], n) || (n != 512 && n != 4096))
    return fail("bad logical_sector");
  b.logical_sector = uint32_t(n);
  if (!parse_u64(fields["physical_sector"], n) || n < 512 || n > 65536)
    return fail("bad physical_sector");
  b.physical_sector = uint32_t(n);
  b.model = fields["model"];
  b.serial = fields["serial"];
  b.label = fields["label"];
  b.purpose = fields["purpose"];

  uint64_t previous_end = 0;
  for (const auto& r : region_lines) {
    if (r.length == 0 || r.offset > b.size_bytes || r.length > b.size_bytes - r.offset)
      return fail("a region lies outside the disk");
    if (r.offset < previous_end) return fail("regions overlap or are out of order");
    if (r.length > body.size() - pos) return fail("truncated data");
    SavedRegion saved;
    saved.offset = r.offset;
    saved.bytes.assign(body.begin() + pos, body.begin() + pos + r.length);
    pos += r.length;
    if (sha256_hex(saved.bytes.data(), saved.bytes.size()) != r.sha)
      return fail("region at " + std::to_string(r.offset) + " fails its checksum");
    previous_end = r.offset + r.length;
    b.regions.push_back(std::move(saved));
  }
  if (pos != body.size()) return fail("unexpected bytes after the data");
  if (b.regions.empty()) return fail("no regions");
  return b;
}

std::vector<std::pair<uint64_t, uint64_t>> backup_ranges(
    std::vector<std::pair<uint64_t, uint64_t>> ranges, uint32_t sector, uint64_t disk_size) {
  for (auto& [begin, end] : ranges) {
    begin = begin / sector * sector;
    end = std::min<uint64_t>((end + sector - 1) / sector * sector, disk_size);
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (auto& r : ranges) {
    if (r.first >= r.second) continue;
    if (!merged.empty() && r.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  return merged;
}

}  // namespace xsguard
