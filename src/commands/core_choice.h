// Which core.img size a command assumes for a disk: an explicit size wins, then the
// target root's own grub-mkimage, then the documented range.
#pragma once
#include <map>
#include <optional>
#include <string>

#include "model/disk_layout.h"
#include "model/grub_embed.h"

namespace xsguard {

struct CoreOptions {
  std::string core_img;
  uint32_t core_sectors = 0;
  std::string target_root;
};

class CoreSizer {
 public:
  // Throws UsageError / InputError for bad options.
  explicit CoreSizer(CoreOptions options);
  CoreSize for_disk(const DiskLayout& disk, int root_partition);

 private:
  CoreOptions options_;
  std::optional<CoreSize> fixed_;
  std::map<std::pair<LabelKind, int>, CoreSize> built_;
};

}  // namespace xsguard
