#include "tui/log_feed.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "model/finding.h"

namespace xsguard::tui {

LogFeed::LogFeed(WatchOptions options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  ::fcntl(read_fd_, F_SETFL, O_NONBLOCK);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    ::close(read_fd_);
    ::close(write_fd_);
    throw std::runtime_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
  }
  options.json = true;
  options.once = false;
  thread_ = std::thread([this, options] { run(options); });
}

LogFeed::~LogFeed() {
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  // Closing the read end first unblocks a writer stuck on a full pipe.
  ::close(read_fd_);
  thread_.join();
  ::close(write_fd_);
  ::close(stop_fd_);
}

void LogFeed::run(WatchOptions options) {
  // A write after the menu closed the pipe then fails with EPIPE in this thread
  // instead of signalling the process.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  std::string failure;
  try {
    run_watch_follow(options, write_fd_, clock_, stop_fd_);
    return;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  nlohmann::ordered_json j;
  j["event"] = "error";
  j["text"] = failure;
  const std::string line =
      j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  (void)!::write(write_fd_, line.data(), line.size());
}

bool LogFeed::drain(LogModel& model) {
  bool changed = false;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(read_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial_.append(buf, size_t(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
      changed |= model.feed(partial_.substr(start, nl - start));
    partial_.erase(0, start);
  }
  return changed;
}

}  // namespace xsguard::tui
