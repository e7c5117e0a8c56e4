#include "commands/watch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string_view>

#include "log/blob_meter.h"
#include "log/follower.h"
#include "log/install_log_parser.h"
#include "log/known_failures.h"
#include "log/signatures.h"
#include "log/stall_detector.h"
#include "model/errors.h"
#include "model/finding.h"
#include "report/report.h"

namespace xsguard {

using namespace logwatch;

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr int64_t kRecordGraceMs = 10;   // a quiet file closes the last record after this
constexpr size_t kOutFlush = 256 * 1024;

// Output buffer on a file descriptor: events are appended as bytes and written in
// large blocks (follow mode flushes whenever it has caught up with the file).
class Out {
 public:
  explicit Out(int fd) : fd_(fd) { buf_.reserve(kOutFlush + 65536); }
  ~Out() { flush(); }
  std::string& buf() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= kOutFlush) flush();
  }
  void flush() {
    size_t off = 0;
    while (off < buf_.size()) {
      ssize_t n = write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stdout gone: nothing sensible to do
      off += size_t(n);
    }
    buf_.clear();
  }

 private:
  int fd_;
  std::string buf_;
};

// Text for a terminal: control characters and invalid UTF-8 become '?', so a log
// with binary garbage cannot send escape sequences to the console.
// JSON: the same validation, with \u escapes and U+FFFD for invalid bytes.
inline bool plain(unsigned char c) { return c >= 0x20 && c < 0x7f; }

constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
inline uint64_t has_less(uint64_t w, uint8_t n) { return (w - kOnes * n) & ~w & kHighs; }
inline uint64_t has_byte(uint64_t w, uint8_t b) { return has_less(w ^ (kOnes * b), 1); }

// Length of the leading run of bytes that need no escaping: printable ASCII, and
// for JSON neither '"' nor '\\'. Eight bytes at a time (this is the hot loop of
// --once over a big log).
size_t plain_run(const char* p, size_t n, bool json) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    uint64_t bad = (w & kHighs) | has_less(w, 0x20) | has_byte(w, 0x7f);
    if (json) bad |= has_byte(w, '"') | has_byte(w, '\\');
    if (bad) break;
  }
  for (; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (!plain(c) || (json && (c == '"' || c == '\\'))) break;
  }
  return i;
}

size_t utf8_len(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (!len || len > n) return 0;
  for (size_t i = 1; i < len; ++i)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))) return 0;
  if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))) return 0;
  return len;
}

void append_text(std::string& out, const char* p, size_t n) {
  const auto* s = reinterpret_cast<const unsigned char*>(p);
  size_t i = 0;
  while (i < n) {
    size_t run = plain_run(p + i, n - i, false);
    out.append(p + i, run);
    i += run;
    if (i >= n) break;
    size_t l = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
    if (s[i] == '\t') {
      out += '\t';
      ++i;
    } else if (l) {
      out.append(p + i, l);
      i += l;
    } else {
      out += '?';
      ++i;
    }
  }
}
void append_text(std::string& out, const std::string& s) { append_text(out, s.data(), s.size()); }

void append_json_string(std::string& out, const char* p, size_t n) {
  const auto* s = reinterpret_cast<const unsigned char*>(p);
  out += '"';
  size_t i = 0;
  while (i < n) {
    size_t run = plain_run(p + i, n - i, true);
    out.append(p + i, run);
    i += run;
    if (i >= n) break;
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      out.append(esc, 6);
      ++i;
    } else {
      size_t l = utf8_len(s + i, n - i);
      if (l) {
        out.append(p + i, l);
        i += l;
      } else {
        out += "\\ufffd";
        ++i;
      }
    }
  }
  out += '"';
}
void append_json_string(std::string& out, const std::string& s) {
  append_json_string(out, s.data(), s.size());
}

void append_num(std::string& out, long long v) {
  char b[24];
  char* e = b + sizeof b;
  char* q = e;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    *--q = char('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--q = '-';
  out.append(q, size_t(e - q));
}

// Appends an argument as a shell word: as is when safe, else single-quoted.
void append_shell_word(std::string& out, const std::string& a) {
  static const auto kSafe = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[size_t(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     std::strchr("-_./=:,+@%^", c);
    t[0] = false;
    return t;
  }();
  bool safe = !a.empty();
  for (unsigned char c : a)
    if (!kSafe[c]) {
      safe = false;
      break;
    }
  if (safe) {
    out += a;
    return;
  }
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  q += "'";
  append_text(out, q);
}

// The last non-empty line of a text.
std::string_view last_line(const std::string& t) {
  size_t end = t.find_last_not_of("\n \t\r");
  if (end == std::string::npos) return {};
  size_t start = t.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return std::string_view(t).substr(start, end - start + 1);
}

void append_json_lines_array(std::string& out, const std::string& text) {
  out += '[';
  size_t pos = 0;
  bool first = true;
  while (pos <= text.size() && !text.empty()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl;
    if (!first) out += ',';
    first = false;
    append_json_string(out, text.data() + pos, end - pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  out += ']';
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

BootMode detect_boot_mode(const std::string& firmware) {
  if (firmware == "uefi") return BootMode::uefi;
  if (firmware == "bios") return BootMode::bios;
  struct stat st {};
  return stat("/sys/firmware/efi", &st) == 0 ? BootMode::uefi : BootMode::bios;
}

// Renders events (the pieces of the report format this command adds: records,
// progress, notices, stall measurements) and collects what the final report needs.
// Findings are rendered by src/report.
class Watcher : public ParserSink, public FollowHandler {
 public:
  Watcher(const WatchOptions& o, int out_fd, const Clock& clock, bool live)
      : o_(o), out_(out_fd), clock_(clock),
        parser_(*this, parser_options(o, live)),
        stall_(int64_t(o.stall_after) * 1000),
        meter_(o.target_root, o.source_root) {}

  static ParserOptions parser_options(const WatchOptions& o, bool live) {
    ParserOptions p;
    p.max_line = o.max_line;
    p.stall_after_s = o.stall_after;
    // The bar's task count depends on the firmware; only the live system can tell.
    p.boot_mode = !o.firmware.empty() || live ? detect_boot_mode(o.firmware) : BootMode::unknown;
    return p;
  }

  InstallLogParser& parser() { return parser_; }

  // --- ParserSink
  void on_record(const Record& r) override {
    std::string& b = out_.buf();
    if (o_.json)
      json_record(b, r);
    else
      text_record(b, r);
    out_.maybe_flush();
  }

  void on_progress(const Progress& p) override {
    if (!o_.json) return text_progress(p);
    std::string& b = out_.buf();
    // JSON lines by hand: one per task on a big log, nlohmann would dominate.
    b += "{\"event\":\"progress\",\"line\":";
    append_num(b, (long long)p.line);
    b += ",\"changed\":\"";
    b += p.what;
    b += "\",\"phase\":";
    append_json_string(b, p.phase);
    b += ",\"phase_number\":";
    append_num(b, p.phase_number);
    b += ",\"task\":";
    append_json_string(b, p.task);
    b += ",\"task_number\":";
    append_num(b, p.task_index + 1);
    b += ",\"tasks_total\":";
    append_num(b, p.tasks_total);
    b += ",\"percent\":";
    append_num(b, p.percent);
    if (p.yum_total > 0) {
      b += ",\"packages_done\":";
      append_num(b, p.yum_done);
      b += ",\"packages_total\":";
      append_num(b, p.yum_total);
    }
    if (!p.restoring.empty()) {
      b += ",\"restoring\":";
      append_json_string(b, p.restoring);
    }
    b += "}\n";
  }

  void text_progress(const Progress& p) {
    std::string& b = out_.buf();
    b += "   --- ";
    const char* what = p.what;
    if (what[0] == 'p' && what[1] == 'h') {  // phase
      b += "phase ";
      append_num(b, p.phase_number);
      b += ": ";
      append_text(b, p.phase);
    } else if (what[0] == 't') {  // task
      b += "task ";
      append_num(b, p.task_index + 1);
      if (p.tasks_total) {
        b += '/';
        append_num(b, p.tasks_total);
      }
      b += ' ';
      append_text(b, p.task);
    } else if (what[0] == 'p') {  // packages
      b += "packages ";
      append_num(b, p.yum_done);
      b += '/';
      append_num(b, p.yum_total);
    } else {
      b += "restoring ";
      append_text(b, p.restoring);
    }
    if (p.percent >= 0) {
      b += ": bar at ";
      append_num(b, p.percent);
      b += '%';
    }
    b += '\n';
  }

  void on_finding(const Finding& f) override {
    std::string& b = out_.buf();
    if (o_.json) {
      nlohmann::ordered_json j;
      j["event"] = "finding";
      j["finding"] = finding_to_json(f);
      b += dump(j);
      b += '\n';
    } else {
      std::ostringstream s;
      write_finding_text(s, f);
      b += "!!! ";
      b += s.str();
    }
    out_.maybe_flush();
  }

  void on_notice(const Notice& n) override {
    std::string& b = out_.buf();
    if (o_.json) {
      b += "{\"event\":\"notice\",\"kind\":";
      append_json_string(b, n.kind);
      b += ",\"line\":";
      append_num(b, (long long)n.line);
      b += ",\"text\":";
      append_json_string(b, n.text);
      b += "}\n";
    } else {
      b += "   *** ";
      append_text(b, n.text);
      b += '\n';
    }
  }

  // --- FollowHandler
  void on_data(const char* p, size_t n) override {
    int64_t now = clock_.monotonic_ms();
    last_data_ms_ = now;
    parser_.feed(p, n);
    // Any new complete line counts as life (a long command record grows by
    // continuation lines); a partial line does not.
    uint64_t lines = parser_.lines();
    if (lines != seen_lines_) {
      seen_lines_ = lines;
      int64_t silent_ms = stall_.silent_ms(now);
      if (stall_.activity(now)) stall_ended(silent_ms);
    }
  }

  void on_caught_up() override {
    if (!caught_up_once_ && parser_.records() + parser_.has_pending_record() > 0) {
      caught_up_once_ = true;
      // Started in the middle of a silence: count it from the last record's time.
      int64_t now = clock_.monotonic_ms();
      int64_t age = log_age_s();
      if (age > 0) stall_.activity(now - age * 1000);
    }
    out_.flush();
  }

  void on_file_event(const std::string& kind, const std::string& text) override {
    if (kind == "truncated" || kind == "replaced") {
      parser_.restart(text);  // emits the notice
    } else {
      Notice n;
      n.kind = kind;
      n.line = parser_.lines();
      n.text = text;
      on_notice(n);
    }
    out_.flush();
  }

  int64_t next_deadline_ms() override {
    int64_t d = stall_.next_deadline();
    if (parser_.has_pending_record()) d = std::min(d, last_data_ms_ + kRecordGraceMs);
    return d;
  }

  void on_deadline(int64_t now) override {
    if (parser_.has_pending_record() && now >= last_data_ms_ + kRecordGraceMs) parser_.flush();
    switch (stall_.poll(now)) {
      case StallDetector::Action::stalled: report_stall(now, true); break;
      case StallDetector::Action::refresh: report_stall(now, false); break;
      case StallDetector::Action::none: break;
    }
    out_.flush();
  }

  // --- the silence now
  int64_t log_age_s() const {
    int64_t last = parser_.last_epoch();
    if (last < 0) return -1;
    int64_t age = clock_.wall_s() - last;
    return age >= 0 && age < 7 * 86400 ? age : -1;
  }

  StallInfo current_stall(int64_t now, bool measure) {
    StallInfo s;
    s.live = true;
    s.silent_s = stall_.silent_ms(now) / 1000;
    const Progress& p = parser_.progress();
    s.last_line = parser_.last_record_line();
    s.task = p.task;
    s.task_index = p.task_index;
    s.tasks_total = p.tasks_total;
    s.percent = p.percent;
    s.restoring = p.restoring;
    if (p.task_started >= 0) {
      int64_t run = clock_.wall_s() - p.task_started;
      if (run >= 0 && run < 7 * 86400) s.task_running_s = run;
    }
    if (measure && (p.task == "completeUpgrade" || meter_.target_exists())) {
      // xsguard mounts the backup partition itself only while the installer is in
      // the restore (it has the partition mounted read-only then too).
      if (p.task == "completeUpgrade" && !p.source_device.empty())
        meter_.set_source_device(p.source_device);
      BlobMeasure m = meter_.tick(now);
      if (m.target_exists) {
        s.measured = true;
        s.target_entries = m.target_entries;
        s.source_known = m.source_known;
        s.source_entries = m.source_entries;
        s.estimate = m.estimate;
        s.rate_per_s = m.rate_per_s;
        s.eta_s = m.eta_s;
        s.target_dir = m.target_dir;
        s.source_dir = m.source_dir;
        s.source_mounted = m.source_mounted;
        s.source_note = m.note;
      }
      stall_.set_measuring(true);
    }
    return s;
  }

  void report_stall(int64_t now, bool first) {
    StallInfo s = current_stall(now, true);
    if (first) {
      live_stalls_.push_back(s);
      on_finding(make_stall_finding({s}));
    } else {
      if (!live_stalls_.empty()) live_stalls_.back() = s;
      stall_update(s);
    }
  }

  void stall_update(const StallInfo& s) {
    std::string& b = out_.buf();
    if (o_.json) {
      Finding f = make_stall_finding({s});
      nlohmann::ordered_json j;
      j["event"] = "stall";
      j["title"] = f.title;
      j["silence"] = f.evidence["silences"][0];
      b += dump(j);
      b += '\n';
      return;
    }
    b += "   ... silent " + format_duration(s.silent_s);
    if (!s.task.empty()) b += " in " + s.task;
    if (s.percent >= 0) b += " (bar at " + std::to_string(s.percent) + "%)";
    if (s.measured) {
      b += ": blobs " + std::to_string(s.target_entries);
      if (s.source_known) {
        b += "/" + std::to_string(s.source_entries);
        if (s.source_entries)
          b += " (" + std::to_string(std::min<uint64_t>(100, s.target_entries * 100 / s.source_entries)) + "%)";
      }
      if (s.estimate) b += " ~";
      b += ", " + std::to_string(int64_t(s.rate_per_s + 0.5)) + "/s";
      if (s.eta_s >= 0) b += ", about " + format_duration(s.eta_s) + " left";
    }
    b += '\n';
  }

  void stall_ended(int64_t silent_ms) {
    Notice n;
    n.kind = "resumed";
    n.line = parser_.lines();
    n.text = "the log moved again after " + format_duration(silent_ms / 1000) + " of silence";
    on_notice(n);
    if (!live_stalls_.empty()) {  // over: it is history now
      live_stalls_.back().live = false;
      live_stalls_.back().silent_s = silent_ms / 1000;
    }
    stall_.set_measuring(false);
    meter_.release();
  }

  // --once: a silence that is still going on when the file is read.
  void once_current_stall(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || parser_.failed() || parser_.progress().task.empty()) return;
    // Only a log of an installation running now: written to recently (mtime), and
    // its last record's own time close to this machine's clock (a day of slack for
    // time zones). A log copied from elsewhere, or kept from last year, is history.
    int64_t age = clock_.utc_s() - int64_t(st.st_mtime);
    if (age < o_.stall_after || age > 86400) return;
    int64_t last = parser_.last_epoch();
    if (last < 0 || std::llabs((long long)(clock_.wall_s() - last)) > 86400) return;
    int64_t now = clock_.monotonic_ms();
    stall_ = StallDetector(int64_t(o_.stall_after) * 1000);
    stall_.activity(now - age * 1000);
    StallInfo s = current_stall(now, false);
    const Progress& p = parser_.progress();
    if (p.task == "completeUpgrade" || meter_.target_exists()) {
      if (p.task == "completeUpgrade" && !p.source_device.empty())
        meter_.set_source_device(p.source_device);
      // One measurement, allowed a few seconds to read the trees exactly.
      BlobMeasure m;
      for (int i = 0; i < 30; ++i) {
        m = meter_.tick(clock_.monotonic_ms());
        if (!m.estimate) break;
      }
      if (m.target_exists) {
        s.measured = true;
        s.target_entries = m.target_entries;
        s.source_known = m.source_known;
        s.source_entries = m.source_entries;
        s.estimate = m.estimate;
        s.target_dir = m.target_dir;
        s.source_dir = m.source_dir;
        s.source_mounted = m.source_mounted;
        s.source_note = m.note;
      }
      meter_.release();
    }
    live_stalls_.push_back(s);
    on_finding(make_stall_finding({s}));
  }

  Report final_report() {
    Report r = new_report("watch");
    r.findings = parser_.findings();
    std::vector<StallInfo> stalls = live_stalls_;
    for (const auto& g : parser_.gaps()) {
      bool seen_live = false;
      for (const auto& l : live_stalls_) seen_live |= l.last_line == g.line_before;
      if (seen_live) continue;  // already reported as it happened
      StallInfo s;
      s.silent_s = g.seconds;
      s.last_line = g.line_before;
      s.next_line = g.line_after;
      s.task = g.task;
      s.task_index = g.task_index;
      s.tasks_total = g.tasks_total;
      s.percent = g.percent;
      s.restoring = g.restoring;
      s.task_running_s = g.task_running_s;
      stalls.push_back(s);
    }
    if (!stalls.empty()) r.findings.push_back(make_stall_finding(stalls));
    sort_findings(r.findings);
    return r;
  }

  void write_report(const Report& r) {
    std::ostringstream s;
    if (o_.json)
      write_json(s, r);
    else {
      s << '\n';
      write_text(s, r);
    }
    out_.buf() += s.str();
    out_.flush();
  }

 private:
  // One line per record: "  LINE HH:MM:SS [LEVEL] message (+N lines)". A command
  // shows its argv and rc, and for a failure the last line of its stderr.
  void text_record(std::string& b, const Record& r) {
    // "  LINE HH:MM:SS " composed in place, one append.
    char head[48];
    char* e = head + 32;
    char* q = e;
    uint64_t line = r.first_line;
    *--q = ' ';
    do {
      *--q = char('0' + line % 10);
      line /= 10;
    } while (line && q > head);
    while (e - q < 7) *--q = ' ';
    char* w = e;
    if (r.kind == RecordKind::orphan) {
      std::memcpy(w, "?        ", 9);
      w += 9;
    } else if (r.time.size() >= 19) {
      std::memcpy(w, r.time.data() + 11, 8);
      w[8] = ' ';
      w += 9;
    }
    b.append(q, size_t(w - q));
    if (r.kind != RecordKind::orphan &&
        !(r.level.size() == 4 && std::memcmp(r.level.data(), "INFO", 4) == 0)) {
      append_text(b, r.level);
      b += ' ';
    }
    uint64_t extra = r.last_line - r.first_line;
    if (r.kind == RecordKind::command) {
      b += '$';
      for (const auto& a : r.command.argv) {
        b += ' ';
        append_shell_word(b, a);
      }
      b += "  [rc ";
      append_num(b, r.command.rc);
      b += ']';
      if (r.command.rc != 0) {
        std::string_view why = last_line(r.command.err);
        if (why.empty()) why = last_line(r.command.out);
        if (!why.empty()) {
          b += ": ";
          append_text(b, why.data(), why.size());
        }
      }
    } else {
      append_text(b, r.message);
    }
    if (extra) {
      b += " (+";
      append_num(b, (long long)extra);
      b += extra == 1 ? " line)" : " lines)";
    }
    if (r.cut) b += " [cut]";
    b += '\n';
  }

  void json_record(std::string& b, const Record& r) {
    bool cmd = r.kind == RecordKind::command;
    b += cmd ? "{\"event\":\"command\",\"line\":" : "{\"event\":\"record\",\"line\":";
    append_num(b, (long long)r.first_line);
    b += ",\"last_line\":";
    append_num(b, (long long)r.last_line);
    b += ",\"level\":";
    append_json_string(b, r.level);
    b += ",\"time\":";
    append_json_string(b, r.time);
    if (cmd) {
      b += ",\"argv\":[";
      for (size_t i = 0; i < r.command.argv.size(); ++i) {
        if (i) b += ',';
        append_json_string(b, r.command.argv[i]);
      }
      b += "],\"rc\":";
      append_num(b, r.command.rc);
      b += ",\"stdout\":";
      append_json_string(b, r.command.out);
      b += ",\"stderr\":";
      append_json_string(b, r.command.err);
    } else {
      b += ",\"kind\":\"";
      b += to_string(r.kind);
      b += "\",\"message\":";
      append_json_string(b, r.message);
      if (!r.name.empty()) {
        b += ",\"name\":";
        append_json_string(b, r.name);
      }
      b += ",\"continuation\":";
      append_json_lines_array(b, r.body);
    }
    if (r.cut) b += ",\"cut\":true";
    if (r.dropped_lines) {
      b += ",\"dropped_lines\":";
      append_num(b, r.dropped_lines);
    }
    b += "}\n";
  }

  const WatchOptions& o_;
  Out out_;
  const Clock& clock_;
  InstallLogParser parser_;
  StallDetector stall_;
  BlobMeter meter_;
  std::vector<StallInfo> live_stalls_;
  int64_t last_data_ms_ = 0;
  uint64_t seen_lines_ = 0;
  bool caught_up_once_ = false;
};

void validate(const WatchOptions& o) {
  if (o.stall_after < 1) throw UsageError("--stall-after must be at least 1 second");
  if (o.max_line < 64) throw UsageError("line limit must be at least 64 bytes");
}

int run_once(const WatchOptions& o, int out_fd, const Clock& clock) {
  int fd = open(o.log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError("cannot read " + o.log + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    close(fd);
    throw InputError("cannot read " + o.log + ": " + (S_ISDIR(st.st_mode) ? "is a directory" : std::strerror(errno)));
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Watcher s(o, out_fd, clock, false);
  // read(), not mmap: a log truncated under a mapping would raise SIGBUS.
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      throw InputError("cannot read " + o.log + ": " + std::strerror(e));
    }
    if (n == 0) break;
    s.parser().feed(buf.data(), size_t(n));
  }
  close(fd);
  s.parser().finish();
  s.once_current_stall(o.log);
  Report r = s.final_report();
  s.write_report(r);
  return exit_code_for(r.findings);
}

}  // namespace

std::string signature_list() {
  std::string s;
  for (const auto& sig : signatures()) {
    s += sig.text;
    s += '\n';
  }
  return s;
}

int run_watch_follow(const WatchOptions& o, int out_fd, const Clock& clock, int stop_fd) {
  validate(o);
  Watcher s(o, out_fd, clock, true);
  Follower f(o.log, clock, s);
  f.run(stop_fd);
  s.parser().finish();
  Report r = s.final_report();
  s.write_report(r);
  return exit_code_for(r.findings);
}

int run_watch(const WatchOptions& o, int out_fd, const Clock& clock) {
  validate(o);
  if (o.once) return run_once(o, out_fd, clock);
  // SIGINT/SIGTERM end follow mode through a signalfd: the final report is printed.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{sfd};
  return run_watch_follow(o, out_fd, clock, sfd);
}

}  // namespace xsguard
