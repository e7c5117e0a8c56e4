// Where check learns the size of the core.img grub-install will embed.
#pragma once
#include <optional>
#include <string>

#include "model/disk_layout.h"
#include "model/grub_embed.h"

namespace xsguard {

// The size of an existing core.img. Throws InputError when missing or unusable.
CoreSize core_from_image_file(const std::string& path);

// Builds core.img with the target root's own grub-mkimage, chrooted, with the modules
// grub-install picks for an ext root on a plain partition (biosdisk, the partition
// map's module, ext2). Returns nothing, with the reason in why_not, when that cannot
// be done (not root, no grub-mkimage in the target, it failed).
std::optional<CoreSize> core_from_target_root(const std::string& root, LabelKind label,
                                              int root_partition, std::string& why_not);

}  // namespace xsguard
