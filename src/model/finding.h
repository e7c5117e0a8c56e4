// Findings and the report every xsguard command produces. Pure data: rendering to
// JSON and text lives in src/report.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace xsguard {

enum class Severity { info, low, medium, high };
const char* to_string(Severity s);

struct Remediation {
  enum class Kind { hint, command };
  Kind kind;
  std::string text;               // hint: what to do; command: what the command does
  std::vector<std::string> argv;  // command only: exactly what to run

  static Remediation hint(std::string text) { return {Kind::hint, std::move(text), {}}; }
  static Remediation command(std::string text, std::vector<std::string> argv) {
    return {Kind::command, std::move(text), std::move(argv)};
  }
};

// Evidence is structured data a machine can match on; an ordered JSON object keeps
// the key order stable between runs and between the text and JSON renderings.
using Evidence = nlohmann::ordered_json;

struct Finding {
  std::string id;  // stable, dotted: "grub.embed"; automation matches on it
  Severity severity = Severity::info;
  bool inhibitor = false;  // the upgrade will fail or lose data
  std::string title;
  std::string summary;
  Evidence evidence = Evidence::object();
  std::vector<std::string> resources;  // disks, partitions, files it concerns
  std::vector<Remediation> remediation;
};

// Process exit codes, shared by every command (documented in README and --help).
enum ExitCode : int {
  kExitClean = 0,       // nothing above info
  kExitWarnings = 1,    // warnings, no inhibitor
  kExitInhibitor = 2,   // at least one inhibitor
  kExitRefused = 3,     // fix/restore: refused to change the disk (reason printed)
  kExitUsage = 64,      // bad command line
  kExitNoInput = 66,    // input missing or unreadable
  kExitInternal = 70,   // bug or unexpected system failure
};

int exit_code_for(const std::vector<Finding>& findings);

// Inhibitors first, then by severity (highest first), then by id; stable otherwise.
void sort_findings(std::vector<Finding>& findings);

}  // namespace xsguard
