#include "model/disk_findings.h"

#include <fmt/format.h>

namespace xsguard {

namespace {

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string core_text(const CoreSize& c) {
  return c.low == c.high ? fmt::format("{} sectors", c.low)
                         : fmt::format("{}-{} sectors", c.low, c.high);
}

Evidence partition_evidence(const DiskLayout& l, const Partition& p) {
  Evidence e;
  e["number"] = p.number;
  e["start"] = p.start;
  e["sectors"] = p.sectors;
  e["bytes"] = p.sectors * l.logical_sector;
  if (l.label == LabelKind::gpt) {
    e["type"] = p.gpt_type;
    e["name"] = p.gpt_name;
  } else {
    e["type"] = fmt::format("0x{:02x}", p.mbr_type);
  }
  return e;
}

struct Context {
  const DiskFacts& f;
  const DiskLayout& l;
  std::optional<XsInstall> install;
  std::optional<UtilityPartition> utility;
  std::string part(int n) const { return partition_device(l.path, n, f.is_block_device); }
};

// The table on the disk now is what grub-install will see when an upgrade keeps it
// or the installer has already written the new one (--target-root).
bool table_is_final(const Context& c) { return c.install || c.f.target_root_given; }

Finding grub_finding(const Context& c) {
  const EmbedVerdict& v = c.f.embed;
  const EmbedOutcome& o = v.outcome;
  Finding f;
  f.id = "grub.embed";
  f.resources = {c.l.path};
  f.evidence["verdict"] = to_string(v.verdict);
  f.evidence["reason"] = to_string(o.reason);
  f.evidence["partition_map"] = o.partmap;
  f.evidence["gap_sectors"] = o.gap_sectors;
  f.evidence["core_sectors"] = core_text(v.core);
  f.evidence["core_source"] = to_string(v.core.source);
  f.evidence["core_why"] = v.core.why;
  if (v.smallest_failing_core) f.evidence["smallest_failing_core"] = v.smallest_failing_core;
  if (!o.skipped_sectors.empty()) f.evidence["skipped_sectors"] = o.skipped_sectors;
  f.evidence["grub_message"] = o.message;

  const bool uefi = c.f.booted == BootMode::uefi;
  if (uefi) {
    f.severity = Severity::info;
    f.title = "GRUB embedding is not used: this host boots UEFI";
    f.summary = "On UEFI the installer registers the boot loader with efibootmgr and does not "
                "run grub-install, so the post-MBR gap does not matter. Verdict shown for BIOS.";
    return f;
  }
  if (v.verdict == EmbedVerdictKind::fits && !o.warnings.empty() && table_is_final(c)) {
    f.severity = Severity::low;
    f.title = fmt::format("GRUB's core.img fits on {}, with warnings", c.l.path);
    f.summary = "grub-install will succeed but print: " + o.warnings.front();
    f.evidence["grub_warnings"] = o.warnings;
    if (!o.skipped_sectors.empty())
      f.remediation.push_back(Remediation::hint(
          "Another program keeps data in the post-MBR gap; GRUB works around it. Find out "
          "which before the gap is needed for a larger core.img."));
    return f;
  }
  if (v.verdict == EmbedVerdictKind::fits) {
    f.severity = Severity::info;
    f.title = fmt::format("GRUB's core.img fits on {}", c.l.path);
    f.summary = o.partmap == "gpt"
                    ? fmt::format("The BIOS boot partition holds {} sectors; core.img needs {}.",
                                  o.gap_sectors, core_text(v.core))
                    : fmt::format("The post-MBR gap holds {} sectors; core.img needs {}.",
                                  o.gap_sectors, core_text(v.core));
    return f;
  }
  const bool fails = v.verdict == EmbedVerdictKind::fails;
  if (!table_is_final(c)) {
    f.severity = Severity::info;
    f.title = fmt::format("GRUB could not embed on {} as it is now", c.l.path);
    f.summary = "No XenServer installation is on this disk, so an install writes a new table "
                "and this verdict only matters if the disk is upgraded as it is. GRUB would "
                "print: " + o.message;
    return f;
  }
  f.severity = fails ? Severity::high : Severity::medium;
  f.inhibitor = fails;
  f.title = fails ? fmt::format("grub-install will fail on {}: {}", c.l.path, to_string(o.reason))
                  : fmt::format("grub-install may fail on {}: it depends on the core.img size",
                                c.l.path);
  f.summary = fails ? fmt::format("With core.img at {} ({}), GRUB prints \"{}\" and the "
                                  "installation ends with \"Failed to install bootloader\".",
                                  core_text(v.core), to_string(v.core.source), o.message)
                    : fmt::format("core.img of up to {} sectors fits; from {} sectors GRUB "
                                  "prints \"{}\". Measure the real size with --target-root or "
                                  "--core-img.",
                                  v.largest_fitting_core, v.smallest_failing_core, o.message);
  if (c.utility && c.f.embed_without_utility &&
      c.f.embed_without_utility->verdict == EmbedVerdictKind::fits) {
    f.resources.push_back(c.part(c.utility->partition->number));
    f.remediation.push_back(Remediation::hint(fmt::format(
        "Removing the {} utility partition {} frees the gap: GRUB then fits. xsguard shows "
        "the plan first, writes a verified backup, and `xsguard restore` undoes it.",
        c.utility->vendor, c.part(c.utility->partition->number))));
    f.remediation.push_back(Remediation::command(
        "Plan the removal (dry run), then repeat with --apply",
        {"xsguard", "fix", "utility-partition", "--disk", c.l.path}));
  } else if (o.reason == EmbedReason::no_bios_boot_partition ||
             o.reason == EmbedReason::bios_boot_too_small) {
    f.remediation.push_back(Remediation::hint(
        "Create a BIOS boot partition (type EF02, at least 1 MiB) in free space near the start "
        "of the disk, or convert to the new layout, which has one of 512 MiB."));
  } else if (o.reason == EmbedReason::other_software) {
    f.remediation.push_back(Remediation::hint(
        "Another program keeps data in the post-MBR gap (see skipped_sectors). Find out which "
        "(licence managers, RAID or backup tools) before clearing those sectors."));
  } else {
    f.remediation.push_back(Remediation::hint(
        "Make room before the first partition (at least core.img + 1 sectors from LBA 0), or "
        "install with the new GPT layout, which gives GRUB a BIOS boot partition."));
  }
  f.remediation.push_back(Remediation::command(
      "Re-check with the core.img the target will really build",
      {"xsguard", "check", "--disk", c.l.path, "--target-root", "/tmp/root"}));
  return f;
}

std::optional<Finding> utility_finding(const Context& c) {
  if (!c.utility) return std::nullopt;
  const Partition& p = *c.utility->partition;
  Finding f;
  f.id = "disk.utility_partition";
  f.resources = {c.l.path, c.part(p.number)};
  f.evidence = partition_evidence(c.l, p);
  f.evidence["vendor"] = c.utility->vendor;
  f.evidence["installer_default"] =
      c.utility->installer_preserves
          ? "kept as partition 1 (preserve-first-partition=\"if-utility\"); XenServer's "
            "partitions are numbered from 2"
          : "not recognised as a utility partition: a fresh install deletes it, an upgrade "
            "keeps the table as it is";
  const bool grub_fails = c.f.embed.verdict != EmbedVerdictKind::fits;
  if (c.f.embed_without_utility) {
    f.evidence["grub_now"] = to_string(c.f.embed.verdict);
    f.evidence["grub_without_it"] = to_string(c.f.embed_without_utility->verdict);
  }
  const bool removal_helps = grub_fails && c.f.embed_without_utility &&
                             c.f.embed_without_utility->verdict == EmbedVerdictKind::fits;
  f.severity = removal_helps && table_is_final(c) ? Severity::high
               : c.l.label == LabelKind::msdos    ? Severity::low
                                                  : Severity::info;
  f.title = fmt::format("{} utility partition {} at sector {} ({})", c.utility->vendor,
                        c.part(p.number), p.start, human_bytes(p.sectors * c.l.logical_sector));
  f.summary =
      removal_helps
          ? "It sits where GRUB's core.img must go: grub-install fails at the end of the "
            "upgrade. Removing it lets GRUB embed."
      : grub_fails ? "GRUB cannot embed on this disk, and removing this partition alone would "
                     "not change that."
      : c.l.label == LabelKind::msdos
          ? "It shrinks the post-MBR gap to " + std::to_string(c.f.embed.outcome.gap_sectors) +
                " sectors; a larger core.img (new GRUB, more modules) would not fit."
          : "GRUB embeds in the BIOS boot partition on GPT, so it does not limit GRUB here.";
  if (removal_helps)
    f.remediation.push_back(Remediation::hint(
        "Vendor utility partitions hold diagnostics only; the field fix is to delete it "
        "before the upgrade: `xsguard fix utility-partition --disk " + c.l.path + "`."));
  return f;
}

std::optional<Finding> below_63_finding(const Context& c) {
  if (c.l.label != LabelKind::msdos) return std::nullopt;
  auto ordered = c.l.by_start();
  if (ordered.empty() || ordered.front()->start >= 63) return std::nullopt;
  const Partition& p = *ordered.front();
  Finding f;
  f.id = "disk.first_partition_below_63";
  f.severity = c.install ? Severity::medium : Severity::low;
  f.resources = {c.l.path, c.part(p.number)};
  f.evidence = partition_evidence(c.l, p);
  f.title = fmt::format("First partition of {} starts at sector {}, below 63", c.l.path, p.start);
  f.summary = "The installer then installs GRUB into the root partition with --force, using "
              "blocklists, which break when the files move.";
  f.remediation.push_back(Remediation::hint(
      "Prefer the new GPT layout for this disk, or move the first partition to sector 2048."));
  return f;
}

std::optional<Finding> corrupt_finding(const Context& c) {
  if (c.l.problems.empty()) return std::nullopt;
  bool only_misplaced = true;
  Evidence problems = Evidence::array();
  for (const auto& p : c.l.problems) {
    only_misplaced &= p.code == "gpt_backup_misplaced";
    problems.push_back({{"code", p.code}, {"detail", p.detail}});
  }
  Finding f;
  f.id = "disk.table_corrupt";
  f.resources = {c.l.path};
  f.evidence["label"] = to_string(c.l.label);
  f.evidence["problems"] = problems;
  if (only_misplaced) {
    f.severity = Severity::low;
    f.title = fmt::format("The backup GPT of {} is not at the end of the disk", c.l.path);
    f.summary = "Usual after a disk or virtual disk was grown; sgdisk -e moves it.";
    f.remediation.push_back(
        Remediation::command("Move the backup GPT to the end", {"sgdisk", "-e", c.l.path}));
    return f;
  }
  f.severity = Severity::high;
  f.inhibitor = bool(c.install);
  f.title = fmt::format("The partition table of {} is damaged", c.l.path);
  f.summary = fmt::format("{} problem{} found: {}. Partitioning tools and GRUB may read it "
                          "differently or refuse it.",
                          c.l.problems.size(), c.l.problems.size() == 1 ? "" : "s",
                          c.l.problems.front().detail);
  f.remediation.push_back(Remediation::hint(
      "Save the first and last MiB of the disk before any repair; for GPT, gdisk's "
      "verification (v) and recovery menu can rebuild a header from its backup."));
  return f;
}

std::optional<Finding> over_2tib_finding(const Context& c) {
  uint64_t limit = (uint64_t(1) << 32) * c.l.logical_sector;
  if (c.l.label != LabelKind::msdos || c.l.size_bytes <= limit) return std::nullopt;
  Finding f;
  f.id = "disk.msdos_over_2tib";
  f.severity = Severity::medium;
  f.resources = {c.l.path};
  f.evidence["size_bytes"] = c.l.size_bytes;
  f.evidence["msdos_limit_bytes"] = limit;
  f.title = fmt::format("{} is {} but its msdos table can address only {}", c.l.path,
                        human_bytes(c.l.size_bytes), human_bytes(limit));
  f.summary = "Space past the limit cannot hold a partition; an upgrade keeps the msdos table.";
  f.remediation.push_back(Remediation::hint(
      "Use the whole disk by reinstalling with the GPT layout (back up the local SR first)."));
  return f;
}

Finding layout_finding(const Context& c) {
  const XsInstall& x = *c.install;
  Finding f;
  f.id = "xs.layout";
  f.severity = Severity::info;
  f.resources = {c.l.path, c.part(x.root)};
  f.title = fmt::format("XenServer installation on {}: {} layout, boots {}", c.l.path,
                        to_string(x.kind), to_string(x.boot_mode));
  f.summary = x.kind == XsLayoutKind::old_layout
                  ? "Old layout (4 GiB root). Upgrading keeps it unless converted; converting "
                    "to the new layout needs safe2upgrade and destroys the local SR."
                  : "New layout (18 GiB root, separate logs, boot and swap partitions).";
  f.evidence["layout"] = to_string(x.kind);
  f.evidence["boot_mode"] = to_string(x.boot_mode);
  f.evidence["root_label"] = x.root_label;
  Evidence roles;
  for (auto [name, n] : {std::pair<const char*, int>{"utility", x.utility}, {"root", x.root},
                         {"backup", x.backup}, {"local_sr", x.sr}, {"boot", x.boot},
                         {"logs", x.logs}, {"swap", x.swap}})
    if (n) roles[name] = c.part(n);
  f.evidence["partitions"] = roles;
  return f;
}

std::optional<Finding> too_small_finding(const Context& c) {
  if (!c.install || c.install->kind != XsLayoutKind::old_layout ||
      c.l.size_bytes >= kNewLayoutMinBytes)
    return std::nullopt;
  Finding f;
  f.id = "xs.disk_too_small";
  f.severity = Severity::low;
  f.resources = {c.l.path};
  f.evidence["size_bytes"] = c.l.size_bytes;
  f.evidence["new_layout_min_bytes"] = kNewLayoutMinBytes;
  f.title = fmt::format("{} ({}) is too small for the new layout", c.l.path,
                        human_bytes(c.l.size_bytes));
  f.summary = "The new layout needs 46 GiB; the upgrade will keep the old 4 GiB-root layout.";
  return f;
}

void old_root_findings(const Context& c, std::vector<Finding>& out) {
  const OldRootFacts* r = c.f.old_root;
  if (!r || !r->safe2upgrade || !c.install) return;
  const XsInstall& x = *c.install;
  const bool converts = c.l.label == LabelKind::gpt && !x.logs;
  Finding s;
  s.id = "xs.safe2upgrade_present";
  s.severity = converts ? Severity::medium : Severity::info;
  s.resources = {r->dir + "/var/preserve/safe2upgrade"};
  s.evidence["root"] = r->dir;
  s.evidence["label"] = to_string(c.l.label);
  s.evidence["has_logs_partition"] = bool(x.logs);
  s.title = "safe2upgrade is set: the upgrade will convert this host to the new layout";
  s.summary = converts ? "The installer will repartition the disk to the new layout."
                       : c.l.label != LabelKind::gpt
                             ? "Ignored here: the installer converts only GPT disks."
                             : "Ignored here: the disk already has the new layout.";
  s.remediation.push_back(Remediation::command(
      "Keep the current layout instead (and the local SR)", {"rm", r->dir + "/var/preserve/safe2upgrade"}));
  out.push_back(std::move(s));
  if (!converts || !x.sr) return;
  const Partition* sr = c.l.find(x.sr);
  Finding d;
  d.id = "xs.local_sr_destroyed";
  d.severity = Severity::high;
  d.inhibitor = true;
  d.resources = {c.l.path, c.part(x.sr)};
  d.evidence = partition_evidence(c.l, *sr);
  d.evidence["fs_type"] = sr->fs_type;
  d.title = fmt::format("The local SR on {} will be destroyed", c.part(x.sr));
  d.summary = fmt::format("Converting to the new layout removes the SR's volume group and "
                          "partition ({}) and creates an empty SR: every virtual disk on it is "
                          "lost.",
                          human_bytes(sr->sectors * c.l.logical_sector));
  d.remediation.push_back(Remediation::hint(
      "Move local VMs' disks to shared storage (Storage XenMotion) or export them first; or "
      "keep the old layout by removing safe2upgrade."));
  d.remediation.push_back(Remediation::command(
      "List the virtual disks on local SRs (on the running host)",
      {"xe", "vdi-list", "sr-uuid=<local SR uuid>", "params=uuid,name-label,virtual-size"}));
  out.push_back(std::move(d));
}

std::optional<Finding> firmware_finding(const Context& c) {
  if (!c.install) return std::nullopt;
  BootMode installed = c.install->boot_mode;
  if (installed == c.f.booted) return std::nullopt;
  Finding f;
  f.id = "firmware.mode_mismatch";
  f.severity = Severity::high;
  f.inhibitor = true;
  f.resources = {c.l.path};
  f.evidence["booted"] = to_string(c.f.booted);
  f.evidence["booted_source"] = c.f.booted_source;
  f.evidence["installation_boots"] = to_string(installed);
  f.title = fmt::format("Booted in {} mode, but the installation on {} boots {}",
                        to_string(c.f.booted), c.l.path, to_string(installed));
  f.summary = "The installer will not offer to upgrade an installation whose boot mode differs "
              "from the one it was started in.";
  f.remediation.push_back(Remediation::hint(fmt::format(
      "Restart the installer in {} mode (firmware boot menu or BIOS setup).", to_string(installed))));
  return f;
}

}  // namespace

std::vector<Finding> assess_disk(const DiskFacts& facts) {
  Context c{facts, *facts.layout, find_xs_install(*facts.layout),
            find_utility_partition(*facts.layout)};
  std::vector<Finding> out;
  out.push_back(grub_finding(c));
  for (auto f : {utility_finding(c), below_63_finding(c), corrupt_finding(c),
                 over_2tib_finding(c), too_small_finding(c), firmware_finding(c)})
    if (f) out.push_back(std::move(*f));
  if (c.install) out.push_back(layout_finding(c));
  old_root_findings(c, out);
  return out;
}

}  // namespace xsguard
