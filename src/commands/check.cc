#include "commands/check.h"

#include <sys/stat.h>

#include <ctime>
#include <iostream>
#include <map>
#include <optional>

#include "commands/blobs.h"
#include "commands/core_choice.h"
#include "model/disk_findings.h"
#include "model/errors.h"
#include "model/partition_table.h"
#include "probe/disk_probe.h"
#include "report/disk_json.h"

namespace xsguard {

namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

OldRootFacts read_old_root(const std::string& dir) {
  if (!is_directory(dir)) throw InputError(dir + ": not a directory (--root)");
  OldRootFacts facts;
  facts.dir = dir;
  struct stat st {};
  // lstat: a link is "present" for the installer too, and must not be followed out of DIR.
  facts.safe2upgrade = lstat((dir + "/var/preserve/safe2upgrade").c_str(), &st) == 0;
  return facts;
}

Finding no_disks_finding(const CheckOptions& o) {
  Finding f;
  f.id = "disk.none_found";
  f.severity = Severity::medium;
  f.title = "No disks to check";
  f.summary = "The kernel lists no whole disks in " + o.sys_block +
              ". A RAID controller in RAID mode can hide its disks from the installer too.";
  f.remediation.push_back(Remediation::hint("Name disks or images with --disk PATH."));
  return f;
}

}  // namespace

Report run_check(const CheckOptions& options) {
  if (options.sector_size && options.sector_size != 512 && options.sector_size != 4096)
    throw UsageError("--sector-size must be 512 or 4096");

  std::optional<OldRootFacts> old_root;
  if (!options.old_root.empty()) old_root = read_old_root(options.old_root);
  CoreSizer sizer({options.core_img, options.core_sectors, options.target_root});

  BootMode booted = BootMode::bios;
  std::string booted_source;
  if (!options.firmware.empty()) {
    booted = options.firmware == "uefi" ? BootMode::uefi : BootMode::bios;
    booted_source = "--firmware " + options.firmware;
  } else {
    booted = is_directory(options.sys_firmware_efi) ? BootMode::uefi : BootMode::bios;
    booted_source = options.sys_firmware_efi + (booted == BootMode::uefi ? " exists" : " absent");
  }

  const bool listed = options.disks.empty();
  std::vector<std::string> paths = listed ? list_whole_disks(options.sys_block) : options.disks;

  Report report = new_report("check");
  if (paths.empty()) report.findings.push_back(no_disks_finding(options));
  for (const auto& path : paths) {
    std::optional<ProbedDisk> probed;
    try {
      probed = probe_disk(path, options.sector_size);
    } catch (const InputError& e) {
      if (!listed) throw;
      std::cerr << "xsguard: skipping " << e.what() << '\n';
      continue;
    }
    const DiskLayout& layout = probed->layout;
    auto install = find_xs_install(layout);
    DiskFacts facts;
    facts.layout = &layout;
    facts.is_block_device = probed->source->is_block_device();
    facts.embed = judge_grub_embed(*probed->source, layout.logical_sector,
                                   sizer.for_disk(layout, install ? install->root : 0));
    if (auto utility = find_utility_partition(layout)) {
      auto edits = plan_partition_removal(*probed->source, layout, utility->partition->number);
      if (!edits.empty()) {
        PatchedSource without(*probed->source);
        for (auto& e : edits) without.patch(e.offset, e.bytes);
        facts.embed_without_utility = judge_grub_embed(without, layout.logical_sector, facts.embed.core);
      }
    }
    facts.booted = booted;
    facts.booted_source = booted_source;
    facts.target_root_given = !options.target_root.empty();
    facts.old_root = old_root ? &*old_root : nullptr;
    for (auto& f : assess_disk(facts)) report.findings.push_back(std::move(f));
    report.disks.push_back(disk_to_json(layout, facts.embed));
  }
  if (old_root) {
    // The restore at 72% copies the old root's message store: say how long it will take.
    try {
      report.findings.push_back(blobs_finding(scan_blobs(old_root->dir, std::time(nullptr))));
    } catch (const InputError&) {
      // no message store under this root: nothing to predict
    }
  }
  sort_findings(report.findings);
  return report;
}

}  // namespace xsguard
