// xsguard capture: records an old root's customisations (files and xapi settings)
// before an upgrade formats it, in one tar.gz with an inventory that says, for each,
// whether the installer's upgrade carries it over. xsguard post brings them back.
#pragma once
#include <iosfwd>
#include <string>

#include "probe/io.h"

namespace xsguard {

struct CaptureOptions {
  std::string root;  // the old root (read only)
  std::string out;   // the capture to write; never replaced
  bool json = false;
};

// Findings: capture.skipped (one per item that could not be captured),
// capture.not_carried_over (info: what post should bring back). Returns the exit code.
int run_capture(const CaptureOptions& o, Io& io, std::ostream& out);

}  // namespace xsguard
