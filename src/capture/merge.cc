#include "capture/merge.h"

#include <map>
#include <set>

namespace xsguard::capture {

namespace {

using Outcome = ItemPlan::Outcome;

std::string basis_of(const ItemSpec& spec, const CapturedItem& item) {
  if (spec.action == PostAction::iqn) return "host-specific: the captured IQN is this host's";
  if (spec.stock != StockRule::unknown) return stock_basis(spec.stock);
  if (item.id == "cron.d" || item.id == "spool-cron" || item.id == "sysctl.d" || item.id == "modprobe.d")
    return "assumed: a file the new root lacks is the administrator's; for one it has, the new "
           "release's file is the merge base";
  return "assumed: the old release's stock file is not known; the new release's file is the merge base";
}

std::string with_newline(std::string s) {
  if (!s.empty() && s.back() != '\n') s += '\n';
  return s;
}

// Non-blank, normalised lines: what "the file has this line" compares.
std::vector<std::string> meaningful(const Lines& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    std::string n = normalize(l);
    if (!n.empty()) out.push_back(std::move(n));
  }
  return out;
}

bool contains_block(const Lines& haystack, const Lines& block) {
  auto h = meaningful(haystack), b = meaningful(block);
  if (b.empty()) return true;
  for (size_t i = 0; i + b.size() <= h.size(); ++i) {
    size_t k = 0;
    while (k < b.size() && h[i + k] == b[k]) ++k;
    if (k == b.size()) return true;
  }
  return false;
}

void set_write(ItemPlan& p, const std::string& path, const FileRead& target, const std::string& bytes) {
  p.outcome = Outcome::write;
  p.new_bytes = bytes;
  p.creates = target.status != FileRead::Status::ok;
  p.diff = unified_diff(p.creates ? "/dev/null" : "a/" + path, "b/" + path,
                        p.creates ? Lines{} : split_lines(target.bytes), split_lines(bytes));
  if (!p.creates) {
    p.mode = target.mode;
    p.uid = target.uid;
    p.gid = target.gid;
  }
}

void set_lost(ItemPlan& p, const std::string& path, const FileRead& target, const std::string* captured,
              std::string note) {
  p.outcome = Outcome::lost;
  p.note = std::move(note);
  if (captured)
    p.diff = unified_diff(target.status == FileRead::Status::ok ? "new-root/" + path : "/dev/null",
                          "capture/" + path,
                          target.status == FileRead::Status::ok ? split_lines(target.bytes) : Lines{},
                          split_lines(*captured));
}

// Adds the customised lines the target lacks; a line whose key the target sets to
// something else is a conflict.
void merge_lines(ItemPlan& p, const ItemSpec& spec, const std::string& path, const Lines& custom,
                 const FileRead& target, const std::string& stamp) {
  Lines tl = split_lines(target.bytes);
  std::set<std::string> have;
  std::map<std::string, std::string> by_key;
  for (const auto& l : tl) {
    if (is_comment_or_blank(l)) continue;
    have.insert(normalize(l));
    std::string k = line_key(spec.key, l);
    if (!k.empty()) by_key.emplace(k, l);
  }
  for (const auto& c : custom) {
    if (is_comment_or_blank(c)) continue;
    std::string n = normalize(c);
    if (have.count(n)) continue;
    std::string k = line_key(spec.key, c);
    auto it = k.empty() ? by_key.end() : by_key.find(k);
    if (it != by_key.end()) {
      p.conflicts.emplace_back(c, it->second);
      continue;
    }
    have.insert(n);
    p.added.push_back(c);
  }
  if (p.added.empty()) {
    p.note = p.conflicts.empty() ? "the new root already has these lines"
                                 : "conflicting lines not applied; nothing else to add";
    return;
  }
  std::string bytes = with_newline(target.bytes) + "# " + stamp + "\n" + join_lines(p.added);
  set_write(p, path, target, bytes);
  p.note = std::to_string(p.added.size()) + " line(s) added" +
           (p.conflicts.empty() ? "" : "; conflicting lines not applied");
}

}  // namespace

ItemPlan plan_item(const ItemSpec& spec, const CapturedItem& item, const std::string* captured,
                   const FileRead& target, const std::string& stamp) {
  ItemPlan p;
  p.basis = basis_of(spec, item);
  p.mode = item.mode;
  p.uid = item.uid;
  p.gid = item.gid;
  const std::string& path = item.path;
  const bool target_ok = target.status == FileRead::Status::ok;
  const bool target_missing = target.status == FileRead::Status::missing;

  if (!matters(item)) {
    p.note = "not customised";
    return p;
  }
  if (!item.captured || !captured) {
    if (item.skipped_why.rfind("a symlink", 0) == 0 && !target_missing) {
      p.note = "the new root has this entry too";
      return p;
    }
    set_lost(p, path, target, nullptr, "not in the capture: " + item.skipped_why);
    return p;
  }
  if (!target_ok && !target_missing) {
    set_lost(p, path, target, captured, "the new root's file cannot be merged: " + target.why);
    return p;
  }

  switch (spec.action) {
    case PostAction::report: {
      Lines have = target_ok ? split_lines(target.bytes) : Lines{};
      std::set<std::string> set;
      for (const auto& l : meaningful(have)) set.insert(l);
      for (const auto& c : item.custom_lines)
        if (!is_comment_or_blank(c) && !set.count(normalize(c))) p.missing.push_back(c);
      if (p.missing.empty()) {
        p.note = "the new root has the same lines";
        return p;
      }
      set_lost(p, path, target, captured,
               std::string(target_missing ? "the new root has no such file" : "the new root's file lacks these lines") +
                   "; xsguard does not merge this file: apply by hand what is still wanted");
      return p;
    }
    case PostAction::lines:
      if (target_missing) {
        if (spec.stock != StockRule::unknown) {
          set_lost(p, path, target, captured,
                   "the new root has no such file; xsguard does not create one from the old release's");
          p.missing = item.custom_lines;
          return p;
        }
        set_write(p, path, target, *captured);
        p.added = item.custom_lines;
        p.note = "the new root has no such file: the captured one is added";
        return p;
      }
      merge_lines(p, spec, path, item.custom_lines, target, stamp);
      return p;
    case PostAction::block: {
      if (target_missing) {
        set_write(p, path, target, *captured);
        p.added = item.custom_lines;
        p.note = "the new root has no such file: the captured one is added";
        return p;
      }
      if (contains_block(split_lines(target.bytes), item.custom_lines)) {
        p.note = "the new root already has the customised block";
        return p;
      }
      p.added = item.custom_lines;
      set_write(p, path, target,
                with_newline(target.bytes) + "# " + stamp + "\n" + join_lines(item.custom_lines));
      p.note = std::to_string(p.added.size()) + " line(s) added";
      return p;
    }
    case PostAction::new_file:
      if (target_missing) {
        set_write(p, path, target, *captured);
        p.added = split_lines(*captured);
        p.note = "the new root has no such file: the captured one is added";
        return p;
      }
      if (target.bytes == *captured) {
        p.note = "the new root has the same file";
        return p;
      }
      merge_lines(p, spec, path, item.custom_lines, target, stamp);
      return p;
    case PostAction::iqn: {
      if (target_missing) {
        set_write(p, path, target, *captured);
        p.added = item.custom_lines;
        p.note = "the new root has no such file: the captured one is added";
        return p;
      }
      if (item.custom_lines.empty()) {
        p.note = "the capture holds no initiator name";
        return p;
      }
      const std::string& want = item.custom_lines.front();
      Lines tl = split_lines(target.bytes);
      bool replaced = false;
      for (auto& l : tl) {
        if (line_key(spec.key, l) != line_key(spec.key, want)) continue;
        if (normalize(l) == normalize(want)) {
          p.note = "the new root has the same IQN";
          return p;
        }
        l = want;
        replaced = true;
        break;
      }
      if (!replaced) tl.push_back(want);
      p.added = {want};
      set_write(p, path, target, join_lines(tl));
      p.note = "the new root's generated IQN is replaced by this host's own";
      return p;
    }
  }
  return p;
}

}  // namespace xsguard::capture
