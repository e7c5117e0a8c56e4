#include <doctest/doctest.h>

#include "xapi/schema.h"
#include "xapi/value.h"

using namespace xsguard::xapi;

TEST_CASE("xapi value: unprotect understands both whitespace encodings") {
  CHECK(unprotect("CPU%_%_ X3450%_@ 2.67GHz") == "CPU     X3450  @ 2.67GHz");
  CHECK(unprotect("a%.b%.%.c") == "a b  c");
  CHECK(unprotect("100%%%t%n%r") == "100%\t\n\r");
  CHECK(unprotect("%x%") == "%x%");  // unknown escape and trailing % are kept
  CHECK(unprotect("%%_") == "%_");
  CHECK(unprotect("") == "");
}

TEST_CASE("xapi value: S-expression sets and maps with escapes") {
  auto s = parse_set("('a' 'b c' 'it\\'s' 'back\\\\slash' \"dq\")");
  REQUIRE(s);
  CHECK(*s == StringSet{"a", "b c", "it's", "back\\slash", "dq"});
  CHECK(parse_set("()")->empty());
  auto m = parse_map("(('k' 'v') ('sr' '\\\"\\\"') ('x' '(not) a set'))");
  REQUIRE(m);
  CHECK(m->size() == 3);
  CHECK(map_get(*m, "sr") == std::optional<std::string>("\"\""));
  CHECK(map_get(*m, "x") == std::optional<std::string>("(not) a set"));
  CHECK_FALSE(parse_set("('a'"));
  CHECK_FALSE(parse_set("('a) "));
  CHECK_FALSE(parse_map("(('k'))"));
  CHECK_FALSE(parse_map("(('k' 'v' 'w'))"));
  CHECK_FALSE(parse_set("('a') junk"));
  CHECK_FALSE(parse_set(""));
  CHECK_FALSE(parse_set("'\\"));
}

TEST_CASE("xapi value: null refs and scalars") {
  CHECK(is_null_ref("OpaqueRef:NULL"));
  CHECK(is_null_ref(""));
  CHECK_FALSE(is_null_ref("OpaqueRef:71ada7b0-6ab1-ad4f-0000-000000000000"));
  CHECK(parse_bool("true") == true);
  CHECK_FALSE(parse_bool("True"));
  CHECK(parse_int("-1") == -1);
  CHECK(parse_int("9223372036854775807") == INT64_MAX);
  CHECK_FALSE(parse_int("9223372036854775808"));
  CHECK_FALSE(parse_int("12a"));
  CHECK(parse_float("2399.99800000000005"));
  CHECK(parse_float("1.") == 1.0);
  CHECK(parse_datetime("19700101T00:00:00Z") == 0);
  CHECK(parse_datetime("20120926T15:08:19Z") == 1348672099);
  CHECK(parse_datetime("20120926T17:08:19+02:00") == 1348672099);
  CHECK(parse_datetime("20120926T15:08:19") == 1348672099);
  CHECK_FALSE(parse_datetime("2012-09-26"));
}

TEST_CASE("xapi schema: column kinds decide set/map parsing") {
  CHECK(schema_table_sorted());
  CHECK(column_kind("host", "software_version") == ColumnKind::map);
  CHECK(column_kind("pool_update", "hosts") == ColumnKind::set);
  CHECK(column_kind("VM", "last_booted_record") == ColumnKind::string);
  CHECK(column_kind("VM", "name__label") == ColumnKind::string);
}
