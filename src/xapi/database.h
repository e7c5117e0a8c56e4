// The xapi pool database as read from state.db or `xe pool-dump-database`: the
// manifest and, for the tables asked for, their rows keyed by reference. Values are
// stored decoded (XML-unescaped, whitespace protection undone); sets and maps are
// parsed on access according to the column's schema type (schema.h).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xapi/value.h"

namespace xsguard::xapi {

struct Row {
  std::string ref;
  std::vector<std::string> values;  // by the table's column index
  std::vector<bool> present;        // false: the column is not in this row (older schema)
};

class Table {
 public:
  explicit Table(std::string name = {}) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  const std::vector<Row>& rows() const { return rows_; }
  size_t size() const { return rows_.size(); }
  const Row* find(std::string_view ref) const;  // nullptr for null or dangling refs

  // Column index, or -1 when no row of this table has (or may keep) the column.
  int column(std::string_view name) const;
  int add_column(const std::string& name);  // the reader's
  const std::vector<std::string>& columns() const { return columns_; }

  // Typed access. has(): the row carries the column at all.
  bool has(const Row& r, std::string_view col) const;
  std::string_view str(const Row& r, std::string_view col) const;  // "" when absent
  std::optional<bool> boolean(const Row& r, std::string_view col) const;
  std::optional<int64_t> integer(const Row& r, std::string_view col) const;
  // A reference column; "" for null (OpaqueRef:NULL, "") or absent.
  std::string_view ref(const Row& r, std::string_view col) const;
  // Set/map columns (by schema type; asking for a string column as a set is a bug
  // and throws std::logic_error). Malformed or absent values give an empty result and
  // bump malformed_values().
  StringSet set(const Row& r, std::string_view col) const;
  StringMap map(const Row& r, std::string_view col) const;
  size_t malformed_values() const { return malformed_; }

  // The reader's: adds a row; false when the ref is already there.
  bool add_row(Row&& row);

 private:
  const std::string* value(const Row& r, std::string_view col) const;
  std::string name_;
  std::vector<std::string> columns_;
  std::unordered_map<std::string, int> column_index_;
  std::vector<Row> rows_;
  std::unordered_map<std::string, size_t> by_ref_;
  mutable size_t malformed_ = 0;
};

struct Database {
  std::map<std::string, std::string> manifest;
  std::map<std::string, Table, std::less<>> tables;  // the tables that were kept
  std::vector<std::string> table_names;                // every table in the file, in order
  uint64_t bytes_read = 0;                             // after decompression

  // The table, or an empty one when the file has no such table (or it was not kept).
  const Table& table(std::string_view name) const;
  bool has_table(std::string_view name) const;
  std::string schema_version() const;  // "5.66", "" when the manifest lacks it
};

// Which tables and columns to keep. Rows of other tables are scanned and dropped.
struct Projection {
  bool all = false;  // every table, every column (except the secret table's values)
  std::map<std::string, std::vector<std::string>, std::less<>> tables;
};

struct ReadLimits {
  size_t max_tag_bytes = size_t(64) << 20;  // one element (a row) with all attributes
  size_t max_depth = 16;
  size_t max_manifest_pairs = 4096;
};

// Reads a database file, plain or gzip-compressed (by content, not name). Throws
// InputError (one line, no file contents quoted beyond a short excerpt) on anything
// that is not a well-formed pool database: not XML, wrong root, truncated, a DTD or
// entity declaration, an unknown entity, an element beyond the limits, a duplicate
// row reference in a kept table.
Database read_database(const std::string& path, const Projection& p, const ReadLimits& l = {});
// The same on a string already in memory (tests, fuzzing).
Database parse_database(std::string_view text, const Projection& p, const ReadLimits& l = {});

}  // namespace xsguard::xapi
