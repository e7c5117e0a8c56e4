#include "xapi/value.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace xsguard::xapi {

void unprotect_append(std::string_view in, std::string& out) {
  size_t i = 0;
  const size_t n = in.size();
  while (i < n) {
    const void* hit = std::memchr(in.data() + i, '%', n - i);
    size_t pct = hit ? static_cast<const char*>(hit) - in.data() : n;
    out.append(in.data() + i, pct - i);
    if (pct == n) break;
    if (pct + 1 == n) {  // a trailing '%' stays
      out.push_back('%');
      break;
    }
    switch (in[pct + 1]) {
      case '_': out.append("  "); break;
      case '.': out.push_back(' '); break;
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case '%': out.push_back('%'); break;
      default:  // unknown escape: keep the '%', look at the next character afresh
        out.push_back('%');
        i = pct + 1;
        continue;
    }
    i = pct + 2;
  }
}

std::string unprotect(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  unprotect_append(v, out);
  return out;
}

namespace {

// A flat tokenizer for the S-expression subset xapi writes: '(' ')' and strings.
class Lexer {
 public:
  enum class Tok { open, close, atom, end, error };
  explicit Lexer(std::string_view s) : s_(s) {}

  Tok next(std::string& atom) {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
    if (i_ == s_.size()) return Tok::end;
    char c = s_[i_];
    if (c == '(') { ++i_; return Tok::open; }
    if (c == ')') { ++i_; return Tok::close; }
    atom.clear();
    if (c == '\'' || c == '"') {
      ++i_;
      while (i_ < s_.size()) {
        char d = s_[i_++];
        if (d == c) return Tok::atom;
        if (d == '\\') {
          if (i_ == s_.size()) return Tok::error;
          atom.push_back(s_[i_++]);
        } else {
          atom.push_back(d);
        }
      }
      return Tok::error;  // unterminated string
    }
    // A bare atom runs to whitespace or a parenthesis.
    while (i_ < s_.size()) {
      char d = s_[i_];
      if (d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '(' || d == ')') break;
      if (d == '\'' || d == '"' || d == '\\') return Tok::error;
      atom.push_back(d);
      ++i_;
    }
    return Tok::atom;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<StringSet> parse_set(std::string_view sexpr) {
  Lexer lx(sexpr);
  std::string atom;
  if (lx.next(atom) != Lexer::Tok::open) return std::nullopt;
  StringSet out;
  for (;;) {
    switch (lx.next(atom)) {
      case Lexer::Tok::atom: out.push_back(atom); break;
      case Lexer::Tok::close:
        if (lx.next(atom) != Lexer::Tok::end) return std::nullopt;
        return out;
      default: return std::nullopt;
    }
  }
}

std::optional<StringMap> parse_map(std::string_view sexpr) {
  Lexer lx(sexpr);
  std::string atom;
  if (lx.next(atom) != Lexer::Tok::open) return std::nullopt;
  StringMap out;
  for (;;) {
    switch (lx.next(atom)) {
      case Lexer::Tok::open: {
        std::string k, v;
        if (lx.next(k) != Lexer::Tok::atom) return std::nullopt;
        if (lx.next(v) != Lexer::Tok::atom) return std::nullopt;
        if (lx.next(atom) != Lexer::Tok::close) return std::nullopt;
        out.emplace_back(std::move(k), std::move(v));
        break;
      }
      case Lexer::Tok::close:
        if (lx.next(atom) != Lexer::Tok::end) return std::nullopt;
        return out;
      default: return std::nullopt;
    }
  }
}

std::optional<std::string> map_get(const StringMap& m, std::string_view key) {
  for (const auto& [k, v] : m)
    if (k == key) return v;
  return std::nullopt;
}

bool is_null_ref(std::string_view ref) {
  constexpr std::string_view prefix = "OpaqueRef:";
  if (ref.size() <= prefix.size() || ref.substr(0, prefix.size()) != prefix) return true;
  return ref.substr(prefix.size()) == "NULL";
}

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view v) {
  if (v.empty() || v.size() > 20) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (v[0] == '-') { neg = true; i = 1; }
  if (i == v.size()) return std::nullopt;
  uint64_t acc = 0;
  for (; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(v[i] - '0');
    if (acc > (UINT64_MAX - d) / 10) return std::nullopt;
    acc = acc * 10 + d;
  }
  if (!neg && acc > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  if (neg && acc > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - acc) : static_cast<int64_t>(acc);
}

std::optional<double> parse_float(std::string_view v) {
  if (v.empty() || v.size() > 64) return std::nullopt;
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

static bool digits(std::string_view v, size_t pos, size_t n, int& out) {
  if (pos + n > v.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (v[i] < '0' || v[i] > '9') return false;
    out = out * 10 + (v[i] - '0');
  }
  return true;
}

std::optional<int64_t> parse_datetime(std::string_view v) {
  // YYYYMMDDThh:mm:ss[Z|+hh:mm|-hh:mm]
  int y, mo, d, h, mi, s;
  if (v.size() < 17 || !digits(v, 0, 4, y) || !digits(v, 4, 2, mo) || !digits(v, 6, 2, d) ||
      v[8] != 'T' || !digits(v, 9, 2, h) || v[11] != ':' || !digits(v, 12, 2, mi) ||
      v[14] != ':' || !digits(v, 15, 2, s))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t offset = 0;
  std::string_view rest = v.substr(17);
  if (rest == "Z" || rest.empty()) {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh, om;
    if (!digits(rest, 1, 2, oh) || !digits(rest, 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset = (oh * 60 + om) * 60;
    if (rest[0] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
  int64_t yy = y - (mo <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + h * 3600 + mi * 60 + s - offset;
}

}  // namespace xsguard::xapi
