#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "commands/capture.h"
#include "commands/post.h"

namespace xsguard {

Subcommand add_capture_command(CLI::App& root) {
  auto o = std::make_shared<CaptureOptions>();
  CLI::App* app = root.add_subcommand(
      "capture",
      "Record an old root's customisations (fstab, cron, rc.local, sysctl, modprobe, the "
      "iSCSI IQN, hosts, DNS, NTP, multipath, SNMP, SSH, yum repos, and the xapi network and "
      "storage settings) in one tar.gz with an inventory that says what the upgrade carries "
      "over; reads only");
  app->add_option("--root", o->root, "the old root (mounted read-only is enough)")->required();
  app->add_option("--out", o->out, "the capture to write (gzip tar; never replaced)")->required();
  app->add_flag("--json", o->json, "print the report as JSON");
  return {app, [o] { return run_capture(*o, system_io(), std::cout); }};
}

Subcommand add_post_command(CLI::App& root) {
  auto o = std::make_shared<PostOptions>();
  CLI::App* app = root.add_subcommand(
      "post",
      "On the new root (the installer's /tmp/root at filesystem-populated, or / at first "
      "boot): make rc.local run and put back from a capture what the upgrade did not carry "
      "over, shown as diffs; dry run unless --apply. Exit 3: refused, nothing unsafe done");
  app->add_option("--target-root", o->target_root, "the new root")->required();
  app->add_option("--from", o->from, "a capture written by xsguard capture");
  app->add_flag("--apply", o->apply, "write the changes (default: show them)");
  app->add_flag("--json", o->json, "print the report as JSON");
  return {app, [o] { return run_post(*o, system_io(), std::cout); }};
}

}  // namespace xsguard
