// Opens a disk or image and builds its DiskLayout: sizes and identity from the
// kernel (ioctl, sysfs), the table from xsguard's reader, filesystems from libblkid.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model/disk_layout.h"
#include "probe/file_source.h"

namespace xsguard {

struct ProbedDisk {
  std::unique_ptr<FileSource> source;
  DiskLayout layout;
};

// forced_sector_size: 0 = ask the device, or guess from the GPT position for images.
// Throws InputError when the path cannot be opened or is empty.
ProbedDisk probe_disk(const std::string& path, uint32_t forced_sector_size);

// Whole disks the kernel lists under sys_block, as /dev paths: skips loop, ram, zram,
// sr, fd, md and device-mapper nodes other than multipath maps.
std::vector<std::string> list_whole_disks(const std::string& sys_block = "/sys/block");

}  // namespace xsguard
