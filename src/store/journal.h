// The journal that makes `xsguard blobs prune --apply` resumable: a small text file
// beside the blobs directory (never inside it), written durably at each step.
//
//   xsguard-blobs-prune 1
//   blobs <path of the tree>
//   archive <path of the backup>
//   verified <entries> <digest>        once the archive has been read back
//
// Without "verified" nothing was removed yet: a new run discards the unfinished
// archive and starts over. With it, a new run verifies the archive again and goes on
// removing what it lists (what is already gone is skipped). The journal is deleted
// when every listed entry is gone.
#pragma once
#include <cstdint>
#include <string>

#include "probe/io.h"

namespace xsguard::store {

struct JournalState {
  bool exists = false;
  std::string blobs, archive;
  bool verified = false;
  uint64_t entries = 0, digest = 0;
};

class PruneJournal {
 public:
  PruneJournal(Io& io, std::string dir);  // dir: the blobs directory's parent
  const std::string& path() const { return path_; }
  // Throws InputError when it exists but is not a journal of ours.
  JournalState read() const;
  // Throws RefusedError (nothing removed yet) when it cannot be written.
  void begin(const std::string& blobs, const std::string& archive);
  void mark_verified(uint64_t entries, uint64_t digest);
  void finish();

 private:
  Io& io_;
  std::string dir_, name_, path_;
};

}  // namespace xsguard::store
