#include "tui/text.h"

namespace xsguard::tui {

std::string printable(const std::string& s) {
  std::string out = s;
  for (auto& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u == '\t') c = ' ';
    else if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

std::string fit(const std::string& s, int width) {
  if (width <= 0) return "";
  if (int(s.size()) <= width) return s;
  if (width <= 3) return s.substr(0, size_t(width));
  return s.substr(0, size_t(width - 3)) + "...";
}

std::vector<std::string> wrap(const std::string& text, int width) {
  std::vector<std::string> lines;
  if (width < 1) width = 1;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string para = printable(text.substr(start, nl - start));
    size_t indent = para.find_first_not_of(' ');
    if (indent == std::string::npos || int(indent) > width / 2) indent = 0;
    const std::string pad(indent, ' ');
    std::string line = para.substr(0, indent);
    size_t pos = indent;
    bool line_has_word = false;
    while (pos < para.size()) {
      size_t word_end = para.find(' ', pos);
      if (word_end == std::string::npos) word_end = para.size();
      std::string word = para.substr(pos, word_end - pos);
      pos = word_end + 1;
      if (word.empty()) continue;
      const size_t need = line.size() + (line_has_word ? 1 : 0) + word.size();
      if (line_has_word && int(need) > width) {
        lines.push_back(line);
        line = pad;
        line_has_word = false;
      }
      while (int(line.size() + word.size()) > width && int(line.size()) < width) {
        const size_t room = size_t(width) - line.size();
        line += word.substr(0, room);
        word.erase(0, room);
        lines.push_back(line);
        line = pad;
      }
      if (line_has_word) line += ' ';
      line += word;
      line_has_word = true;
    }
    lines.push_back(line);
    if (nl == text.size()) break;
    start = nl + 1;
  }
  return lines;
}

}  // namespace xsguard::tui
