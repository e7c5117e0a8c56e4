#include "commands/restore.h"

#include <fmt/format.h>

#include <ostream>
#include <stdexcept>

#include "model/disk_backup.h"
#include "model/errors.h"
#include "model/finding.h"
#include "model/partition_table.h"
#include "model/table_text.h"
#include "probe/disk_probe.h"
#include "probe/parted.h"

namespace xsguard {

namespace {

// A backup holds at most a few MiB of regions; anything far larger is not ours.
constexpr size_t kMaxBackupBytes = 256u << 20;

bool region_matches(const ByteSource& disk, const SavedRegion& r) {
  std::vector<uint8_t> now(r.bytes.size());
  return disk.read(r.offset, now.data(), now.size()) && now == r.bytes;
}

}  // namespace

int run_restore(const RestoreOptions& o, Io& io, Console& console, std::ostream& out) {
  std::string error;
  auto backup = parse_backup(read_small_file(o.backup, kMaxBackupBytes), error);
  if (!backup) throw InputError(o.backup + ": not a usable xsguard backup: " + error);

  ProbedDisk probed = probe_disk(o.disk, backup->logical_sector);
  const DiskLayout& layout = probed.layout;
  const bool block = probed.source->is_block_device();
  if (layout.size_bytes != backup->size_bytes)
    throw RefusedError(fmt::format("{} is {} bytes; the backup was taken of a {}-byte disk",
                                   o.disk, layout.size_bytes, backup->size_bytes));
  if (block && (layout.logical_sector != backup->logical_sector ||
                (!backup->serial.empty() && !layout.serial.empty() && layout.serial != backup->serial) ||
                (!backup->model.empty() && !layout.model.empty() && layout.model != backup->model)))
    throw RefusedError(o.disk + " is not the disk the backup was taken of (model, serial or "
                                "sector size differ)");

  out << fmt::format("Backup of {} taken {} by xsguard {}: {}\n", backup->disk, backup->created,
                     backup->tool_version, backup->purpose);
  out << "Table when the backup was taken:\n" << backup->table_text;
  out << "Table now:\n" << table_as_sfdisk(layout, block);
  std::vector<SavedRegion> differing;
  for (const auto& r : backup->regions) {
    bool same = region_matches(*probed.source, r);
    out << fmt::format("  bytes {:>14} - {:>14}: {}\n", r.offset, r.offset + r.bytes.size(),
                       same ? "as saved" : "differs: will be restored");
    if (!same) differing.push_back(r);
  }
  if (differing.empty()) {
    out << "The disk already holds the saved bytes: nothing to restore.\n";
    return kExitClean;
  }
  if (!o.apply) {
    out << "Dry run: nothing was written. To restore: xsguard restore " << o.backup << " --disk "
        << o.disk << " --apply\n";
    return kExitClean;
  }

  refuse_if_busy(layout, *probed.source);
  confirm(console, out, o.yes,
          fmt::format("Overwrite {} region(s) of {} with the saved bytes?", differing.size(), o.disk));
  WritableDisk disk(o.disk, block);
  std::vector<SavedRegion> originals;
  for (const auto& r : differing) {
    SavedRegion now{r.offset, std::vector<uint8_t>(r.bytes.size())};
    if (!probed.source->read(r.offset, now.bytes.data(), now.bytes.size()))
      throw InputError(o.disk + ": cannot read the regions to restore");
    originals.push_back(std::move(now));
  }
  write_regions(io, disk, differing, originals, o.backup);

  FileSource result(o.disk);
  for (const auto& r : backup->regions)
    if (!region_matches(result, r))
      throw std::runtime_error(fmt::format("bytes at {} do not read back as saved", r.offset));
  DiskLayout restored = layout;
  read_partition_table(result, restored);
  out << "Restored. Table now:\n" << table_as_sfdisk(restored, block);
  if (block) {
    std::string kernel = parted_inform_kernel(o.disk);
    if (!kernel.empty())
      out << "The kernel still uses the previous table (" << kernel << "): reboot.\n";
  }
  return kExitClean;
}

}  // namespace xsguard
