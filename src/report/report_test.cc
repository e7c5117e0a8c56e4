#include "report/report.h"

#include <doctest/doctest.h>

#include <sstream>

using namespace xsguard;

namespace {

Report sample() {
  Report r;
  r.command = "check";
  r.host = "xs01";
  r.generated = "2026-01-01T00:00:00Z";
  Finding f;
  f.id = "grub.embed";
  f.severity = Severity::high;
  f.inhibitor = true;
  f.title = "grub-install will fail";
  f.summary = "why";
  f.evidence["gap_sectors"] = 62;
  f.evidence["grub_message"] = "your core.img is unusually large.";
  f.evidence["nested"]["deep"] = "value";
  f.resources = {"/dev/sda", "/dev/sda1"};
  f.remediation.push_back(Remediation::hint("delete it"));
  f.remediation.push_back(Remediation::command("delete entry", {"sfdisk", "--delete", "/dev/sda", "1"}));
  r.findings.push_back(f);
  return r;
}

}  // namespace

TEST_CASE("JSON report carries the schema and every finding field") {
  auto j = report_to_json(sample());
  CHECK(j["schema"] == kReportSchema);
  CHECK(j["host"] == "xs01");
  const auto& f = j["findings"][0];
  CHECK(f["id"] == "grub.embed");
  CHECK(f["severity"] == "high");
  CHECK(f["inhibitor"] == true);
  CHECK(f["evidence"]["gap_sectors"] == 62);
  CHECK(f["resources"].size() == 2);
  CHECK(f["remediation"][0]["type"] == "hint");
  CHECK(f["remediation"][1]["type"] == "command");
  CHECK(f["remediation"][1]["argv"][1] == "--delete");
  CHECK(j["disks"].is_array());
}

TEST_CASE("text report says the same things as the JSON") {
  std::ostringstream out;
  write_text(out, sample());
  std::string t = out.str();
  for (const char* s : {"grub.embed", "INHIBITOR high", "grub-install will fail", "why",
                        "/dev/sda1", "gap_sectors: 62", "your core.img is unusually large.",
                        "deep: value", "Hint: delete it", "sfdisk --delete /dev/sda 1"})
    CHECK_MESSAGE(t.find(s) != std::string::npos, s);
}

TEST_CASE("invalid UTF-8 in evidence does not break the JSON writer") {
  Report r = sample();
  r.findings[0].evidence["label"] = std::string("bad\xff\xfe");
  std::ostringstream out;
  CHECK_NOTHROW(write_json(out, r));
  CHECK(out.str().find("\"label\"") != std::string::npos);
}

TEST_CASE("a finding survives the trip through JSON and back") {
  const Finding original = sample().findings[0];
  const Finding back = finding_from_json(finding_to_json(original));
  CHECK(finding_to_json(back) == finding_to_json(original));
  CHECK(back.severity == Severity::high);
  CHECK(back.inhibitor);
  REQUIRE(back.remediation.size() == 2);
  CHECK(back.remediation[1].argv.size() == 4);
}

TEST_CASE("finding_from_json takes defaults for missing or mistyped fields") {
  auto j = nlohmann::ordered_json::parse(
      R"({"id":"log.x","severity":"severe","inhibitor":"yes","resources":[1,"/dev/sda"],
          "remediation":[7,{"type":"command","text":"t","argv":["a",2]}]})");
  const Finding f = finding_from_json(j);
  CHECK(f.id == "log.x");
  CHECK(f.severity == Severity::info);
  CHECK_FALSE(f.inhibitor);
  CHECK(f.resources == std::vector<std::string>{"/dev/sda"});
  REQUIRE(f.remediation.size() == 1);
  CHECK(f.remediation[0].argv == std::vector<std::string>{"a"});
  CHECK(finding_from_json(nlohmann::ordered_json::array()).id.empty());
}
