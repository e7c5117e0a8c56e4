#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/blobs.h"

namespace xsguard {

Subcommand add_blobs_command(CLI::App& root) {
  CLI::App* blobs = root.add_subcommand(
      "blobs",
      "Measure and safely shrink xapi's message store (var/lib/xcp/blobs), which the "
      "upgrade copies at 72%");
  blobs->require_subcommand(1);

  auto scan = std::make_shared<BlobsScanOptions>();
  CLI::App* s = blobs->add_subcommand(
      "scan",
      "Count entries, symlinks, dangling symlinks, bytes and message ages, and predict "
      "how long the installer's restore step takes (finding blobs.too_many)");
  s->add_option("--root", scan->root, "a mounted old root, or / on a running host")->required();
  s->add_flag("--json", scan->json, "print the report as JSON");

  auto prune = std::make_shared<BlobsPruneOptions>();
  auto older = std::make_shared<int64_t>(-1);
  auto keep = std::make_shared<uint64_t>(0);
  CLI::App* p = blobs->add_subcommand(
      "prune",
      "Remove old xapi messages (each file and its four symlinks) and dangling "
      "symlinks; dry run unless --apply, which first writes and verifies a backup. "
      "Exit 3: refused or stopped, nothing unsafe done (run again to resume)");
  p->add_option("--root", prune->root, "a mounted old root, or / on a running host")->required();
  // A century is the most that means anything (and keeps the time arithmetic in range).
  auto* o_older = p->add_option("--older-than", *older, "remove messages older than DAYS (0-36500)")
                      ->check(CLI::Range(0, 36500));
  auto* o_keep = p->add_option("--keep-newest", *keep, "always keep the N newest messages");
  p->add_option("--backup", prune->backup,
                "the backup archive to write (gzip pax tar; default: "
                "ROOT/var/lib/xcp/xsguard-blobs-<UTC time>.tar.gz)");
  p->add_flag("--apply", prune->apply, "remove (default: show what would go)");
  p->add_option("--gzip-level", prune->gzip_level, "compression level of the backup (1-9)")
      ->check(CLI::Range(1, 9));

  auto restore = std::make_shared<BlobsRestoreOptions>();
  CLI::App* r = blobs->add_subcommand(
      "restore",
      "Put back what a prune removed, symlinks included, with their names, modes, "
      "owners and mtimes (dry run unless --apply)");
  r->add_option("backup", restore->archive, "the backup archive prune wrote")->required();
  r->add_option("--root", restore->root, "the root the prune worked on")->required();
  r->add_flag("--apply", restore->apply, "restore (default: show what would be restored)");

  return {blobs, [=] {
            if (s->parsed()) return run_blobs_scan(*scan, std::cout);
            if (p->parsed()) {
              if (o_older->count()) prune->older_than_days = *older;
              if (o_keep->count()) prune->keep_newest = *keep;
              return run_blobs_prune(*prune, system_io(), std::cout);
            }
            return run_blobs_restore(*restore, std::cout);
          }};
}

}  // namespace xsguard
