// Drawing on stdscr in the menu's roles: filled areas, clipped text, ACS boxes and
// buttons. Everything goes through printable(), so no byte from a disk label or a log
// line reaches the terminal as a control sequence.
#pragma once
#include <string>
#include <vector>

#include "tui/terminal.h"

namespace xsguard::tui {

struct Rect {
  int y = 0, x = 0, h = 0, w = 0;
};

class Ui {
 public:
  explicit Ui(const Terminal& term) : term_(term) {}

  int rows() const;
  int cols() const;
  int attr(Role r) const { return term_.attr(r); }

  void fill(const Rect& r, Role role) const;
  // Text at (y, x), cut to w columns (and to the screen); returns columns drawn.
  int text(int y, int x, int w, const std::string& s, Role role) const;
  int text_attr(int y, int x, int w, const std::string& s, int attr) const;
  // A window: ACS border, filled inside, red title on the top border and, for
  // dialogs, newt's shadow.
  void window(const Rect& r, const std::string& title, bool shadow = true) const;
  void rule(int y, int x, int w, Role role) const;
  // Buttons centred on a row, like newt's: "< Label >"; the focused one highlighted.
  void buttons(int y, int x, int w, const std::vector<std::string>& labels, int focus) const;
  // A progress bar with the percentage in its middle.
  void bar(int y, int x, int w, int percent, Role done, Role rest) const;

 private:
  const Terminal& term_;
};

}  // namespace xsguard::tui
