// From one disk's layout and GRUB verdict to findings. Pure: the check command
// gathers the facts, this decides what they mean for the upgrade.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "model/disk_layout.h"
#include "model/finding.h"
#include "model/grub_embed.h"
#include "model/xs_layout.h"

namespace xsguard {

// Facts read from a mounted old installation (--root).
struct OldRootFacts {
  std::string dir;
  bool safe2upgrade = false;  // var/preserve/safe2upgrade exists
};

struct DiskFacts {
  const DiskLayout* layout = nullptr;
  bool is_block_device = false;
  EmbedVerdict embed;
  // The verdict on the same disk with the utility partition's table entry removed.
  std::optional<EmbedVerdict> embed_without_utility;
  BootMode booted = BootMode::bios;
  std::string booted_source;      // how the boot mode was learned
  bool target_root_given = false;  // the table on disk is the one grub-install will see
  const OldRootFacts* old_root = nullptr;
};

std::vector<Finding> assess_disk(const DiskFacts& facts);

}  // namespace xsguard
