// The disks[] entries of the check report.
#pragma once
#include <nlohmann/json.hpp>

#include "model/disk_layout.h"
#include "model/grub_embed.h"

namespace xsguard {

nlohmann::ordered_json disk_to_json(const DiskLayout& disk, const EmbedVerdict& embed);

}  // namespace xsguard
