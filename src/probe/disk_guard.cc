#include "probe/disk_guard.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace xsguard {

namespace {

std::string dev_dir(unsigned major, unsigned minor) {
  return "/sys/dev/block/" + std::to_string(major) + ":" + std::to_string(minor);
}

std::string real(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// True when the block device at rdev is the disk or one of its partitions.
bool on_disk(dev_t rdev, const std::string& disk_sys) {
  std::string dev = real(dev_dir(major(rdev), minor(rdev)));
  if (dev.empty()) return false;
  return dev == disk_sys || dev.rfind(disk_sys + "/", 0) == 0;
}

}  // namespace

std::vector<std::string> list_dir_names(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    closedir(d);
  }
  return out;
}

std::string unescape_mount_field(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> disk_users(const FileSource& disk, const std::string& path) {
  std::vector<std::string> users;
  if (!disk.is_block_device()) {
    // An image attached to a loop device is in use through that device.
    std::string target = real(path);
    for (const auto& name : list_dir_names("/sys/block")) {
      if (name.rfind("loop", 0) != 0) continue;
      std::ifstream in("/sys/block/" + name + "/loop/backing_file");
      std::string backing;
      if (std::getline(in, backing) && backing == target)
        users.push_back("attached to /dev/" + name);
    }
    return users;
  }
  const std::string disk_sys = real(dev_dir(disk.dev_major(), disk.dev_minor()));
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string source, target;
    fields >> source >> target;
    struct stat st {};
    if (source.rfind("/dev/", 0) == 0 && stat(unescape_mount_field(source).c_str(), &st) == 0 &&
        S_ISBLK(st.st_mode) && on_disk(st.st_rdev, disk_sys))
      users.push_back(unescape_mount_field(source) + " mounted on " + unescape_mount_field(target));
  }
  std::ifstream swaps("/proc/swaps");
  for (std::string line; std::getline(swaps, line);) {
    std::string source = line.substr(0, line.find_first_of(" \t"));
    struct stat st {};
    if (source.rfind("/dev/", 0) == 0 && stat(source.c_str(), &st) == 0 && S_ISBLK(st.st_mode) &&
        on_disk(st.st_rdev, disk_sys))
      users.push_back(source + " is in use as swap");
  }
  for (const auto& holder : list_dir_names(disk_sys + "/holders"))
    users.push_back("held by " + holder);
  for (const auto& part : list_dir_names(disk_sys))
    for (const auto& holder : list_dir_names(disk_sys + "/" + part + "/holders"))
      users.push_back(part + " held by " + holder);
  return users;
}

std::string backup_dir_on_other_disk(const FileSource& disk, uint64_t bytes_needed) {
  const std::string disk_sys =
      disk.is_block_device() ? real(dev_dir(disk.dev_major(), disk.dev_minor())) : std::string();
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string source, target, type, options;
    fields >> source >> target >> type >> options;
    if (source.rfind("/dev/", 0) != 0 || ("," + options + ",").find(",ro,") != std::string::npos)
      continue;
    target = unescape_mount_field(target);
    struct stat st {};
    if (stat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (!disk_sys.empty() && on_disk(st.st_dev, disk_sys)) continue;
    struct statvfs vfs {};
    if (statvfs(target.c_str(), &vfs) != 0 || (vfs.f_flag & ST_RDONLY) ||
        uint64_t(vfs.f_bavail) * vfs.f_frsize < bytes_needed * 2 || access(target.c_str(), W_OK) != 0)
      continue;
    return target;
  }
  return "";
}

}  // namespace xsguard
