#include "log/install_log_parser.h"

#include <algorithm>
#include <cstring>

namespace xsguard::logwatch {

namespace {

constexpr size_t kHitText = 300;  // bytes of a matched line kept as evidence
constexpr size_t kMaxGaps = 20;

inline bool upper_or_space(char c) { return (c >= 'A' && c <= 'Z') || c == ' '; }

// "LEVEL    [YYYY-MM-DD HH:MM:SS] message": the level padded to nine columns, then
// the bracketed time. Checked at fixed positions, cheapest tests first.
inline bool is_header(const char* s, size_t len) {
  if (len < 30 || s[9] != '[' || s[29] != ']') return false;
  if (s[0] < 'A' || s[0] > 'Z') return false;
  if (s[14] != '-' || s[17] != '-' || s[20] != ' ' || s[23] != ':' || s[26] != ':') return false;
  for (int i = 1; i < 9; ++i)
    if (!upper_or_space(s[i])) return false;
  return true;
}

inline bool starts_with(const std::string& s, const char* p, size_t n) {
  return s.size() >= n && std::memcmp(s.data(), p, n) == 0;
}
#define STARTS(s, lit) starts_with(s, lit, sizeof(lit) - 1)

}  // namespace

int completion_tasks_total(BootMode mode) { return mode == BootMode::uefi ? 21 : 22; }

InstallLogParser::InstallLogParser(ParserSink& sink, ParserOptions opts)
    : sink_(sink), opts_(opts), boot_mode_(opts.boot_mode) {
  if (opts_.max_line < 64) opts_.max_line = 64;
}

void InstallLogParser::notice(uint64_t line, const char* kind, std::string text) {
  Notice n;
  n.line = line;
  n.kind = kind;
  n.text = std::move(text);
  sink_.on_notice(n);
}

void InstallLogParser::feed(const char* p, size_t n) {
  const char* end = p + n;
  if (carry_open_) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    size_t take = nl ? size_t(nl - p) : n;
    size_t room = opts_.max_line > carry_.size() ? opts_.max_line - carry_.size() : 0;
    carry_.append(p, std::min(take, room));
    carry_total_ += take;
    if (!nl) return;
    finish_carry();
    p = nl + 1;
  }
  if (p >= end) return;
  const char* last_nl = static_cast<const char*>(memrchr(p, '\n', size_t(end - p)));
  if (last_nl) {
    // Very large inputs are handled in slices so match offsets stay 32-bit.
    const char* q = p;
    while (q <= last_nl) {
      const char* slice_end = last_nl + 1;
      if (size_t(slice_end - q) > (size_t(1) << 30)) {
        const char* cut = static_cast<const char*>(memrchr(q, '\n', size_t(1) << 30));
        if (cut) slice_end = cut + 1;
        else slice_end = static_cast<const char*>(std::memchr(q + (size_t(1) << 30), '\n', size_t(last_nl - q))) + 1;
      }
      process_block(q, slice_end);
      q = slice_end;
    }
    p = last_nl + 1;
  }
  if (p < end) {
    carry_open_ = true;
    size_t take = size_t(end - p);
    carry_.assign(p, std::min(take, opts_.max_line));
    carry_total_ = take;
  }
}

void InstallLogParser::finish_carry() {
  carry_matches_.clear();
  signature_matcher().scan(carry_.data(), carry_.size(), carry_matches_);
  carry_open_ = false;
  on_line(carry_.data(), carry_.size(), carry_total_, carry_matches_.data(),
          carry_matches_.size(), carry_.data());
  carry_.clear();
  carry_total_ = 0;
}

void InstallLogParser::process_block(const char* b, const char* e) {
  matches_.clear();
  signature_matcher().scan(b, size_t(e - b), matches_);
  size_t mi = 0;
  const char* ls = b;
  while (ls < e) {
    const char* nl = static_cast<const char*>(std::memchr(ls, '\n', size_t(e - ls)));
    if (!nl) nl = e;  // cannot happen: e ends with a newline
    size_t len = size_t(nl - ls);
    size_t keep = std::min(len, opts_.max_line);
    size_t off_begin = size_t(ls - b), off_end = off_begin + keep;
    while (mi < matches_.size() && matches_[mi].offset < off_begin) ++mi;
    size_t mj = mi;
    while (mj < matches_.size() && matches_[mj].offset < off_end) ++mj;
    on_line(ls, keep, len, matches_.data() + mi, mj - mi, b);
    mi = mj;
    ls = nl + 1;
  }
}

void InstallLogParser::on_line(const char* s, size_t len, size_t orig_len, const Match* m,
                               size_t nm, const char* base) {
  ++line_no_;
  bool cut = orig_len > len;
  if (len && s[len - 1] == '\r') --len;  // CRLF
  if (cut)
    notice(line_no_, "line_cut",
           "line " + std::to_string(line_no_) + " is " + std::to_string(orig_len) +
               " bytes long; kept the first " + std::to_string(len));
  bool header = is_header(s, len);
  if (header) {
    finalize();
    pending_ = true;
    rec_.clear();
    rec_.first_line = rec_.last_line = line_no_;
    size_t lv = 9;
    while (lv && s[lv - 1] == ' ') --lv;
    rec_.level.assign(s, lv);
    rec_.time.assign(s + 10, 19);
    // Many records share a second: parse the time only when it changes.
    // Many records share the date and hour: parse those only when they change.
    if (std::memcmp(last_time_, s + 10, 13) != 0) {
      std::memcpy(last_time_, s + 10, 13);
      last_hour_epoch_ = parse_log_time(rec_.time.substr(0, 13) + ":00:00");
    }
    rec_.epoch = -1;
    if (last_hour_epoch_ >= 0) {
      const char* mm = s + 24;  // "MM:SS" after "YYYY-MM-DD HH:"
      if (mm[0] >= '0' && mm[0] <= '5' && mm[1] >= '0' && mm[1] <= '9' && mm[3] >= '0' &&
          mm[3] <= '6' && mm[4] >= '0' && mm[4] <= '9')
        rec_.epoch = last_hour_epoch_ + ((mm[0] - '0') * 10 + (mm[1] - '0')) * 60 +
                     (mm[3] - '0') * 10 + (mm[4] - '0');
    }
    if (len > 31)
      rec_.message.assign(s + 31, len - 31);
    else if (len > 30)
      rec_.message.assign(s + 30, len - 30);
    rec_.cut = cut;
  } else {
    if (!pending_) {
      pending_ = true;
      rec_.clear();
      rec_.kind = RecordKind::orphan;
      rec_.first_line = line_no_;
      rec_.message.assign(s, len);
      rec_.last_line = line_no_;
      rec_.cut = cut;
    } else {
      rec_.last_line = line_no_;
      rec_.cut |= cut;
      if (rec_.body.size() + len + 1 <= opts_.max_body) {
        if (rec_.body_lines) rec_.body += '\n';
        rec_.body.append(s, len);
        ++rec_.body_lines;
      } else {
        if (!rec_.dropped_lines)
          notice(line_no_, "record_cut",
                 "record at line " + std::to_string(rec_.first_line) + " is longer than " +
                     std::to_string(opts_.max_body) + " bytes; later lines are not kept");
        ++rec_.dropped_lines;
      }
    }
  }
  (void)base;
  for (size_t i = 0; i < nm; ++i) {
    Sig sig = signatures()[m[i].pattern].sig;
    // One hit per signature kind per line.
    bool dup = false;
    for (const auto& h : hits_)
      if (h.line == line_no_ && h.sig == sig) dup = true;
    if (dup) continue;
    // Evidence shows the message, without the level and time prefix.
    size_t from = header ? std::min<size_t>(len, 31) : 0;
    hits_.push_back({sig, line_no_, std::string(s + from, std::min(len - from, kHitText))});
  }
}

void InstallLogParser::classify() {
  const std::string& m = rec_.message;
  if (rec_.kind == RecordKind::orphan) return;
  if (m.size() < 4) return;
  switch (m[0]) {
    case 'r':
      if (STARTS(m, "ran ") && parse_command(m, rec_.body, rec_.command))
        rec_.kind = RecordKind::command;
      break;
    case 'T':
      if (STARTS(m, "TASK: Evaluating ")) {
        rec_.kind = RecordKind::task;
        task_name(m, rec_.name);
      }
      break;
    case 'D':
      if (STARTS(m, "DISPATCH: NEW PHASE: ")) {
        rec_.kind = RecordKind::phase;
        rec_.name = m.substr(21);
      }
      break;
    case 'Y':
      if (STARTS(m, "YUM: ") || STARTS(m, "YUM stderr:")) {
        rec_.kind = RecordKind::yum;
        // yum's progress column: "... 12/345" at the end of the line.
        size_t e = m.find_last_not_of(" \t");
        if (e == std::string::npos) break;
        size_t s = m.find_last_of(" \t", e);
        std::string tok = m.substr(s == std::string::npos ? 0 : s + 1, e - (s == std::string::npos ? 0 : s + 1) + 1);
        size_t slash = tok.find('/');
        if (slash != std::string::npos && slash > 0 && slash + 1 < tok.size() &&
            tok.find_first_not_of("0123456789/") == std::string::npos) {
          rec_.yum_done = std::atoi(tok.c_str());
          rec_.yum_total = std::atoi(tok.c_str() + slash + 1);
          if (rec_.yum_total <= 0 || rec_.yum_done > rec_.yum_total) rec_.yum_done = rec_.yum_total = -1;
        }
      }
      break;
    default: break;
  }
}

void InstallLogParser::update_progress() {
  bool changed = false;
  Progress& p = progress_;
  switch (rec_.kind) {
    case RecordKind::phase:
      p.phase = rec_.name;
      ++p.phase_number;
      p.task.clear();
      p.task_index = -1;
      p.task_started = -1;
      p.restoring.clear();
      p.yum_done = p.yum_total = -1;
      p.tasks_total = rec_.name.find("omplet") != std::string::npos
                          ? completion_tasks_total(boot_mode_)
                          : 0;
      p.percent = p.tasks_total ? 0 : -1;
      p.what = "phase";
      changed = true;
      break;
    case RecordKind::task:
      p.task = rec_.name;
      ++p.task_index;
      p.task_started = rec_.epoch;
      p.task_line = rec_.first_line;
      p.restoring.clear();
      if (p.tasks_total)
        p.percent = p.task_index < p.tasks_total ? p.task_index * 100 / p.tasks_total : -1;
      p.what = "task";
      changed = true;
      break;
    case RecordKind::yum:
      if (rec_.yum_total > 0) {
        int pct = rec_.yum_done * 100 / rec_.yum_total;
        if (pct != p.percent || p.yum_total != rec_.yum_total) changed = true;
        p.yum_done = rec_.yum_done;
        p.yum_total = rec_.yum_total;
        if (!p.tasks_total) p.percent = pct;
        p.what = "packages";
      }
      break;
    case RecordKind::command:
      if (!rec_.command.argv.empty()) {
        const auto& argv = rec_.command.argv;
        bool grub = false;
        for (const auto& a : argv) {
          if (a.find("grub-install") != std::string::npos || a.find("grub2-install") != std::string::npos)
            grub = true;
          if (a.find("efibootmgr") != std::string::npos && boot_mode_ == BootMode::unknown)
            boot_mode_ = BootMode::uefi;
        }
        // "mount -o ro /dev/sda2 /tmp/upgrade-src-XXXXXX": the restore's source.
        if (argv.size() >= 3 && (argv[0] == "mount" || argv[0] == "/bin/mount") &&
            argv.back().find("/upgrade-src-") != std::string::npos) {
          for (const auto& a : argv)
            if (a.compare(0, 5, "/dev/") == 0) p.source_device = a;
        }
        if (grub) {
          for (auto it = argv.rbegin(); it != argv.rend(); ++it)
            if (it->compare(0, 5, "/dev/") == 0) {
              grub_disk_ = *it;
              break;
            }
        }
      }
      break;
    case RecordKind::message:
      if (!rec_.message.empty() && rec_.message[0] == 'R' && STARTS(rec_.message, "Restoring /")) {
        p.restoring = rec_.message.substr(10);
        p.what = "restore";
        changed = true;
      }
      break;
    default: break;
  }
  if (changed) {
    p.line = rec_.first_line;
    sink_.on_progress(p);
  }
}

FailureContext InstallLogParser::context() const {
  FailureContext c;
  c.task = progress_.task;
  c.percent = progress_.percent;
  c.grub_disk = grub_disk_;
  if (have_exception_) {
    c.exception_type = exception_.type;
    c.exception_message = exception_.message;
    c.exception_line = exception_.line;
  }
  return c;
}

void InstallLogParser::emit_install_failed() {
  if (failure_hits_.empty()) return;
  if (const Finding* f = failures_.add_install_failed(failure_hits_, context())) sink_.on_finding(*f);
  failure_hits_.clear();
}

void InstallLogParser::handle_hits() {
  bool traceback = false;
  for (const auto& h : hits_) {
    switch (h.sig) {
      case Sig::install_failed:
      case Sig::fatal_exception:
        failed_ = true;
        failure_hits_.push_back(h);
        records_since_failure_ = 0;
        break;
      case Sig::traceback: traceback = true; break;
      default:
        if (const Finding* f = failures_.add(h, context())) sink_.on_finding(*f);
    }
  }
  if (traceback) {
    std::string text = rec_.message;
    if (!rec_.body.empty()) {
      text += '\n';
      text += rec_.body;
    }
    ExceptionInfo ex;
    if (parse_traceback(text, rec_.first_line, ex)) {
      exception_ = ex;
      have_exception_ = true;
      if (!failure_hits_.empty()) emit_install_failed();
    }
  }
}

void InstallLogParser::finalize() {
  if (!pending_) return;
  pending_ = false;
  ++records_;
  classify();
  if (rec_.epoch >= 0) {
    if (last_epoch_ >= 0 && rec_.epoch - last_epoch_ >= opts_.stall_after_s) {
      Gap g;
      g.line_before = last_record_line_;
      g.line_after = rec_.first_line;
      g.seconds = rec_.epoch - last_epoch_;
      g.task = progress_.task;
      g.restoring = progress_.restoring;
      g.task_index = progress_.task_index;
      g.tasks_total = progress_.tasks_total;
      g.percent = progress_.percent;
      if (progress_.task_started >= 0) g.task_running_s = rec_.epoch - progress_.task_started;
      gaps_.push_back(std::move(g));
      if (gaps_.size() > kMaxGaps) {
        auto smallest = std::min_element(gaps_.begin(), gaps_.end(), [](const Gap& a, const Gap& b) {
          return a.seconds < b.seconds;
        });
        gaps_.erase(smallest);
      }
    }
    last_epoch_ = rec_.epoch;
  }
  last_record_line_ = rec_.first_line;
  sink_.on_record(rec_);
  update_progress();
  if (!hits_.empty()) {
    handle_hits();
    hits_.clear();
  }
  // Give up waiting for the traceback a few records after INSTALL FAILED.
  if (!failure_hits_.empty() && ++records_since_failure_ > 4) emit_install_failed();
}

void InstallLogParser::flush() {
  finalize();
}

void InstallLogParser::finish() {
  if (carry_open_) {
    notice(line_no_ + 1, "no_newline",
           "the last line (" + std::to_string(line_no_ + 1) + ") has no newline: cut short?");
    finish_carry();
  }
  finalize();
  emit_install_failed();
}

void InstallLogParser::restart(const std::string& why) {
  if (carry_open_) finish_carry();
  finalize();
  emit_install_failed();
  notice(line_no_, "restarted", why);
  line_no_ = 0;
  last_record_line_ = 0;
}

}  // namespace xsguard::logwatch
