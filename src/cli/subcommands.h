// Each command adds itself to the CLI here; main() parses and runs the chosen one.
// A command's run function returns its exit code (see model/finding.h) and may throw
// UsageError (64) or InputError (66); anything else thrown is an internal error (70).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace xsguard {

struct Subcommand {
  CLI::App* app;
  std::function<int()> run;
};

Subcommand add_check_command(CLI::App& root);
Subcommand add_fix_command(CLI::App& root);
Subcommand add_restore_command(CLI::App& root);
Subcommand add_watch_command(CLI::App& root);
Subcommand add_pool_command(CLI::App& root);
Subcommand add_blobs_command(CLI::App& root);
Subcommand add_inject_command(CLI::App& root);
Subcommand add_capture_command(CLI::App& root);
Subcommand add_post_command(CLI::App& root);
Subcommand add_menu_command(CLI::App& root);
Subcommand add_bundle_command(CLI::App& root);
Subcommand add_safe2upgrade_command(CLI::App& root);

}  // namespace xsguard
