#include "model/table_text.h"

#include <fmt/format.h>

namespace xsguard {

std::string table_as_sfdisk(const DiskLayout& l, bool is_block_device) {
  std::string out;
  out += fmt::format("label: {}\n", l.label == LabelKind::msdos ? "dos" : to_string(l.label));
  out += fmt::format("device: {}\nunit: sectors\nsector-size: {}\n\n", l.path, l.logical_sector);
  for (const auto& p : l.partitions) {
    out += fmt::format("{} : start={:>12}, size={:>12}, ",
                       partition_device(l.path, p.number, is_block_device), p.start, p.sectors);
    if (l.label == LabelKind::gpt) {
      out += "type=" + p.gpt_type;
      if (!p.gpt_name.empty()) out += ", name=\"" + p.gpt_name + "\"";
    } else {
      out += fmt::format("type={:x}", p.mbr_type);
      if (p.bootable) out += ", bootable";
    }
    out += '\n';
  }
  return out;
}

}  // namespace xsguard
