// Follows a growing log file like `tail -F`, without polling: inotify on the file
// and on its directory wakes the loop, and the only timeout is the one the handler
// asks for (the stall timer, or a few milliseconds to close a record). Survives the
// file appearing late, being truncated, and being replaced (rename + recreate).
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "log/clock.h"

namespace xsguard::logwatch {

class FollowHandler {
 public:
  virtual ~FollowHandler() = default;
  virtual void on_data(const char* p, size_t n) = 0;
  // Everything written so far has been read.
  virtual void on_caught_up() {}
  // waiting (no file yet), opened, truncated, replaced, moved_away. For truncated and
  // replaced the handler should start over (line numbers restart).
  virtual void on_file_event(const std::string& kind, const std::string& text) = 0;
  // Absolute time (Clock::monotonic_ms) the handler wants on_deadline called; the
  // largest int64 for none.
  virtual int64_t next_deadline_ms() = 0;
  virtual void on_deadline(int64_t now_ms) = 0;
};

class Follower {
 public:
  // Throws InputError when the file's directory does not exist.
  Follower(std::string path, const Clock& clock, FollowHandler& handler,
           size_t read_block = 1 << 20);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Runs until stop() or until extra_fd (e.g. a signalfd) becomes readable.
  void run(int extra_fd = -1);
  // Safe from another thread.
  void stop();
  uint64_t wakeups() const { return wakeups_.load(); }  // poll returns so far

 private:
  bool open_file();
  void close_file();
  void read_available();
  bool handle_inotify();  // true if the file should be (re)opened

  std::string path_, dir_, base_;
  const Clock& clock_;
  FollowHandler& h_;
  std::vector<char> buf_;
  int ifd_ = -1, stop_fd_ = -1, fd_ = -1;
  int dir_wd_ = -1, file_wd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  off_t offset_ = 0;
  bool announced_wait_ = false;
  std::atomic<uint64_t> wakeups_{0};
};

}  // namespace xsguard::logwatch
