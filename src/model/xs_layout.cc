#include "model/xs_layout.h"

#include <algorithm>

namespace xsguard {

const char* to_string(XsLayoutKind k) {
  return k == XsLayoutKind::new_layout ? "new" : "old";
}
const char* to_string(BootMode m) { return m == BootMode::uefi ? "uefi" : "bios"; }

namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// MBR types vendors use for diagnostics and service partitions at the start of a disk.
struct VendorType {
  uint8_t type;
  const char* vendor;
};
const VendorType kVendorTypes[] = {
    {0xDE, "Dell"},                 // Dell PowerEdge utility partition
    {0x12, "Compaq/HP"},            // Compaq diagnostics, also IBM/HP service partitions
    {0xFE, "IBM"},                  // IBM PS/2 IML / service
    {0xA0, "Phoenix/IBM"},          // laptop hibernation and diagnostics
    {0x27, "recovery"},             // hidden recovery environment (OEM/ASUS/Acer)
    {0x84, "hibernation"},          // hibernation / Intel Rapid Start
};

// Anything smaller than this that starts the disk and holds no XenServer role is
// treated as a vendor partition: real OS partitions are gigabytes.
constexpr uint64_t kTinyPartitionBytes = 256ull << 20;

}  // namespace

std::optional<UtilityPartition> find_utility_partition(const DiskLayout& disk) {
  auto ordered = disk.by_start();
  if (ordered.empty()) return std::nullopt;
  const Partition* first = ordered.front();
  UtilityPartition u;
  u.partition = first;
  if (disk.label == LabelKind::msdos) {
    for (const auto& v : kVendorTypes)
      if (first->mbr_type == v.type) {
        u.vendor = v.vendor;
        u.installer_preserves = v.type == 0xDE && first->number == 1;
        return u;
      }
  } else if (disk.label == LabelKind::gpt && first->gpt_type == kGptEsp &&
             first->gpt_name == "DELLUTILITY") {
    u.vendor = "Dell";
    u.installer_preserves = first->number == 1;
    return u;
  }
  bool xs_role = starts_with(first->fs_label, "root-") || starts_with(first->fs_label, "logs-") ||
                 first->gpt_type == kGptBiosBoot || first->gpt_type == kGptEsp;
  bool more_follow = ordered.size() > 1;
  if (!xs_role && more_follow && first->sectors * disk.logical_sector < kTinyPartitionBytes) {
    u.vendor = "unknown";
    return u;
  }
  return std::nullopt;
}

int count_vendor_partitions(const DiskLayout& disk) {
  int n = 0;
  for (const auto& p : disk.partitions) {
    bool vendor = false;
    if (disk.label == LabelKind::msdos)
      for (const auto& v : kVendorTypes) vendor |= p.mbr_type == v.type;
    if (disk.label == LabelKind::gpt) vendor = p.gpt_type == kGptEsp && p.gpt_name == "DELLUTILITY";
    n += vendor;
  }
  return n;
}

std::optional<XsInstall> find_xs_install(const DiskLayout& disk) {
  const Partition* root = nullptr;
  for (const auto& p : disk.partitions)
    if (starts_with(p.fs_label, "root-") && !p.extended) {
      root = &p;
      break;
    }
  if (!root) return std::nullopt;
  XsInstall x;
  x.root_label = root->fs_label;
  x.root = root->number;
  if (auto u = find_utility_partition(disk); u && u->partition->number < root->number)
    x.utility = u->partition->number;
  auto present = [&](int n) { return disk.find(n) ? n : 0; };
  x.backup = present(root->number + 1);
  x.sr = present(root->number + 2);
  if (const Partition* boot = disk.find(root->number + 3)) {
    if (boot->gpt_type == kGptBiosBoot || boot->gpt_type == kGptEsp) {
      x.boot = boot->number;
      x.boot_mode = boot->gpt_type == kGptEsp ? BootMode::uefi : BootMode::bios;
    }
  }
  for (const auto& p : disk.partitions)
    if (starts_with(p.fs_label, "logs-")) x.logs = p.number;
  if (const Partition* swap = disk.find(root->number + 5); swap && x.logs)
    x.swap = swap->number;
  x.kind = x.logs ? XsLayoutKind::new_layout : XsLayoutKind::old_layout;
  return x;
}

}  // namespace xsguard
