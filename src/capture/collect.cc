#include "capture/collect.h"

#include <sstream>

#include "capture/xapi_settings.h"
#include "model/digest.h"
#include "model/errors.h"

namespace xsguard::capture {

Lines custom_lines_of(const ItemSpec& spec, const Lines& lines) {
  Lines out;
  if (spec.action == PostAction::block) {
    // From the first customised line to the last, comments inside kept (they belong
    // to the administrator's commands), stock lines left out.
    size_t first = lines.size(), last = 0;
    for (size_t i = 0; i < lines.size(); ++i)
      if (!is_stock_line(spec.stock, lines[i])) {
        if (first == lines.size()) first = i;
        last = i;
      }
    for (size_t i = first; i < lines.size() && i <= last; ++i)
      if (is_comment_or_blank(lines[i]) || !is_stock_line(spec.stock, lines[i])) out.push_back(lines[i]);
    return out;
  }
  for (const auto& l : lines)
    if (!is_stock_line(spec.stock, l)) out.push_back(l);
  return out;
}

namespace {

std::string customised_of(const ItemSpec& spec, const Lines& custom) {
  if (spec.action == PostAction::iqn) return "host-specific";
  if (spec.stock == StockRule::unknown) return custom.empty() ? "no" : "unknown";
  return custom.empty() ? "no" : "yes";
}

class Collector {
 public:
  Collector(const RootedDir& root, const CollectLimits& l, Collected& out)
      : root_(root), lim_(l), out_(out) {}

  void item(const ItemSpec& spec, const std::string& path) {
    CapturedItem it;
    it.id = spec.id;
    it.path = path;
    it.carried = carry_over(path);
    FileRead r = root_.read(path, lim_.max_file);
    if (r.status == FileRead::Status::missing) return;
    if (r.via_symlink) it.resolved = r.resolved;
    if (r.status != FileRead::Status::ok) {
      skip(it, r.why);
      return;
    }
    if (!looks_like_text(r.bytes)) {
      skip(it, "not a text file (it holds NUL or control bytes); not captured");
      return;
    }
    if (total_ + r.bytes.size() > lim_.max_total) {
      skip(it, "the capture is full (" + std::to_string(lim_.max_total) + " bytes)");
      return;
    }
    total_ += r.bytes.size();
    Lines lines = split_lines(r.bytes);
    it.custom_lines = spec.action == PostAction::iqn ? lines_with_key(spec, lines)
                                                     : custom_lines_of(spec, lines);
    it.customised = customised_of(spec, it.custom_lines);
    it.captured = true;
    it.archived = "files/" + path;
    it.mode = r.mode;
    it.uid = r.uid;
    it.gid = r.gid;
    it.size = r.size;
    it.sha256 = sha256_hex(r.bytes.data(), r.bytes.size());
    out_.files.push_back({it.archived, std::move(r.bytes), r.mode, r.uid, r.gid, r.mtime});
    out_.inventory.items.push_back(std::move(it));
  }

  void directory(const ItemSpec& spec) {
    bool more = false;
    auto entries = root_.list(spec.path, lim_.max_dir_entries, &more);
    if (!entries) return;
    for (const auto& e : *entries) {
      const std::string path = std::string(spec.path) + "/" + e.name;
      if (e.type == DirEntry::Type::file) {
        item(spec, path);
      } else if (e.type == DirEntry::Type::symlink) {
        // Recorded, not copied: what it names is a file of its own (often one of the
        // other items, as sysctl.d/99-sysctl.conf names sysctl.conf).
        CapturedItem it;
        it.id = spec.id;
        it.path = path;
        it.carried = carry_over(path);
        skip(it, "a symlink to " + root_.link_target(path).value_or("?") + "; recorded, not copied");
      }
    }
    if (more) {
      CapturedItem it;
      it.id = spec.id;
      it.path = spec.path;
      it.carried = carry_over(spec.path);
      skip(it, "more than " + std::to_string(lim_.max_dir_entries) +
                   " entries; only the first ones were looked at");
    }
  }

 private:
  static Lines lines_with_key(const ItemSpec& spec, const Lines& lines) {
    Lines out;
    for (const auto& l : lines)
      if (!line_key(spec.key, l).empty()) out.push_back(l);
    return out;
  }
  void skip(CapturedItem& it, std::string why) {
    it.captured = false;
    it.customised = "unknown";
    it.skipped_why = std::move(why);
    out_.inventory.items.push_back(std::move(it));
  }

  const RootedDir& root_;
  const CollectLimits& lim_;
  Collected& out_;
  uint64_t total_ = 0;
};

void read_release(const RootedDir& root, Inventory& inv) {
  FileRead r = root.read("etc/xensource-inventory", 64 << 10);
  if (r.status != FileRead::Status::ok) return;
  for (const auto& line : split_lines(r.bytes)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    if (k == "INSTALLATION_UUID") inv.installation_uuid = v;
    else if (k == "PRODUCT_BRAND" || (k == "PLATFORM_NAME" && inv.product.empty())) inv.product = v;
    else if (k == "PRODUCT_VERSION" || (k == "PLATFORM_VERSION" && inv.version.empty())) inv.version = v;
    else if (k == "BUILD_NUMBER") inv.build = v;
  }
}

nlohmann::ordered_json read_xapi(const RootedDir& root, const std::string& host_uuid, size_t max) {
  nlohmann::ordered_json x;
  for (const char* rel : {"var/lib/xcp/state.db", "var/xapi/state.db"}) {
    FileRead r = root.read(rel, max);
    if (r.status == FileRead::Status::missing) continue;
    x["database"] = rel;
    if (r.status != FileRead::Status::ok) {
      x["status"] = "unreadable";
      x["why"] = std::string(rel) + ": " + r.why;
      return x;
    }
    try {
      auto settings = xapi_settings(xapi::parse_database(r.bytes, settings_projection()), host_uuid);
      x["status"] = "captured";
      x["carried_over"] = "yes";
      x["carried_over_note"] =
          "the upgrade restores state.db; a clean install followed by a pool join starts without "
          "these host settings";
      for (auto it = settings.begin(); it != settings.end(); ++it) x[it.key()] = it.value();
    } catch (const InputError& e) {
      x["status"] = "unreadable";
      x["why"] = std::string(rel) + ": " + e.what();
    }
    return x;
  }
  x["status"] = "absent";
  x["why"] = "no var/lib/xcp/state.db or var/xapi/state.db in the root";
  return x;
}

}  // namespace

Collected collect(const RootedDir& root, const std::string& captured_at, const CollectLimits& l) {
  Collected c;
  c.inventory.captured_at = captured_at;
  c.inventory.root = root.path();
  read_release(root, c.inventory);
  Collector col(root, l, c);
  for (const ItemSpec& spec : catalog()) {
    if (spec.directory) col.directory(spec);
    else col.item(spec, spec.path);
  }
  c.inventory.xapi = read_xapi(root, c.inventory.installation_uuid, l.max_database);
  return c;
}

}  // namespace xsguard::capture
