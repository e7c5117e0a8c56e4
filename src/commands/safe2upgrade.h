// xsguard safe2upgrade: say what var/preserve/safe2upgrade on an old root makes the
// upgrade do (on a GPT disk with no logs partition the installer converts to the new
// layout and recreates the local SR empty: every virtual disk on it is lost), and
// create or remove that file safely.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include "commands/disk_change.h"
#include "probe/io.h"
#include "report/report.h"

namespace xsguard {

struct Safe2UpgradeOptions {
  std::string root;  // the mounted old root (DIR)
  std::string disk;  // the disk holding it; "": the disk under DIR's filesystem
  bool apply = false;
  bool yes = false;
  bool remove = false;  // the undo: remove the file instead of creating it
  bool json = false;
  uint32_t sector_size = 0;  // image files only: 0 = guess
};

// The finding ids, stable for automation.
inline constexpr const char* kSafe2UpgradeState = "safe2upgrade.state";
inline constexpr const char* kSafe2UpgradeDestroys = "safe2upgrade.destroys_local_sr";

// The dry run: whether the file is there, whether the installer would convert the
// disk (yes, no or unknown, with the reason) and, unless it would not, what is lost:
// the local SRs of this host with their virtual disks and the VMs using them, from the
// old root's xapi database ("unknown" with the reason when it cannot be read). Reads
// only. Throws InputError when DIR is not a directory or --disk cannot be read.
Report plan_safe2upgrade(const Safe2UpgradeOptions& options);

// Prints the plan (text, or the report as JSON) and, with apply, creates (or with
// remove deletes) DIR/var/preserve/safe2upgrade after confirmation. Returns the exit
// code: the plan's (as check's) for a dry run, 0 once applied or when there is nothing
// to do. Throws UsageError (no terminal and no --yes), RefusedError (read-only, a
// symbolic link on the path, not confirmed), InputError.
int run_safe2upgrade(const Safe2UpgradeOptions& options, Io& io, Console& console,
                     std::ostream& out);

}  // namespace xsguard
