// xsguard fix utility-partition: remove the vendor utility partition that keeps GRUB
// from embedding, with a verified backup first and `xsguard restore` as the undo.
#pragma once
#include <iosfwd>
#include <string>

#include "commands/core_choice.h"
#include "commands/disk_change.h"
#include "probe/io.h"

namespace xsguard {

struct FixOptions {
  std::string disk;
  bool apply = false;
  bool yes = false;
  std::string backup_dir;
  CoreOptions core;
  uint32_t sector_size = 0;
};

// Returns the exit code; throws UsageError, InputError, RefusedError.
int run_fix_utility(const FixOptions& options, Io& io, Console& console, std::ostream& out);

}  // namespace xsguard
