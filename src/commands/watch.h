// `xsguard watch`: follows the installer's log (or reads it once), prints one event
// per record, names known failures, and explains a silent installer (the 72% stall)
// with measured restore progress.
#pragma once
#include <cstddef>
#include <string>

#include "log/clock.h"

namespace xsguard {

struct WatchOptions {
  std::string log = "/tmp/install-log";
  bool once = false;
  bool json = false;
  int stall_after = 120;                 // seconds without a record that make a stall
  std::string target_root = "/tmp/root"; // the new root being installed
  std::string source_root;               // the old root; "" = find upgrade-src-* mount
  size_t max_line = 64 * 1024;           // longer lines are cut
  std::string firmware;                  // "bios", "uefi" or "" (look at the system)
};

// Runs the command, writing events and (with once, or when follow mode is ended by
// SIGINT/SIGTERM) the final report to out_fd. Returns the exit code. Throws
// InputError when the log cannot be read (--once) or its directory does not exist.
int run_watch(const WatchOptions& options, int out_fd, const logwatch::Clock& clock);

// Follow mode with an explicit stop: for tests. stop_fd becoming readable ends it.
int run_watch_follow(const WatchOptions& options, int out_fd, const logwatch::Clock& clock,
                     int stop_fd);

// The signature strings, one a line (what `grep -F -f` would need to find the same).
std::string signature_list();

}  // namespace xsguard
