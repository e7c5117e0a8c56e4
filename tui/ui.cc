#include "tui/ui.h"

#include <curses.h>

#include <algorithm>

#include "tui/text.h"

namespace xsguard::tui {

int Ui::rows() const { return getmaxy(stdscr); }
int Ui::cols() const { return getmaxx(stdscr); }

void Ui::fill(const Rect& r, Role role) const {
  const int a = attr(role);
  for (int y = std::max(0, r.y); y < std::min(rows(), r.y + r.h); ++y) {
    wattrset(stdscr, a);
    for (int x = std::max(0, r.x); x < std::min(cols(), r.x + r.w); ++x) mvwaddch(stdscr, y, x, ' ');
  }
}

int Ui::text(int y, int x, int w, const std::string& s, Role role) const {
  return text_attr(y, x, w, s, attr(role));
}

int Ui::text_attr(int y, int x, int w, const std::string& s, int a) const {
  if (y < 0 || y >= rows() || x >= cols() || w <= 0) return 0;
  w = std::min(w, cols() - x);
  const std::string t = printable(s).substr(0, size_t(w));
  wattrset(stdscr, a);
  mvwaddnstr(stdscr, y, x, t.c_str(), int(t.size()));
  return int(t.size());
}

void Ui::rule(int y, int x, int w, Role role) const {
  if (y < 0 || y >= rows()) return;
  wattrset(stdscr, attr(role));
  mvwhline(stdscr, y, x, ACS_HLINE, std::min(w, cols() - x));
}

void Ui::window(const Rect& r, const std::string& title, bool shadow) const {
  fill(r, Role::window);
  if (shadow) {
    if (r.x + r.w < cols()) fill({r.y + 1, r.x + r.w, r.h, 1}, Role::helpline);
    if (r.y + r.h < rows()) fill({r.y + r.h, r.x + 1, 1, r.w}, Role::helpline);
  }
  wattrset(stdscr, attr(Role::window));
  const int bottom = r.y + r.h - 1, right = r.x + r.w - 1;
  if (r.h < 2 || r.w < 2) return;
  mvwaddch(stdscr, r.y, r.x, ACS_ULCORNER);
  mvwaddch(stdscr, r.y, right, ACS_URCORNER);
  mvwaddch(stdscr, bottom, r.x, ACS_LLCORNER);
  mvwaddch(stdscr, bottom, right, ACS_LRCORNER);
  mvwhline(stdscr, r.y, r.x + 1, ACS_HLINE, r.w - 2);
  mvwhline(stdscr, bottom, r.x + 1, ACS_HLINE, r.w - 2);
  mvwvline(stdscr, r.y + 1, r.x, ACS_VLINE, r.h - 2);
  mvwvline(stdscr, r.y + 1, right, ACS_VLINE, r.h - 2);
  if (!title.empty()) {
    const std::string t = " " + fit(title, r.w - 6) + " ";
    text(r.y, r.x + (r.w - int(t.size())) / 2, int(t.size()), t, Role::title);
  }
}

void Ui::buttons(int y, int x, int w, const std::vector<std::string>& labels, int focus) const {
  int total = 0;
  for (const auto& l : labels) total += int(l.size()) + 4 + 2;
  int pos = x + std::max(0, (w - total + 2) / 2);
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string b = "< " + labels[i] + " >";
    text(y, pos, x + w - pos, b, int(i) == focus ? Role::button_active : Role::button);
    pos += int(b.size()) + 2;
  }
}

void Ui::bar(int y, int x, int w, int percent, Role done, Role rest) const {
  if (w <= 0) return;
  percent = std::clamp(percent, 0, 100);
  const int filled = w * percent / 100;
  const std::string label = std::to_string(percent) + "%";
  const int lx = (w - int(label.size())) / 2;
  for (int i = 0; i < w; ++i) {
    const bool in = i < filled;
    const char c = i >= lx && i < lx + int(label.size()) ? label[size_t(i - lx)] : ' ';
    // Without colours the bar still shows: '#' for done.
    const int a = attr(in ? done : rest) | (in && !term_.colour() ? A_REVERSE : 0);
    wattrset(stdscr, a);
    mvwaddch(stdscr, y, x + i, chtype(static_cast<unsigned char>(c)));
  }
}

}  // namespace xsguard::tui
