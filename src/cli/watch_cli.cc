#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/watch.h"
#include "log/clock.h"

namespace xsguard {

Subcommand add_watch_command(CLI::App& root) {
  auto o = std::make_shared<WatchOptions>();
  auto list = std::make_shared<bool>(false);
  CLI::App* app = root.add_subcommand(
      "watch", "Follow the installer's log (/tmp/install-log): one event per record, known "
               "failures with their fix, and the 72% stall measured (restore progress, rate, "
               "time left)");
  app->add_option("log", o->log, "the install log (default /tmp/install-log)");
  app->add_flag("--once", o->once,
                "read the whole log, print its events and the report, exit 0/1/2 like check");
  app->add_flag("--json", o->json, "events as JSON lines (with --once the report follows)");
  app->add_option("--stall-after", o->stall_after,
                  "seconds without a new record that count as a stall (default 120)")
      ->check(CLI::Range(1, 86400));
  app->add_option("--target-root", o->target_root,
                  "the new root being installed (default /tmp/root)");
  app->add_option("--source-root", o->source_root,
                  "the old root to compare the restore with (default: the installer's "
                  "read-only upgrade-src-* mount)");
  app->add_option("--firmware", o->firmware,
                  "boot mode for the bar's task count (default: the running system's when "
                  "following; with --once BIOS, unless the log shows efibootmgr)")
      ->check(CLI::IsMember({"bios", "uefi"}));
  app->add_flag("--list-signatures", *list, "print the strings matched as known failures")
      ->group("");
  app->footer(
      "Follow mode waits for the log to appear, survives truncation and replacement, and "
      "prints the report when interrupted (Ctrl-C). Lines longer than 64 KiB are cut.");
  return {app, [o, list] {
            if (*list) {
              std::cout << signature_list();
              std::cout.flush();
              return 0;
            }
            std::cout.flush();
            logwatch::SystemClock clock;
            return run_watch(*o, STDOUT_FILENO, clock);
          }};
}

}  // namespace xsguard
