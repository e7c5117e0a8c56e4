#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/pool.h"

namespace xsguard {

Subcommand add_pool_command(CLI::App& root) {
  auto o = std::make_shared<PoolOptions>();
  CLI::App* app = root.add_subcommand(
      "pool", "Pool readiness for a rolling upgrade, offline, from the xapi pool database: HA, "
              "WLB, versions, updates, VM agility, local SRs, capacity, metadata backup; "
              "and this pool's upgrade runbook");
  app->add_option("--db", o->db, "state.db or `xe pool-dump-database` file (plain or gzip)");
  app->add_option("--root", o->root,
                  "a mounted old root: its state.db, local.db, pool.conf, inventory, "
                  "var/update/applied and firstboot state");
  app->add_flag("--json", o->json, "print the report as JSON");
  app->add_option("--runbook", o->runbook,
                  "write this pool's upgrade runbook instead of the report (text or markdown)")
      ->expected(0, 1)
      ->default_str("text")
      ->check(CLI::IsMember({"text", "markdown"}));
  app->add_option("--layout", o->layout, "runbook and local-SR findings: keep the partition "
                                         "layout, or move to the new one (eject, clean install, rejoin)")
      ->check(CLI::IsMember({"keep", "new"}));
  app->add_option("--export", o->export_format,
                  "resource inventory (hosts, VMs, SRs, VDIs, networks, PIFs, bonds, VLANs, "
                  "updates): json (stdout or --out) or csv (one file per kind, needs --out)")
      ->check(CLI::IsMember({"csv", "json"}));
  app->add_option("--out", o->out_dir, "write the report, runbook and export as files into DIR");
  return {app, [o] { return run_pool(*o, std::cout); }};
}

}  // namespace xsguard
