// What a disk holds, as xsguard's own partition-table reader sees it. Sector numbers
// are in the disk's logical sectors unless a name says otherwise.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xsguard {

enum class LabelKind { none, msdos, gpt, unknown };
const char* to_string(LabelKind k);

inline constexpr const char* kGptBiosBoot = "21686148-6449-6E6F-744E-656564454649";
inline constexpr const char* kGptEsp = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
inline constexpr const char* kGptLinuxLvm = "E6D6D379-F507-44C2-A23C-238F2A3DF928";
inline constexpr const char* kGptLinuxData = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
inline constexpr const char* kGptLinuxSwap = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";

struct Partition {
  int number = 0;  // as Linux numbers it: msdos 1-4 primary, 5.. logical; GPT slot + 1
  uint64_t start = 0;
  uint64_t sectors = 0;
  uint8_t mbr_type = 0;  // msdos only
  bool bootable = false;  // msdos only
  bool logical = false;   // msdos only
  bool extended = false;  // msdos only: the container, not a filesystem
  std::string gpt_type;   // GPT only: upper-case GUID
  std::string gpt_name;   // GPT only: UTF-16 name, non-ASCII replaced by '?'
  // From the filesystem probe (libblkid); empty when unknown.
  std::string fs_type, fs_label, fs_uuid;

  uint64_t end() const { return sectors ? start + sectors - 1 : start; }
};

// Something wrong with the table itself; each becomes evidence of disk.table_corrupt.
struct TableProblem {
  std::string code;    // stable: gpt_header_crc, gpt_entries_crc, gpt_backup_bad, ebr_loop, ...
  std::string detail;  // for people
};

struct DiskLayout {
  std::string path;
  uint64_t size_bytes = 0;
  uint32_t logical_sector = 512;
  uint32_t physical_sector = 512;
  LabelKind label = LabelKind::none;
  bool dm = false;  // device-mapper: never written to by xsguard
  std::string model, serial;
  std::vector<Partition> partitions;  // in table order (GPT slot order; msdos 1-4 then logicals)
  std::vector<TableProblem> problems;

  uint64_t sectors() const { return size_bytes / logical_sector; }
  // Partitions that hold data (not msdos extended containers), lowest start first.
  std::vector<const Partition*> by_start() const;
  const Partition* find(int number) const;
};

// A partition's Linux device name: /dev/sda + 1 = /dev/sda1, /dev/nvme0n1 + 1 =
// /dev/nvme0n1p1; image files get "IMAGE#1".
std::string partition_device(const std::string& disk, int number, bool is_block_device);

}  // namespace xsguard
