#include "log/record.h"

#include <cstdlib>
#include <cstring>

namespace xsguard::logwatch {

const char* to_string(RecordKind k) {
  switch (k) {
    case RecordKind::message: return "message";
    case RecordKind::command: return "command";
    case RecordKind::task: return "task";
    case RecordKind::phase: return "phase";
    case RecordKind::yum: return "yum";
    case RecordKind::orphan: return "orphan";
  }
  return "message";
}

void Record::clear() {
  first_line = last_line = 0;
  level.clear();
  time.clear();
  epoch = -1;
  message.clear();
  body.clear();
  body_lines = dropped_lines = 0;
  cut = false;
  kind = RecordKind::message;
  name.clear();
  command.argv.clear();
  command.rc = 0;
  command.out.clear();
  command.err.clear();
  yum_done = yum_total = -1;
}

static bool digits(std::string_view s, size_t pos, size_t n, int& v) {
  v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

int64_t parse_log_time(std::string_view s) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
      s[16] != ':')
    return -1;
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) ||
      !digits(s, 11, 2, h) || !digits(s, 14, 2, mi) || !digits(s, 17, 2, se))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
  return days_from_civil(y, unsigned(mo), unsigned(d)) * 86400 + h * 3600 + mi * 60 + se;
}

bool parse_python_list(std::string_view t, std::vector<std::string>& out) {
  size_t i = 0, n = t.size();
  auto skip_ws = [&] {
    while (i < n && (t[i] == ' ' || t[i] == '\t')) ++i;
  };
  skip_ws();
  if (i >= n || t[i] != '[') return false;
  ++i;
  for (;;) {
    skip_ws();
    if (i >= n) return false;
    if (t[i] == ']') return true;
    std::string item;
    if (t[i] == 'u' || t[i] == 'b' || t[i] == 'r') {
      if (i + 1 < n && (t[i + 1] == '\'' || t[i + 1] == '"')) ++i;
    }
    if (t[i] == '\'' || t[i] == '"') {
      char q = t[i++];
      bool closed = false;
      // Fast path: no escapes before the closing quote.
      const char* b = t.data() + i;
      const char* qp = static_cast<const char*>(std::memchr(b, q, n - i));
      if (qp && !std::memchr(b, '\\', size_t(qp - b))) {
        item.assign(b, size_t(qp - b));
        i += size_t(qp - b) + 1;
        closed = true;
      }
      while (!closed && i < n) {
        char c = t[i++];
        if (c == q) {
          closed = true;
          break;
        }
        if (c != '\\' || i >= n) {
          item += c;
          continue;
        }
        char e = t[i++];
        switch (e) {
          case 'n': item += '\n'; break;
          case 't': item += '\t'; break;
          case 'r': item += '\r'; break;
          case '\\': item += '\\'; break;
          case '\'': item += '\''; break;
          case '"': item += '"'; break;
          case 'x':
            if (i + 2 <= n) {
              item += char(std::strtol(std::string(t.substr(i, 2)).c_str(), nullptr, 16));
              i += 2;
            }
            break;
          default: item += '\\'; item += e;
        }
      }
      out.push_back(std::move(item));
      if (!closed) return false;
    } else {
      size_t start = i;
      while (i < n && t[i] != ',' && t[i] != ']') ++i;
      std::string_view raw = t.substr(start, i - start);
      while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
      out.emplace_back(raw);
    }
    skip_ws();
    if (i < n && t[i] == ',') {
      ++i;
      continue;
    }
    if (i < n && t[i] == ']') return true;
    return false;
  }
}

bool parse_command(std::string_view message, std::string_view body, Command& out) {
  if (message.substr(0, 4) != "ran ") return false;
  size_t rc_at = message.rfind("; rc ");
  if (rc_at == std::string_view::npos) return false;
  std::string_view rc_text = message.substr(rc_at + 5);
  if (rc_text.empty()) return false;
  char* end = nullptr;
  std::string rc_str(rc_text);
  long rc = std::strtol(rc_str.c_str(), &end, 10);
  if (end == rc_str.c_str()) return false;
  out.rc = int(rc);
  out.argv.clear();
  if (!parse_python_list(message.substr(4, rc_at - 4), out.argv) && out.argv.empty())
    out.argv.emplace_back(message.substr(4, rc_at - 4));  // not a list: keep the text
  // Sections: "STANDARD OUT:" / "STANDARD ERROR:" lines switch the destination.
  std::string* dst = nullptr;
  size_t pos = 0;
  while (pos <= body.size() && !body.empty()) {
    size_t nl = body.find('\n', pos);
    std::string_view line = body.substr(pos, nl == std::string_view::npos ? body.npos : nl - pos);
    if (line == "STANDARD OUT:") {
      dst = &out.out;
    } else if (line == "STANDARD ERROR:") {
      dst = &out.err;
    } else {
      std::string& d = dst ? *dst : out.out;
      if (!d.empty()) d += '\n';
      d.append(line.data(), line.size());
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return true;
}

std::string task_name(std::string_view m) {
  std::string out;
  task_name(m, out);
  return out;
}

void task_name(std::string_view m, std::string& out) {
  out.clear();
  static constexpr std::string_view kPrefix = "TASK: Evaluating ";
  if (m.substr(0, kPrefix.size()) != kPrefix) return;
  m.remove_prefix(kPrefix.size());
  for (std::string_view p : {std::string_view("<function "), std::string_view("<bound method ")}) {
    if (m.substr(0, p.size()) == p) {
      m.remove_prefix(p.size());
      size_t end = 0;
      while (end < m.size() && m[end] != ' ' && m[end] != '>') ++end;
      std::string_view name = m.substr(0, end);
      size_t dot = name.rfind('.');
      if (dot != std::string_view::npos) name.remove_prefix(dot + 1);
      out.assign(name.data(), name.size());
      return;
    }
  }
  size_t end = m.find_first_of(" [(");
  std::string_view name = m.substr(0, end);
  out.assign(name.data(), name.size());
}

}  // namespace xsguard::logwatch
