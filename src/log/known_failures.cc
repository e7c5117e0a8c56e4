#include "log/known_failures.h"

#include <cstdio>
#include <algorithm>
#include <cstdlib>

namespace xsguard::logwatch {

namespace {

constexpr size_t kMaxLinesListed = 50;

std::string between(const std::string& s, const std::string& open, const std::string& close,
                    size_t from = 0) {
  size_t a = s.find(open, from);
  if (a == std::string::npos) return {};
  a += open.size();
  size_t b = s.find(close, a);
  if (b == std::string::npos) return {};
  return s.substr(a, b - a);
}

void add_context(Finding& f, const FailureContext& ctx) {
  if (!ctx.task.empty()) f.evidence["task"] = ctx.task;
  if (ctx.percent >= 0) f.evidence["bar_percent"] = ctx.percent;
}

Remediation check_disk(const std::string& disk) {
  if (disk.empty())
    return Remediation::hint(
        "From the ALT+F2 shell run `xsguard check --disk DISK` on the disk being installed "
        "(for example /dev/sda) to see the partition layout GRUB has to fit into.");
  return Remediation::command("Check the disk's layout with GRUB's own embedding rules",
                              {"xsguard", "check", "--disk", disk});
}

Finding base(const std::string& id, Severity sev, bool inhibitor, std::string title,
             std::string summary) {
  Finding f;
  f.id = id;
  f.severity = sev;
  f.inhibitor = inhibitor;
  f.title = std::move(title);
  f.summary = std::move(summary);
  f.evidence["lines"] = Evidence::array();
  f.evidence["messages"] = Evidence::array();
  return f;
}

Finding build(Sig sig, const Hit& hit, const FailureContext& ctx) {
  const std::string& t = hit.text;
  switch (sig) {
    case Sig::grub_embed: {
      Finding f = base(
          "log.grub_embed", Severity::high, true,
          "GRUB cannot embed core.img: the gap before the first partition is too small",
          "grub-install refused to install because the space between the partition table and "
          "the first partition cannot hold GRUB's core image (typically a small vendor "
          "utility partition at the start of the disk, or a first partition below 1 MiB). "
          "The installer fails with \"Failed to install bootloader\" at the very end, after "
          "the new root has been written.");
      const std::string& disk = ctx.grub_disk;
      if (!disk.empty()) {
        f.evidence["disk"] = disk;
        f.resources.push_back(disk);
      }
      f.remediation.push_back(check_disk(disk));
      if (disk.empty())
        f.remediation.push_back(Remediation::hint(
            "If the check names a utility partition, remove it with `xsguard fix "
            "utility-partition --disk DISK` (it shows the change and asks first), then run "
            "the upgrade again."));
      else
        f.remediation.push_back(Remediation::command(
            "Remove the utility partition in front of the root partition so GRUB can embed "
            "(shows the change and asks first); then run the upgrade again",
            {"xsguard", "fix", "utility-partition", "--disk", disk}));
      f.remediation.push_back(Remediation::hint(
          "Until then do not boot this disk: the previous version is still on the backup "
          "partition and the installer's restore option can bring it back."));
      return f;
    }
    case Sig::bootloader_failed: {
      Finding f = base("log.bootloader_failed", Severity::high, true,
                       "The installer failed to install the bootloader",
                       "The new system was written but the bootloader was not: the host will "
                       "not boot the new version. The reason follows the message (grub-install's "
                       "own error) in the log.");
      if (!ctx.grub_disk.empty()) {
        f.evidence["disk"] = ctx.grub_disk;
        f.resources.push_back(ctx.grub_disk);
      }
      f.remediation.push_back(check_disk(ctx.grub_disk));
      f.remediation.push_back(Remediation::hint(
          "If log.grub_embed is reported too, the embedding gap is the cause: follow its "
          "fix. Otherwise read grub-install's error in the evidence; the previous version "
          "is still on the backup partition (installer restore option)."));
      return f;
    }
    case Sig::not_upgradeable: {
      Finding f = base(
          "log.not_upgradeable", Severity::high, true,
          "The existing installation failed the installer's upgradeability test",
          "The installer will not offer to upgrade this installation. The usual cause is "
          "an installation that never finished its first boot: each first-boot script in "
          "etc/firstboot.d needs a state file in etc/firstboot.d/state.");
      std::string disk = between(t, "Cannot upgrade ", ",");
      if (!disk.empty()) {
        f.evidence["disk"] = disk;
        f.resources.push_back(disk);
      }
      size_t m = t.find("expected file missing: ");
      if (m != std::string::npos) {
        std::string file = t.substr(m + 23);
        size_t sp = file.find(' ');
        if (sp != std::string::npos) file.resize(sp);
        f.evidence["missing_file"] = file;
      }
      f.remediation.push_back(Remediation::hint(
          "Do not choose a fresh install over it: that erases the host's configuration. "
          "Boot the existing installation once and let its first-boot scripts complete "
          "(or create the missing state file if the script did run), then restart the "
          "upgrade."));
      f.remediation.push_back(Remediation::command(
          "Check the installation's disks and state before retrying", {"xsguard", "check"}));
      return f;
    }
    case Sig::scan_failed: {
      Finding f = base("log.scan_failed", Severity::high, false,
                       "Scanning for existing installations failed",
                       "The installer hit an error while looking for installations to "
                       "upgrade; it may offer only a fresh install, which would erase the "
                       "host's configuration. The traceback after the message names the "
                       "cause.");
      f.remediation.push_back(Remediation::hint(
          "Do not proceed with a fresh install. Read the traceback following the line in "
          "the evidence, and check the existing disks from ALT+F2."));
      f.remediation.push_back(
          Remediation::command("Check every disk and the installation on it", {"xsguard", "check"}));
      return f;
    }
    case Sig::boot_mode_mismatch: {
      Finding f = base("log.boot_mode_mismatch", Severity::high, true,
                       "The installer was booted in a different firmware mode than the host",
                       "An upgrade keeps the boot mode: an installation made under legacy "
                       "BIOS must be upgraded from an installer booted in legacy BIOS, and "
                       "UEFI from UEFI.");
      std::string installer = between(t, "Installer mode (", ")");
      std::string target = between(t, "target boot mode (", ")");
      if (!installer.empty()) f.evidence["installer_mode"] = installer;
      if (!target.empty()) f.evidence["target_mode"] = target;
      f.remediation.push_back(Remediation::hint(
          "Reboot and start the installer from the firmware's one-time boot menu in the "
          "target's mode" +
          (target.empty() ? std::string() : " (" + target + ")") + "."));
      return f;
    }
    case Sig::no_disks: {
      Finding f = base("log.no_disks", Severity::high, true, "The installer sees no disks",
                       "No disk was found to install on. A RAID controller in RAID mode can "
                       "hide its disks, or the controller needs a driver the installer does "
                       "not carry.");
      f.remediation.push_back(Remediation::hint(
          "From ALT+F2 list what the kernel sees (`ls /sys/block`, `dmesg | tail`). Switch "
          "the controller to HBA/AHCI mode or create a volume, or load a driver disk."));
      return f;
    }
    case Sig::ha_enabled: {
      Finding f = base("log.ha_enabled", Severity::high, true, "High Availability is enabled on the pool",
                       "The installer refuses to upgrade a host of a pool with HA armed.");
      f.remediation.push_back(Remediation::hint(
          "Reboot into the existing installation, disable HA on the pool master "
          "(`xe pool-ha-disable`), then upgrade; re-enable HA when every host is done."));
      return f;
    }
    case Sig::master_first: {
      Finding f = base("log.master_first", Severity::high, true, "The pool master must be upgraded first",
                       "This host is a pool member; a member cannot run a newer version than "
                       "its master.");
      f.remediation.push_back(Remediation::hint(
          "Upgrade the pool master first (a rolling pool upgrade does this), then the "
          "members."));
      return f;
    }
    case Sig::script_failed: {
      Finding f = base("log.script_failed", Severity::medium, false,
                       "An answerfile hook script exited non-zero",
                       "The installer only logs a failing hook script and carries on: what "
                       "the script was meant to do did not happen.");
      size_t m = t.find("Script returned ");
      if (m != std::string::npos) f.evidence["rc"] = std::atoi(t.c_str() + m + 16);
      f.remediation.push_back(Remediation::hint(
          "Read the script's output in the records before this line; fix the script or do "
          "its work by hand. A hook that must stop an install has to exit the installer "
          "itself: a non-zero exit does not."));
      return f;
    }
    case Sig::no_space: {
      Finding f = base("log.no_space", Severity::high, true, "A disk ran out of space",
                       "A command failed with \"No space left on device\". During the "
                       "restore (cp of the preserved files) the installer does not check the "
                       "result, so state can be lost silently.");
      f.remediation.push_back(Remediation::hint(
          "Find which filesystem filled up (`df -h` from ALT+F2; the target root is "
          "/tmp/root). Usually /var/lib/xcp/blobs holds millions of old xapi messages: "
          "delete old messages on the existing host before upgrading."));
      return f;
    }
    default: break;
  }
  return {};
}

}  // namespace

const char* finding_id(Sig s) {
  switch (s) {
    case Sig::grub_embed: return "log.grub_embed";
    case Sig::bootloader_failed: return "log.bootloader_failed";
    case Sig::install_failed:
    case Sig::fatal_exception: return "log.install_failed";
    case Sig::not_upgradeable: return "log.not_upgradeable";
    case Sig::scan_failed: return "log.scan_failed";
    case Sig::boot_mode_mismatch: return "log.boot_mode_mismatch";
    case Sig::no_disks: return "log.no_disks";
    case Sig::ha_enabled: return "log.ha_enabled";
    case Sig::master_first: return "log.master_first";
    case Sig::script_failed: return "log.script_failed";
    case Sig::no_space: return "log.no_space";
    case Sig::traceback: return "";
  }
  return "";
}

bool parse_traceback(const std::string& text, uint64_t first_line, ExceptionInfo& out) {
  size_t at = text.rfind("Traceback (most recent call last):");
  if (at == std::string::npos) return false;
  uint64_t line = first_line;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  size_t pos = text.find('\n', at);
  std::string msg;
  bool found = false;
  while (pos != std::string::npos && pos < text.size()) {
    size_t start = pos + 1;
    size_t nl = text.find('\n', start);
    ++line;
    std::string l = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    pos = nl;
    if (!found) {
      if (l.empty() || l[0] == ' ' || l[0] == '\t') continue;
      found = true;
      out.line = line;
      size_t colon = l.find(':');
      std::string type = l.substr(0, colon);
      if (colon == std::string::npos || type.find(' ') != std::string::npos) {
        out.type = colon == std::string::npos ? l : "";
        msg = colon == std::string::npos ? "" : l;
      } else {
        out.type = type;
        msg = l.substr(colon + 1);
        if (!msg.empty() && msg[0] == ' ') msg.erase(0, 1);
      }
    } else if (msg.size() < 2048) {
      msg += '\n';
      msg += l;
    }
  }
  if (!found) return false;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (msg.size() > 2048) msg.resize(2048);
  out.message = msg;
  return true;
}

Finding* KnownFailures::merge(const std::string& id, const Hit& hit) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  Finding& f = findings_[it->second];
  auto& lines = f.evidence["lines"];
  if (lines.size() < kMaxLinesListed && !(lines.size() && lines.back() == hit.line)) {
    lines.push_back(hit.line);
    f.evidence["messages"].push_back(hit.text);
  }
  return &f;
}

const Finding* KnownFailures::add(const Hit& hit, const FailureContext& ctx) {
  std::string id = finding_id(hit.sig);
  if (id.empty() || hit.sig == Sig::install_failed || hit.sig == Sig::fatal_exception)
    return nullptr;
  if (Finding* f = merge(id, hit)) {
    if (hit.sig == Sig::grub_embed && !ctx.grub_disk.empty() && !f->evidence.contains("disk")) {
      // The disk became known after the first message: rebuild with it.
      Finding fresh = build(hit.sig, hit, ctx);
      fresh.evidence["lines"] = f->evidence["lines"];
      fresh.evidence["messages"] = f->evidence["messages"];
      *f = std::move(fresh);
    }
    return nullptr;
  }
  Finding f = build(hit.sig, hit, ctx);
  f.evidence["lines"].push_back(hit.line);
  f.evidence["messages"].push_back(hit.text);
  add_context(f, ctx);
  index_[id] = findings_.size();
  findings_.push_back(std::move(f));
  return &findings_.back();
}

const Finding* KnownFailures::add_install_failed(const std::vector<Hit>& hits,
                                                 const FailureContext& ctx) {
  if (hits.empty() || has("log.install_failed")) return nullptr;
  Finding f = base("log.install_failed", Severity::high, true, "The installation failed",
                   "The installer stopped with a fatal exception.");
  for (const auto& h : hits) {
    f.evidence["lines"].push_back(h.line);
    f.evidence["messages"].push_back(h.text);
  }
  if (!ctx.exception_type.empty() || !ctx.exception_message.empty()) {
    f.evidence["exception_type"] = ctx.exception_type;
    f.evidence["exception_message"] = ctx.exception_message;
    f.evidence["exception_line"] = ctx.exception_line;
    const std::string& m = ctx.exception_message;
    std::string first = m.substr(0, m.find('\n'));
    size_t last_nl = m.rfind('\n');
    if (last_nl != std::string::npos && last_nl + 1 < m.size()) first += " ... " + m.substr(last_nl + 1);
    f.summary = "The installer stopped with " +
                (ctx.exception_type.empty() ? std::string("an exception") : ctx.exception_type) +
                (first.empty() ? std::string(".") : ": " + first);
  }
  add_context(f, ctx);
  f.remediation.push_back(Remediation::hint(
      "The exception names the cause; other log.* findings of this report usually explain "
      "it. The full log stays in /tmp/install-log until reboot: copy it off (it is also "
      "written to the logs partition) before retrying."));
  f.remediation.push_back(Remediation::command("Check the disks before retrying the upgrade",
                                               {"xsguard", "check"}));
  index_["log.install_failed"] = findings_.size();
  findings_.push_back(std::move(f));
  return &findings_.back();
}

std::string format_duration(int64_t s) {
  if (s < 0) s = 0;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", (long long)s);
  return buf;
}

static Evidence stall_evidence(const StallInfo& s) {
  Evidence e = Evidence::object();
  e["live"] = s.live;
  e["silent_seconds"] = s.silent_s;
  e["last_line"] = s.last_line;
  if (s.next_line) e["next_line"] = s.next_line;
  if (!s.task.empty()) e["task"] = s.task;
  if (s.task_running_s >= 0) e["task_running_seconds"] = s.task_running_s;
  if (s.task_index >= 0) e["task_number"] = s.task_index + 1;
  if (s.tasks_total > 0) e["tasks_total"] = s.tasks_total;
  if (s.percent >= 0) e["bar_percent"] = s.percent;
  if (!s.restoring.empty()) e["restoring"] = s.restoring;
  if (s.measured) {
    Evidence b = Evidence::object();
    b["target"] = s.target_dir;
    b["target_entries"] = s.target_entries;
    if (s.source_known) {
      b["source"] = s.source_dir;
      b["source_entries"] = s.source_entries;
      if (s.source_entries)
        b["percent"] = int(std::min<uint64_t>(100, s.target_entries * 100 / s.source_entries));
    }
    if (s.source_mounted) b["source_mounted_by_xsguard"] = true;
    if (!s.source_known && !s.source_note.empty()) b["source_note"] = s.source_note;
    b["estimate"] = s.estimate;
    b["rate_per_second"] = int64_t(s.rate_per_s + 0.5);
    if (s.eta_s >= 0) b["eta_seconds"] = s.eta_s;
    e["blobs"] = b;
  }
  return e;
}

Finding make_stall_finding(const std::vector<StallInfo>& stalls) {
  Finding f;
  f.id = "log.stall";
  bool live = false;
  const StallInfo* worst = nullptr;
  for (const auto& s : stalls) {
    live |= s.live;
    if (!worst || s.live > worst->live || (s.live == worst->live && s.silent_s > worst->silent_s))
      worst = &s;
  }
  f.severity = live ? Severity::medium : Severity::info;
  if (!worst) return f;
  const StallInfo& w = *worst;
  std::string task = w.task.empty() ? std::string("no task yet") : w.task;
  f.title = (live ? "The installer has logged nothing for " : "The installer went silent for ") +
            format_duration(w.silent_s) + " during " + task;
  std::string s = "Last record at line " + std::to_string(w.last_line) + ".";
  if (w.task_index >= 0) {
    s += " Task " + std::to_string(w.task_index + 1);
    if (w.tasks_total) s += " of " + std::to_string(w.tasks_total);
    s += " (" + task + ")";
    if (w.percent >= 0) s += ", the bar shows " + std::to_string(w.percent) + "%";
    if (w.task_running_s >= 0) s += ", running for " + format_duration(w.task_running_s);
    s += ".";
  }
  if (task == "completeUpgrade")
    s += " completeUpgrade copies the preserved files back from the backup partition and "
         "then changes the owner of every copied file: its time grows with the number of "
         "xapi messages under /var/lib/xcp/blobs, so a long silence here is usually slow, not "
         "hung.";
  if (w.measured) {
    s += " Blobs copied: " + std::to_string(w.target_entries);
    if (w.source_known) {
      s += " of " + std::to_string(w.source_entries) + " entries";
      if (w.source_entries)
        s += " (" + std::to_string(std::min<uint64_t>(100, w.target_entries * 100 / w.source_entries)) + "%)";
    } else {
      s += " entries";
    }
    if (w.rate_per_s > 0) s += ", " + std::to_string(int64_t(w.rate_per_s + 0.5)) + "/s";
    if (w.eta_s >= 0) s += ", about " + format_duration(w.eta_s) + " left";
    if (w.source_known && w.target_entries >= w.source_entries && w.source_entries)
      s += "; copy done, the ownership walk over every file follows and logs nothing";
    s += ".";
  }
  f.summary = s;
  // The longest silences first; a handful is enough to explain a slow install.
  std::vector<const StallInfo*> order;
  for (const auto& st : stalls) order.push_back(&st);
  std::stable_sort(order.begin(), order.end(), [](const StallInfo* a, const StallInfo* b) {
    if (a->live != b->live) return a->live;
    return a->silent_s > b->silent_s;
  });
  constexpr size_t kListed = 5;
  Evidence list = Evidence::array();
  Evidence lines = Evidence::array();
  for (size_t i = 0; i < order.size() && i < kListed; ++i) {
    list.push_back(stall_evidence(*order[i]));
    lines.push_back(order[i]->last_line);
  }
  f.evidence["lines"] = lines;
  f.evidence["silences"] = list;
  if (order.size() > kListed) f.evidence["silences_not_listed"] = order.size() - kListed;
  if (live) {
    f.remediation.push_back(Remediation::hint(
        "Do not reboot while entries are still being copied or the task is completeUpgrade: "
        "interrupting the restore loses the host's state. If the counts stop moving for "
        "many minutes, look for errors with `xsguard watch --once` and in `dmesg`."));
  } else if (w.task == "completeUpgrade") {
    f.remediation.push_back(Remediation::hint(
        "A long silence in completeUpgrade comes from the number of files under "
        "/var/lib/xcp/blobs: on each host still to upgrade, measure the store and prune old "
        "xapi messages (with a verified backup) first."));
    f.remediation.push_back(Remediation::command(
        "On the next host: predict the restore and see what a prune would remove",
        {"xsguard", "blobs", "prune", "--root", "/", "--older-than", "90"}));
  } else {
    f.remediation.push_back(Remediation::hint(
        "The task named above ran that long without logging; if it repeats on other "
        "hosts, look at what it waits for (disk, network, answerfile scripts)."));
  }
  return f;
}

}  // namespace xsguard::logwatch
