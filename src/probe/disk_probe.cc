#include "probe/disk_probe.h"

#include <blkid/blkid.h>
#include <dirent.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <fstream>

#include "model/errors.h"
#include "model/partition_table.h"

namespace xsguard {

namespace {

std::string read_sysfs(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

void fill_block_identity(const FileSource& src, DiskLayout& l) {
  std::string dev = "/sys/dev/block/" + std::to_string(src.dev_major()) + ":" +
                    std::to_string(src.dev_minor());
  int logical = 0;
  unsigned physical = 0;
  if (ioctl(src.fd(), BLKSSZGET, &logical) == 0 && logical >= 512) l.logical_sector = logical;
  if (ioctl(src.fd(), BLKPBSZGET, &physical) == 0 && physical >= 512) l.physical_sector = physical;
  l.model = read_sysfs(dev + "/device/model");
  l.serial = read_sysfs(dev + "/device/serial");
  if (l.serial.empty()) l.serial = read_sysfs(dev + "/serial");
  l.dm = !read_sysfs(dev + "/dm/name").empty();
}

void probe_filesystems(const FileSource& src, DiskLayout& l) {
  for (auto& p : l.partitions) {
    if (p.extended || p.sectors == 0) continue;
    uint64_t offset = p.start * l.logical_sector, size = p.sectors * l.logical_sector;
    if (offset >= l.size_bytes || size > l.size_bytes - offset) continue;
    blkid_probe pr = blkid_new_probe();
    if (!pr) continue;
    if (blkid_probe_set_device(pr, src.fd(), blkid_loff_t(offset), blkid_loff_t(size)) == 0) {
      blkid_probe_enable_superblocks(pr, 1);
      blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
                                                BLKID_SUBLKS_UUID);
      blkid_probe_enable_partitions(pr, 0);
      // Only what xsguard reports on: skipping the rest (zfs reads 1 MiB per partition)
      // keeps a many-disk check cheap.
      static const char* kTypes[] = {"ext2", "ext3", "ext4", "jbd", "xfs", "btrfs", "vfat",
                                     "swap", "LVM2_member", "linux_raid_member", "ntfs",
                                     "iso9660", nullptr};
      blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, const_cast<char**>(kTypes));
      if (blkid_do_safeprobe(pr) == 0) {
        const char* v = nullptr;
        if (blkid_probe_lookup_value(pr, "TYPE", &v, nullptr) == 0) p.fs_type = v;
        if (blkid_probe_lookup_value(pr, "LABEL", &v, nullptr) == 0) p.fs_label = v;
        if (blkid_probe_lookup_value(pr, "UUID", &v, nullptr) == 0) p.fs_uuid = v;
      }
    }
    blkid_free_probe(pr);
  }
}

}  // namespace

ProbedDisk probe_disk(const std::string& path, uint32_t forced_sector_size) {
  ProbedDisk d;
  d.source = std::make_unique<FileSource>(path);
  DiskLayout& l = d.layout;
  l.path = path;
  l.size_bytes = d.source->size();
  if (l.size_bytes == 0) throw InputError(path + ": empty (0 bytes): not a disk image");
  if (d.source->is_block_device()) fill_block_identity(*d.source, l);
  if (forced_sector_size) {
    l.logical_sector = forced_sector_size;
  } else if (!d.source->is_block_device()) {
    l.logical_sector = guess_logical_sector_size(*d.source);
  }
  l.physical_sector = std::max(l.physical_sector, l.logical_sector);
  read_partition_table(*d.source, l);
  probe_filesystems(*d.source, l);
  return d;
}

std::vector<std::string> list_whole_disks(const std::string& sys_block) {
  std::vector<std::string> out;
  DIR* dir = opendir(sys_block.c_str());
  if (!dir) return out;
  static const char* kSkip[] = {"loop", "ram", "zram", "sr", "fd", "md", "nbd"};
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name[0] == '.') continue;
    bool skip = std::any_of(std::begin(kSkip), std::end(kSkip),
                            [&](const char* p) { return name.rfind(p, 0) == 0; });
    if (name.rfind("dm-", 0) == 0)  // only multipath maps are whole disks
      skip = read_sysfs(sys_block + "/" + name + "/dm/uuid").rfind("mpath-", 0) != 0;
    if (!skip && read_sysfs(sys_block + "/" + name + "/size") == "0") skip = true;
    if (!skip) out.push_back("/dev/" + name);
  }
  closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace xsguard
