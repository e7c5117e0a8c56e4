// Turns matched signatures into findings with the ids automation relies on:
// log.grub_embed, log.bootloader_failed, log.install_failed, log.not_upgradeable,
// log.scan_failed, log.boot_mode_mismatch, log.no_disks, log.ha_enabled,
// log.master_first, log.script_failed, log.no_space, log.stall.
// Repeated hits of one id merge into one finding that lists every line.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "log/signatures.h"
#include "model/finding.h"

namespace xsguard::logwatch {

struct Hit {
  Sig sig;
  uint64_t line;
  std::string text;  // the log line, cut to a few hundred bytes
};

// What the parser knew when the hit's record ended.
struct FailureContext {
  std::string task;          // running task, "" if none yet
  int percent = -1;          // the installer's bar, -1 unknown
  std::string grub_disk;     // last disk grub-install was run on
  std::string exception_type, exception_message;
  uint64_t exception_line = 0;
};

struct ExceptionInfo {
  std::string type, message;
  uint64_t line = 0;
};

// A python traceback inside a record's text (message + '\n' + body): the exception
// type and message from the line after the stack frames. False if none.
bool parse_traceback(const std::string& text, uint64_t first_line, ExceptionInfo& out);

class KnownFailures {
 public:
  // Records a hit. Returns the finding when its id is new (to show it now), else
  // nullptr after merging the hit into the finding already reported.
  const Finding* add(const Hit& hit, const FailureContext& ctx);
  // install_failed waits for the traceback that follows "INSTALL FAILED."; the
  // parser calls this when it has one or gives up waiting.
  const Finding* add_install_failed(const std::vector<Hit>& hits, const FailureContext& ctx);
  bool has(const std::string& id) const { return index_.count(id) != 0; }
  const std::vector<Finding>& all() const { return findings_; }
  void clear() {
    findings_.clear();
    index_.clear();
  }

 private:
  Finding* merge(const std::string& id, const Hit& hit);
  std::vector<Finding> findings_;
  std::map<std::string, size_t> index_;
};

const char* finding_id(Sig s);  // "" for markers that are not findings by themselves

// A silence in the log.
struct StallInfo {
  bool live = false;         // happening now (follow mode or a fresh file), not history
  int64_t silent_s = 0;      // seconds without a new record
  uint64_t last_line = 0;    // last record before the silence
  uint64_t next_line = 0;    // first record after it (history only)
  std::string task;          // task running during the silence
  int64_t task_running_s = -1;
  int task_index = -1, tasks_total = 0, percent = -1;
  std::string restoring;     // restore-list entry being copied, if any
  // Measured restore progress of TARGET/var/lib/xcp/blobs, when known.
  bool measured = false;
  uint64_t target_entries = 0, source_entries = 0;
  bool source_known = false, estimate = false;
  double rate_per_s = 0;
  int64_t eta_s = -1;
  std::string target_dir, source_dir;
  bool source_mounted = false;  // xsguard mounted the backup partition to count it
  std::string source_note;      // why the source count is missing
};

Finding make_stall_finding(const std::vector<StallInfo>& stalls);
std::string format_duration(int64_t seconds);  // "1h02m", "4m05s", "17s"

}  // namespace xsguard::logwatch
