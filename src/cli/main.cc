#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <vector>

#include "cli/subcommands.h"
#include "model/errors.h"
#include "model/finding.h"

namespace {

const char* kExitCodes =
    "Exit codes:\n"
    "  0   nothing above info\n"
    "  1   warnings, no inhibitor\n"
    "  2   at least one inhibitor: the upgrade will fail or lose data\n"
    "  3   refused to change anything: fix, restore, blobs, safe2upgrade, bundle, capture,\n"
    "      post (the reason is printed)\n"
    "  64  usage error\n"
    "  66  input missing or unreadable\n"
    "  70  internal error\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace xsguard;
  CLI::App root{"xsguard: pre-flight checks and safe fixes for XenServer / XCP-ng upgrades",
                "xsguard"};
  root.footer(kExitCodes);
  root.set_version_flag("--version", std::string("xsguard ") + XSGUARD_VERSION);
  root.require_subcommand(1);

  std::vector<Subcommand> commands;
  commands.push_back(add_check_command(root));
  commands.push_back(add_fix_command(root));
  commands.push_back(add_restore_command(root));
  commands.push_back(add_watch_command(root));
  commands.push_back(add_pool_command(root));
  commands.push_back(add_blobs_command(root));
  commands.push_back(add_inject_command(root));
  commands.push_back(add_capture_command(root));
  commands.push_back(add_post_command(root));
  commands.push_back(add_menu_command(root));
  commands.push_back(add_bundle_command(root));
  commands.push_back(add_safe2upgrade_command(root));

  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "xsguard: " << e.what() << " (see xsguard --help)\n";
    return kExitUsage;
  }

  try {
    for (auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const UsageError& e) {
    std::cerr << "xsguard: " << e.what() << '\n';
    return kExitUsage;
  } catch (const RefusedError& e) {
    std::cerr << "xsguard: refused: " << e.what() << '\n';
    return kExitRefused;
  } catch (const InputError& e) {
    std::cerr << "xsguard: " << e.what() << '\n';
    return kExitNoInput;
  } catch (const std::exception& e) {
    std::cerr << "xsguard: internal error: " << e.what() << '\n';
    return kExitInternal;
  }
  return kExitUsage;
}
