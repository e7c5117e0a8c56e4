// The world `xsguard menu --demo` runs in, built under a private temporary directory:
// the bundled disk image (a Dell utility partition ahead of XenServer 6.5's layout),
// an old root whose xapi message store holds two years of messages, and an install
// log written as the installer would write it: records, then the silent restore of
// the message store at 72% (copied entry by entry, so that the progress the menu
// shows is measured, not invented), then grub-install failing for lack of room.
// Everything is removed when the demo ends.
#pragma once
#include <atomic>
#include <string>
#include <thread>

namespace xsguard::tui {

class Demo {
 public:
  // Builds the files (throws std::runtime_error); the log is written by start().
  // messages: how many xapi messages the old root's store holds.
  explicit Demo(int messages = 2500);
  ~Demo();
  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  void start();

  const std::string& dir() const { return dir_; }
  std::string disk() const { return dir_ + "/dell-xs65.img"; }
  std::string log() const { return dir_ + "/install-log"; }
  std::string old_root() const { return dir_ + "/old-root"; }
  std::string target_root() const { return dir_ + "/root"; }
  std::string backup_dir() const { return dir_ + "/backups"; }

 private:
  void write_image() const;
  void write_old_root(int messages) const;
  void replay();
  // Sleeps, returning false when the demo is being stopped.
  bool pause_ms(int ms);

  std::string dir_;
  int stop_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Builds a message store with xapi's layout under ROOT/var/lib/xcp/blobs: one file per
// message in messages/, and for each an absolute link per class object, uuid, ref and
// generation. Times spread over `days` before `now`.
void make_demo_blobs(const std::string& root, int messages, int days, int64_t now);

}  // namespace xsguard::tui
