#include "capture/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace xsguard::capture {

Lines split_lines(std::string_view text) {
  Lines out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    out.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string join_lines(const Lines& lines) {
  std::string s;
  for (const auto& l : lines) s += l + '\n';
  return s;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string normalize(std::string_view line) {
  std::string out;
  for (const auto& f : fields(line)) out += (out.empty() ? "" : " ") + f;
  return out;
}

bool is_comment_or_blank(std::string_view line) {
  std::string t = trim(line);
  return t.empty() || t[0] == '#';
}

bool looks_like_text(std::string_view bytes) {
  size_t control = 0;
  for (unsigned char c : bytes) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r' && c != '\f') ++control;
  }
  return control * 100 <= bytes.size();
}

std::string printable(std::string_view line) {
  std::string o(line);
  for (char& c : o)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) c = '?';
  return o;
}

namespace {

struct Op {
  char kind;  // ' ', '-', '+'
  size_t a, b;  // line indexes (a for ' ' and '-', b for '+')
};

// Longest common subsequence by dynamic programming: configuration files are small,
// and anything above kMaxCells falls back to a whole-file replacement.
constexpr uint64_t kMaxCells = uint64_t(4) << 20;

std::vector<Op> edit_script(const Lines& a, const Lines& b) {
  std::vector<Op> ops;
  const size_t n = a.size(), m = b.size();
  if (uint64_t(n + 1) * uint64_t(m + 1) > kMaxCells) {
    for (size_t i = 0; i < n; ++i) ops.push_back({'-', i, 0});
    for (size_t j = 0; j < m; ++j) ops.push_back({'+', 0, j});
    return ops;
  }
  std::vector<uint32_t> len((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return len[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ops.push_back({' ', i++, j++});
    } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
      ops.push_back({'-', i++, j});
    } else {
      ops.push_back({'+', i, j++});
    }
  }
  return ops;
}

}  // namespace

std::string unified_diff(const std::string& a_name, const std::string& b_name, const Lines& a,
                         const Lines& b) {
  if (a == b) return "";
  std::vector<Op> ops = edit_script(a, b);
  constexpr size_t kContext = 3;
  std::string out = "--- " + a_name + "\n+++ " + b_name + "\n";
  size_t k = 0;
  while (k < ops.size()) {
    // The next change, and the hunk around it (changes closer than twice the context
    // share a hunk).
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    size_t start = k >= kContext ? k - kContext : 0;
    size_t end = k;
    while (end < ops.size()) {
      size_t next = end;
      while (next < ops.size() && ops[next].kind != ' ') ++next;
      size_t same = next;
      while (same < ops.size() && ops[same].kind == ' ') ++same;
      if (same == ops.size() || same - next > 2 * kContext) {
        end = std::min(ops.size(), next + kContext);
        break;
      }
      end = same;
    }
    size_t a_start = 0, b_start = 0, a_count = 0, b_count = 0;
    bool a_set = false, b_set = false;
    std::string body;
    for (size_t x = start; x < end; ++x) {
      const Op& o = ops[x];
      if (o.kind != '+') {
        if (!a_set) a_start = o.a, a_set = true;
        ++a_count;
      }
      if (o.kind != '-') {
        if (!b_set) b_start = o.b, b_set = true;
        ++b_count;
      }
      body += o.kind;
      body += o.kind == '+' ? b[o.b] : a[o.a];
      body += '\n';
    }
    if (!a_set) a_start = ops[start].a;
    if (!b_set) b_start = ops[start].b;
    out += fmt::format("@@ -{},{} +{},{} @@\n", a_count ? a_start + 1 : a_start, a_count,
                       b_count ? b_start + 1 : b_start, b_count);
    out += body;
    k = end;
  }
  return out;
}

}  // namespace xsguard::capture
