// The customisations xsguard captures from an old root, and what post does with each.
#pragma once
#include <vector>

#include "capture/stock.h"

namespace xsguard::capture {

enum class PostAction {
  lines,     // add the customised lines the new file lacks (same key, other value: conflict)
  block,     // add the customised block (in order) when the new file lacks it
  new_file,  // a file the new root lacks is added whole; one it has is merged as `lines`
  iqn,       // set the new file's InitiatorName to the captured one
  report,    // never written: post says when the new root lacks the customisation
};
const char* to_string(PostAction a);

struct ItemSpec {
  const char* id;    // stable, for automation: "fstab", "cron.d", ...
  const char* path;  // inside the root
  bool directory;    // every regular file directly in it is an item of its own
  StockRule stock;
  KeyRule key;
  PostAction action;
  const char* what;  // for people
};

const std::vector<ItemSpec>& catalog();
const ItemSpec* find_spec(const char* id);

}  // namespace xsguard::capture
