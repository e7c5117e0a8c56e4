// What post does with one captured item, decided without touching any file: the
// three-way view of stock old (the rules of stock.h, or the new release's file when
// the old stock file is unknown), customised old (the capture) and stock new (the
// target root). post only ever adds lines or files and sets the IQN: it never drops
// or rewrites a line the new release wrote, and a customised line whose key the new
// release sets differently is a conflict, left for the administrator.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "capture/catalog.h"
#include "capture/inventory.h"
#include "capture/rooted.h"

namespace xsguard::capture {

struct ItemPlan {
  enum class Outcome {
    in_place,  // the new root already has the customisation (or there is none)
    write,     // post writes it (with --apply)
    lost,      // not in the new root and post cannot put it back
  };
  Outcome outcome = Outcome::in_place;
  std::string new_bytes;  // write: the whole new content
  uint32_t mode = 0644, uid = 0, gid = 0;  // write: kept from the target file, or captured
  bool creates = false;   // write: the target has no such file
  Lines added;            // write: the lines added
  Lines missing;          // lost: the customised lines the new root lacks
  std::vector<std::pair<std::string, std::string>> conflicts;  // captured line, new root's line
  std::string diff;       // write: the change; lost: new root -> capture
  std::string basis;      // what the merge base was
  std::string note;       // one line for people
};

// captured: the file as captured (nullptr when it was not); target: the target
// root's file at the same path; stamp: what the comment above added lines says.
ItemPlan plan_item(const ItemSpec& spec, const CapturedItem& item, const std::string* captured,
                   const FileRead& target, const std::string& stamp);

}  // namespace xsguard::capture
