#include <iostream>
#include <memory>

#include "cli/subcommands.h"
#include "inject/inject_command.h"

namespace xsguard {

Subcommand add_inject_command(CLI::App& root) {
  auto o = std::make_shared<inject::InjectOptions>();
  CLI::App* app = root.add_subcommand(
      "inject", "Add xsguard, its terminfo entries and the installer hooks to an install.img "
                "by appending one gzip cpio overlay (the original bytes are kept as they are)");
  app->add_option("image", o->image, "the installer's initrd (install.img)")->required();
  app->add_option("-o,--output", o->output,
                  "write the result here instead of changing IMAGE in place");
  app->add_flag("--list", o->list, "show the overlay's files and what it records");
  app->add_flag("--remove", o->remove,
                "cut the image back to its original length, after checking the checksum "
                "recorded in the overlay");
  app->footer(
      "A second inject replaces the overlay instead of adding another. IMAGE must start with "
      "gzip, bzip2 or xz magic or be a newc cpio archive; anything else exits 66.");
  return {app, [o] {
            std::cout.flush();
            return inject::run_inject(*o, std::cout, std::cerr);
          }};
}

}  // namespace xsguard
