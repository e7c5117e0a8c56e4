// A streaming reader for the one XML dialect xapi writes. It never holds more than
// one element (plus a read buffer) of the input in memory, keeps only the projected
// tables and columns, and rejects, rather than interprets, what a pool database never
// contains: DTDs (so no entity expansion), CDATA, unknown entities.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "model/errors.h"
#include "xapi/database.h"

namespace xsguard::xapi {

namespace {

constexpr size_t kChunk = size_t(1) << 20;

class Source {
 public:
  virtual ~Source() = default;
  virtual size_t read(char* buf, size_t n) = 0;  // 0 at the end; throws InputError
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string_view s) : s_(s) {}
  size_t read(char* buf, size_t n) override {
    size_t k = std::min(n, s_.size() - pos_);
    std::memcpy(buf, s_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

class FdSource : public Source {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  size_t read(char* buf, size_t n) override {
    for (;;) {
      ssize_t k = ::read(fd_, buf, n);
      if (k >= 0) return static_cast<size_t>(k);
      if (errno != EINTR) throw InputError(std::string("read failed: ") + std::strerror(errno));
    }
  }

 private:
  int fd_;
};

class GzSource : public Source {
 public:
  explicit GzSource(gzFile gz) : gz_(gz) {}
  ~GzSource() override { gzclose(gz_); }
  size_t read(char* buf, size_t n) override {
    if (n > (1u << 30)) n = 1u << 30;
    int k = gzread(gz_, buf, static_cast<unsigned>(n));
    int err = Z_OK;
    const char* msg = gzerror(gz_, &err);
    if (k < 0 || (err != Z_OK && err != Z_BUF_ERROR))
      throw InputError(std::string("gzip data is corrupt: ") + (msg ? msg : "?"));
    if (k == 0 && err == Z_BUF_ERROR)
      throw InputError("gzip data is truncated");
    return static_cast<size_t>(k);
  }

 private:
  gzFile gz_;
};

struct Tag {
  enum Kind { start, end, empty } kind = start;
  std::string_view name;
  std::string_view attrs;
  uint64_t offset = 0;  // of the '<' in the decompressed input
};

class Scanner {
 public:
  Scanner(Source& src, const ReadLimits& lim) : src_(src), lim_(lim), buf_(kChunk) {}

  uint64_t offset() const { return base_ + beg_; }
  uint64_t total() const { return base_ + end_; }

  // The next element tag; false at the end of the input.
  bool next(Tag& t) {
    for (;;) {
      const void* lt = std::memchr(buf_.data() + beg_, '<', end_ - beg_);
      if (!lt) {
        beg_ = end_;
        if (!fill()) return false;
        continue;
      }
      beg_ = static_cast<const char*>(lt) - buf_.data();
      while (end_ - beg_ < 9 && fill()) {
      }
      std::string_view head(buf_.data() + beg_, std::min<size_t>(9, end_ - beg_));
      if (head.substr(0, 4) == "<!--") {
        skip_past("-->", 4, "a comment");
        continue;
      }
      if (head.substr(0, 2) == "<?") {
        skip_past("?>", 2, "a processing instruction");
        continue;
      }
      if (head.substr(0, 2) == "<!") {
        if (head.substr(0, 9) == "<![CDATA[")
          throw InputError(at("CDATA sections do not occur in a pool database"));
        throw InputError(at("DTD or entity declarations are not accepted in a pool database"));
      }
      return element(t);
    }
  }

  std::string at(const std::string& what) const {
    return what + " (at byte " + std::to_string(offset()) + ")";
  }

 private:
  // Moves the unread part to the front and reads more; false at the end of input.
  bool fill() {
    if (eof_) return false;
    if (beg_ > 0) {
      std::memmove(buf_.data(), buf_.data() + beg_, end_ - beg_);
      base_ += beg_;
      end_ -= beg_;
      beg_ = 0;
    }
    if (buf_.size() - end_ < kChunk / 2) {
      if (end_ > lim_.max_tag_bytes)
        throw InputError(at("an element is larger than " +
                            std::to_string(lim_.max_tag_bytes >> 20) + " MiB"));
      buf_.resize(std::max(buf_.size() * 2, end_ + kChunk));
    }
    size_t k = src_.read(buf_.data() + end_, buf_.size() - end_);
    if (k == 0) {
      eof_ = true;
      return false;
    }
    end_ += k;
    return true;
  }

  void skip_past(std::string_view close, size_t from, const char* what) {
    size_t i = beg_ + from;
    for (;;) {
      std::string_view hay(buf_.data() + i, end_ - i);
      size_t p = hay.find(close);
      if (p != std::string_view::npos) {
        beg_ = i + p + close.size();
        return;
      }
      size_t keep = end_ - i < close.size() ? end_ - i : close.size() - 1;
      size_t rel = end_ - keep - beg_;
      if (end_ - beg_ > lim_.max_tag_bytes)
        throw InputError(at(std::string(what) + " is too large"));
      if (!fill()) throw InputError(at(std::string("truncated inside ") + what));
      i = beg_ + rel;
    }
  }

  bool element(Tag& t) {
    size_t i = beg_ + 1;
    char quote = 0;
    for (;;) {
      if (i >= end_) {
        size_t rel = i - beg_;
        if (!fill()) throw InputError(at("truncated inside an element"));
        i = beg_ + rel;
        continue;
      }
      if (quote) {
        const void* q = std::memchr(buf_.data() + i, quote, end_ - i);
        if (!q) {
          i = end_;
          continue;
        }
        i = static_cast<const char*>(q) - buf_.data() + 1;
        quote = 0;
        continue;
      }
      char c = buf_[i];
      if (c == '>') break;
      if (c == '"' || c == '\'') quote = c;
      if (c == '<') throw InputError(at("'<' inside an element"));
      ++i;
    }
    std::string_view body(buf_.data() + beg_ + 1, i - beg_ - 1);
    t.offset = offset();
    beg_ = i + 1;
    if (!body.empty() && body[0] == '/') {
      t.kind = Tag::end;
      body.remove_prefix(1);
      while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
      t.name = body;
      t.attrs = {};
    } else {
      t.kind = Tag::start;
      if (!body.empty() && body.back() == '/') {
        t.kind = Tag::empty;
        body.remove_suffix(1);
      }
      size_t n = 0;
      while (n < body.size() && !is_space(body[n])) ++n;
      t.name = body.substr(0, n);
      t.attrs = body.substr(n);
    }
    if (t.name.empty()) throw InputError(at("an element without a name"));
    return true;
  }

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  Source& src_;
  const ReadLimits& lim_;
  std::vector<char> buf_;
  size_t beg_ = 0, end_ = 0;
  uint64_t base_ = 0;
  bool eof_ = false;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Walks name="value" pairs of a tag; throws on malformed syntax.
class Attrs {
 public:
  Attrs(std::string_view s, const Scanner& sc) : s_(s), sc_(sc) {}
  bool next(std::string_view& name, std::string_view& raw) {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    if (i_ == s_.size()) return false;
    size_t n0 = i_;
    while (i_ < s_.size() && s_[i_] != '=' && !is_space(s_[i_])) ++i_;
    name = s_.substr(n0, i_ - n0);
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    if (name.empty() || i_ == s_.size() || s_[i_] != '=')
      throw InputError(sc_.at("malformed attribute"));
    ++i_;
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    if (i_ == s_.size() || (s_[i_] != '"' && s_[i_] != '\''))
      throw InputError(sc_.at("malformed attribute"));
    char q = s_[i_++];
    size_t close = s_.find(q, i_);
    if (close == std::string_view::npos) throw InputError(sc_.at("malformed attribute"));
    raw = s_.substr(i_, close - i_);
    i_ = close + 1;
    return true;
  }

 private:
  std::string_view s_;
  const Scanner& sc_;
  size_t i_ = 0;
};

void put_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// XML attribute value to text: the five predefined entities and character
// references; raw tab/newline/CR normalised to spaces as XML requires.
void xml_unescape(std::string_view raw, std::string& out, const Scanner& sc) {
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\t' || c == '\n' || c == '\r') {
      out.push_back(' ');
      continue;
    }
    if (c != '&') {
      out.push_back(c);
      continue;
    }
    size_t semi = raw.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12)
      throw InputError(sc.at("a bare '&' in an attribute value"));
    std::string_view ent = raw.substr(i + 1, semi - i - 1);
    if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "amp") out.push_back('&');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (ent.size() > 1 && ent[0] == '#') {
      uint32_t cp = 0;
      bool hex = ent[1] == 'x';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      if (digits.empty() || digits.size() > 8) throw InputError(sc.at("bad character reference"));
      for (char d : digits) {
        int v;
        if (d >= '0' && d <= '9') v = d - '0';
        else if (hex && d >= 'a' && d <= 'f') v = d - 'a' + 10;
        else if (hex && d >= 'A' && d <= 'F') v = d - 'A' + 10;
        else throw InputError(sc.at("bad character reference"));
        cp = cp * (hex ? 16 : 10) + v;
        if (cp > 0x10FFFF) throw InputError(sc.at("bad character reference"));
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) throw InputError(sc.at("bad character reference"));
      put_utf8(cp, out);
    } else {
      throw InputError(sc.at("unknown entity '&" + std::string(ent.substr(0, 32)) +
                             ";' (entities are not expanded)"));
    }
    i = semi;
  }
}

// Attribute value to column value: XML-unescape, then undo xapi's whitespace protection.
void decode_value(std::string_view raw, std::string& out, std::string& scratch, const Scanner& sc) {
  out.clear();
  bool plain = true;
  for (char c : raw)
    if (c == '&' || c == '\t' || c == '\n' || c == '\r') {
      plain = false;
      break;
    }
  if (plain) {
    unprotect_append(raw, out);
    return;
  }
  scratch.clear();
  xml_unescape(raw, scratch, sc);
  unprotect_append(scratch, out);
}

class Builder {
 public:
  Builder(Scanner& sc, const Projection& p, const ReadLimits& lim) : sc_(sc), proj_(p), lim_(lim) {}

  Database run() {
    Tag t;
    bool seen_root = false, done = false;
    while (sc_.next(t)) {
      if (done) throw InputError(sc_.at("content after </database>"));
      if (t.kind == Tag::end) {
        if (stack_.empty() || stack_.back() != t.name)
          throw InputError(sc_.at("mismatched </" + std::string(t.name.substr(0, 64)) + ">"));
        if (stack_.size() == 2 && stack_.back() == "table") table_ = nullptr;
        stack_.pop_back();
        if (stack_.empty()) done = true;
        continue;
      }
      if (stack_.empty()) {
        if (t.name != "database")
          throw InputError(sc_.at("not a xapi pool database: the root element is <" +
                                  std::string(t.name.substr(0, 64)) + ">, not <database>"));
        seen_root = true;
      } else {
        open(t);
      }
      if (t.kind == Tag::start) {
        if (stack_.size() >= lim_.max_depth) throw InputError(sc_.at("elements nested too deeply"));
        stack_.emplace_back(t.name);
      } else if (stack_.empty()) {
        done = true;  // <database/>
      } else if (stack_.size() == 1 && t.name == "table") {
        table_ = nullptr;
      }
    }
    if (!seen_root) throw InputError("not a xapi pool database: no XML element found");
    if (!done) {
      std::string where = "<" + (stack_.empty() ? std::string("database") : stack_.back()) + ">";
      if (!current_table_.empty()) where += " in table " + current_table_;
      throw InputError("truncated: the input ends inside " + where + " after " +
                       std::to_string(sc_.total()) + " bytes");
    }
    db_.bytes_read = sc_.total();
    return std::move(db_);
  }

 private:
  void open(const Tag& t) {
    const std::string& parent = stack_.back();
    if (stack_.size() == 1 && t.name == "table") {
      std::string_view name, raw;
      std::string tname;
      Attrs a(t.attrs, sc_);
      while (a.next(name, raw))
        if (name == "name") decode_value(raw, tname, scratch_, sc_);
      if (tname.empty()) throw InputError(sc_.at("a <table> without a name"));
      db_.table_names.push_back(tname);
      current_table_ = tname;
      table_ = keep_table(tname);
      return;
    }
    if (stack_.size() == 2 && parent == "manifest" && t.name == "pair") {
      std::string_view name, raw;
      std::string k, v;
      Attrs a(t.attrs, sc_);
      while (a.next(name, raw)) {
        if (name == "key") { k.clear(); xml_unescape(raw, k, sc_); }
        else if (name == "value") { v.clear(); xml_unescape(raw, v, sc_); }
      }
      if (db_.manifest.size() >= lim_.max_manifest_pairs) throw InputError(sc_.at("manifest too large"));
      db_.manifest.emplace(std::move(k), std::move(v));
      return;
    }
    if (stack_.size() == 2 && parent == "table" && t.name == "row" && table_) row(t);
  }

  Table* keep_table(const std::string& name) {
    bool secret = name == "secret";  // never kept: its values are passwords
    auto existing = db_.tables.find(name);
    if (existing != db_.tables.end()) {
      cache_.clear();
      return &existing->second;
    }
    if (proj_.all) {
      Table& tb = db_.tables.emplace(name, Table(name)).first->second;
      keep_all_ = !secret;
      cache_.clear();
      return &tb;
    }
    auto it = proj_.tables.find(name);
    if (it == proj_.tables.end()) return nullptr;
    Table& tb = db_.tables.emplace(name, Table(name)).first->second;
    if (!secret)
      for (const auto& c : it->second) tb.add_column(c);
    keep_all_ = false;
    cache_.clear();
    return &tb;
  }

  int column_for(size_t pos, std::string_view name) {
    if (pos < cache_.size() && cache_[pos].first == name) return cache_[pos].second;
    key_.assign(name.data(), name.size());
    int c = table_->column(key_);
    if (c < 0 && keep_all_) c = table_->add_column(key_);
    if (pos < cache_.size()) cache_[pos] = {key_, c};
    else if (pos == cache_.size()) cache_.emplace_back(key_, c);
    return c;
  }

  void row(const Tag& t) {
    Row r;
    size_t ncol = table_->columns().size();
    r.values.resize(ncol);
    r.present.assign(ncol, false);
    std::string_view name, raw;
    std::string fallback_ref;
    bool have_ref = false;
    Attrs a(t.attrs, sc_);
    size_t pos = 0;
    while (a.next(name, raw)) {
      size_t here = pos++;
      if (name == "ref") {
        if (!have_ref) decode_value(raw, r.ref, scratch_, sc_);
        have_ref = true;
        continue;
      }
      if (name == "_ref") {
        decode_value(raw, fallback_ref, scratch_, sc_);
        continue;
      }
      if (name == "__ctime" || name == "__mtime") continue;
      int c = column_for(here, name);
      if (c < 0) continue;
      size_t ci = static_cast<size_t>(c);
      if (ci >= r.values.size()) {
        r.values.resize(ci + 1);
        r.present.resize(ci + 1, false);
      }
      if (r.present[ci])
        throw InputError(sc_.at("attribute '" + std::string(name.substr(0, 64)) +
                                "' twice in a row of table " + table_->name()));
      decode_value(raw, r.values[ci], scratch_, sc_);
      r.present[ci] = true;
    }
    if (!have_ref) r.ref = std::move(fallback_ref);
    if (r.ref.empty()) throw InputError(sc_.at("a row without a ref in table " + table_->name()));
    std::string ref_copy = r.ref.size() <= 64 ? r.ref : r.ref.substr(0, 64) + "...";
    if (!table_->add_row(std::move(r)))
      throw InputError(sc_.at("duplicate row " + ref_copy + " in table " + table_->name()));
  }

  Scanner& sc_;
  const Projection& proj_;
  const ReadLimits& lim_;
  Database db_;
  std::vector<std::string> stack_;
  Table* table_ = nullptr;
  std::string current_table_;
  bool keep_all_ = false;
  std::vector<std::pair<std::string, int>> cache_;  // attribute position -> column
  std::string key_, scratch_;
};

Database build(Source& src, const Projection& p, const ReadLimits& l) {
  Scanner sc(src, l);
  Builder b(sc, p, l);
  return b.run();
}

}  // namespace

Database parse_database(std::string_view text, const Projection& p, const ReadLimits& l) {
  MemorySource src(text);
  return build(src, p, l);
}

Database read_database(const std::string& path, const Projection& p, const ReadLimits& l) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": " + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  ssize_t k = ::pread(fd, magic, 2, 0);
  bool seekable = k >= 0;
  try {
    if (!seekable) {
      // A pipe: sniff through zlib, which passes plain data through unchanged.
      gzFile gz = gzdopen(fd, "rb");
      if (!gz) {
        ::close(fd);
        throw InputError(path + ": cannot read");
      }
      gzbuffer(gz, 1 << 20);
      GzSource src(gz);
      return build(src, p, l);
    }
    if (k == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      gzFile gz = gzdopen(fd, "rb");
      if (!gz) {
        ::close(fd);
        throw InputError(path + ": cannot read");
      }
      gzbuffer(gz, 1 << 20);
      GzSource src(gz);
      return build(src, p, l);
    }
    FdSource src(fd);
    Database db = build(src, p, l);
    ::close(fd);
    return db;
  } catch (const InputError& e) {
    if (seekable && !(k == 2 && magic[0] == 0x1f && magic[1] == 0x8b)) ::close(fd);
    throw InputError(path + ": " + e.what());
  }
}

}  // namespace xsguard::xapi
