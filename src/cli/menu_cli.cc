#include <memory>

#include "cli/subcommands.h"
#include "model/errors.h"
#include "tui/menu.h"

namespace xsguard {

Subcommand add_menu_command(CLI::App& root) {
  auto o = std::make_shared<tui::MenuOptions>();
  CLI::App* m = root.add_subcommand(
      "menu",
      "The recovery menu: findings, disks, the live install log and the fixes, for the "
      "installer's console (ALT+F2 shell, tty1, tty4)");
  m->add_option("--disk", o->disks, "a disk or image to check (repeatable; default: every disk)");
  m->add_option("--log", o->log, "the install log to follow (default /tmp/install-log)");
  m->add_option("--root", o->old_root,
                "a mounted old root: measure and prune its xapi message store");
  m->add_option("--target-root", o->target_root, "the new root being installed (default /tmp/root)");
  m->add_option("--source-root", o->source_root,
                "the old root the restore copies from (default: the installer's upgrade-src-* mount)");
  m->add_option("--backup-dir", o->backup_dir,
                "where disk backups are written and looked for (default: another disk, else /tmp)");
  m->add_option("--core-img", o->core_img, "the core.img GRUB will embed (its size decides)");
  m->add_option("--core-sectors", o->core_sectors, "core.img size in sectors")->check(CLI::Range(1, 65535));
  m->add_option("--firmware", o->firmware, "boot mode (default: the running system's)")
      ->check(CLI::IsMember({"bios", "uefi"}));
  auto* stall = m->add_option("--stall-after", o->stall_after,
                              "seconds without a new log record that count as a stall (default 120; 5 with --demo)")
                    ->check(CLI::Range(1, 86400));
  m->add_option("--screen", o->start_screen, "the screen to start on")
      ->check(CLI::IsMember({"summary", "disks", "log", "actions"}));
  m->add_flag("--mono", o->mono, "no colours");
  m->add_flag("--demo", o->demo,
              "run on the bundled demo: a Dell disk image, an old root with two years of xapi "
              "messages, and an install log that stalls at 72% and then fails in grub-install "
              "(everything in a temporary directory, removed at the end)");
  m->add_flag("--preflight", o->preflight,
              "started before the installer: q continues the installation (asks when inhibitors remain)");
  m->footer(
      "Keys: Tab or 1-4 screens, arrows, Enter, ? help, q quit. Every change shows its plan and "
      "waits for you to type yes. Exit code: the worst finding when you quit (0/1/2), 64 without a "
      "terminal.");
  return {m, [o, stall] {
            if (o->demo) {
              if (!o->disks.empty() || !o->old_root.empty())
                throw UsageError("--demo brings its own disk and root: drop --disk/--root");
              if (stall->count() == 0) o->stall_after = 5;
              o->allow_reboot = false;
              o->firmware = "bios";
            }
            return tui::run_menu(*o);
          }};
}

}  // namespace xsguard
