// A partition table as sfdisk's dump format, for people and for the backup file.
#pragma once
#include <string>

#include "model/disk_layout.h"

namespace xsguard {

std::string table_as_sfdisk(const DiskLayout& layout, bool is_block_device);

}  // namespace xsguard
