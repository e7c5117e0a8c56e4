#include "model/finding.h"

#include <algorithm>

namespace xsguard {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
  }
  return "info";
}

int exit_code_for(const std::vector<Finding>& findings) {
  int code = kExitClean;
  for (const auto& f : findings) {
    if (f.inhibitor) return kExitInhibitor;
    if (f.severity != Severity::info) code = kExitWarnings;
  }
  return code;
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.inhibitor != b.inhibitor) return a.inhibitor;
    if (a.severity != b.severity) return a.severity > b.severity;
    return a.id < b.id;
  });
}

}  // namespace xsguard
