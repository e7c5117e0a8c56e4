#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/safe2upgrade.h"

namespace xsguard {

Subcommand add_safe2upgrade_command(CLI::App& root) {
  auto o = std::make_shared<Safe2UpgradeOptions>();
  CLI::App* app = root.add_subcommand(
      "safe2upgrade",
      "Say what var/preserve/safe2upgrade on an old root makes the upgrade do (convert to the "
      "new layout, destroying the local SR: its virtual disks and the VMs using them are "
      "listed), and create or remove it (dry run unless --apply)");
  app->add_option("--root", o->root, "the mounted old installation")->required();
  app->add_option("--disk", o->disk,
                  "the disk (or image) holding it (default: the disk under --root's filesystem)");
  app->add_flag("--apply", o->apply, "create the file (default: show what it would do)");
  app->add_flag("--remove", o->remove, "remove the file instead (the undo)");
  app->add_flag("--yes", o->yes, "do not ask for confirmation");
  app->add_flag("--json", o->json, "print the report as JSON");
  app->add_option("--sector-size", o->sector_size,
                  "logical sector size of an image file (512 or 4096; default: guess)")
      ->check(CLI::IsMember({512, 4096}));
  app->footer("The file is created empty (mode 0644) and flushed to disk; links on the way "
              "(var, var/preserve) and read-only mounts are refused (exit 3).");
  return {app, [o] {
            Console console;
            return run_safe2upgrade(*o, system_io(), console, std::cout);
          }};
}

}  // namespace xsguard
