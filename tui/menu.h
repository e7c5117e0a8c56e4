// xsguard menu: the recovery menu an administrator sees on the installer's console
// when an upgrade is in trouble. One screen says what is wrong (check, the install
// log, the blobs store), shows the evidence, and offers the fixes xsguard can perform,
// each confirmed by typing "yes".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xsguard::tui {

struct MenuOptions {
  std::vector<std::string> disks;  // empty: every whole disk
  std::string log = "/tmp/install-log";
  std::string old_root;            // a mounted old root: blobs and safe2upgrade actions
  std::string target_root = "/tmp/root";
  std::string source_root;         // watch's restore source ("" = find it)
  std::string backup_dir;          // where disk backups go (and are looked for)
  std::string core_img;
  uint32_t core_sectors = 0;
  std::string firmware;            // "", "bios", "uefi"
  int stall_after = 120;
  bool mono = false;
  bool demo = false;               // bundled disk image and a replayed install log
  bool preflight = false;          // started before the installer: q means "continue"
  bool allow_reboot = true;
  std::string start_screen = "summary";
};

// Runs until the user quits; returns the exit code of the worst finding then (0/1/2).
// Throws UsageError without a terminal.
int run_menu(const MenuOptions& options);

}  // namespace xsguard::tui
