// xsguard post: on the new root (the installer's /tmp/root at the
// filesystem-populated stage, or / at first boot), makes rc.local run and, from a
// capture, puts back the customisations the upgrade did not carry over. Dry run
// unless --apply; writes only inside the target root.
#pragma once
#include <iosfwd>
#include <string>

#include "probe/io.h"

namespace xsguard {

struct PostOptions {
  std::string target_root;
  std::string from;  // a capture written by xsguard capture; "" : rc.local only
  bool apply = false;
  bool json = false;
};

// Findings: post.rc_local_disabled, post.customisation_lost (one per item not in the
// new root and not put back), post.conflict (a customised line the new release sets
// differently). Returns the exit code; throws InputError / RefusedError.
int run_post(const PostOptions& o, Io& io, std::ostream& out);

}  // namespace xsguard
