// What XenServer has installed on a disk, recognised the way the installer does it:
// an ext filesystem labelled root-*, with the other roles at fixed offsets from it.
#pragma once
#include <optional>
#include <string>

#include "model/disk_layout.h"

namespace xsguard {

enum class XsLayoutKind { old_layout, new_layout };
enum class BootMode { bios, uefi };
const char* to_string(XsLayoutKind k);
const char* to_string(BootMode m);

// Partition numbers by role; 0 when the disk has no such partition.
struct XsInstall {
  XsLayoutKind kind = XsLayoutKind::old_layout;
  BootMode boot_mode = BootMode::bios;
  std::string root_label;
  int utility = 0;
  int root = 0, backup = 0, sr = 0, boot = 0, logs = 0, swap = 0;
};

// The new layout needs 46 GiB (the installer's minimum primary disk size).
inline constexpr uint64_t kNewLayoutMinBytes = 46ull << 30;

// A vendor's service partition, as the installer's "utility partition" or by type.
struct UtilityPartition {
  const Partition* partition = nullptr;
  std::string vendor;      // "Dell", "Compaq/HP", ... or "unknown"
  bool installer_preserves = false;  // preserve-first-partition="if-utility" keeps it
};

std::optional<UtilityPartition> find_utility_partition(const DiskLayout& disk);
std::optional<XsInstall> find_xs_install(const DiskLayout& disk);

// Partitions that look like vendor utility partitions (by type or by name), wherever
// they are on the disk: a fix that removes one refuses when there are several.
int count_vendor_partitions(const DiskLayout& disk);

}  // namespace xsguard
