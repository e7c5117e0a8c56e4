// What the XenServer 7.x installer's upgrade brings back from the old root.
//
// An upgrade copies the old root to the backup partition, formats a fresh root,
// installs the release into it, and then copies back only the paths of its restore
// list (everything else on the old root is gone from the new one). The list is kept
// here as data, in xsguard's words, from the public host-installer sources
// (xenserver/host-installer, upgrade.py: ThirdGenUpgrader.buildRestoreList(), which
// Upgrader.completeUpgrade() walks; the 7.0-7.2 and the later 7.x versions were read).
// A few settings are not copied but read from the old root and written anew by the
// installer (product.py: ExistingInstallation._readSettings()): those count as
// carried over in part.
#pragma once
#include <string>
#include <string_view>

namespace xsguard::capture {

enum class Carried {
  yes,     // copied back as it was
  partly,  // some of it is re-created by the installer, the rest is lost
  aside,   // copied back under another name, not in effect
  no,      // not on the list: the new root has the release's own file
};
const char* to_string(Carried c);

struct CarryOver {
  Carried verdict = Carried::no;
  std::string note;  // why, for the inventory
};

// rel: a path inside the old root ("etc/fstab", "etc/cron.d/backup").
CarryOver carry_over(std::string_view rel);

}  // namespace xsguard::capture
