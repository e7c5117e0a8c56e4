#include "tui/log_model.h"

#include <algorithm>

#include "log/known_failures.h"
#include "report/report.h"

namespace xsguard::tui {
namespace {

using Json = nlohmann::ordered_json;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t num(const Json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : fallback;
}

// "2017-06-21 14:02:11" -> "14:02:11": the date is the same all install long.
std::string clock_part(const std::string& time) {
  auto space = time.rfind(' ');
  return space == std::string::npos ? time : time.substr(space + 1);
}

std::string join_argv(const Json& argv) {
  std::string s;
  if (!argv.is_array()) return s;
  for (const auto& a : argv) {
    if (!a.is_string()) continue;
    if (!s.empty()) s += ' ';
    s += a.get<std::string>();
  }
  return s;
}

// Lines a finding's evidence points at ("line": N or "lines": [N, ...]).
std::vector<uint64_t> evidence_lines(const Json& evidence) {
  std::vector<uint64_t> out;
  if (!evidence.is_object()) return out;
  auto add = [&](const Json& n) {
    if (n.is_number_integer() && n.get<int64_t>() > 0) out.push_back(n.get<uint64_t>());
  };
  auto line = evidence.find("line");
  if (line != evidence.end()) add(*line);
  auto lines = evidence.find("lines");
  if (lines != evidence.end() && lines->is_array())
    for (const auto& l : *lines) add(l);
  return out;
}

}  // namespace

bool LogModel::feed(const std::string& json_line) {
  Json j = Json::parse(json_line, nullptr, false);
  if (j.is_discarded()) {
    // Not valid UTF-8 somewhere: the line is still worth showing, with '?' for the
    // bytes outside ASCII (the screen shows no more than that anyway).
    std::string ascii = json_line;
    for (auto& c : ascii)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    j = Json::parse(ascii, nullptr, false);
  }
  if (!j.is_object()) return false;
  const std::string event = str(j, "event");
  const uint64_t line = uint64_t(std::max<int64_t>(0, num(j, "line", 0)));
  if (event == "record") {
    ++records_;
    const std::string level = str(j, "level");
    const bool error = level == "ERROR" || level == "CRITICAL";
    add_line({line, clock_part(str(j, "time")) + " " + str(j, "message"), error, false});
    auto cont = j.find("continuation");
    if (cont != j.end() && cont->is_array()) {
      uint64_t n = line;
      for (const auto& c : *cont)
        if (c.is_string()) add_line({++n, "  " + c.get<std::string>(), error, false});
    }
  } else if (event == "command") {
    ++records_;
    const int64_t rc = num(j, "rc", 0);
    add_line({line, clock_part(str(j, "time")) + " ran " + join_argv(j["argv"]) + "; rc " +
                        std::to_string(rc), rc != 0, false});
    if (rc != 0) {
      // A failed command's output is where its error message is. The log writes each
      // non-empty stream under a header line ("STANDARD ERROR:"), which counts.
      uint64_t n = line;
      for (const char* stream : {"stdout", "stderr"}) {
        const std::string text = str(j, stream);
        if (text.empty()) continue;
        ++n;
        size_t start = 0;
        while (start < text.size()) {
          size_t end = text.find('\n', start);
          if (end == std::string::npos) end = text.size();
          if (end > start) add_line({++n, "  " + text.substr(start, end - start), true, false});
          start = end + 1;
        }
      }
    }
  } else if (event == "progress") {
    progress_.phase = str(j, "phase");
    progress_.phase_number = int(num(j, "phase_number", 0));
    progress_.task = str(j, "task");
    progress_.task_number = int(num(j, "task_number", 0));
    progress_.tasks_total = int(num(j, "tasks_total", 0));
    progress_.percent = int(num(j, "percent", -1));
    progress_.restoring = str(j, "restoring");
  } else if (event == "finding") {
    add_finding(finding_from_json(j["finding"]));
  } else if (event == "stall") {
    update_stall(j["silence"]);
    for (auto& f : findings_)
      if (f.id == "log.stall") f.title = str(j, "title");
  } else if (event == "notice") {
    const std::string kind = str(j, "kind");
    if (kind == "resumed") {
      // The stall is history now: the finding says so, the banner goes.
      for (auto& f : findings_)
        if (f.id == "log.stall" && stall_.active) {
          f.severity = Severity::info;
          f.title = "The installer went silent for " + logwatch::format_duration(stall_.silent_s) +
                    " during " + (stall_.task.empty() ? std::string("no task yet") : stall_.task);
        }
      stall_ = LiveStall{};
    }
    file_state_ = str(j, "text");
    add_line({0, "*** " + file_state_, false, false});
  } else if (event == "error") {
    error_ = str(j, "text");
  } else {
    return false;
  }
  ++version_;
  return true;
}

void LogModel::add_line(LogLine l) {
  if (std::find(failure_lines_.begin(), failure_lines_.end(), l.line) != failure_lines_.end() && l.line)
    l.failure = true;
  lines_.push_back(std::move(l));
  while (lines_.size() > max_lines_) lines_.pop_front();
}

void LogModel::add_finding(Finding f) {
  for (uint64_t n : evidence_lines(f.evidence)) {
    failure_lines_.push_back(n);
    for (auto& l : lines_)
      if (l.line == n) l.failure = true;
  }
  if (f.id == "log.stall") {
    auto silences = f.evidence.find("silences");
    if (silences != f.evidence.end() && silences->is_array() && !silences->empty())
      update_stall((*silences)[0]);
  }
  auto same = std::find_if(findings_.begin(), findings_.end(),
                           [&](const Finding& g) { return g.id == f.id; });
  if (same != findings_.end())
    *same = std::move(f);
  else
    findings_.push_back(std::move(f));
}

void LogModel::update_stall(const nlohmann::ordered_json& s) {
  if (!s.is_object()) return;
  auto live = s.find("live");
  stall_.active = live != s.end() && live->is_boolean() && live->get<bool>();
  stall_.silent_s = num(s, "silent_seconds", 0);
  stall_.task = str(s, "task");
  stall_.percent = int(num(s, "bar_percent", -1));
  auto blobs = s.find("blobs");
  stall_.measured = blobs != s.end() && blobs->is_object();
  if (stall_.measured) {
    stall_.copied = uint64_t(std::max<int64_t>(0, num(*blobs, "target_entries", 0)));
    stall_.total = uint64_t(std::max<int64_t>(0, num(*blobs, "source_entries", 0)));
    auto estimate = blobs->find("estimate");
    stall_.estimate = estimate != blobs->end() && estimate->is_boolean() && estimate->get<bool>();
    stall_.rate_per_s = num(*blobs, "rate_per_second", 0);
    stall_.eta_s = num(*blobs, "eta_seconds", -1);
  }
}

}  // namespace xsguard::tui
