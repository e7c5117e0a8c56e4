#include "commands/capture.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <ctime>
#include <ostream>
#include <sstream>

#include "capture/archive.h"
#include "capture/collect.h"
#include "model/errors.h"
#include "report/report.h"

namespace xsguard {

using namespace capture;

namespace {

std::vector<Finding> capture_findings(const Inventory& inv, const CaptureOptions& o) {
  std::vector<Finding> fs;
  for (const auto& it : inv.items) {
    if (it.captured || it.skipped_why.rfind("a symlink", 0) == 0) continue;
    Finding f;
    f.id = "capture.skipped";
    f.severity = Severity::low;
    f.title = it.path + ": not captured";
    f.summary = it.skipped_why + ". Copy it by hand if it matters.";
    f.evidence["path"] = it.path;
    f.evidence["why"] = it.skipped_why;
    f.evidence["carried_over"] = to_string(it.carried.verdict);
    f.resources = {it.path};
    fs.push_back(std::move(f));
  }
  std::string xs = inv.xapi.value("status", "");
  if (xs == "unreadable") {
    Finding f;
    f.id = "capture.skipped";
    f.severity = Severity::low;
    f.title = "xapi settings: not captured";
    f.summary = inv.xapi.value("why", "the database cannot be read") +
                ". Record the network and storage settings by hand (xe pif-list, bond-list, "
                "vlan-list, pbd-list params=all).";
    f.evidence["why"] = inv.xapi.value("why", "");
    fs.push_back(std::move(f));
  }
  std::vector<std::string> pending;
  for (const auto& it : inv.items)
    if (it.captured && matters(it) && it.carried.verdict != Carried::yes) pending.push_back(it.path);
  if (!pending.empty()) {
    Finding f;
    f.id = "capture.not_carried_over";
    f.severity = Severity::info;
    f.title = fmt::format("{} customised file(s) the upgrade does not carry over as they are", pending.size());
    f.summary = "They are in the capture. After the upgrade (or at its filesystem-populated "
                "stage), xsguard post puts back what it can and reports the rest.";
    f.evidence["paths"] = pending;
    f.evidence["capture"] = o.out;
    f.remediation.push_back(Remediation::command(
        "after the upgrade, bring the customisations back (dry run first, without --apply)",
        {"xsguard", "post", "--target-root", "/", "--from", o.out, "--apply"}));
    fs.push_back(std::move(f));
  }
  sort_findings(fs);
  return fs;
}

}  // namespace

int run_capture(const CaptureOptions& o, Io& io, std::ostream& out) {
  if (o.root.empty() || o.out.empty()) throw UsageError("give --root DIR and --out FILE");
  RootedDir root(o.root);
  if (root.type_of("etc") != S_IFDIR) throw InputError(o.root + ": no etc/ directory: not a root file system");

  Collected c = collect(root, utc_now("%Y-%m-%dT%H:%M:%SZ"));
  auto inv_json = inventory_to_json(c.inventory);
  std::ostringstream inv_text;
  write_inventory_text(inv_text, c.inventory);

  const int64_t now = int64_t(std::time(nullptr));
  std::vector<ArchivedFile> entries;
  entries.push_back({"inventory.json",
                     inv_json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", 0644, 0, 0, now});
  entries.push_back({"inventory.txt", inv_text.str(), 0644, 0, 0, now});
  for (auto& f : c.files) entries.push_back(std::move(f));
  write_capture(io, o.out, entries);

  Report report = new_report("capture");
  report.findings = capture_findings(c.inventory, o);
  if (o.json) {
    auto j = report_to_json(report);
    j["capture"] = {{"file", o.out}, {"entries", entries.size()}, {"inventory", inv_json}};
    out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    out << inv_text.str() << '\n';
    out << fmt::format("Capture written: {} ({} entries: the inventory and {} files)\n\n", o.out,
                       entries.size(), entries.size() - 2);
    write_text(out, report);
  }
  out.flush();
  return exit_code_for(report.findings);
}

}  // namespace xsguard
