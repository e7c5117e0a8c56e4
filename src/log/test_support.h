// Test support for the log tests: a sink that keeps everything it is given, and
// a writer of records in the installer's exact format.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "log/install_log_parser.h"

namespace xsguard::logwatch::testing {

struct CollectingSink : ParserSink {
  std::vector<Record> records;
  std::vector<Progress> progress;
  std::vector<Finding> findings;
  std::vector<Notice> notices;
  void on_record(const Record& r) override { records.push_back(r); }
  void on_progress(const Progress& p) override { progress.push_back(p); }
  void on_finding(const Finding& f) override { findings.push_back(f); }
  void on_notice(const Notice& n) override { notices.push_back(n); }
  bool has_finding(const std::string& id) const {
    for (const auto& f : findings)
      if (f.id == id) return true;
    return false;
  }
  bool has_notice(const std::string& kind) const {
    for (const auto& n : notices)
      if (n.kind == kind) return true;
    return false;
  }
};

// "INFO     [2017-06-20 09:12:00] msg\n", seconds added to the base time.
inline std::string rec(const std::string& msg, int sec = 0, const char* level = "INFO") {
  char head[64];
  int h = 9 + sec / 3600, m = (sec / 60) % 60, s = sec % 60;
  std::snprintf(head, sizeof head, "%-9.9s[2017-06-20 %02d:%02d:%02d] ", level, h, m, s);
  return head + msg + "\n";
}

}  // namespace xsguard::logwatch::testing
