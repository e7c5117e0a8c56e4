#include "commands/post.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <map>
#include <ostream>

#include "capture/archive.h"
#include "capture/merge.h"
#include "model/digest.h"
#include "model/errors.h"
#include "report/report.h"

namespace xsguard {

using namespace capture;
using nlohmann::ordered_json;

namespace {

constexpr size_t kMaxTargetFile = size_t(4) << 20;
constexpr const char* kRcLocal = "etc/rc.d/rc.local";

// A path an item of this spec may have: the spec's file, or a plain name directly in
// its directory. Anything else in a capture was not written by xsguard.
bool path_belongs(const ItemSpec& spec, const std::string& path) {
  const std::string base = spec.path;
  if (!spec.directory) return path == base;
  if (path.size() <= base.size() + 1 || path.compare(0, base.size(), base) != 0 || path[base.size()] != '/')
    return false;
  std::string name = path.substr(base.size() + 1);
  return name.find('/') == std::string::npos && name != "." && name != "..";
}

// Printable, one line, bounded: it goes into the files post writes.
std::string clean(const std::string& s) {
  std::string o;
  for (char c : s.substr(0, 64)) o += (c >= 0x20 && c < 0x7f) ? c : '?';
  return o;
}

struct Planned {
  const ItemSpec* spec;
  CapturedItem item;
  FileRead target;  // as planned on (including changes planned before it)
  ItemPlan plan;
  bool written = false;
};

struct RcLocal {
  bool exists = false, executable = false, custom = false;
  bool systemd = false, unit = false, generator = false;
  bool will_run = false;
  bool chmod_needed = false, chmodded = false;
  std::string how;
};

bool any_of_type(const RootedDir& root, std::initializer_list<const char*> rels, unsigned type) {
  for (const char* r : rels)
    if (root.type_of(r) == type) return true;
  return false;
}

RcLocal assess_rc_local(const RootedDir& root, const std::map<std::string, Planned*>& pending) {
  RcLocal rc;
  FileRead f = root.read(kRcLocal, kMaxTargetFile);
  std::string content = f.bytes;
  uint32_t mode = f.mode;
  auto p = pending.find(f.resolved);
  if (p != pending.end()) {
    content = p->second->plan.new_bytes;
    if (p->second->plan.creates) mode = p->second->plan.mode;
  }
  rc.exists = f.status == FileRead::Status::ok || p != pending.end();
  rc.executable = rc.exists && (mode & 0100);
  for (const auto& l : split_lines(content)) rc.custom |= !is_stock_line(StockRule::rc_local, l);
  rc.systemd = any_of_type(root, {"usr/lib/systemd/system", "lib/systemd/system"}, S_IFDIR);
  rc.unit = any_of_type(root, {"usr/lib/systemd/system/rc-local.service", "lib/systemd/system/rc-local.service",
                               "etc/systemd/system/rc-local.service"},
                        S_IFREG);
  rc.generator = any_of_type(root, {"usr/lib/systemd/system-generators/systemd-rc-local-generator",
                                    "lib/systemd/system-generators/systemd-rc-local-generator"},
                             S_IFREG);
  rc.chmod_needed = rc.exists && !rc.executable;
  return rc;
}

void describe_rc_local(RcLocal& rc) {
  bool exec_after = rc.executable || rc.chmodded;
  if (!rc.exists) {
    rc.how = "the target has no etc/rc.d/rc.local: nothing to run";
    rc.will_run = false;
    return;
  }
  if (!rc.systemd) {
    rc.will_run = exec_after;
    rc.how = exec_after ? "no systemd in the target: rc.local runs at the end of the SysV boot (S99local)"
                        : "rc.local is not executable, so the SysV boot will not run it";
    return;
  }
  if (!rc.unit) {
    rc.will_run = false;
    rc.how = "the target has no rc-local.service: systemd will not run rc.local even when it is executable";
    return;
  }
  if (!rc.generator) {
    rc.will_run = false;
    rc.how = "the target has rc-local.service but not systemd's rc-local generator: nothing pulls "
             "the unit in at boot (add it to multi-user.target.wants by hand)";
    return;
  }
  rc.will_run = exec_after;
  rc.how = exec_after ? "rc-local.service will start at boot: systemd's rc-local generator adds it "
                        "to multi-user.target because etc/rc.d/rc.local is executable"
                      : "rc.local is not executable: systemd's rc-local generator leaves "
                        "rc-local.service out and rc.local does not run (the CentOS 7 default)";
}

Severity lost_severity(const CapturedItem& item) {
  return item.customised == "unknown" ? Severity::low : Severity::medium;
}

std::vector<std::string> apply_argv(const PostOptions& o) {
  std::vector<std::string> a = {"xsguard", "post", "--target-root", o.target_root};
  if (!o.from.empty()) a.insert(a.end(), {"--from", o.from});
  a.push_back("--apply");
  return a;
}

std::vector<Finding> post_findings(const PostOptions& o, const std::vector<Planned>& planned,
                                   const RcLocal& rc, const Inventory& inv, const RootedDir& target) {
  std::vector<Finding> fs;
  for (const auto& p : planned) {
    const auto& item = p.item;
    if (!p.plan.conflicts.empty()) {
      Finding f;
      f.id = "post.conflict";
      f.severity = Severity::medium;
      f.title = item.path + ": changed by the administrator and by the new release";
      f.summary = fmt::format("{} customised line(s) set something the new release's file sets "
                              "differently; they were not applied. Merge them by hand.",
                              p.plan.conflicts.size());
      auto& c = f.evidence["conflicts"] = Evidence::array();
      for (const auto& [mine, theirs] : p.plan.conflicts) c.push_back({{"captured", mine}, {"new_root", theirs}});
      f.evidence["basis"] = p.plan.basis;
      f.resources = {item.path};
      f.remediation.push_back(Remediation::hint("decide, for each line, which value the host needs, and edit " +
                                                item.path + " in the new root"));
      fs.push_back(std::move(f));
    }
    bool pending = p.plan.outcome == ItemPlan::Outcome::write && !p.written;
    if (p.plan.outcome != ItemPlan::Outcome::lost && !pending) continue;
    Finding f;
    f.id = "post.customisation_lost";
    f.severity = lost_severity(item);
    f.title = item.path + (pending ? ": customisation not yet put back" : ": customisation not in the new root");
    f.summary = p.plan.note + (item.captured && item.customised == "unknown"
                                   ? " (the old release's stock file is not known: this may be the "
                                     "release's own difference)"
                                   : "");
    f.evidence["path"] = item.path;
    f.evidence["customised"] = item.customised;
    f.evidence["carried_over"] = to_string(item.carried.verdict);
    f.evidence["carried_over_note"] = item.carried.note;
    const Lines& lines = pending ? p.plan.added : p.plan.missing;
    if (!lines.empty()) f.evidence["lines"] = Lines(lines.begin(), lines.begin() + std::min<size_t>(lines.size(), 50));
    f.resources = {item.path};
    if (pending)
      f.remediation.push_back(Remediation::command("put it back (the diff is shown above)", apply_argv(o)));
    else if (item.captured)
      f.remediation.push_back(Remediation::hint("the capture holds the old file (" + item.archived +
                                                "): re-apply by hand what is still wanted"));
    else
      f.remediation.push_back(Remediation::hint(
          "it is not in the capture: copy it by hand from the old root (after an upgrade, the "
          "backup partition holds it)"));
    fs.push_back(std::move(f));
  }
  if (inv.xapi.is_object() && inv.xapi.value("status", "") == "captured" &&
      target.type_of("var/lib/xcp/state.db") != S_IFREG) {
    Finding f;
    f.id = "post.customisation_lost";
    f.severity = Severity::low;
    f.title = "xapi settings: the target has no pool database";
    f.summary = "An upgrade restores var/lib/xcp/state.db (management interface, bonds, VLANs, "
                "storage connections, other-config); if this root is a clean install, recreate "
                "them after joining the pool, from the capture's inventory.";
    f.evidence["path"] = "var/lib/xcp/state.db";
    f.resources = {"var/lib/xcp/state.db"};
    f.remediation.push_back(Remediation::hint("read the xapi section of inventory.txt in the capture"));
    fs.push_back(std::move(f));
  }
  if (rc.exists && !rc.will_run) {
    Finding f;
    f.id = "post.rc_local_disabled";
    f.severity = rc.custom ? Severity::medium : Severity::low;
    f.title = rc.custom ? "rc.local has commands that will not run at boot" : "rc.local will not run at boot";
    f.summary = rc.how + ".";
    f.evidence["path"] = kRcLocal;
    f.evidence["executable"] = rc.executable || rc.chmodded;
    f.evidence["systemd"] = rc.systemd;
    f.evidence["rc_local_service"] = rc.unit;
    f.evidence["rc_local_generator"] = rc.generator;
    f.resources = {kRcLocal};
    if (rc.chmod_needed && !rc.chmodded)
      f.remediation.push_back(Remediation::command("set the owner-execute bit on rc.local", apply_argv(o)));
    else
      f.remediation.push_back(Remediation::hint(
          "install rc-local.service (or a unit of your own that runs /etc/rc.d/rc.local) in the new root"));
    fs.push_back(std::move(f));
  }
  sort_findings(fs);
  return fs;
}

const char* outcome_name(const Planned& p) {
  switch (p.plan.outcome) {
    case ItemPlan::Outcome::in_place:
      return "in_place";
    case ItemPlan::Outcome::write:
      return p.written ? "written" : "to_write";
    case ItemPlan::Outcome::lost:
      return "lost";
  }
  return "";
}

}  // namespace

int run_post(const PostOptions& o, Io& io, std::ostream& out) {
  if (o.target_root.empty()) throw UsageError("give --target-root DIR");
  RootedDir target(o.target_root);
  if (target.type_of("etc") != S_IFDIR)
    throw InputError(o.target_root + ": no etc/ directory: not a root file system");

  Inventory inv;
  std::vector<Planned> planned;
  std::map<std::string, Planned*> pending;  // resolved target path -> its last planned write
  if (!o.from.empty()) {
    auto entries = read_capture(o.from);
    auto ij = entries.find("inventory.json");
    if (ij == entries.end()) throw InputError(o.from + ": not a capture xsguard wrote: no inventory.json");
    inv = inventory_from_json(ij->second.bytes);
    const std::string stamp = "added by xsguard post from the capture taken " + clean(inv.captured_at);
    planned.reserve(inv.items.size());
    for (const auto& item : inv.items) {
      const ItemSpec* spec = find_spec(item.id.c_str());
      if (!path_belongs(*spec, item.path))
        throw InputError(o.from + ": not a capture xsguard wrote: item " + clean(item.id) + " names " + clean(item.path));
      const std::string* bytes = nullptr;
      if (item.captured) {
        auto f = entries.find("files/" + item.path);
        if (f == entries.end() || sha256_hex(f->second.bytes.data(), f->second.bytes.size()) != item.sha256)
          throw InputError(o.from + ": files/" + clean(item.path) + " is missing or does not match its digest");
        bytes = &f->second.bytes;
      }
      FileRead t = target.read(item.path, kMaxTargetFile);
      // A file an earlier item already changes (two names for one file): merge into
      // that change, not into what is on the disk.
      auto pend = t.resolved.empty() ? pending.end() : pending.find(t.resolved);
      if (pend != pending.end()) {
        t.status = FileRead::Status::ok;
        t.bytes = pend->second->plan.new_bytes;
        t.mode = pend->second->plan.mode, t.uid = pend->second->plan.uid, t.gid = pend->second->plan.gid;
      }
      ItemPlan plan = plan_item(*spec, item, bytes, t, stamp);
      planned.push_back({spec, item, std::move(t), std::move(plan)});
      if (planned.back().plan.outcome == ItemPlan::Outcome::write) pending[planned.back().target.resolved] = &planned.back();
    }
  }
  RcLocal rc = assess_rc_local(target, pending);

  if (o.apply) {
    for (auto& p : planned) {
      if (p.plan.outcome != ItemPlan::Outcome::write) continue;
      // The file must still be what the plan was made on.
      FileRead now = target.read(p.item.path, kMaxTargetFile);
      bool same = p.plan.creates ? now.status == FileRead::Status::missing
                                 : now.status == FileRead::Status::ok && now.bytes == p.target.bytes;
      if (!same) throw RefusedError(p.item.path + " in the target changed while xsguard worked; run post again");
      target.write_file(io, p.item.path, p.plan.new_bytes, p.plan.mode, p.plan.uid, p.plan.gid);
      p.written = true;
    }
    if (rc.chmod_needed) {
      FileRead now = target.read(kRcLocal, kMaxTargetFile);
      target.set_mode(io, kRcLocal, now.mode | 0100);
      rc.chmodded = true;
    }
  }
  describe_rc_local(rc);

  Report report = new_report("post");
  report.findings = post_findings(o, planned, rc, inv, target);

  ordered_json section;
  section["target_root"] = o.target_root;
  section["capture"] = o.from;
  section["applied"] = o.apply;
  section["rc_local"] = {{"path", kRcLocal},         {"exists", rc.exists},
                         {"executable", rc.executable || rc.chmodded},
                         {"made_executable", rc.chmodded}, {"will_run", rc.will_run},
                         {"how", rc.how}};
  auto& items = section["items"] = ordered_json::array();
  for (const auto& p : planned) {
    if (!matters(p.item)) continue;
    ordered_json x;
    x["id"] = p.item.id;
    x["path"] = p.item.path;
    x["outcome"] = outcome_name(p);
    x["note"] = p.plan.note;
    x["basis"] = p.plan.basis;
    x["added"] = p.plan.added;
    x["missing"] = p.plan.missing;
    auto& c = x["conflicts"] = ordered_json::array();
    for (const auto& [mine, theirs] : p.plan.conflicts) c.push_back({{"captured", mine}, {"new_root", theirs}});
    x["diff"] = p.plan.diff;
    items.push_back(std::move(x));
  }

  if (o.json) {
    auto j = report_to_json(report);
    j["post"] = section;
    out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    out << "xsguard post " << (o.apply ? "(applied)" : "(dry run: nothing is written)") << " on "
        << o.target_root;
    if (!o.from.empty()) out << " from " << o.from << " (captured " << clean(inv.captured_at) << ")";
    out << "\n\n";
    size_t changes = 0;
    for (const auto& p : planned) {
      if (!matters(p.item)) continue;
      const char* verb = p.plan.outcome == ItemPlan::Outcome::write ? (p.written ? "WRITTEN" : "TO WRITE")
                         : p.plan.outcome == ItemPlan::Outcome::lost ? "LOST"
                         : !p.plan.conflicts.empty()                 ? "CONFLICT"
                                                                     : "ok";
      out << fmt::format("  {:8} {}: {}\n", verb, printable(p.item.path), printable(p.plan.note));
      if (p.plan.outcome != ItemPlan::Outcome::in_place || !p.plan.conflicts.empty())
        out << "           merge base: " << p.plan.basis << '\n';
      for (const auto& [mine, theirs] : p.plan.conflicts)
        out << "           captured: " << printable(mine) << "\n           new root: " << printable(theirs) << '\n';
      if (p.plan.outcome == ItemPlan::Outcome::write) ++changes;
      if (!p.plan.diff.empty() && p.plan.outcome != ItemPlan::Outcome::in_place) {
        for (const auto& l : split_lines(p.plan.diff)) out << "           " << printable(l) << '\n';
      }
    }
    out << "\n  rc.local: " << rc.how << (rc.chmodded ? " (owner-execute bit set now)" : "")
        << (rc.chmod_needed && !o.apply ? " (--apply sets the owner-execute bit)" : "") << "\n";
    if (!o.apply && (changes || rc.chmod_needed))
      out << "\nDry run: nothing was changed. Add --apply to write the changes above.\n";
    out << '\n';
    write_text(out, report);
  }
  out.flush();
  return exit_code_for(report.findings);
}

}  // namespace xsguard
