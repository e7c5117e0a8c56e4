// The install log parser: bytes in (any split, any garbage), records, progress and
// findings out. Pure: no files, no clock; the follower and `watch --once` feed it.
//
// Fast path: the input is handled in blocks. One pass of the signature matcher over
// the block finds every candidate failure; lines are split with memchr and a record
// start is recognised by a few fixed byte positions, so ordinary lines cost a handful
// of comparisons and no allocation (the current record's strings are reused).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "log/known_failures.h"
#include "log/record.h"
#include "log/signatures.h"
#include "model/finding.h"

namespace xsguard::logwatch {

enum class BootMode { unknown, bios, uefi };

// Where the installer is, as its progress bar would show it.
struct Progress {
  uint64_t line = 0;          // record that changed it
  const char* what = "";      // what changed: "phase", "task", "packages", "restore"
  std::string phase;          // "Completing installation"
  int phase_number = 0;       // 1-based, 0 before the first phase
  std::string task;           // function name of the running task
  int task_index = -1;        // 0-based within the phase
  int tasks_total = 0;        // 0 when the phase's task count is not known
  int percent = -1;           // the bar, -1 unknown
  int yum_done = -1, yum_total = -1;
  std::string restoring;      // restore-list entry being copied ("/var/lib/xcp/blobs")
  std::string source_device;  // backup partition the installer mounted on upgrade-src-*
  int64_t task_started = -1;  // log time of the task's record
  uint64_t task_line = 0;
};

struct Notice {
  uint64_t line = 0;
  std::string kind;  // line_cut, no_newline, record_cut, restarted, waiting, opened, ...
  std::string text;
};

// A silence between two records, found from their timestamps.
struct Gap {
  uint64_t line_before = 0, line_after = 0;
  int64_t seconds = 0;
  std::string task, restoring;
  int task_index = -1, tasks_total = 0, percent = -1;
  int64_t task_running_s = -1;
};

class ParserSink {
 public:
  virtual ~ParserSink() = default;
  virtual void on_record(const Record& r) = 0;  // exactly once per record
  virtual void on_progress(const Progress&) {}
  virtual void on_finding(const Finding&) {}    // the first time an id is seen
  virtual void on_notice(const Notice&) {}
};

struct ParserOptions {
  size_t max_line = 64 * 1024;    // longer lines are cut (and a notice says so)
  size_t max_body = 256 * 1024;   // continuation bytes kept per record
  int64_t stall_after_s = 120;    // gaps at least this long are remembered
  BootMode boot_mode = BootMode::unknown;
};

// Tasks in the completion phase of an XenServer 7.x upgrade (the bar shows
// index * 100 / total for the task that starts): completeUpgrade is task index 16 of
// 22 under BIOS (72%), 16 of 21 under UEFI (76%); on 7.5/7.6 it moved to index 17.
int completion_tasks_total(BootMode mode);

class InstallLogParser {
 public:
  explicit InstallLogParser(ParserSink& sink, ParserOptions opts = {});

  void feed(const char* data, size_t n);
  void feed(const std::string& s) { feed(s.data(), s.size()); }
  // A record is complete only when the next one starts; follow mode calls flush()
  // when the file has been quiet for a moment, finish() at the end of input (which
  // also takes a last line without its newline).
  bool has_pending() const { return pending_ || carry_open_; }
  bool has_pending_record() const { return pending_; }
  void flush();
  void finish();
  // The file was truncated or replaced: line numbers start again at 1; progress and
  // findings are kept (it is the same installation).
  void restart(const std::string& why);

  const Progress& progress() const { return progress_; }
  const std::vector<Finding>& findings() const { return failures_.all(); }
  const std::vector<Gap>& gaps() const { return gaps_; }
  uint64_t lines() const { return line_no_; }
  uint64_t records() const { return records_; }
  int64_t last_epoch() const { return last_epoch_; }
  uint64_t last_record_line() const { return last_record_line_; }
  bool failed() const { return failed_; }

 private:
  void process_block(const char* b, const char* e);
  void finish_carry();
  void on_line(const char* s, size_t len, size_t orig_len, const Match* m, size_t nm,
               const char* base);
  void finalize();
  void classify();
  void update_progress();
  void handle_hits();
  void emit_install_failed();
  void notice(uint64_t line, const char* kind, std::string text);
  FailureContext context() const;

  ParserSink& sink_;
  ParserOptions opts_;
  uint64_t line_no_ = 0;
  uint64_t records_ = 0;
  bool pending_ = false;
  Record rec_;
  std::vector<Hit> hits_;  // hits in the pending record
  std::vector<Match> matches_;
  std::string carry_;      // a partial line waiting for its newline
  size_t carry_total_ = 0;
  bool carry_open_ = false;
  std::vector<Match> carry_matches_;

  Progress progress_;
  BootMode boot_mode_;
  KnownFailures failures_;
  std::string grub_disk_;
  ExceptionInfo exception_;
  bool have_exception_ = false;
  std::vector<Hit> failure_hits_;  // INSTALL FAILED / fatal exception, waiting
  int records_since_failure_ = 0;
  bool failed_ = false;
  int64_t last_epoch_ = -1;
  char last_time_[13] = {};
  int64_t last_hour_epoch_ = -1;
  uint64_t last_record_line_ = 0;
  std::vector<Gap> gaps_;
};

}  // namespace xsguard::logwatch
