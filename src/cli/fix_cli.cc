#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/fix_utility.h"
#include "commands/restore.h"

namespace xsguard {

Subcommand add_fix_command(CLI::App& root) {
  auto o = std::make_shared<FixOptions>();
  CLI::App* fix = root.add_subcommand("fix", "Safe, reversible repairs (dry run unless --apply)");
  fix->require_subcommand(1);
  CLI::App* app = fix->add_subcommand(
      "utility-partition",
      "Remove the vendor utility partition that keeps GRUB from embedding; a verified backup "
      "is written first and `xsguard restore` undoes it");
  app->add_option("--disk", o->disk, "the disk (or image file)")->required();
  app->add_flag("--apply", o->apply, "write the change (default: show the plan only)");
  app->add_flag("--yes", o->yes, "do not ask for confirmation");
  app->add_option("--backup-dir", o->backup_dir,
                  "where to write the backup (default: a filesystem on another disk, else /tmp)");
  auto* img = app->add_option("--core-img", o->core.core_img, "size core.img from this file");
  auto* sectors = app->add_option("--core-sectors", o->core.core_sectors,
                                  "core.img size in 512-byte sectors")
                      ->check(CLI::Range(1, 65535));
  img->excludes(sectors);
  app->add_option("--target-root", o->core.target_root,
                  "build core.img with this root's grub-mkimage");
  app->add_option("--sector-size", o->sector_size, "logical sector size of an image file")
      ->check(CLI::IsMember({512, 4096}));
  return {fix, [o] {
            Console console;
            return run_fix_utility(*o, system_io(), console, std::cout);
          }};
}

Subcommand add_restore_command(CLI::App& root) {
  auto o = std::make_shared<RestoreOptions>();
  CLI::App* app = root.add_subcommand(
      "restore", "Put back the bytes an xsguard backup saved (dry run unless --apply)");
  app->add_option("backup", o->backup, "the backup file xsguard fix printed")->required();
  app->add_option("--disk", o->disk, "the disk (or image file) to restore")->required();
  app->add_flag("--apply", o->apply, "write (default: show what differs)");
  app->add_flag("--yes", o->yes, "do not ask for confirmation");
  return {app, [o] {
            Console console;
            return run_restore(*o, system_io(), console, std::cout);
          }};
}

}  // namespace xsguard
