// The inventory of a capture: what was customised on the old root, what the capture
// holds, what the upgrade carries over by itself, and what is known or assumed about
// the stock files. Written into the capture as JSON (read back by post) and as text.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "capture/catalog.h"
#include "capture/restore_list.h"
#include "capture/text.h"

namespace xsguard::capture {

inline constexpr const char* kInventorySchema = "xsguard.capture/1";

struct CapturedItem {
  std::string id;    // the catalog item ("cron.d")
  std::string path;  // inside the old root ("etc/cron.d/backup")
  bool captured = false;     // false: skipped, see skipped_why
  std::string skipped_why;
  std::string customised;    // "yes", "no", "unknown" (stock not known), "host-specific"
  Lines custom_lines;        // the customisation: lines (or the block) beyond stock
  std::string archived;      // the entry in the capture: "files/<path>"
  std::string resolved;      // the path reached, when through a symlink
  uint32_t mode = 0, uid = 0, gid = 0;
  uint64_t size = 0;
  std::string sha256;
  CarryOver carried;
};

struct Inventory {
  std::string captured_at;  // ISO 8601 UTC
  std::string root;         // the directory captured
  std::string installation_uuid, product, version, build;  // from etc/xensource-inventory
  std::vector<CapturedItem> items;
  nlohmann::ordered_json xapi = nlohmann::ordered_json::object();  // {"status": ..., ...}
};

nlohmann::ordered_json inventory_to_json(const Inventory& inv);
// Parses what inventory_to_json wrote; anything else (a damaged or hostile capture)
// is an InputError. Items whose id is not in the catalog are dropped.
Inventory inventory_from_json(std::string_view text);
void write_inventory_text(std::ostream& out, const Inventory& inv);

// The items of a spec that are customised (or may be) and so matter after an upgrade.
bool matters(const CapturedItem& item);

}  // namespace xsguard::capture
