#include "report/report.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <ostream>

namespace xsguard {

std::string utc_now(const char* strftime_format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, strftime_format, &tm);
  return buf;
}

Report new_report(std::string command) {
  Report r;
  r.command = std::move(command);
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) r.host = name;
  r.generated = utc_now("%Y-%m-%dT%H:%M:%SZ");
  return r;
}

nlohmann::ordered_json finding_to_json(const Finding& f) {
  nlohmann::ordered_json j;
  j["id"] = f.id;
  j["severity"] = to_string(f.severity);
  j["inhibitor"] = f.inhibitor;
  j["title"] = f.title;
  j["summary"] = f.summary;
  j["evidence"] = f.evidence;
  j["resources"] = f.resources;
  auto& rem = j["remediation"] = nlohmann::ordered_json::array();
  for (const auto& r : f.remediation) {
    nlohmann::ordered_json item;
    if (r.kind == Remediation::Kind::hint) {
      item["type"] = "hint";
      item["text"] = r.text;
    } else {
      item["type"] = "command";
      item["text"] = r.text;
      item["argv"] = r.argv;
    }
    rem.push_back(std::move(item));
  }
  return j;
}

static std::string string_field(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Finding finding_from_json(const nlohmann::ordered_json& j) {
  Finding f;
  if (!j.is_object()) return f;
  f.id = string_field(j, "id");
  const std::string severity = string_field(j, "severity");
  for (Severity s : {Severity::info, Severity::low, Severity::medium, Severity::high})
    if (severity == to_string(s)) f.severity = s;
  auto inhibitor = j.find("inhibitor");
  f.inhibitor = inhibitor != j.end() && inhibitor->is_boolean() && inhibitor->get<bool>();
  f.title = string_field(j, "title");
  f.summary = string_field(j, "summary");
  auto evidence = j.find("evidence");
  if (evidence != j.end() && evidence->is_object()) f.evidence = *evidence;
  auto resources = j.find("resources");
  if (resources != j.end() && resources->is_array())
    for (const auto& r : *resources)
      if (r.is_string()) f.resources.push_back(r.get<std::string>());
  auto remediation = j.find("remediation");
  if (remediation != j.end() && remediation->is_array())
    for (const auto& r : *remediation) {
      if (!r.is_object()) continue;
      if (string_field(r, "type") == "command") {
        std::vector<std::string> argv;
        auto a = r.find("argv");
        if (a != r.end() && a->is_array())
          for (const auto& w : *a)
            if (w.is_string()) argv.push_back(w.get<std::string>());
        f.remediation.push_back(Remediation::command(string_field(r, "text"), std::move(argv)));
      } else {
        f.remediation.push_back(Remediation::hint(string_field(r, "text")));
      }
    }
  return f;
}

nlohmann::ordered_json report_to_json(const Report& r) {
  nlohmann::ordered_json j;
  j["schema"] = kReportSchema;
  j["tool_version"] = XSGUARD_VERSION;
  j["command"] = r.command;
  j["generated"] = r.generated;
  j["host"] = r.host;
  auto& findings = j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : r.findings) findings.push_back(finding_to_json(f));
  j["disks"] = r.disks;
  return j;
}

void write_json(std::ostream& out, const Report& r) {
  // Replace, not throw, on invalid UTF-8 from disk labels or logs.
  out << report_to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

static std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789-_./=:,+@%") == std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

static std::string scalar_text(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

static void write_evidence(std::ostream& out, const nlohmann::ordered_json& v, int indent) {
  std::string pad(indent, ' ');
  for (auto it = v.begin(); it != v.end(); ++it) {
    const auto& value = it.value();
    if (value.is_object() && !value.empty()) {
      out << pad << it.key() << ":\n";
      write_evidence(out, value, indent + 2);
    } else if (value.is_array() && !value.empty() && value.front().is_object()) {
      out << pad << it.key() << ":\n";
      for (const auto& item : value) {
        out << pad << "  -\n";
        write_evidence(out, item, indent + 4);
      }
    } else {
      out << pad << it.key() << ": " << scalar_text(value) << '\n';
    }
  }
}

void write_finding_text(std::ostream& out, const Finding& f) {
  out << (f.inhibitor ? "[INHIBITOR " : "[") << to_string(f.severity) << "] " << f.id << ": "
      << f.title << '\n';
  if (!f.summary.empty()) out << "  " << f.summary << '\n';
  if (!f.resources.empty()) {
    out << "  Concerns:";
    for (const auto& r : f.resources) out << ' ' << r;
    out << '\n';
  }
  if (!f.evidence.empty()) {
    out << "  Evidence:\n";
    write_evidence(out, f.evidence, 4);
  }
  for (const auto& r : f.remediation) {
    if (r.kind == Remediation::Kind::hint) {
      out << "  Hint: " << r.text << '\n';
    } else {
      out << "  Fix: " << r.text << "\n    #";
      for (const auto& a : r.argv) out << ' ' << shell_quote(a);
      out << '\n';
    }
  }
}

void write_text(std::ostream& out, const Report& r) {
  int inhibitors = 0;
  for (const auto& f : r.findings) inhibitors += f.inhibitor;
  out << "xsguard " << r.command << ": " << r.findings.size() << " finding"
      << (r.findings.size() == 1 ? "" : "s") << ", " << inhibitors << " inhibitor"
      << (inhibitors == 1 ? "" : "s");
  if (!r.host.empty()) out << " on " << r.host;
  out << " at " << r.generated << "\n";
  for (const auto& f : r.findings) {
    out << '\n';
    write_finding_text(out, f);
  }
}

}  // namespace xsguard
