#include "tui/terminal.h"

#include <curses.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "model/errors.h"
#include "tui/terminfo_entries.h"
#include "tui/text.h"

namespace xsguard::tui {
namespace {

// Colour pair numbers, one per role that needs its own pair.
enum Pair : short {
  kRoot = 1,
  kWindow,
  kTitle,
  kSelected,
  kButton,
  kButtonActive,
  kHelpline,
  kRed,
  kBrown,
  kBlue,
  kBanner,
  kGreen,
  kEntry,
  kTabActive,
};

bool write_all(int fd, const unsigned char* p, size_t n) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

void remove_builtin_terminfo(const std::string& dir, const std::string& term) {
  const std::string sub = dir + "/" + term.substr(0, 1);
  ::unlink((sub + "/" + term).c_str());
  ::rmdir(sub.c_str());
  ::rmdir(dir.c_str());
}

// Restores an environment variable on scope exit.
class EnvOverride {
 public:
  EnvOverride(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvOverride() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

}  // namespace

std::string write_builtin_terminfo(const std::string& term, const std::string& parent) {
  const TerminfoEntry* entry = nullptr;
  for (size_t i = 0; i < kTerminfoEntryCount; ++i)
    if (term == kTerminfoEntries[i].name) entry = &kTerminfoEntries[i];
  if (!entry) return "";
  std::string dir = parent + "/xsguard-terminfo-XXXXXX";
  if (!::mkdtemp(dir.data()))
    throw std::runtime_error("cannot create a directory under " + parent + ": " + std::strerror(errno));
  const std::string sub = dir + "/" + term.substr(0, 1);
  const std::string file = sub + "/" + term;
  int fd = -1;
  bool ok = ::mkdir(sub.c_str(), 0700) == 0 &&
            (fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0 &&
            write_all(fd, entry->data, entry->size);
  if (fd >= 0 && ::close(fd) != 0) ok = false;
  if (!ok) {
    const int saved = errno;
    remove_builtin_terminfo(dir, term);
    throw std::runtime_error("cannot write " + file + ": " + std::strerror(saved));
  }
  return dir;
}

Terminal::Terminal(const TerminalOptions& options) {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO))
    throw UsageError("the menu needs a terminal (stdin and stdout are not a TTY); use "
                     "`xsguard check` or `xsguard watch --once` for a report instead");
  const char* env_term = std::getenv("TERM");
  const std::string term = env_term && *env_term ? env_term : "linux";
  if (term == "dumb" || term == "unknown")
    throw UsageError("TERM=" + term + " cannot draw a menu; set TERM=linux, vt100 or xterm");

  // newterm() returns NULL (instead of exiting) when no entry is found; only then the
  // built-in one is written out, and removed again once curses has read it.
  screen_ = ::newterm(term.c_str(), stdout, stdin);
  terminfo_source_ = "system";
  if (!screen_) {
    std::vector<std::string> parents;
    if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir && *tmpdir) parents.push_back(tmpdir);
    parents.insert(parents.end(), {"/tmp", "/dev/shm", "/run"});
    std::string dir;
    for (const auto& parent : parents) {
      try {
        dir = write_builtin_terminfo(term, parent);
        break;
      } catch (const std::runtime_error&) {
        // not writable here: try the next place
      }
    }
    if (!dir.empty()) {
      {
        EnvOverride terminfo("TERMINFO", dir);
        screen_ = ::newterm(term.c_str(), stdout, stdin);
      }
      remove_builtin_terminfo(dir, term);
      terminfo_source_ = "built-in";
    }
  }
  if (!screen_)
    throw UsageError("no terminfo entry for TERM=" + printable(term) +
                     " on this machine or built in (linux, vt100, vt102, vt220, xterm, "
                     "xterm-256color, screen, screen-256color)");
  ::set_term(screen_);
  ::set_escdelay(25);
  ::cbreak();
  ::noecho();
  ::nonl();
  ::keypad(stdscr, TRUE);
  ::nodelay(stdscr, TRUE);
  ::curs_set(0);
  set_up_colours(options.mono);
}

Terminal::~Terminal() {
  if (!screen_) return;
  ::endwin();
  ::delscreen(screen_);
}

void Terminal::set_up_colours(bool mono) {
  colour_ = !mono && ::has_colors() && ::start_color() == OK && COLORS >= 8 && COLOR_PAIRS > kTabActive;
  if (!colour_) return;
  // newt's default palette, as the XenServer installer shows it.
  ::init_pair(kRoot, COLOR_WHITE, COLOR_BLUE);
  ::init_pair(kWindow, COLOR_BLACK, COLOR_WHITE);
  ::init_pair(kTitle, COLOR_RED, COLOR_WHITE);
  ::init_pair(kSelected, COLOR_WHITE, COLOR_RED);
  ::init_pair(kButton, COLOR_WHITE, COLOR_RED);
  ::init_pair(kButtonActive, COLOR_RED, COLOR_WHITE);
  ::init_pair(kHelpline, COLOR_WHITE, COLOR_BLACK);
  ::init_pair(kRed, COLOR_RED, COLOR_WHITE);
  ::init_pair(kBrown, COLOR_YELLOW, COLOR_WHITE);
  ::init_pair(kBlue, COLOR_BLUE, COLOR_WHITE);
  ::init_pair(kBanner, COLOR_WHITE, COLOR_RED);
  ::init_pair(kGreen, COLOR_GREEN, COLOR_WHITE);
  ::init_pair(kEntry, COLOR_WHITE, COLOR_BLUE);
  ::init_pair(kTabActive, COLOR_BLUE, COLOR_WHITE);
}

int Terminal::attr(Role role) const {
  if (!colour_) {
    switch (role) {
      case Role::root: case Role::root_text: case Role::window: case Role::dim:
      case Role::low: case Role::info: case Role::tab:
        return A_NORMAL;
      case Role::title: case Role::high: case Role::medium: case Role::good:
        return A_BOLD;
      case Role::inhibitor: case Role::banner:
        return A_BOLD | A_REVERSE;
      case Role::selected: case Role::button_active: case Role::helpline:
      case Role::tab_active: case Role::entry:
        return A_REVERSE;
      case Role::button:
        return A_NORMAL;
    }
    return A_NORMAL;
  }
  switch (role) {
    case Role::root: return COLOR_PAIR(kRoot);
    case Role::root_text: return COLOR_PAIR(kRoot) | A_BOLD;
    case Role::window: return COLOR_PAIR(kWindow);
    case Role::title: return COLOR_PAIR(kTitle);
    case Role::dim: return COLOR_PAIR(kBlue);
    case Role::selected: return COLOR_PAIR(kSelected) | A_BOLD;
    case Role::button: return COLOR_PAIR(kButton) | A_BOLD;
    case Role::button_active: return COLOR_PAIR(kButtonActive) | A_BOLD;
    case Role::helpline: return COLOR_PAIR(kHelpline);
    case Role::inhibitor: return COLOR_PAIR(kRed) | A_BOLD;
    case Role::high: return COLOR_PAIR(kRed);
    case Role::medium: return COLOR_PAIR(kBrown);
    case Role::low: return COLOR_PAIR(kWindow);
    case Role::info: return COLOR_PAIR(kBlue);
    case Role::banner: return COLOR_PAIR(kBanner) | A_BOLD;
    case Role::good: return COLOR_PAIR(kGreen);
    case Role::entry: return COLOR_PAIR(kEntry) | A_BOLD;
    case Role::tab: return COLOR_PAIR(kRoot);
    case Role::tab_active: return COLOR_PAIR(kTabActive) | A_BOLD;
  }
  return A_NORMAL;
}

void Terminal::suspend() {
  ::def_prog_mode();
  ::endwin();
}

void Terminal::resume() {
  ::reset_prog_mode();
  ::clearok(stdscr, TRUE);
  ::refresh();
}

}  // namespace xsguard::tui
