#include "capture/inventory.h"

#include <fmt/format.h>

#include <ostream>

#include "capture/xapi_settings.h"
#include "model/errors.h"

namespace xsguard::capture {

using nlohmann::ordered_json;

namespace {

const char* const kKnowledge =
    "Stock contents: xsguard knows the stock lines of fstab, crontab, rc.local and hosts "
    "as rules (see each item's stock_basis); for every other file the old release's stock "
    "version is unknown, so the item is marked customised=unknown and post takes the new "
    "release's file as the merge base. Carried over: from the installer's restore list "
    "(host-installer upgrade.py, buildRestoreList) and the settings it re-creates.";

std::string basis_text(const ItemSpec& spec) {
  if (spec.action == PostAction::iqn) return "host-specific: every host has its own IQN";
  return stock_basis(spec.stock);
}

Carried carried_from(const std::string& s) {
  for (Carried c : {Carried::yes, Carried::partly, Carried::aside, Carried::no})
    if (s == to_string(c)) return c;
  return Carried::no;
}

}  // namespace

bool matters(const CapturedItem& item) { return item.customised != "no"; }

ordered_json inventory_to_json(const Inventory& inv) {
  ordered_json j;
  j["schema"] = kInventorySchema;
  j["captured_at"] = inv.captured_at;
  j["root"] = inv.root;
  j["installation_uuid"] = inv.installation_uuid;
  j["product"] = inv.product;
  j["version"] = inv.version;
  j["build"] = inv.build;
  j["knowledge"] = kKnowledge;
  auto& items = j["items"] = ordered_json::array();
  for (const auto& it : inv.items) {
    const ItemSpec* spec = find_spec(it.id.c_str());
    ordered_json x;
    x["id"] = it.id;
    x["path"] = it.path;
    x["what"] = spec ? spec->what : "";
    x["captured"] = it.captured;
    if (!it.captured) x["skipped_why"] = it.skipped_why;
    x["customised"] = it.customised;
    x["stock_basis"] = spec ? basis_text(*spec) : "";
    x["custom_lines"] = it.custom_lines;
    x["archived"] = it.archived;
    if (!it.resolved.empty()) x["resolved"] = it.resolved;
    x["mode"] = it.mode;
    x["uid"] = it.uid;
    x["gid"] = it.gid;
    x["size"] = it.size;
    x["sha256"] = it.sha256;
    x["carried_over"] = to_string(it.carried.verdict);
    x["carried_over_note"] = it.carried.note;
    x["post_action"] = spec ? to_string(spec->action) : "";
    items.push_back(std::move(x));
  }
  j["xapi"] = inv.xapi;
  return j;
}

Inventory inventory_from_json(std::string_view text) {
  ordered_json j;
  try {
    // Bounded nesting: the inventory is never deeper than a few levels.
    j = ordered_json::parse(text.begin(), text.end(), [](int depth, ordered_json::parse_event_t,
                                                          ordered_json&) {
      if (depth > 32) throw InputError("the capture's inventory.json nests too deeply");
      return true;
    });
  } catch (const ordered_json::exception& e) {
    throw InputError(std::string("the capture's inventory.json is not JSON: ") + e.what());
  }
  auto bad = [](const std::string& what) -> InputError {
    return InputError("the capture's inventory.json is not one xsguard wrote: " + what);
  };
  if (!j.is_object() || j.value("schema", "") != kInventorySchema) throw bad("wrong schema");
  auto text_of = [&](const ordered_json& o, const char* k) {
    auto it = o.find(k);
    if (it == o.end() || it->is_null()) return std::string();
    if (!it->is_string()) throw bad(std::string(k) + " is not a string");
    return it->get<std::string>();
  };
  auto number_of = [&](const ordered_json& o, const char* k) -> uint64_t {
    auto it = o.find(k);
    if (it == o.end()) return 0;
    if (!it->is_number_unsigned()) throw bad(std::string(k) + " is not a number");
    return it->get<uint64_t>();
  };
  Inventory inv;
  inv.captured_at = text_of(j, "captured_at");
  inv.root = text_of(j, "root");
  inv.installation_uuid = text_of(j, "installation_uuid");
  inv.product = text_of(j, "product");
  inv.version = text_of(j, "version");
  inv.build = text_of(j, "build");
  auto items = j.find("items");
  if (items == j.end() || !items->is_array()) throw bad("no items");
  for (const auto& x : *items) {
    if (!x.is_object()) throw bad("an item is not an object");
    CapturedItem it;
    it.id = text_of(x, "id");
    if (!find_spec(it.id.c_str())) continue;
    it.path = text_of(x, "path");
    auto cap = x.find("captured");
    it.captured = cap != x.end() && cap->is_boolean() && cap->get<bool>();
    it.skipped_why = text_of(x, "skipped_why");
    it.customised = text_of(x, "customised");
    auto lines = x.find("custom_lines");
    if (lines != x.end()) {
      if (!lines->is_array()) throw bad("custom_lines is not a list");
      for (const auto& l : *lines) {
        if (!l.is_string()) throw bad("custom_lines holds a non-string");
        it.custom_lines.push_back(l.get<std::string>());
      }
    }
    it.archived = text_of(x, "archived");
    it.resolved = text_of(x, "resolved");
    it.mode = uint32_t(number_of(x, "mode") & 07777);
    it.uid = uint32_t(number_of(x, "uid"));
    it.gid = uint32_t(number_of(x, "gid"));
    it.size = number_of(x, "size");
    it.sha256 = text_of(x, "sha256");
    it.carried.verdict = carried_from(text_of(x, "carried_over"));
    it.carried.note = text_of(x, "carried_over_note");
    inv.items.push_back(std::move(it));
  }
  auto xapi = j.find("xapi");
  if (xapi != j.end() && xapi->is_object()) inv.xapi = *xapi;
  return inv;
}

void write_inventory_text(std::ostream& out, const Inventory& inv) {
  out << "Customisations of " << (inv.root.empty() ? "(unknown root)" : inv.root);
  if (!inv.product.empty() || !inv.version.empty())
    out << " (" << inv.product << ' ' << inv.version << (inv.build.empty() ? "" : "-" + inv.build) << ')';
  out << ", captured " << inv.captured_at << '\n';
  size_t lost = 0;
  for (const auto& it : inv.items) {
    const ItemSpec* spec = find_spec(it.id.c_str());
    out << fmt::format("\n  {}  [{}]\n", it.path, spec ? spec->what : it.id.c_str());
    if (!it.captured) {
      out << "    NOT CAPTURED: " << it.skipped_why << '\n';
    } else {
      out << "    customised: " << it.customised;
      if (!it.resolved.empty()) out << " (read through a symlink: " << it.resolved << ')';
      out << '\n';
      size_t shown = 0;
      for (const auto& l : it.custom_lines) {
        if (++shown > 20) {
          out << fmt::format("      ... {} more lines\n", it.custom_lines.size() - 20);
          break;
        }
        out << "      | " << printable(l) << '\n';
      }
    }
    if (spec) out << "    stock: " << basis_text(*spec) << '\n';
    out << "    carried over by the upgrade: " << to_string(it.carried.verdict) << " ("
        << it.carried.note << ")\n";
    if (spec) out << "    xsguard post: " << to_string(spec->action) << '\n';
    if (matters(it) && it.carried.verdict != Carried::yes) ++lost;
  }
  out << "\n  xapi settings: ";
  std::string status = inv.xapi.is_object() ? inv.xapi.value("status", "") : "";
  if (status == "captured") {
    out << "carried over by an upgrade (the installer restores state.db); lost by a clean "
           "install and pool join\n";
    write_xapi_text(out, inv.xapi);
  } else {
    out << (inv.xapi.is_object() ? inv.xapi.value("why", status) : status) << '\n';
  }
  out << fmt::format("\n{} item(s) customised or possibly customised that the upgrade does not "
                     "carry over as they are.\n",
                     lost);
  out << kKnowledge << '\n';
}

}  // namespace xsguard::capture
