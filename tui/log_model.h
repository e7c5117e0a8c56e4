// What the menu knows about the installation in progress, built from the event stream
// `xsguard watch --json` writes (one JSON object a line): the tail of the log, where
// the progress bar is, the failures recognised so far, and a stall while it lasts.
// Pure: lines in, state out.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "model/finding.h"

namespace xsguard::tui {

struct LogLine {
  uint64_t line = 0;  // first line of the record in the log
  std::string text;
  bool error = false;    // ERROR/CRITICAL level or a failed command
  bool failure = false;  // a line a finding points at
};

struct InstallProgress {
  std::string phase;
  int phase_number = 0;
  std::string task;
  int task_number = 0, tasks_total = 0;
  int percent = -1;
  std::string restoring;
};

// A stall in progress (watch's log.stall evidence of the live silence).
struct LiveStall {
  bool active = false;
  int64_t silent_s = 0;
  std::string task;
  int percent = -1;
  bool measured = false;
  uint64_t copied = 0, total = 0;  // total 0: unknown
  bool estimate = false;
  int64_t rate_per_s = 0;
  int64_t eta_s = -1;
};

class LogModel {
 public:
  explicit LogModel(size_t max_lines = 4000) : max_lines_(max_lines) {}

  // One line of watch's JSON output, or {"event":"error","text":...} when the feed
  // itself failed (the log's directory does not exist). Returns false for lines it could not use (the
  // final report, which is not one line, or garbage).
  bool feed(const std::string& json_line);
  const std::deque<LogLine>& lines() const { return lines_; }
  const InstallProgress& progress() const { return progress_; }
  const LiveStall& stall() const { return stall_; }
  // Failures recognised in the log, in the order seen; log.stall is kept current.
  const std::vector<Finding>& findings() const { return findings_; }
  const std::string& file_state() const { return file_state_; }  // last file notice
  const std::string& error() const { return error_; }
  uint64_t records() const { return records_; }
  // Changes every time something visible changes (for redraw decisions).
  uint64_t version() const { return version_; }

 private:
  void add_line(LogLine l);
  void add_finding(Finding f);
  void update_stall(const nlohmann::ordered_json& silence);

  size_t max_lines_;
  std::deque<LogLine> lines_;
  InstallProgress progress_;
  LiveStall stall_;
  std::vector<Finding> findings_;
  std::vector<uint64_t> failure_lines_;
  std::string file_state_, error_;
  uint64_t records_ = 0;
  uint64_t version_ = 0;
};

}  // namespace xsguard::tui
