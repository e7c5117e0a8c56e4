#include "tui/menu.h"

#include <curses.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>

#include "commands/blobs.h"
#include "commands/bundle.h"
#include "commands/check.h"
#include "commands/disk_change.h"
#include "commands/fix_utility.h"
#include "commands/restore.h"
#include "commands/safe2upgrade.h"
#include "log/known_failures.h"
#include "model/disk_backup.h"
#include "model/errors.h"
#include "probe/io.h"
#include "report/report.h"
#include "tui/demo.h"
#include "tui/disk_map.h"
#include "tui/log_feed.h"
#include "tui/terminal.h"
#include "tui/text.h"
#include "tui/ui.h"

namespace xsguard::tui {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMinRows = 24, kMinCols = 80;

// Set by SIGHUP/SIGINT/SIGTERM: the loop ends normally, so the terminal is restored
// and a demo's temporary files are removed.
volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int) { g_stop_signal = 1; }

// The stop signals are caught, and blocked everywhere except inside ppoll(): a signal
// that arrives while the menu works (or before the loop starts) waits for the next
// ppoll, which returns at once, so none is lost between a check and the wait. Threads
// started later inherit the block and never see them.
class StopSignals {
 public:
  StopSignals() {
    sigset_t stop;
    sigemptyset(&stop);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGHUP, SIGINT, SIGTERM}) {
      sigaddset(&stop, sig);
      sigaction(sig, &sa, &old_[sig == SIGHUP ? 0 : sig == SIGINT ? 1 : 2]);
    }
    sigprocmask(SIG_BLOCK, &stop, &outside_);
    wait_ = outside_;
    for (int sig : {SIGHUP, SIGINT, SIGTERM}) sigdelset(&wait_, sig);
  }
  ~StopSignals() {
    sigprocmask(SIG_SETMASK, &outside_, nullptr);
    int i = 0;
    for (int sig : {SIGHUP, SIGINT, SIGTERM}) sigaction(sig, &old_[i++], nullptr);
  }
  const sigset_t& wait_mask() const { return wait_; }
  const sigset_t& child_mask() const { return outside_; }

 private:
  struct sigaction old_[3];
  sigset_t outside_, wait_;
};
constexpr int kCtrlU = 21;
constexpr int kEscape = 27;

enum class Screen { summary, disks, log, actions };

struct Action {
  enum class Kind { fix_utility, restore, prune_blobs, safe2upgrade, bundle, shell, reboot };
  Kind kind;
  std::string title;   // one line, in the list
  std::string detail;  // what it does, under the list
  std::string disk;    // fix, restore
  std::string path;    // restore: the backup file; prune: the old root
};

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Role severity_role(const Finding& f) {
  if (f.inhibitor) return Role::inhibitor;
  switch (f.severity) {
    case Severity::high: return Role::high;
    case Severity::medium: return Role::medium;
    case Severity::low: return Role::low;
    case Severity::info: return Role::info;
  }
  return Role::info;
}

std::string severity_word(const Finding& f) {
  return f.inhibitor ? "INHIBIT" : to_string(f.severity);
}

std::string json_string(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t json_u64(const Json& j, const char* key) {
  auto it = j.find(key);
  // Reports built in memory hold signed integers, parsed ones unsigned.
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t(std::max<int64_t>(0, it->get<int64_t>()));
}

std::string finding_text(const Finding& f) {
  std::ostringstream out;
  write_finding_text(out, f);
  return out.str();
}

bool has_resource(const Finding& f, const std::string& r) {
  return std::find(f.resources.begin(), f.resources.end(), r) != f.resources.end();
}

// The backup path a fix printed ("... .xsgbak"), "" if none.
std::string backup_path_in(const std::string& output) {
  const size_t end = output.find(".xsgbak");
  if (end == std::string::npos) return "";
  size_t start = output.find_last_of(" \n\t'\"", end);
  start = start == std::string::npos ? 0 : start + 1;
  return output.substr(start, end + 7 - start);
}

// One line on how an action's command ended, for the result dialog.
std::string outcome_of(const std::function<int()>& command) {
  try {
    const int rc = command();
    return rc == kExitClean ? "Done." : "Finished with exit code " + std::to_string(rc) + ".";
  } catch (const RefusedError& e) {
    return std::string("Refused: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("Failed: ") + e.what();
  }
}

class MenuApp;

// fix and restore ask for "yes" through a Console; in the menu the question and
// everything the command printed before it appear in a dialog with an entry field.
class MenuConsole : public Console {
 public:
  MenuConsole(MenuApp& app, std::ostringstream& out, std::string title)
      : app_(app), out_(out), title_(std::move(title)) {}
  bool interactive() const override { return true; }
  std::string read_line() override;

 private:
  MenuApp& app_;
  std::ostringstream& out_;
  std::string title_;
};

class MenuApp {
 public:
  MenuApp(Terminal& term, MenuOptions options, const StopSignals& signals)
      : term_(term), ui_(term), o_(std::move(options)), signals_(signals) {
    if (o_.start_screen == "disks") screen_ = Screen::disks;
    else if (o_.start_screen == "log") screen_ = Screen::log;
    else if (o_.start_screen == "actions") screen_ = Screen::actions;
  }

  int run();
  // A dialog with text, a prompt and an entry field; Esc gives "".
  std::string ask_typed(const std::string& title, const std::string& text);

 private:
  // ---- state -------------------------------------------------------------------
  void refresh_check();
  void compute_actions();
  std::vector<Finding> all_findings() const;
  const Action* action_for_finding(const Finding& f) const;
  const Action* action_for_disk(Action::Kind kind, const std::string& disk) const;
  std::vector<std::string> backup_files() const;

  // ---- event loop --------------------------------------------------------------
  int wait_key();
  void draw();
  void mark_dirty() { dirty_ = true; }
  bool too_small() const { return ui_.rows() < kMinRows || ui_.cols() < kMinCols; }
  // The selected row of a screen's list, within the list as it is now.
  int selection(Screen s) const;
  int item_count(Screen s) const;
  const Json* selected_disk() const;

  // ---- screens -----------------------------------------------------------------
  Rect content() const;
  void draw_frame();
  void draw_summary(const Rect& r);
  void draw_disks(const Rect& r);
  void draw_log(const Rect& r);
  void draw_actions(const Rect& r);
  void draw_status_line();
  bool install_failed() const {
    for (const auto& f : log_.findings())
      if (f.id == "log.install_failed") return true;
    return false;
  }
  std::string status_text(Role& role) const;
  void draw_stall_panel(const Rect& r);
  void draw_too_small();
  std::vector<std::string> screen_buttons() const;
  void press(const std::string& button);
  bool handle_key(int key);
  void move_selection(int delta);

  // ---- dialogs -----------------------------------------------------------------
  // Scrollable text with buttons; returns the chosen index, -1 for Esc.
  // at_end: start scrolled to the end (results, where the outcome is last).
  int show_text(const std::string& title, const std::string& text,
                const std::vector<std::string>& buttons, int focus = 0, bool at_end = false);
  // A list to pick from; -1 for Esc.
  int choose(const std::string& title, const std::string& text, const std::vector<std::string>& items);
  std::optional<std::string> ask_input(const std::string& title, const std::string& text,
                                       const std::string& initial);
  Rect dialog_rect(int text_lines, int extra_rows) const;
  // 76 columns at 80x24, up to 110 on wide terminals.
  int dialog_width() const { return std::min(ui_.cols() - 4, std::max(76, ui_.cols() * 3 / 4)); }

  // ---- actions -----------------------------------------------------------------
  void run_action(const Action& a);
  void do_fix(const Action& a);
  void do_restore(const Action& a);
  void do_prune(const Action& a);
  void do_safe2upgrade(const Action& a);
  void do_bundle();
  void do_shell();
  void do_reboot();
  void show_help();
  bool confirm_quit();

  Terminal& term_;
  Ui ui_;
  MenuOptions o_;
  const StopSignals& signals_;
  std::unique_ptr<Demo> demo_;
  std::unique_ptr<LogFeed> feed_;
  LogModel log_;
  uint64_t log_version_seen_ = 0;
  int64_t stall_seen_ms_ = 0;

  Report check_;
  std::string check_error_;
  std::vector<Action> actions_;
  std::vector<std::string> session_backups_;

  Screen screen_ = Screen::summary;
  int selected_[4] = {0, 0, 0, 0};
  int summary_top_ = 0;  // first finding row shown
  int button_ = 0;
  int log_back_ = 0;  // lines scrolled back from the end; 0 follows
  std::vector<std::function<void()>> overlays_;
  bool dirty_ = true;
  bool quit_ = false;
};

std::string MenuConsole::read_line() {
  std::string answer = app_.ask_typed(title_, out_.str());
  // The transcript the result dialog shows then reads like the terminal would.
  out_ << answer << '\n';
  return answer;
}

// ---- state ---------------------------------------------------------------------

void MenuApp::refresh_check() {
  CheckOptions c;
  c.disks = o_.disks;
  c.core_img = o_.core_img;
  c.core_sectors = o_.core_sectors;
  c.old_root = o_.old_root;
  c.firmware = o_.firmware;
  check_error_.clear();
  try {
    check_ = run_check(c);
  } catch (const std::exception& e) {
    check_ = new_report("check");
    check_error_ = e.what();
  }
  compute_actions();
  mark_dirty();
}

std::vector<std::string> MenuApp::backup_files() const {
  std::vector<std::string> dirs = {"/tmp"};
  if (!o_.backup_dir.empty()) dirs.insert(dirs.begin(), o_.backup_dir);
  for (const auto& b : session_backups_) {
    const auto slash = b.rfind('/');
    dirs.push_back(slash == std::string::npos ? "." : b.substr(0, slash));
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  std::vector<std::string> files;
  for (const auto& d : dirs) {
    DIR* dir = ::opendir(d.c_str());
    if (!dir) continue;
    while (dirent* e = ::readdir(dir)) {
      const std::string name = e->d_name;
      if (name.rfind("xsguard-backup-", 0) == 0 && name.size() > 7 &&
          name.compare(name.size() - 7, 7, ".xsgbak") == 0)
        files.push_back(d + "/" + name);
      if (files.size() >= 64) break;  // a directory of backups is not a list to scroll
    }
    ::closedir(dir);
  }
  // Newest first (the names end in their UTC time): the Disks screen restores the
  // newest backup of a disk; older ones stay in the Actions list.
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return a.substr(a.rfind('/') + 1) > b.substr(b.rfind('/') + 1);
  });
  return files;
}

void MenuApp::compute_actions() {
  actions_.clear();
  for (const auto& disk : check_.disks) {
    const std::string path = json_string(disk, "path");
    bool utility = false;
    for (const auto& f : check_.findings)
      utility |= f.id == "disk.utility_partition" && has_resource(f, path);
    if (!utility) continue;
    // The dry run decides: if fix would refuse, the action is not offered.
    FixOptions fo;
    fo.disk = path;
    fo.backup_dir = o_.backup_dir;
    fo.core.core_img = o_.core_img;
    fo.core.core_sectors = o_.core_sectors;
    std::ostringstream plan;
    Console none;
    try {
      if (run_fix_utility(fo, system_io(), none, plan) != kExitClean) continue;
    } catch (const std::exception&) {
      continue;
    }
    actions_.push_back({Action::Kind::fix_utility, "Remove the utility partition on " + path,
                        "Shows the plan, asks you to type yes, writes a verified backup, removes "
                        "the partition's table entry (nothing else), then checks again. "
                        "Undo: restore from the backup.",
                        path, ""});
  }
  for (const auto& file : backup_files()) {
    std::string bytes, error;
    try {
      bytes = read_small_file(file, 64u << 20);
    } catch (const std::exception&) {
      continue;
    }
    auto backup = parse_backup(bytes, error);
    if (!backup) continue;
    bool known = false;
    for (const auto& disk : check_.disks) known |= json_string(disk, "path") == backup->disk;
    if (!known) continue;
    actions_.push_back({Action::Kind::restore,
                        "Restore " + backup->disk + " from the backup of " + backup->created,
                        "Backup " + file + " (" + backup->purpose + "). Shows what differs, asks "
                        "you to type yes, then writes the saved sectors back.",
                        backup->disk, file});
  }
  for (const auto& f : check_.findings)
    if (f.id == "blobs.too_many" && !o_.old_root.empty() && json_u64(f.evidence, "messages") > 0)
      actions_.push_back({Action::Kind::prune_blobs, "Prune old xapi messages under " + o_.old_root,
                          f.title + ". Asks how old, shows what would go and the time saved, "
                          "archives every removed entry (tar.gz) before removing it. Undo: "
                          "xsguard blobs restore ARCHIVE --root " + o_.old_root + " --apply.",
                          "", o_.old_root});
  if (!o_.old_root.empty()) {
    struct stat st {};
    const bool present = ::lstat((o_.old_root + "/var/preserve/safe2upgrade").c_str(), &st) == 0;
    actions_.push_back(
        {Action::Kind::safe2upgrade,
         (present ? "Remove var/preserve/safe2upgrade from " : "Create var/preserve/safe2upgrade on ") + o_.old_root,
         present ? "The file makes the upgrade convert a GPT disk without a logs partition to the new "
                   "layout, recreating the local SR empty. Removing it keeps the old layout and the SR."
                 : "Converts the disk to the new partition layout during the upgrade and DESTROYS the "
                   "local SR: shows which SR, virtual disks and VMs are lost first, then asks you to "
                   "type yes. Undo before the upgrade: the same action removes it.",
         "", present ? "remove" : "create"});
  }
  actions_.push_back({Action::Kind::bundle, "Save a support bundle",
                      "One tar.gz with the install log, check and watch reports, each disk's table "
                      "and first sectors, the kernel log and /proc facts, with a manifest of "
                      "checksums. You choose where: a filesystem on another disk survives a reboot, "
                      "/tmp in the installer does not.", "", ""});
  actions_.push_back({Action::Kind::shell, "Open a shell",
                      "Leaves the menu for $SHELL (or /bin/sh); type exit to come back. The "
                      "install log keeps being followed.", "", ""});
  if (o_.allow_reboot)
    actions_.push_back({Action::Kind::reboot, "Reboot the machine",
                        "Asks you to type yes, syncs the disks and reboots.", "", ""});
}

std::vector<Finding> MenuApp::all_findings() const {
  std::vector<Finding> all = check_.findings;
  for (const auto& f : log_.findings()) all.push_back(f);
  sort_findings(all);
  return all;
}

const Action* MenuApp::action_for_disk(Action::Kind kind, const std::string& disk) const {
  for (const auto& a : actions_)
    if (a.kind == kind && a.disk == disk) return &a;
  return nullptr;
}

const Action* MenuApp::action_for_finding(const Finding& f) const {
  if (f.id == "blobs.too_many" || f.id == "log.stall")
    for (const auto& a : actions_)
      if (a.kind == Action::Kind::prune_blobs) return &a;
  for (const auto& r : f.resources)
    if (const Action* a = action_for_disk(Action::Kind::fix_utility, r)) return a;
  return nullptr;
}

// ---- event loop ----------------------------------------------------------------

int MenuApp::wait_key() {
  for (;;) {
    if (g_stop_signal || quit_) {
      quit_ = true;
      return ERR;
    }
    if (feed_ && log_.version() != log_version_seen_) {
      if (log_.stall().active) stall_seen_ms_ = now_ms();
      log_version_seen_ = log_.version();
      dirty_ = true;
    }
    if (dirty_) draw();
    int ch = ::getch();
    if (ch == KEY_RESIZE) {
      dirty_ = true;
      continue;
    }
    // While only "too small" is on the screen, nothing may act but q.
    if (ch != ERR && too_small() && ch != 'q' && ch != 'Q') continue;
    if (ch != ERR) return ch;
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {feed_ ? feed_->fd() : -1, POLLIN, 0}};
    // A live stall's clock is redrawn every second; otherwise only input wakes us.
    const bool ticking = log_.stall().active || (feed_ && log_.records());
    const timespec second{1, 0};
    int n = ::ppoll(fds, 2, ticking ? &second : nullptr, &signals_.wait_mask());
    if (n == 0) dirty_ = true;
    if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
      feed_->drain(log_);
    }
    if (n > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))) {
      quit_ = true;  // the terminal went away
      return 'q';
    }
  }
}

void MenuApp::draw() {
  dirty_ = false;
  ::werase(stdscr);
  if (too_small()) {
    draw_too_small();
  } else {
    draw_frame();
    for (auto& overlay : overlays_) overlay();
  }
  ::wnoutrefresh(stdscr);
  ::doupdate();
}

void MenuApp::draw_too_small() {
  ui_.fill({0, 0, ui_.rows(), ui_.cols()}, Role::root);
  const std::string msg = "Terminal " + std::to_string(ui_.cols()) + "x" +
                          std::to_string(ui_.rows()) + " is too small: the menu needs " +
                          std::to_string(kMinCols) + "x" + std::to_string(kMinRows) + ".";
  ui_.text(ui_.rows() / 2 - 1, 0, ui_.cols(), msg, Role::root_text);
  ui_.text(ui_.rows() / 2, 0, ui_.cols(), "Resize it, or press q to quit.", Role::root_text);
}

Rect MenuApp::content() const {
  // Window rows 2 .. rows-3; inside it the content, a blank row, then the buttons.
  const int h = ui_.rows() - 4;
  return {3, 2, h - 4, ui_.cols() - 4};
}

void MenuApp::draw_frame() {
  const int rows = ui_.rows(), cols = ui_.cols();
  ui_.fill({0, 0, rows, cols}, Role::root);
  // Header: product and the overall state.
  const auto findings = all_findings();
  int inhibitors = 0, warnings = 0;
  for (const auto& f : findings) {
    if (f.inhibitor) ++inhibitors;
    else if (f.severity != Severity::info) ++warnings;
  }
  std::string title = std::string(" xsguard ") + XSGUARD_VERSION + " - upgrade recovery";
  if (o_.demo) title += " (demo)";
  if (!check_.host.empty()) title += " on " + check_.host;
  ui_.text(0, 0, cols, title, Role::root_text);
  std::string state = inhibitors ? std::to_string(inhibitors) + " inhibitor" + (inhibitors > 1 ? "s" : "")
                                 : warnings ? std::to_string(warnings) + " warning" + (warnings > 1 ? "s" : "")
                                            : "no problems found";
  if (!check_error_.empty()) state = "check failed, " + state;
  ui_.text(0, cols - int(state.size()) - 1, int(state.size()), state,
           inhibitors || !check_error_.empty() ? Role::banner : Role::root_text);
  // Tabs.
  const char* names[] = {"Summary", "Disks", "Install log", "Actions"};
  int x = 1;
  for (int i = 0; i < 4; ++i) {
    const std::string t = std::string(" ") + char('1' + i) + " " + names[i] + " ";
    ui_.text(1, x, cols - x, t, int(screen_) == i ? Role::tab_active : Role::tab);
    x += int(t.size()) + 1;
  }
  const Rect win{2, 1, rows - 4, cols - 2};
  const char* titles[] = {"Findings", "Disks", "Install log", "Actions"};
  ui_.window(win, titles[int(screen_)], false);
  const Rect c = content();
  switch (screen_) {
    case Screen::summary: draw_summary(c); break;
    case Screen::disks: draw_disks(c); break;
    case Screen::log: draw_log(c); break;
    case Screen::actions: draw_actions(c); break;
  }
  const auto labels = screen_buttons();
  button_ = std::clamp(button_, 0, int(labels.size()) - 1);
  ui_.buttons(win.y + win.h - 2, win.x + 1, win.w - 2, labels, overlays_.empty() ? button_ : -1);
  draw_status_line();
  ui_.text(rows - 1, 0, cols,
           std::string(" Tab/1-4 screens  Up/Down select  Left/Right buttons  Enter choose  "
                       "? help  q ") + (o_.preflight ? "continue" : "quit") +
               std::string(size_t(cols), ' '),
           Role::helpline);
}

// The installer's state in one line, on every screen: a failure, a stall with its
// measured progress, or where the bar is.
std::string MenuApp::status_text(Role& role) const {
  const LiveStall& st = log_.stall();
  if (install_failed()) {
    for (const auto& f : log_.findings())
      if (f.id == "log.install_failed") {
        role = Role::banner;
        return " INSTALL FAILED: " + f.title + " (1 Summary has the reason and the fix)";
      }
  }
  if (st.active) {
    role = Role::banner;
    const int64_t silent = st.silent_s + (now_ms() - stall_seen_ms_) / 1000;
    std::string line = " Silent " + logwatch::format_duration(silent);
    if (!st.task.empty()) line += " in " + st.task;
    if (!st.measured) return line + (st.percent >= 0 ? " (" + std::to_string(st.percent) + "%)" : "");
    line += ": blobs " + std::to_string(st.copied);
    if (st.total)
      line += "/" + std::to_string(st.total) + " (" +
              std::to_string(std::min<uint64_t>(100, st.copied * 100 / st.total)) + "%)";
    if (st.rate_per_s > 0) line += " " + std::to_string(st.rate_per_s) + "/s";
    if (st.eta_s >= 0) line += " ~" + logwatch::format_duration(st.eta_s) + " left";
    return line + (st.rate_per_s > 0 ? " - working" : "");
  }
  role = Role::root_text;
  if (!log_.error().empty()) {
    role = Role::banner;
    return " Install log: " + log_.error();
  }
  if (log_.records()) {
    const InstallProgress& p = log_.progress();
    std::string line = " Install:";
    if (p.percent >= 0) line += " " + std::to_string(p.percent) + "%";
    if (!p.phase.empty()) line += " " + p.phase;
    if (!p.task.empty()) line += " - " + p.task;
    if (!p.restoring.empty()) line += " (restoring " + p.restoring + ")";
    return line;
  }
  if (feed_)
    return " Install log: " + (log_.file_state().empty() ? "waiting for " + o_.log : log_.file_state());
  return "";
}

void MenuApp::draw_status_line() {
  Role role = Role::root_text;
  std::string line = status_text(role);
  line.resize(size_t(ui_.cols()), ' ');
  ui_.text(ui_.rows() - 2, 0, ui_.cols(), line, role);
}

void MenuApp::draw_summary(const Rect& r) {
  const auto findings = all_findings();
  int y = r.y;
  if (!check_error_.empty()) {
    ui_.text(y++, r.x, r.w, "check failed: " + check_error_, Role::inhibitor);
  }
  if (findings.empty()) {
    if (check_error_.empty())
      ui_.text(y, r.x, r.w, "No findings: the disks and the install log show nothing to fix.", Role::good);
    return;
  }
  ui_.text(y++, r.x, r.w, "Severity  Id                          Title", Role::dim);
  // Below the list, as much of the selected finding as fits (all of it on a tall
  // terminal; its summary at 80x24).
  const int spare = r.y + r.h - y - int(findings.size()) - 1;
  const int detail_rows = std::max(4, std::min(spare, r.h * 2 / 3));
  const int list_rows = std::max(1, r.y + r.h - y - detail_rows);
  const int sel = selection(Screen::summary);
  int& top = summary_top_;
  if (sel < top) top = sel;
  if (sel >= top + list_rows) top = sel - list_rows + 1;
  for (int i = top; i < int(findings.size()) && i < top + list_rows; ++i) {
    const Finding& f = findings[size_t(i)];
    const bool is_sel = i == sel;
    std::string id = f.id;
    id.resize(27, ' ');
    std::string sev = severity_word(f);
    sev.resize(9, ' ');
    if (is_sel) ui_.fill({y, r.x, 1, r.w}, Role::selected);
    ui_.text(y, r.x, 9, sev, is_sel ? Role::selected : severity_role(f));
    ui_.text(y, r.x + 10, r.w - 10, id + " " + f.title, is_sel ? Role::selected : Role::window);
    ++y;
  }
  // The selected finding's summary under the list, as cfdisk shows the partition's.
  const Finding& f = findings[size_t(sel)];
  int dy = r.y + r.h - detail_rows;
  ui_.rule(dy++, r.x, r.w, Role::window);
  std::string text = finding_text(f);
  text.erase(0, text.find('\n') + 1);  // the title is in the list
  auto lines = wrap(text, r.w);
  for (int i = 0; i < detail_rows - 1 && i < int(lines.size()); ++i)
    ui_.text(dy + i, r.x, r.w, lines[size_t(i)], Role::dim);
}

void MenuApp::draw_disks(const Rect& r) {
  if (check_.disks.empty()) {
    ui_.text(r.y, r.x, r.w, check_error_.empty() ? "No disks found." : "check failed: " + check_error_,
             check_error_.empty() ? Role::window : Role::inhibitor);
    return;
  }
  const int sel = selection(Screen::disks);
  const Json& disk = check_.disks[size_t(sel)];
  const std::string path = json_string(disk, "path");
  const uint64_t sector = std::max<uint64_t>(512, json_u64(disk, "logical_sector_size"));
  int y = r.y;
  std::string head = "Disk " + std::to_string(sel + 1) + "/" + std::to_string(check_.disks.size()) +
                     ": " + path + "  " + sectors_text(json_u64(disk, "size_bytes") / sector, sector).substr(
                         sectors_text(json_u64(disk, "size_bytes") / sector, sector).find('(')) +
                     "  " + json_string(disk, "label") + "  " + json_string(disk, "model");
  if (check_.disks.size() > 1) head += "  (Up/Down: other disks)";
  ui_.text(y++, r.x, r.w, head, Role::title);

  int utility = 0;
  for (const auto& f : check_.findings)
    if (f.id == "disk.utility_partition" && has_resource(f, path))
      utility = int(json_u64(f.evidence, "number"));
  const auto regions = disk_start_map(disk, utility);
  const int bar_w = r.w - 1;
  const auto xs = layout_map(regions, bar_w);
  const Json grub = disk.contains("grub_embed") ? disk["grub_embed"] : Json::object();
  const std::string verdict = json_string(grub, "verdict");
  const Role area_role = verdict == "fits" ? Role::good : verdict.empty() ? Role::window : Role::inhibitor;
  // Top border, labels, bottom border, sector numbers.
  wattrset(stdscr, ui_.attr(Role::window));
  mvwhline(stdscr, y, r.x, ACS_HLINE, xs.back());
  mvwhline(stdscr, y + 2, r.x, ACS_HLINE, xs.back());
  for (size_t i = 0; i < regions.size(); ++i) {
    const int x0 = r.x + xs[i], x1 = r.x + xs[i + 1];
    const MapRegion& m = regions[i];
    wattrset(stdscr, ui_.attr(Role::window));
    mvwaddch(stdscr, y, x0, i == 0 ? ACS_ULCORNER : ACS_TTEE);
    mvwaddch(stdscr, y + 1, x0, ACS_VLINE);
    mvwaddch(stdscr, y + 2, x0, i == 0 ? ACS_LLCORNER : ACS_BTEE);
    Role role = m.embed_area ? area_role
                : m.kind == MapRegion::Kind::utility ? Role::high
                : m.kind == MapRegion::Kind::skipped || m.kind == MapRegion::Kind::table ? Role::dim
                                                                                        : Role::window;
    ui_.text(y + 1, x0 + 1, x1 - x0 - 1, m.label, role);
    ui_.text(y + 3, x0, x1 - x0 - 1, std::to_string(m.start), Role::dim);
  }
  wattrset(stdscr, ui_.attr(Role::window));
  const bool open_end = regions.back().continues;
  mvwaddch(stdscr, y, r.x + xs.back(), open_end ? ACS_RARROW : ACS_URCORNER);
  mvwaddch(stdscr, y + 1, r.x + xs.back(), open_end ? ACS_RARROW : ACS_VLINE);
  mvwaddch(stdscr, y + 2, r.x + xs.back(), open_end ? ACS_RARROW : ACS_LRCORNER);
  y += 4;

  // GRUB's verdict with the core.img size it assumed.
  std::string g = "GRUB: ";
  if (verdict.empty()) {
    g += "no verdict";
  } else {
    g += verdict == "fits" ? "core.img fits" : verdict == "at_risk" ? "depends on core.img size"
                                                                      : "grub-install fails";
    g += " (" + json_string(grub, "reason") + "); area " + std::to_string(json_u64(grub, "gap_sectors")) +
         " sectors, core.img ";
    auto core = grub.find("core_sectors");
    if (core != grub.end() && core->is_array() && core->size() == 2)
      g += (*core)[0].dump() + "-" + (*core)[1].dump() + " sectors";
    else if (core != grub.end())
      g += core->is_string() ? core->get<std::string>() : core->dump() + " sectors";
    const std::string src = json_string(grub, "core_source");
    if (!src.empty()) g += " [" + src + "]";
  }
  const Role grub_role = verdict == "fits" ? Role::good : verdict.empty() ? Role::window : Role::inhibitor;
  for (const auto& l : wrap(g, r.w)) ui_.text(y++, r.x, r.w, l, grub_role);
  for (const auto& f : check_.findings)
    if (f.id == "grub.embed" && has_resource(f, path) && verdict != "fits")
      for (const auto& l : wrap(f.summary, r.w)) ui_.text(y++, r.x, r.w, l, Role::dim);
  ++y;
  ui_.text(y++, r.x, r.w, "  #  Start        End          Size        Type          Filesystem",
           Role::dim);
  auto parts = disk.find("partitions");
  if (parts != disk.end() && parts->is_array()) {
    std::vector<Json> sorted(parts->begin(), parts->end());
    std::sort(sorted.begin(), sorted.end(),
              [](const Json& a, const Json& b) { return json_u64(a, "start") < json_u64(b, "start"); });
    for (const auto& p : sorted) {
      if (y >= r.y + r.h) break;
      const uint64_t n = json_u64(p, "number");
      char line[256];
      std::string size = sectors_text(json_u64(p, "sectors"), sector);
      size = size.substr(size.find('(') + 1);
      size.pop_back();
      std::string type = json_string(p, "type");
      if (int(n) == utility) type += " utility";
      std::snprintf(line, sizeof line, "%3llu  %-11llu  %-11llu  %-10s  %-12.12s  %s %s",
                    (unsigned long long)n, (unsigned long long)json_u64(p, "start"),
                    (unsigned long long)json_u64(p, "end"), size.c_str(), type.c_str(),
                    json_string(p, "fs_type").c_str(), json_string(p, "fs_label").c_str());
      ui_.text(y++, r.x, r.w, line, int(n) == utility ? Role::high : Role::window);
    }
  }
  auto problems = disk.find("problems");
  if (problems != disk.end() && problems->is_array())
    for (const auto& p : *problems) {
      if (y >= r.y + r.h) break;
      ui_.text(y++, r.x, r.w, "! " + (p.is_string() ? p.get<std::string>() : p.dump()), Role::high);
    }
}

void MenuApp::draw_log(const Rect& r) {
  int y = r.y;
  const InstallProgress& p = log_.progress();
  if (!log_.error().empty()) ui_.text(y++, r.x, r.w, log_.error(), Role::inhibitor);
  std::string head = p.phase.empty() ? "No phase yet" : p.phase;
  if (!p.task.empty()) {
    head += ": task " + std::to_string(p.task_number);
    if (p.tasks_total) head += "/" + std::to_string(p.tasks_total);
    head += " " + p.task;
  }
  ui_.text(y, r.x, r.w - 22, head, Role::title);
  if (p.percent >= 0) ui_.bar(y, r.x + r.w - 20, 20, p.percent, Role::selected, Role::dim);
  ++y;
  Rect tail{y, r.x, r.y + r.h - y, r.w};
  if (log_.stall().active && !install_failed()) {
    tail.h -= 4;
    draw_stall_panel({tail.y + tail.h, r.x, 4, r.w});
  }
  const auto& lines = log_.lines();
  const int rows = tail.h;
  const int total = int(lines.size());
  log_back_ = std::clamp(log_back_, 0, std::max(0, total - rows));
  const int first = std::max(0, total - rows - log_back_);
  for (int i = first; i < total && y < tail.y + tail.h; ++i, ++y) {
    const LogLine& l = lines[size_t(i)];
    char num[16];
    std::snprintf(num, sizeof num, l.line ? "%5llu " : "      ", (unsigned long long)l.line);
    const Role role = l.failure ? Role::inhibitor : l.error ? Role::high
                      : l.line == 0 ? Role::dim : Role::window;
    ui_.text(y, r.x, 6, num, Role::dim);
    ui_.text(y, r.x + 6, r.w - 6, l.text, role);
  }
  if (log_back_)
    ui_.text(tail.y + tail.h - 1, r.x + r.w - 30, 30, " scrolled back: End follows ", Role::selected);
  if (lines.empty())
    ui_.text(y, r.x, r.w, log_.file_state().empty() ? "Waiting for " + o_.log + " ..." : log_.file_state(),
             Role::dim);
}

// During a stall: how long, what runs, and the restore measured on disk.
void MenuApp::draw_stall_panel(const Rect& r) {
  const LiveStall& st = log_.stall();
  ui_.rule(r.y, r.x, r.w, Role::window);
  const int64_t silent = st.silent_s + (now_ms() - stall_seen_ms_) / 1000;
  std::string head = "Nothing logged for " + logwatch::format_duration(silent);
  if (!st.task.empty()) head += " - " + st.task + " is running";
  ui_.text(r.y + 1, r.x, r.w, head, Role::high);
  if (!st.measured) {
    ui_.text(r.y + 2, r.x, r.w, "Nothing to measure for this task: a long silence here may be a hang.",
             Role::dim);
    return;
  }
  std::string m = "Restore of the xapi message store: " + std::to_string(st.copied);
  if (st.total) m += " of " + std::to_string(st.total);
  m += " entries copied";
  if (st.estimate) m += " (estimate)";
  if (st.rate_per_s > 0) m += ", " + std::to_string(st.rate_per_s) + " a second";
  if (st.eta_s >= 0) m += ", about " + logwatch::format_duration(st.eta_s) + " left";
  ui_.text(r.y + 2, r.x, r.w, m, Role::window);
  if (st.total) ui_.bar(r.y + 3, r.x, r.w, int(std::min<uint64_t>(100, st.copied * 100 / st.total)),
                        Role::selected, Role::dim);
  else
    ui_.text(r.y + 3, r.x, r.w, st.rate_per_s > 0 ? "Entries are still being copied: slow, not hung."
                                                  : "The count is not moving.", Role::dim);
}

void MenuApp::draw_actions(const Rect& r) {
  int y = r.y;
  const int sel = selection(Screen::actions);
  ui_.text(y++, r.x, r.w, "What xsguard can do here (only what applies is listed):", Role::dim);
  ++y;
  for (int i = 0; i < int(actions_.size()); ++i) {
    const bool is_sel = i == sel;
    if (is_sel) ui_.fill({y, r.x, 1, r.w}, Role::selected);
    ui_.text(y++, r.x + 1, r.w - 1, actions_[size_t(i)].title, is_sel ? Role::selected : Role::window);
  }
  if (actions_.empty()) return;
  ++y;
  ui_.rule(y++, r.x, r.w, Role::window);
  for (const auto& l : wrap(actions_[size_t(sel)].detail, r.w)) {
    if (y >= r.y + r.h) break;
    ui_.text(y++, r.x, r.w, l, Role::dim);
  }
}

std::vector<std::string> MenuApp::screen_buttons() const {
  std::vector<std::string> b;
  const std::string quit = o_.preflight ? "Continue" : "Quit";
  switch (screen_) {
    case Screen::summary: {
      b.push_back("Details");
      const auto findings = all_findings();
      if (!findings.empty() && action_for_finding(findings[size_t(selection(Screen::summary))]))
        b.push_back("Fix");
      b.push_back("Refresh");
      break;
    }
    case Screen::disks:
      if (const Json* disk = selected_disk()) {
        const std::string path = json_string(*disk, "path");
        if (action_for_disk(Action::Kind::fix_utility, path)) b.push_back("Fix");
        if (action_for_disk(Action::Kind::restore, path)) b.push_back("Restore");
      }
      b.push_back("Refresh");
      break;
    case Screen::log:
      b.push_back(log_back_ ? "Follow" : "Findings");
      break;
    case Screen::actions:
      if (!actions_.empty()) b.push_back("Run");
      b.push_back("Refresh");
      break;
  }
  b.push_back("Help");
  b.push_back(quit);
  return b;
}

void MenuApp::press(const std::string& button) {
  const auto findings = all_findings();
  if (button == "Quit" || button == "Continue") {
    if (confirm_quit()) quit_ = true;
  } else if (button == "Help") {
    show_help();
  } else if (button == "Refresh") {
    refresh_check();
  } else if (button == "Details" && !findings.empty()) {
    const Finding& f = findings[size_t(selection(Screen::summary))];
    const Action* a = action_for_finding(f);
    std::vector<std::string> buttons = {"Back"};
    if (a) buttons.insert(buttons.begin(), "Fix");
    if (show_text(f.id, finding_text(f), buttons) == 0 && a) run_action(*a);
  } else if (button == "Fix") {
    if (screen_ == Screen::summary && !findings.empty()) {
      if (const Action* a = action_for_finding(findings[size_t(selection(Screen::summary))])) run_action(*a);
    } else if (screen_ == Screen::disks && selected_disk()) {
      if (const Action* a = action_for_disk(Action::Kind::fix_utility, json_string(*selected_disk(), "path")))
        run_action(*a);
    }
  } else if (button == "Restore" && selected_disk()) {
    if (const Action* a = action_for_disk(Action::Kind::restore, json_string(*selected_disk(), "path")))
      run_action(*a);
  } else if (button == "Run" && !actions_.empty()) {
    run_action(actions_[size_t(selection(Screen::actions))]);
  } else if (button == "Follow") {
    log_back_ = 0;
  } else if (button == "Findings") {
    screen_ = Screen::summary;
  }
  mark_dirty();
}

void MenuApp::move_selection(int delta) {
  if (screen_ == Screen::log) {
    log_back_ = std::max(0, log_back_ - delta);
    return;
  }
  selected_[int(screen_)] = std::clamp(selected_[int(screen_)] + delta, 0, std::max(0, item_count(screen_) - 1));
}

int MenuApp::item_count(Screen s) const {
  switch (s) {
    case Screen::summary: return int(check_.findings.size() + log_.findings().size());
    case Screen::disks: return int(check_.disks.size());
    case Screen::log: return int(log_.lines().size());
    case Screen::actions: return int(actions_.size());
  }
  return 0;
}

int MenuApp::selection(Screen s) const {
  return std::clamp(selected_[int(s)], 0, std::max(0, item_count(s) - 1));
}

const Json* MenuApp::selected_disk() const {
  if (check_.disks.empty()) return nullptr;
  return &check_.disks[size_t(selection(Screen::disks))];
}

bool MenuApp::handle_key(int key) {
  const int page = std::max(1, content().h - 5);
  switch (key) {
    case '\t': screen_ = Screen((int(screen_) + 1) % 4); button_ = 0; break;
    case KEY_BTAB: screen_ = Screen((int(screen_) + 3) % 4); button_ = 0; break;
    case '1': case 's': case 'S': screen_ = Screen::summary; button_ = 0; break;
    case '2': case 'd': case 'D': screen_ = Screen::disks; button_ = 0; break;
    case '3': case 'l': case 'L': screen_ = Screen::log; button_ = 0; break;
    case '4': case 'a': case 'A': screen_ = Screen::actions; button_ = 0; break;
    case KEY_UP: case 'k': move_selection(-1); break;
    case KEY_DOWN: case 'j': move_selection(1); break;
    case KEY_PPAGE: move_selection(-page); break;
    case KEY_NPAGE: move_selection(page); break;
    case KEY_HOME: move_selection(-1000000); break;
    case KEY_END: if (screen_ == Screen::log) log_back_ = 0; else move_selection(1000000); break;
    case KEY_LEFT: button_ = std::max(0, button_ - 1); break;
    case KEY_RIGHT: button_ = std::min(int(screen_buttons().size()) - 1, button_ + 1); break;
    case '\r': case '\n': case KEY_ENTER: {
      const auto b = screen_buttons();
      press(b[size_t(std::clamp(button_, 0, int(b.size()) - 1))]);
      break;
    }
    case '?': case KEY_F(1): press("Help"); break;
    case 'r': case 'R': press("Refresh"); break;
    case 'f': case 'F': press("Fix"); break;
    case '!': do_shell(); break;
    case 'q': case 'Q': case 'c': case 'C': press(o_.preflight ? "Continue" : "Quit"); break;
    default: return false;
  }
  mark_dirty();
  return true;
}

// ---- dialogs -------------------------------------------------------------------

Rect MenuApp::dialog_rect(int text_lines, int extra_rows) const {
  const int w = dialog_width();
  const int h = std::min(ui_.rows() - 4, text_lines + extra_rows + 2);
  return {std::max(1, (ui_.rows() - h) / 2 - 1), (ui_.cols() - w) / 2, h, w};
}

int MenuApp::show_text(const std::string& title, const std::string& text,
                       const std::vector<std::string>& buttons, int focus, bool at_end) {
  int top = at_end ? 1000000 : 0;
  overlays_.push_back([&] {
    const int w = dialog_width();
    const auto lines = wrap(text, w - 4);
    const Rect d = dialog_rect(int(lines.size()), 2);
    ui_.window(d, title);
    const int rows = d.h - 4;
    top = std::clamp(top, 0, std::max(0, int(lines.size()) - rows));
    for (int i = 0; i < rows && top + i < int(lines.size()); ++i)
      ui_.text(d.y + 1 + i, d.x + 2, d.w - 4, lines[size_t(top + i)], Role::window);
    if (int(lines.size()) > rows)
      ui_.text(d.y + d.h - 3, d.x + d.w - 16, 14,
               top + rows < int(lines.size()) ? " more: PgDn " : " end ", Role::dim);
    ui_.buttons(d.y + d.h - 2, d.x + 1, d.w - 2, buttons, focus);
  });
  mark_dirty();
  int result = -1;
  for (;;) {
    const int key = wait_key();
    if (quit_) break;
    if (key == kEscape) break;
    if (key == '\r' || key == '\n' || key == KEY_ENTER) {
      result = focus;
      break;
    }
    if (key == KEY_LEFT || key == KEY_BTAB) focus = std::max(0, focus - 1);
    else if (key == KEY_RIGHT || key == '\t') focus = std::min(int(buttons.size()) - 1, focus + 1);
    else if (key == KEY_UP) --top;
    else if (key == KEY_DOWN) ++top;
    else if (key == KEY_PPAGE) top -= 10;
    else if (key == KEY_NPAGE || key == ' ') top += 10;
    else if (key == KEY_HOME) top = 0;
    else if (key == KEY_END) top = 1000000;
    else {
      // Accelerator: a button's first letter, only when no other button shares it
      // (with "Create" and "Cancel", c must not mean either).
      int match = -1, matches = 0;
      for (size_t i = 0; i < buttons.size(); ++i)
        if (key > 0 && key < 256 && std::tolower(key) == std::tolower(static_cast<unsigned char>(buttons[i][0]))) {
          match = int(i);
          ++matches;
        }
      if (matches == 1) {
        result = match;
        break;
      }
    }
    mark_dirty();
  }
  overlays_.pop_back();
  mark_dirty();
  return result;
}

int MenuApp::choose(const std::string& title, const std::string& text,
                    const std::vector<std::string>& items) {
  int sel = 0;
  overlays_.push_back([&] {
    const int w = dialog_width();
    const auto lines = wrap(text, w - 4);
    const Rect d = dialog_rect(int(lines.size() + items.size()) + 1, 2);
    ui_.window(d, title);
    int y = d.y + 1;
    for (const auto& l : lines) ui_.text(y++, d.x + 2, d.w - 4, l, Role::window);
    ++y;
    const int room = d.y + d.h - 2 - y;
    const int first = std::max(0, sel - room + 1);
    for (int i = first; i < int(items.size()) && y < d.y + d.h - 2; ++i, ++y) {
      if (i == sel) ui_.fill({y, d.x + 2, 1, d.w - 4}, Role::selected);
      ui_.text(y, d.x + 3, d.w - 5, items[size_t(i)], i == sel ? Role::selected : Role::window);
    }
    ui_.text(d.y + d.h - 2, d.x + 2, d.w - 4, "Up/Down choose, Enter accepts, Esc cancels", Role::dim);
  });
  mark_dirty();
  int result = -1;
  for (;;) {
    const int key = wait_key();
    if (quit_ || key == kEscape) break;
    if (key == '\r' || key == '\n' || key == KEY_ENTER) {
      result = sel;
      break;
    }
    if (key == KEY_UP) sel = std::max(0, sel - 1);
    else if (key == KEY_DOWN) sel = std::min(int(items.size()) - 1, sel + 1);
    mark_dirty();
  }
  overlays_.pop_back();
  mark_dirty();
  return result;
}

std::optional<std::string> MenuApp::ask_input(const std::string& title, const std::string& text,
                                              const std::string& initial) {
  std::string value = initial;
  int top = 1000000;  // the question is the text's last line
  overlays_.push_back([&] {
    const int w = dialog_width();
    const auto lines = wrap(text, w - 4);
    const Rect d = dialog_rect(int(lines.size()), 3);
    ui_.window(d, title);
    const int rows = d.h - 5;
    top = std::clamp(top, 0, std::max(0, int(lines.size()) - rows));
    for (int i = 0; i < rows && top + i < int(lines.size()); ++i)
      ui_.text(d.y + 1 + i, d.x + 2, d.w - 4, lines[size_t(top + i)], Role::window);
    const int ew = d.w - 4;
    std::string shown = value.size() + 1 > size_t(ew) ? value.substr(value.size() + 1 - size_t(ew)) : value;
    shown += '_';
    shown.resize(size_t(ew), ' ');
    ui_.text(d.y + d.h - 3, d.x + 2, ew, shown, Role::entry);
    ui_.text(d.y + d.h - 2, d.x + 2, d.w - 4, "Enter accepts, Esc cancels, Up/Down scroll", Role::dim);
  });
  mark_dirty();
  std::optional<std::string> result;
  for (;;) {
    const int key = wait_key();
    if (quit_ || key == kEscape) break;
    if (key == '\r' || key == '\n' || key == KEY_ENTER) {
      result = value;
      break;
    }
    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
      if (!value.empty()) value.pop_back();
    } else if (key == kCtrlU) {
      value.clear();
    } else if (key == KEY_UP) {
      --top;
    } else if (key == KEY_DOWN) {
      ++top;
    } else if (key == KEY_PPAGE) {
      top -= 10;
    } else if (key == KEY_NPAGE) {
      top += 10;
    } else if (key >= 0x20 && key < 0x7f && value.size() < 4096) {
      value += char(key);
    }
    mark_dirty();
  }
  overlays_.pop_back();
  mark_dirty();
  return result;
}

std::string MenuApp::ask_typed(const std::string& title, const std::string& text) {
  return ask_input(title, text, "").value_or("");
}

// ---- actions -------------------------------------------------------------------

void MenuApp::run_action(const Action& a) {
  // The action list is rebuilt by what the action does: work on a copy.
  const Action copy = a;
  switch (copy.kind) {
    case Action::Kind::fix_utility: do_fix(copy); break;
    case Action::Kind::restore: do_restore(copy); break;
    case Action::Kind::prune_blobs: do_prune(copy); break;
    case Action::Kind::safe2upgrade: do_safe2upgrade(copy); break;
    case Action::Kind::bundle: do_bundle(); break;
    case Action::Kind::shell: do_shell(); break;
    case Action::Kind::reboot: do_reboot(); break;
  }
  mark_dirty();
}

void MenuApp::do_fix(const Action& a) {
  FixOptions fo;
  fo.disk = a.disk;
  fo.apply = true;
  fo.backup_dir = o_.backup_dir;
  fo.core.core_img = o_.core_img;
  fo.core.core_sectors = o_.core_sectors;
  std::ostringstream out;
  MenuConsole console(*this, out, "Remove the utility partition on " + a.disk);
  const std::string outcome = outcome_of([&] { return run_fix_utility(fo, system_io(), console, out); });
  const std::string backup = backup_path_in(out.str());
  if (!backup.empty()) session_backups_.push_back(backup);
  refresh_check();
  std::string after;
  for (const auto& disk : check_.disks)
    if (json_string(disk, "path") == a.disk && disk.contains("grub_embed"))
      after = "\nCheck again: GRUB " + json_string(disk["grub_embed"], "verdict") + ".";
  show_text("Result", out.str() + "\n" + outcome + after, {"OK"}, 0, true);
}

void MenuApp::do_restore(const Action& a) {
  RestoreOptions ro;
  ro.backup = a.path;
  ro.disk = a.disk;
  ro.apply = true;
  std::ostringstream out;
  MenuConsole console(*this, out, "Restore " + a.disk);
  const std::string outcome = outcome_of([&] { return run_restore(ro, system_io(), console, out); });
  refresh_check();
  show_text("Result", out.str() + "\n" + outcome, {"OK"}, 0, true);
}

void MenuApp::do_prune(const Action& a) {
  auto days = ask_input("Prune xapi messages",
                        "Messages older than this many days are archived and removed "
                        "(xapi keeps alerts as messages; old ones are history only):", "30");
  if (!days) return;
  BlobsPruneOptions po;
  po.root = a.path;
  try {
    size_t used = 0;
    po.older_than_days = std::stoll(*days, &used);
    if (used != days->size() || *po.older_than_days < 0) throw std::invalid_argument("days");
  } catch (const std::exception&) {
    show_text("Prune xapi messages", "'" + *days + "' is not a number of days.", {"OK"});
    return;
  }
  std::ostringstream plan;
  try {
    run_blobs_prune(po, system_io(), plan);
  } catch (const std::exception& e) {
    show_text("Prune xapi messages", plan.str() + "\nCannot plan: " + e.what(), {"OK"});
    return;
  }
  if (show_text("Prune xapi messages: the plan (nothing removed yet)", plan.str(), {"Prune", "Cancel"}) != 0)
    return;
  if (ask_typed("Prune xapi messages", plan.str() + "\nType yes to archive and remove them:") != "yes") {
    show_text("Prune xapi messages", "Not confirmed; nothing was removed.", {"OK"});
    return;
  }
  po.apply = true;
  std::ostringstream out;
  const std::string outcome = outcome_of([&] { return run_blobs_prune(po, system_io(), out); });
  refresh_check();
  show_text("Result", out.str() + "\n" + outcome, {"OK"}, 0, true);
}

void MenuApp::do_safe2upgrade(const Action& a) {
  Safe2UpgradeOptions so;
  so.root = o_.old_root;
  so.remove = a.path == "remove";
  std::ostringstream plan;
  Console unused;  // a dry run asks nothing
  try {
    run_safe2upgrade(so, system_io(), unused, plan);
  } catch (const std::exception& e) {
    show_text("safe2upgrade", plan.str() + "\nCannot plan: " + e.what(), {"OK"});
    return;
  }
  const std::string verb = so.remove ? "Remove" : "Create";
  if (show_text("safe2upgrade: what it means (nothing changed yet)", plan.str(), {verb, "Cancel"}) != 0)
    return;
  so.apply = true;
  std::ostringstream out;
  MenuConsole console(*this, out, verb + " var/preserve/safe2upgrade");
  const std::string outcome = outcome_of([&] { return run_safe2upgrade(so, system_io(), console, out); });
  refresh_check();
  show_text("Result", out.str() + "\n" + outcome, {"OK"}, 0, true);
}

void MenuApp::do_bundle() {
  std::vector<std::string> places;
  if (demo_) places.push_back(demo_->dir());
  try {
    for (const auto& d : bundle_destinations(o_.disks)) places.push_back(d);
  } catch (const std::exception&) {
    // no suggestions: the path can still be typed
  }
  std::vector<std::string> items;
  for (const auto& p : places) {
    const std::string note = destination_note(p);
    items.push_back(note.empty() ? p : p + "  (" + note + ")");
  }
  items.push_back("Type a path...");
  const int pick = choose("Save a support bundle",
                          "Where to? Directories on filesystems that are not on the disks being "
                          "checked, the roomiest first.", items);
  if (pick < 0) return;
  std::string dest;
  if (pick + 1 == int(items.size())) {
    auto typed = ask_input("Save a support bundle", "A directory (the file is named for you) or a file path:", "/tmp");
    if (!typed || typed->empty()) return;
    dest = *typed;
  } else {
    dest = places[size_t(pick)];
  }
  BundleOptions bo;
  bo.out = dest;
  bo.log = o_.log;
  bo.disks = o_.disks;
  bo.root = o_.old_root;
  std::ostringstream out;
  const std::string outcome = outcome_of([&] { return run_bundle(bo, system_io(), out); });
  show_text("Result", out.str() + "\n" + outcome, {"OK"}, 0, true);
}

void MenuApp::do_shell() {
  term_.suspend();
  std::fputs("\nxsguard: type exit to come back to the menu.\n", stdout);
  std::fflush(stdout);
  const char* shell = std::getenv("SHELL");
  if (!shell || !*shell || ::access(shell, X_OK) != 0) shell = "/bin/sh";
  // Ctrl-C in the shell reaches the menu too (same process group): ignored meanwhile,
  // as system() does, which also drops it if it was pending.
  struct sigaction ignore {}, old_int {}, old_quit {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  const pid_t pid = ::fork();
  if (pid == 0) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig : {SIGINT, SIGQUIT, SIGPIPE}) ::sigaction(sig, &dfl, nullptr);
    ::sigprocmask(SIG_SETMASK, &signals_.child_mask(), nullptr);
    ::execl(shell, shell, static_cast<char*>(nullptr));
    std::perror(shell);
    ::_exit(127);
  }
  if (pid > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  term_.resume();
  refresh_check();
}

void MenuApp::do_reboot() {
  if (ask_typed("Reboot", "The machine reboots now. An installation in progress is lost.\n"
                          "Type yes to reboot:") != "yes")
    return;
  ::sync();
  term_.suspend();
  ::reboot(RB_AUTOBOOT);
  const std::string why = std::strerror(errno);
  term_.resume();
  show_text("Reboot", "The reboot failed: " + why, {"OK"});
}

void MenuApp::show_help() {
  show_text("Help",
            "xsguard looks at the disks (the GRUB embedding area, vendor utility partitions, "
            "the XenServer layout), follows the installer's log (/tmp/install-log) and the "
            "restore of xapi's message store, and offers the fixes it can make safely.\n\n"
            "Screens: 1 Summary (every finding, worst first; Enter shows the evidence and the "
            "remedy), 2 Disks (the start of each disk and GRUB's verdict), 3 Install log (live, "
            "known failures in red; the bottom line shows a stall and its measured progress), "
            "4 Actions.\n\n"
            "Keys: Tab or 1-4 change screen; Up/Down/PgUp/PgDn select or scroll; Left/Right "
            "choose a button; Enter presses it; f fix the selected finding; r check again; ! "
            "shell; q " + std::string(o_.preflight ? "continue with the installer" : "quit") +
            ".\n\nEvery change shows its plan first and waits for you to type yes. Disk changes "
            "write a verified backup before the first write; restore it from Actions or with "
            "`xsguard restore BACKUP --disk DISK --apply`.\n\nTerminal: TERM=" +
                printable(std::getenv("TERM") ? std::getenv("TERM") : "linux") + ", terminfo entry " +
                (term_.terminfo_source() == "system" ? "from this machine" : "built into xsguard") + ".",
            {"OK"});
}

bool MenuApp::confirm_quit() {
  if (!o_.preflight) return true;
  bool inhibitor = false;
  for (const auto& f : all_findings()) inhibitor |= f.inhibitor;
  if (!inhibitor && check_error_.empty()) return true;
  return show_text("Continue",
                   std::string(inhibitor ? "Inhibitors remain: the installation is likely to fail or lose data."
                                         : "The check itself failed (" + check_error_ + "): the disks were not judged.") +
                       " Continue with the installer anyway?",
                   {"Back", "Continue"}) == 1;
}

int MenuApp::run() {
  if (o_.demo) {
    demo_ = std::make_unique<Demo>();
    o_.disks = {demo_->disk()};
    o_.log = demo_->log();
    o_.old_root = demo_->old_root();
    o_.target_root = demo_->target_root();
    o_.source_root = demo_->old_root();
    o_.backup_dir = demo_->backup_dir();
  }
  refresh_check();
  WatchOptions w;
  w.log = o_.log;
  w.stall_after = o_.stall_after;
  w.target_root = o_.target_root;
  w.source_root = o_.source_root;
  w.firmware = o_.firmware;
  feed_ = std::make_unique<LogFeed>(w);
  if (demo_) demo_->start();
  while (!quit_) {
    const int key = wait_key();
    if (!quit_) handle_key(key);
  }
  // A check that could not run is not a clean bill of health.
  const int rc = exit_code_for(all_findings());
  return check_error_.empty() ? rc : std::max(rc, int(kExitWarnings));
}

}  // namespace

int run_menu(const MenuOptions& options) {
  StopSignals signals;  // first: ncurses then leaves these signals alone
  Terminal term(TerminalOptions{options.mono});
  MenuApp app(term, options, signals);
  return app.run();
}

}  // namespace xsguard::tui
