// The terminal the menu draws on: curses started with newterm (never initscr, which
// exits the process when $TERM is unknown), the installer's newt colours or a
// monochrome fallback, and the built-in terminfo entries when the machine has none.
#pragma once
#include <string>

struct screen;

namespace xsguard::tui {

// What a piece of the screen is; Terminal::attr maps it to colours or to mono
// attributes.
enum class Role {
  root,           // the blue background
  root_text,      // text on it
  window,         // a light-gray window
  title,          // a window's red title
  dim,            // secondary text inside a window
  selected,       // the selected row of a list
  button,         // a button
  button_active,  // the focused button
  helpline,       // the key help along the bottom
  inhibitor,      // severities, as the finding lists show them
  high,
  medium,
  low,
  info,
  banner,         // the stall banner
  good,           // "fits", "done"
  entry,          // a text entry field
  tab,
  tab_active,
};

struct TerminalOptions {
  bool mono = false;  // no colours even when the terminal has them
};

class Terminal {
 public:
  // Throws UsageError when stdin/stdout are not a terminal or $TERM is unknown to both
  // the machine and the built-in entries.
  explicit Terminal(const TerminalOptions& options);
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  int attr(Role role) const;
  bool colour() const { return colour_; }
  // "system" or "built-in": where the terminfo entry came from.
  const std::string& terminfo_source() const { return terminfo_source_; }

  // Leave curses for a child program (the shell) and come back to it.
  void suspend();
  void resume();

 private:
  void set_up_colours(bool mono);

  struct screen* screen_ = nullptr;
  bool colour_ = false;
  std::string terminfo_source_;
};

// Writes the built-in entry for `term` under a new private directory (DIR/l/linux
// layout) and returns the directory; "" when xsguard carries no entry of that name.
// Throws std::runtime_error when the directory cannot be written.
std::string write_builtin_terminfo(const std::string& term, const std::string& parent);

}  // namespace xsguard::tui
