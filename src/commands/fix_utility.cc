#include "commands/fix_utility.h"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "model/digest.h"
#include "model/disk_backup.h"
#include "model/errors.h"
#include "model/finding.h"
#include "model/partition_table.h"
#include "model/table_text.h"
#include "model/xs_layout.h"
#include "probe/disk_probe.h"
#include "probe/parted.h"

namespace xsguard {

namespace {

constexpr uint64_t kMiB = 1 << 20;
// Saving "up to the first partition" stops here; past it only the table's own sectors
// are saved (a first partition gigabytes in would make the backup that large).
constexpr uint64_t kMaxLeadingBackup = 64 * kMiB;

std::string hex(const std::vector<uint8_t>& bytes, size_t max = 16) {
  std::string s;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) s += fmt::format("{:02x}", bytes[i]);
  if (bytes.size() > max) s += "...";
  return s;
}

std::string verdict_line(const EmbedVerdict& v) {
  std::string s = fmt::format("{} ({})", to_string(v.verdict), to_string(v.outcome.reason));
  if (!v.outcome.message.empty()) s += ": " + v.outcome.message;
  return s;
}

// Both tables, each line marked: kept, or removed by the plan.
void print_tables(std::ostream& out, const std::string& before, const std::string& after) {
  out << "Partition table (- removed by the plan):\n";
  size_t pos = 0;
  while (pos < before.size()) {
    size_t nl = before.find('\n', pos);
    std::string line = before.substr(pos, nl - pos);
    pos = nl == std::string::npos ? before.size() : nl + 1;
    bool kept = line.empty() || after.find(line) != std::string::npos;
    out << (kept ? "    " : "  - ") << line << '\n';
  }
}

std::vector<std::pair<uint64_t, uint64_t>> regions_to_save(const DiskLayout& l,
                                                           const std::vector<TableEdit>& edits) {
  uint64_t first_start = UINT64_MAX;
  for (const Partition* p : l.by_start()) first_start = std::min(first_start, p->start);
  uint64_t leading = std::max<uint64_t>(
      kMiB, first_start == UINT64_MAX ? 0 : std::min(first_start * l.logical_sector, kMaxLeadingBackup));
  std::vector<std::pair<uint64_t, uint64_t>> ranges = {{0, leading}};
  if (l.label == LabelKind::gpt && l.size_bytes > 33ull * l.logical_sector)
    ranges.push_back({l.size_bytes - 33ull * l.logical_sector, l.size_bytes});
  for (const auto& e : edits) ranges.push_back({e.offset, e.offset + e.bytes.size()});
  return backup_ranges(std::move(ranges), l.logical_sector, l.size_bytes);
}

std::vector<SavedRegion> read_regions(const ByteSource& disk,
                                      const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::vector<SavedRegion> out;
  for (auto [begin, end] : ranges) {
    SavedRegion r;
    r.offset = begin;
    r.bytes.resize(end - begin);
    if (!disk.read(begin, r.bytes.data(), r.bytes.size()))
      throw InputError("cannot read bytes " + std::to_string(begin) + "-" + std::to_string(end));
    out.push_back(std::move(r));
  }
  return out;
}

std::string disk_basename(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  for (char& c : base)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return base.empty() ? "disk" : base;
}

}  // namespace

int run_fix_utility(const FixOptions& o, Io& io, Console& console, std::ostream& out) {
  CoreSizer sizer(o.core);
  ProbedDisk probed = probe_disk(o.disk, o.sector_size);
  const DiskLayout& layout = probed.layout;
  const bool block = probed.source->is_block_device();

  auto utility = find_utility_partition(layout);
  if (!utility || utility->vendor == "unknown")
    throw RefusedError("no vendor utility partition first on " + o.disk +
                       " (xsguard check lists what is there)");
  if (count_vendor_partitions(layout) > 1)
    throw RefusedError(o.disk + " has more than one utility-type partition; xsguard will not "
                       "guess which one to remove");
  const Partition& victim = *utility->partition;
  auto edits = plan_partition_removal(*probed.source, layout, victim.number);
  if (edits.empty())
    throw RefusedError("partition " + std::to_string(victim.number) + " cannot be removed by "
                       "editing its table entry (logical partition, or a damaged GPT)");

  PatchedSource planned_bytes(*probed.source);
  for (const auto& e : edits) planned_bytes.patch(e.offset, e.bytes);
  DiskLayout planned = layout;
  read_partition_table(planned_bytes, planned);
  auto install = find_xs_install(layout);
  CoreSize core = sizer.for_disk(layout, install ? install->root : 0);
  EmbedVerdict before = judge_grub_embed(*probed.source, layout.logical_sector, core);
  EmbedVerdict after = judge_grub_embed(planned_bytes, layout.logical_sector, core);

  const std::string before_text = table_as_sfdisk(layout, block);
  const std::string after_text = table_as_sfdisk(planned, block);
  out << fmt::format("Disk {}: {} bytes, {}-byte sectors, {} table\n", o.disk, layout.size_bytes,
                     layout.logical_sector, to_string(layout.label));
  out << fmt::format("Utility partition: {} ({}), sectors {}-{}\n",
                     partition_device(o.disk, victim.number, block), utility->vendor, victim.start,
                     victim.end());
  print_tables(out, before_text, after_text);
  out << fmt::format("core.img: {} ({}: {})\n",
                     core.low == core.high ? std::to_string(core.low)
                                           : fmt::format("{}-{}", core.low, core.high),
                     to_string(core.source), core.why);
  out << "GRUB now:   " << verdict_line(before) << '\n';
  out << "GRUB after: " << verdict_line(after) << '\n';
  out << "Writes planned:\n";
  for (const auto& e : edits) {
    std::vector<uint8_t> old(e.bytes.size());
    probed.source->read(e.offset, old.data(), old.size());
    out << fmt::format("  byte {:>14}, {:>4} bytes: {} -> {}\n", e.offset, e.bytes.size(), hex(old),
                       hex(e.bytes));
  }

  if (!planned.problems.empty())
    throw std::runtime_error("the planned table does not read back cleanly: " +
                             planned.problems.front().detail);
  if (before.verdict == EmbedVerdictKind::fits) {
    out << "GRUB already fits on this disk: nothing to fix. Nothing was written.\n";
    return kExitClean;
  }
  if (after.verdict != EmbedVerdictKind::fits)
    throw RefusedError(fmt::format(
        "removing partition {} would not make GRUB fit ({}); what would: a table whose first "
        "partition starts after sector {} (for example the new GPT layout with a BIOS boot "
        "partition). Nothing was written.",
        victim.number, verdict_line(after), core.high));

  if (!o.apply) {
    out << "Dry run: nothing was written. To apply: xsguard fix utility-partition --disk "
        << o.disk << " --apply\n";
    return kExitClean;
  }

  refuse_if_busy(layout, *probed.source);
  confirm(console, out, o.yes,
          fmt::format("Remove partition {} ({} utility) from {}?",
                      partition_device(o.disk, victim.number, block), utility->vendor, o.disk));
  WritableDisk disk(o.disk, block);

  // The disk must be exactly what was planned on, after however long the prompt took.
  FileSource now(o.disk);
  DiskLayout current = layout;
  read_partition_table(now, current);
  if (now.size() != layout.size_bytes || table_as_sfdisk(current, block) != before_text)
    throw RefusedError(o.disk + " changed since the plan was made; run the command again");

  auto ranges = regions_to_save(layout, edits);
  DiskBackup backup;
  backup.created = utc_timestamp_compact();
  backup.tool_version = XSGUARD_VERSION;
  backup.disk = o.disk;
  backup.size_bytes = layout.size_bytes;
  backup.logical_sector = layout.logical_sector;
  backup.physical_sector = layout.physical_sector;
  backup.model = layout.model;
  backup.serial = layout.serial;
  backup.label = to_string(layout.label);
  backup.purpose = fmt::format("fix utility-partition: remove partition {} ({})", victim.number,
                               utility->vendor);
  backup.table_text = before_text;
  backup.regions = read_regions(now, ranges);
  const std::string bytes = serialize_backup(backup);

  bool warn = false;
  const std::string dir = choose_backup_dir(o.backup_dir, now, bytes.size(), warn);
  const std::string name =
      "xsguard-backup-" + disk_basename(o.disk) + "-" + backup.created + ".xsgbak";
  const std::string path = dir + "/" + name;
  if (warn)
    out << "WARNING: no writable filesystem on another disk; the backup goes to /tmp, which is "
           "RAM in the installer and is lost at reboot. Copy it off the host now.\n";
  out << "Backup: " << path << '\n' << std::flush;
  write_file_durably(io, dir, name, bytes);
  std::string error;
  auto reread = parse_backup(read_small_file(path, bytes.size()), error);
  if (!reread || serialize_backup(*reread) != bytes)
    throw std::runtime_error("the backup does not read back identically (" + error +
                             "); nothing was written to the disk");
  out << fmt::format("Backup verified: {} bytes, sha256 {}\n", bytes.size(),
                     sha256_hex(bytes.data(), bytes.size()));

  std::vector<SavedRegion> writes, originals;
  for (const auto& e : edits) {
    writes.push_back({e.offset, e.bytes});
    SavedRegion old{e.offset, std::vector<uint8_t>(e.bytes.size())};
    now.read(e.offset, old.bytes.data(), old.bytes.size());
    originals.push_back(std::move(old));
  }
  write_regions(io, disk, writes, originals, path);

  FileSource result(o.disk);
  DiskLayout written = layout;
  read_partition_table(result, written);
  if (table_as_sfdisk(written, block) != after_text || !written.problems.empty())
    throw std::runtime_error("the table read back differs from the plan: restore with `xsguard "
                             "restore " + path + " --disk " + o.disk + " --apply`");
  // libparted reads images as 512-byte sectors, so it can only vouch for those.
  if (block || layout.logical_sector == 512) {
    PartedTable parted = parted_read(o.disk);
    bool agrees = parted.error.empty() && parted.partitions.size() == written.by_start().size();
    for (const auto& p : parted.partitions) agrees &= written.find(p.number) != nullptr;
    if (!agrees)
      throw std::runtime_error("libparted reads the new table differently (" + parted.error +
                               "): restore with `xsguard restore " + path + " --disk " + o.disk +
                               " --apply`");
  }
  out << fmt::format("Removed partition {}. GRUB now: {}\n", victim.number, verdict_line(after));
  if (block) {
    std::string kernel = parted_inform_kernel(o.disk);
    if (!kernel.empty())
      out << "The kernel still uses the old table (" << kernel << "): reboot before installing.\n";
  }
  out << "Undo: xsguard restore " << path << " --disk " << o.disk << " --apply\n";
  return kExitClean;
}

}  // namespace xsguard
