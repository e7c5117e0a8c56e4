#include "report/disk_json.h"

#include <fmt/format.h>

namespace xsguard {

nlohmann::ordered_json disk_to_json(const DiskLayout& l, const EmbedVerdict& v) {
  nlohmann::ordered_json d;
  d["path"] = l.path;
  d["size_bytes"] = l.size_bytes;
  d["logical_sector_size"] = l.logical_sector;
  d["physical_sector_size"] = l.physical_sector;
  d["label"] = to_string(l.label);
  d["dm"] = l.dm;
  d["model"] = l.model;
  d["serial"] = l.serial;
  auto& parts = d["partitions"] = nlohmann::ordered_json::array();
  for (const auto& p : l.partitions) {
    nlohmann::ordered_json j;
    j["number"] = p.number;
    j["start"] = p.start;
    j["end"] = p.end();
    j["sectors"] = p.sectors;
    if (l.label == LabelKind::gpt) {
      j["type"] = p.gpt_type;
      j["name"] = p.gpt_name;
    } else {
      j["type"] = fmt::format("0x{:02x}", p.mbr_type);
      j["name"] = "";
      j["bootable"] = p.bootable;
      j["logical"] = p.logical;
      j["extended"] = p.extended;
    }
    j["fs_type"] = p.fs_type;
    j["fs_label"] = p.fs_label;
    j["fs_uuid"] = p.fs_uuid;
    parts.push_back(std::move(j));
  }
  auto& problems = d["problems"] = nlohmann::ordered_json::array();
  for (const auto& p : l.problems) problems.push_back({{"code", p.code}, {"detail", p.detail}});

  const EmbedOutcome& o = v.outcome;
  nlohmann::ordered_json g;
  g["verdict"] = to_string(v.verdict);
  g["reason"] = to_string(o.reason);
  g["partition_map"] = o.partmap;
  g["gap_sectors"] = o.gap_sectors;
  if (v.core.low == v.core.high)
    g["core_sectors"] = v.core.low;
  else
    g["core_sectors"] = {v.core.low, v.core.high};
  g["core_source"] = to_string(v.core.source);
  g["core_why"] = v.core.why;
  g["smallest_failing_core"] = v.smallest_failing_core;
  g["skipped_sectors"] = o.skipped_sectors;
  g["grub_message"] = o.message;
  g["grub_warnings"] = o.warnings;
  if (!o.embed_sectors.empty())
    g["embed_sectors"] = {o.embed_sectors.front(), o.embed_sectors.back()};
  d["grub_embed"] = std::move(g);
  return d;
}

}  // namespace xsguard
