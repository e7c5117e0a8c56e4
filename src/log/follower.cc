#include "log/follower.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <limits>

#include "model/errors.h"

namespace xsguard::logwatch {

Follower::Follower(std::string path, const Clock& clock, FollowHandler& handler, size_t read_block)
    : path_(std::move(path)), clock_(clock), h_(handler), buf_(read_block ? read_block : 4096) {
  size_t slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  base_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  ifd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ifd_ < 0 || stop_fd_ < 0) throw std::runtime_error(std::string("inotify: ") + strerror(errno));
  dir_wd_ = inotify_add_watch(ifd_, dir_.c_str(),
                              IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
  if (dir_wd_ < 0) {
    int e = errno;
    close(ifd_);
    close(stop_fd_);
    throw InputError("cannot watch " + dir_ + ": " + strerror(e));
  }
}

Follower::~Follower() {
  close_file();
  if (ifd_ >= 0) close(ifd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void Follower::stop() {
  uint64_t one = 1;
  ssize_t r = write(stop_fd_, &one, sizeof one);
  (void)r;
}

void Follower::close_file() {
  if (file_wd_ >= 0) inotify_rm_watch(ifd_, file_wd_);
  file_wd_ = -1;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool Follower::open_file() {
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (!announced_wait_) {
      h_.on_file_event("waiting", "waiting for " + path_ + " to appear");
      announced_wait_ = true;
    }
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    close(fd);
    return false;
  }
  if (fd_ >= 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    close(fd);  // the same file
    return true;
  }
  bool replacing = fd_ >= 0;
  if (replacing) {
    read_available();  // drain what the old file still had
    close_file();
  }
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  offset_ = 0;
  // Watch the inode we opened, not whatever the name points at later.
  std::string self = "/proc/self/fd/" + std::to_string(fd_);
  file_wd_ = inotify_add_watch(ifd_, self.c_str(), IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF);
  if (file_wd_ < 0) file_wd_ = inotify_add_watch(ifd_, path_.c_str(), IN_MODIFY);
  if (replacing)
    h_.on_file_event("replaced", path_ + " was replaced by a new file; reading it from the start");
  else
    h_.on_file_event("opened", "following " + path_);
  announced_wait_ = false;
  return true;
}

void Follower::read_available() {
  if (fd_ < 0) return;
  struct stat st {};
  if (fstat(fd_, &st) == 0 && st.st_size < offset_) {
    h_.on_file_event("truncated", path_ + " was truncated; reading it from the start");
    lseek(fd_, 0, SEEK_SET);
    offset_ = 0;
  }
  for (;;) {
    ssize_t n = read(fd_, buf_.data(), buf_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    offset_ += n;
    h_.on_data(buf_.data(), size_t(n));
  }
}

bool Follower::handle_inotify() {
  alignas(inotify_event) char ev[8192];
  bool reopen = false;
  for (;;) {
    ssize_t n = read(ifd_, ev, sizeof ev);
    if (n <= 0) break;
    for (char* p = ev; p < ev + n;) {
      auto* e = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + e->len;
      if (e->wd == dir_wd_ && e->len && base_ == e->name) {
        if (e->mask & (IN_CREATE | IN_MOVED_TO)) reopen = true;
        if ((e->mask & (IN_DELETE | IN_MOVED_FROM)) && fd_ >= 0)
          h_.on_file_event("moved_away", path_ + " was moved or deleted; still reading the open "
                                                 "file until a new one appears");
      } else if (e->wd == file_wd_ && (e->mask & IN_IGNORED)) {
        file_wd_ = -1;
      }
    }
  }
  return reopen;
}

void Follower::run(int extra_fd) {
  if (open_file()) {
    read_available();
    h_.on_caught_up();
  }
  for (;;) {
    int64_t deadline = h_.next_deadline_ms();
    int timeout = -1;
    if (deadline != std::numeric_limits<int64_t>::max()) {
      int64_t left = deadline - clock_.monotonic_ms();
      timeout = left <= 0 ? 0 : int(std::min<int64_t>(left, 1 << 30));
    }
    pollfd fds[3] = {{ifd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}, {extra_fd, POLLIN, 0}};
    int nfds = extra_fd >= 0 ? 3 : 2;
    int r = poll(fds, nfds_t(nfds), timeout);
    ++wakeups_;
    if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + strerror(errno));
    if (r > 0 && (fds[1].revents || (nfds == 3 && fds[2].revents))) {
      read_available();
      h_.on_caught_up();
      return;
    }
    if (r > 0 && fds[0].revents) {
      bool reopen = handle_inotify();
      if (reopen || fd_ < 0) open_file();
      read_available();
      h_.on_caught_up();
    }
    int64_t now = clock_.monotonic_ms();
    if (now >= h_.next_deadline_ms()) h_.on_deadline(now);
  }
}

}  // namespace xsguard::logwatch
