// Reads the customisations of an old root into an inventory and the file contents
// the capture archive holds. Reads only, and only inside the root.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/inventory.h"
#include "capture/rooted.h"

namespace xsguard::capture {

struct ArchivedFile {
  std::string name;  // in the archive: "inventory.json", "files/etc/fstab", ...
  std::string bytes;
  uint32_t mode = 0644, uid = 0, gid = 0;
  int64_t mtime = 0;
};

struct CollectLimits {
  size_t max_file = size_t(1) << 20;          // configuration files; larger ones are skipped
  size_t max_dir_entries = 1000;              // per directory of drop-in files
  size_t max_database = size_t(256) << 20;    // the xapi database, read whole
  uint64_t max_total = uint64_t(64) << 20;    // everything the capture holds
};

struct Collected {
  Inventory inventory;
  std::vector<ArchivedFile> files;  // "files/<path>" entries
};

// captured_at: ISO 8601 UTC, recorded as given.
Collected collect(const RootedDir& root, const std::string& captured_at, const CollectLimits& l = {});

// The customised lines of a file by its spec's rule (the block, for rc.local).
Lines custom_lines_of(const ItemSpec& spec, const Lines& lines);

}  // namespace xsguard::capture
