// The types of the pool-database columns xsguard reads. Whether a value is parsed as
// an S-expression set or map is decided here, by the column's schema type, never by
// what the value looks like: plain string columns (last_booted_record, other_config
// values holding XML, names) may well contain "(" and quotes.
//
// Only columns that exist in every supported schema (XenServer 5.6 to 7.x) are
// required; newer ones (pool_update, host.updates, ...) are read when present.
#pragma once
#include <string_view>

namespace xsguard::xapi {

enum class ColumnKind { string, boolean, integer, floating, datetime, ref, enumeration, set, map };

// The kind of TABLE.COLUMN; string for anything not listed.
ColumnKind column_kind(std::string_view table, std::string_view column);
const char* to_string(ColumnKind k);
// For the unit test: the built-in table is sorted (lookups are binary searches).
bool schema_table_sorted();

}  // namespace xsguard::xapi
