// xsguard restore: put back, byte for byte, the regions an xsguard backup saved.
#pragma once
#include <iosfwd>
#include <string>

#include "commands/disk_change.h"
#include "probe/io.h"

namespace xsguard {

struct RestoreOptions {
  std::string backup;
  std::string disk;
  bool apply = false;
  bool yes = false;
};

int run_restore(const RestoreOptions& options, Io& io, Console& console, std::ostream& out);

}  // namespace xsguard
