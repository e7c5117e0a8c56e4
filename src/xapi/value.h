// Decoding of one column value of the xapi pool database, after XML unescaping:
// the whitespace protection xapi applies to every attribute, S-expression sets and
// maps (only for columns whose schema type says so: see schema.h), null references,
// and the scalar types. Pure functions, no I/O; the fuzz target drives these.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xsguard::xapi {

// Undoes xapi's whitespace protection. Both generations are understood: "%_" is two
// spaces (written up to XenServer 7.2), "%." one space (7.3 on); "%t" "%n" "%r" are
// tab, newline, carriage return and "%%" is a percent sign. A '%' followed by anything
// else, or at the end, is kept as it is.
std::string unprotect(std::string_view protected_value);
// Appends to out instead of returning (the reader's hot path).
void unprotect_append(std::string_view protected_value, std::string& out);

using StringSet = std::vector<std::string>;
using StringMap = std::vector<std::pair<std::string, std::string>>;  // file order

// S-expression forms: a set is ('a' 'b'), a map (('k' 'v') ('k2' 'v2')), empty ().
// Strings are single- or double-quoted; a backslash takes the next character
// literally. Bare atoms (no quotes) are accepted as strings. Returns nullopt on
// malformed input (unbalanced, unterminated, a map entry that is not a pair, nesting
// deeper than a set of pairs). Never throws, never recurses.
std::optional<StringSet> parse_set(std::string_view sexpr);
std::optional<StringMap> parse_map(std::string_view sexpr);

// The value of key in a map, or nullopt (the first occurrence wins).
std::optional<std::string> map_get(const StringMap& m, std::string_view key);

// "OpaqueRef:NULL", "" (and anything not starting "OpaqueRef:") are null references.
bool is_null_ref(std::string_view ref);

// Scalars as xapi writes them. Anything else is nullopt.
std::optional<bool> parse_bool(std::string_view v);          // "true" / "false"
std::optional<int64_t> parse_int(std::string_view v);        // decimal, optional '-'
std::optional<double> parse_float(std::string_view v);       // %0.18g, "1.", "nan", "inf"
// "20120926T15:08:19Z" (also without Z, or with +hh:mm/-hh:mm) as seconds since the
// epoch, UTC. "19700101T00:00:00Z" (xapi's "never") is 0.
std::optional<int64_t> parse_datetime(std::string_view v);

}  // namespace xsguard::xapi
