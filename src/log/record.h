// One record of the host installer's log, as the parser hands it on.
//
// The installer writes each record with python logging's format
//   "%(levelname)- 9.9s[%(asctime)s] %(message)s", date "%Y-%m-%d %H:%M:%S"
// so a record starts with a line like "INFO     [2018-10-01 12:34:56] text": the level
// left-justified in nine columns, then the bracketed time, a space, the message. A
// message with newlines continues on lines without that prefix. A subprocess is one
// such record: "ran [argv as a python list]; rc N", then optional "STANDARD OUT:" and
// "STANDARD ERROR:" sections on the continuation lines.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xsguard::logwatch {

enum class RecordKind {
  message,  // any other record
  command,  // "ran [...]; rc N"
  task,     // "TASK: Evaluating <function X ...>"
  phase,    // "DISPATCH: NEW PHASE: name"
  yum,      // "YUM: ..." package progress
  orphan,   // continuation lines with no record before them (start of file, garbage)
};
const char* to_string(RecordKind k);

struct Command {
  std::vector<std::string> argv;
  int rc = 0;
  std::string out, err;  // without the section headers
};

struct Record {
  uint64_t first_line = 0, last_line = 0;  // 1-based line numbers in the log
  std::string level;                       // "INFO", "CRITICAL"; "" for orphan lines
  std::string time;                        // as written: "2018-10-01 12:34:56"
  int64_t epoch = -1;                      // time as seconds (log-local), -1 unknown
  std::string message;                     // first line's message
  std::string body;                        // continuation lines, joined by '\n'
  uint32_t body_lines = 0;                 // continuation lines kept in body
  uint32_t dropped_lines = 0;              // continuation lines dropped (record too big)
  bool cut = false;                        // a line of it was longer than the limit
  RecordKind kind = RecordKind::message;
  std::string name;  // task: function name; phase: phase name
  Command command;   // kind == command
  int yum_done = -1, yum_total = -1;  // kind == yum, when the line carries "N/M"

  void clear();
};

// "2018-10-01 12:34:56" (19 chars) -> seconds, as if UTC; -1 when malformed.
int64_t parse_log_time(std::string_view s);

// Parses the repr of a python list of strings, "['cp', '-a', 'x']": handles both quote
// styles, u'' prefixes and backslash escapes. Non-string items are kept as written.
// Returns false (and what it could read) when the text is not a complete list.
bool parse_python_list(std::string_view text, std::vector<std::string>& out);

// "ran [...]; rc N" with the continuation body -> command. False if not a command line.
bool parse_command(std::string_view message, std::string_view body, Command& out);

// "TASK: Evaluating <function completeUpgrade at 0x..>[...]" or a bound method
// "<bound method ThirdGenUpgrader.completeUpgrade of <...>>" -> "completeUpgrade".
std::string task_name(std::string_view message);
void task_name(std::string_view message, std::string& out);

}  // namespace xsguard::logwatch
