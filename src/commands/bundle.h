// xsguard bundle: one tar.gz an administrator hands to support after a failed or
// stalled upgrade: the install log, check and watch reports, each disk's table and
// first bytes, the kernel log, /proc facts, and a MANIFEST.txt with sizes, SHA-256
// sums and what could not be collected and why.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "probe/io.h"

namespace xsguard {

struct BundleOptions {
  std::string out;  // the file to write; an existing directory: a default name in it
  std::string log = "/tmp/install-log";
  std::vector<std::string> disks;  // empty: every whole disk the kernel lists
  std::string root;                // a mounted old root, for check --root
  bool force = false;  // replace an existing file; write onto an examined disk
  uint64_t max_log_bytes = uint64_t(256) << 20;  // the log member is cut there
  uint32_t sector_size = 0;                      // images only: 0 = guess
  std::string sys_block = "/sys/block";
  std::string proc = "/proc";
};

// Writes the bundle (PATH.partial, fsync, rename, fsync of the directory) and prints
// its path and size. Returns 0; throws UsageError, InputError (no such directory),
// RefusedError (exists, symlink, on an examined disk, cannot be written: no space,
// read-only, permission; nothing is left behind).
int run_bundle(const BundleOptions& options, Io& io, std::ostream& out);

// "xsguard-bundle-<host>-<UTC>.tar.gz": what run_bundle writes into a directory.
std::string bundle_file_name();

// Writable mounted directories on filesystems that do not live on the given disks
// (empty: every whole disk the kernel lists), the most spacious first; /tmp, when
// writable and not on those disks, always last (see destination_note).
std::vector<std::string> bundle_destinations(const std::vector<std::string>& disks,
                                             const std::string& sys_block = "/sys/block");

// What to tell the administrator about a destination: for a directory in RAM (tmpfs,
// ramfs: /tmp in the installer) that the bundle is lost at reboot; "" otherwise.
std::string destination_note(const std::string& dir);

// The disk among `disks` (paths of disks or image files) that holds dir's filesystem,
// directly, through a partition, a device-mapper or md device built on it, or a loop
// device an image is attached to; "" when none does.
std::string disk_holding(const std::string& dir, const std::vector<std::string>& disks);

}  // namespace xsguard
