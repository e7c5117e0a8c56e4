#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/bundle.h"

namespace xsguard {

Subcommand add_bundle_command(CLI::App& root) {
  auto o = std::make_shared<BundleOptions>();
  CLI::App* app = root.add_subcommand(
      "bundle", "Write a support bundle (tar.gz): install log, check and watch reports, disk "
                "tables and first bytes, kernel log, /proc facts, and a manifest with SHA-256 "
                "sums");
  app->add_option("--out", o->out,
                  "the file to write, or a directory to write xsguard-bundle-HOST-UTC.tar.gz in")
      ->required();
  app->add_option("--log", o->log, "the install log (default /tmp/install-log)");
  app->add_option("--disk", o->disks, "disk or image file to examine (repeatable; default: "
                                      "every whole disk in /sys/block)");
  app->add_option("--root", o->root, "a mounted old installation (check --root)");
  app->add_flag("--force", o->force,
                "replace an existing file; write even onto a disk being examined");
  app->add_option("--sector-size", o->sector_size,
                  "logical sector size of image files (512 or 4096; default: guess)")
      ->check(CLI::IsMember({512, 4096}));
  app->footer("The bundle refuses (exit 3) to replace a file, to write through a symbolic link "
              "and to write onto a disk it examines; /tmp is RAM in the installer.");
  return {app, [o] { return run_bundle(*o, system_io(), std::cout); }};
}

}  // namespace xsguard
