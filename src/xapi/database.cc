#include "xapi/database.h"

#include <stdexcept>

#include "xapi/schema.h"

namespace xsguard::xapi {

const Row* Table::find(std::string_view ref) const {
  if (is_null_ref(ref)) return nullptr;
  auto it = by_ref_.find(std::string(ref));
  return it == by_ref_.end() ? nullptr : &rows_[it->second];
}

int Table::column(std::string_view name) const {
  auto it = column_index_.find(std::string(name));
  return it == column_index_.end() ? -1 : it->second;
}

int Table::add_column(const std::string& name) {
  auto [it, fresh] = column_index_.emplace(name, static_cast<int>(columns_.size()));
  if (fresh) columns_.push_back(name);
  return it->second;
}

bool Table::add_row(Row&& row) {
  auto [it, fresh] = by_ref_.emplace(row.ref, rows_.size());
  (void)it;
  if (!fresh) return false;
  rows_.push_back(std::move(row));
  return true;
}

const std::string* Table::value(const Row& r, std::string_view col) const {
  int i = column(col);
  if (i < 0 || static_cast<size_t>(i) >= r.values.size() || !r.present[i]) return nullptr;
  return &r.values[i];
}

bool Table::has(const Row& r, std::string_view col) const { return value(r, col) != nullptr; }

std::string_view Table::str(const Row& r, std::string_view col) const {
  const std::string* v = value(r, col);
  return v ? std::string_view(*v) : std::string_view();
}

std::optional<bool> Table::boolean(const Row& r, std::string_view col) const {
  const std::string* v = value(r, col);
  return v ? parse_bool(*v) : std::nullopt;
}

std::optional<int64_t> Table::integer(const Row& r, std::string_view col) const {
  const std::string* v = value(r, col);
  return v ? parse_int(*v) : std::nullopt;
}

std::string_view Table::ref(const Row& r, std::string_view col) const {
  const std::string* v = value(r, col);
  if (!v || is_null_ref(*v)) return {};
  return *v;
}

StringSet Table::set(const Row& r, std::string_view col) const {
  if (column_kind(name_, col) != ColumnKind::set)
    throw std::logic_error(name_ + "." + std::string(col) + " is not a set column");
  const std::string* v = value(r, col);
  if (!v) return {};
  auto s = parse_set(*v);
  if (!s) {
    ++malformed_;
    return {};
  }
  return std::move(*s);
}

StringMap Table::map(const Row& r, std::string_view col) const {
  if (column_kind(name_, col) != ColumnKind::map)
    throw std::logic_error(name_ + "." + std::string(col) + " is not a map column");
  const std::string* v = value(r, col);
  if (!v) return {};
  auto m = parse_map(*v);
  if (!m) {
    ++malformed_;
    return {};
  }
  return std::move(*m);
}

const Table& Database::table(std::string_view name) const {
  static const Table empty;
  auto it = tables.find(name);
  return it == tables.end() ? empty : it->second;
}

bool Database::has_table(std::string_view name) const {
  for (const auto& t : table_names)
    if (t == name) return true;
  return false;
}

std::string Database::schema_version() const {
  auto ma = manifest.find("schema_major_vsn"), mi = manifest.find("schema_minor_vsn");
  if (ma == manifest.end() || mi == manifest.end()) return "";
  return ma->second + "." + mi->second;
}

}  // namespace xsguard::xapi
