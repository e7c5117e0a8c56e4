// The install log as the menu receives it: `xsguard watch` in follow mode runs on its
// own thread and writes its JSON events into a pipe; the menu's event loop polls the
// pipe's read end next to the keyboard, so the log keeps moving on every screen and
// nothing ever blocks on input.
#pragma once
#include <string>
#include <thread>

#include "commands/watch.h"
#include "log/clock.h"
#include "tui/log_model.h"

namespace xsguard::tui {

class LogFeed {
 public:
  // Starts following options.log (json is forced on). Throws std::runtime_error when
  // the pipe or the thread cannot be created.
  explicit LogFeed(WatchOptions options);
  ~LogFeed();
  LogFeed(const LogFeed&) = delete;
  LogFeed& operator=(const LogFeed&) = delete;

  int fd() const { return read_fd_; }
  // Feeds every complete line available now into the model; true if it changed.
  bool drain(LogModel& model);

 private:
  void run(WatchOptions options);

  int read_fd_ = -1, write_fd_ = -1, stop_fd_ = -1;
  std::string partial_;
  logwatch::SystemClock clock_;
  std::thread thread_;
};

}  // namespace xsguard::tui
