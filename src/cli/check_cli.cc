#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/check.h"

namespace xsguard {

Subcommand add_check_command(CLI::App& root) {
  auto options = std::make_shared<CheckOptions>();
  auto json = std::make_shared<bool>(false);
  CLI::App* app = root.add_subcommand(
      "check", "Check every disk before grub-install: GRUB embedding with GRUB's own rules, "
               "utility partitions, table damage, XenServer layout hazards");
  app->add_option("--disk", options->disks, "disk or image file to check (repeatable; default: "
                                            "every whole disk in /sys/block)");
  auto* img = app->add_option("--core-img", options->core_img, "size core.img from this file");
  auto* sectors = app->add_option("--core-sectors", options->core_sectors,
                                  "core.img size in 512-byte sectors")
                      ->check(CLI::Range(1, 65535));
  img->excludes(sectors);
  app->add_option("--target-root", options->target_root,
                  "the new root being installed (/tmp/root): build core.img with its grub-mkimage");
  app->add_option("--root", options->old_root, "a mounted old installation (for safe2upgrade)");
  app->add_option("--firmware", options->firmware, "boot mode to assume instead of the running one")
      ->check(CLI::IsMember({"bios", "uefi"}));
  app->add_option("--sector-size", options->sector_size,
                  "logical sector size of image files (512 or 4096; default: guess)")
      ->check(CLI::IsMember({512, 4096}));
  app->add_flag("--json", *json, "print the report as JSON");
  return {app, [options, json] {
            Report report = run_check(*options);
            if (*json)
              write_json(std::cout, report);
            else
              write_text(std::cout, report);
            std::cout.flush();
            return exit_code_for(report.findings);
          }};
}

}  // namespace xsguard
