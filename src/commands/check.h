// xsguard check: every disk's table, GRUB embedding verdict and upgrade hazards.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "report/report.h"

namespace xsguard {

struct CheckOptions {
  std::vector<std::string> disks;  // empty: every whole disk the kernel lists
  std::string core_img;
  uint32_t core_sectors = 0;
  std::string target_root;  // the new root being installed (/tmp/root)
  std::string old_root;     // a mounted old installation
  std::string firmware;     // "", "bios" or "uefi"
  uint32_t sector_size = 0;  // images only: 0 = guess
  std::string sys_block = "/sys/block";
  std::string sys_firmware_efi = "/sys/firmware/efi";
};

// Throws UsageError / InputError for the CLI to map to exit codes.
Report run_check(const CheckOptions& options);

}  // namespace xsguard
