// What must be true of a disk before xsguard writes to it, as the system sees it.
#pragma once
#include <string>
#include <vector>

#include "model/disk_layout.h"
#include "probe/file_source.h"

namespace xsguard {

// Mounts, swaps, holders (dm, md) and loop devices that use the disk or its
// partitions, one line each; empty when nothing does.
std::vector<std::string> disk_users(const FileSource& disk, const std::string& path);

// A directory on a writable filesystem that does not live on the given disk, with
// room for bytes_needed; "" when none (the caller falls back to /tmp and says so).
std::string backup_dir_on_other_disk(const FileSource& disk, uint64_t bytes_needed);

// The names in a directory (sysfs, mostly), hidden ones left out; empty when it
// cannot be read.
std::vector<std::string> list_dir_names(const std::string& path);

// A field of /proc/mounts as the path it stands for (spaces and the like are
// escaped there as \040).
std::string unescape_mount_field(const std::string& field);

}  // namespace xsguard
