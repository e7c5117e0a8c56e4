#include "commands/core_choice.h"

#include <sys/stat.h>

#include "model/errors.h"
#include "probe/core_size.h"

namespace xsguard {

CoreSizer::CoreSizer(CoreOptions options) : options_(std::move(options)) {
  if (options_.core_sectors && !options_.core_img.empty())
    throw UsageError("--core-img and --core-sectors are mutually exclusive");
  if (options_.core_sectors > 0xFFFF) throw UsageError("--core-sectors must be 1..65535");
  struct stat st {};
  if (!options_.target_root.empty() &&
      (stat(options_.target_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
    throw InputError(options_.target_root + ": not a directory (--target-root)");
  if (options_.core_sectors) {
    fixed_ = CoreSize{options_.core_sectors, options_.core_sectors, CoreSource::option,
                      "--core-sectors " + std::to_string(options_.core_sectors)};
  } else if (!options_.core_img.empty()) {
    fixed_ = core_from_image_file(options_.core_img);
  }
}

CoreSize CoreSizer::for_disk(const DiskLayout& disk, int root_partition) {
  if (fixed_) return *fixed_;
  if (options_.target_root.empty()) return default_core_range();
  auto key = std::make_pair(disk.label, root_partition);
  auto it = built_.find(key);
  if (it != built_.end()) return it->second;
  std::string why_not;
  auto core = core_from_target_root(options_.target_root, disk.label, root_partition, why_not);
  CoreSize chosen = core ? *core : default_core_range();
  if (!core) chosen.why = why_not + "; " + chosen.why;
  return built_.emplace(key, chosen).first->second;
}

}  // namespace xsguard
