// The report document shared by every command: JSON for machines, text for people,
// the same content.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "model/finding.h"

namespace xsguard {

inline constexpr const char* kReportSchema = "xsguard.report/1";

struct Report {
  std::string command;  // "check", "watch", ...
  std::string host;     // hostname, "" when unknown
  std::string generated;  // ISO 8601 UTC
  std::vector<Finding> findings;
  nlohmann::ordered_json disks = nlohmann::ordered_json::array();  // check only
};

// The current UTC time in a strftime format.
std::string utc_now(const char* strftime_format);

// Fills host and generated from the running system.
Report new_report(std::string command);

nlohmann::ordered_json finding_to_json(const Finding& f);
// The inverse, for findings that arrive as JSON (watch's event stream). Missing or
// mistyped fields take their defaults: the input is xsguard's own output.
Finding finding_from_json(const nlohmann::ordered_json& j);
nlohmann::ordered_json report_to_json(const Report& r);
void write_json(std::ostream& out, const Report& r);
void write_text(std::ostream& out, const Report& r);
// One finding as text, as the report shows it (also used for live events).
void write_finding_text(std::ostream& out, const Finding& f);

}  // namespace xsguard
