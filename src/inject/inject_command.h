// xsguard inject: put xsguard, its terminfo entries and the installer hooks into an
// install.img by appending one overlay (see inject/overlay.h).
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "inject/overlay.h"
#include "probe/io.h"

namespace xsguard::inject {

struct InjectOptions {
  std::string image;   // install.img
  std::string output;  // -o: write here instead of changing IMAGE in place
  bool list = false;
  bool remove = false;
  std::string self_exe = "/proc/self/exe";
  // Where the terminfo entries are copied from, first match wins.
  std::vector<std::string> terminfo_dirs = {"/etc/terminfo", "/lib/terminfo",
                                            "/usr/share/terminfo"};
};

// The files of a new overlay (without the manifest): the xsguard binary, the terminfo
// entries found, the hooks. Names of missing terminfo entries go to MISSING.
std::vector<OverlayFile> overlay_files(const InjectOptions& o,
                                       std::vector<std::string>* missing);

// Runs the command; messages to OUT/ERR. Returns the exit code; throws InputError (66),
// UsageError (64).
int run_inject(const InjectOptions& o, std::ostream& out, std::ostream& err,
               Io& io = system_io());

}  // namespace xsguard::inject
